package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// callFunc is one attempt of a call on one server.
type callFunc func(ctx context.Context, api pb.StrataClient) error

// call runs fn on the current server. When retry is set and the server
// answers Unavailable, it waits a growing backoff and tries the next
// server, at most MaxRetries times and until ctx ends. The error is
// mapped with notFound as the meaning of a bare NotFound.
func (c *Client) call(ctx context.Context, retry bool, notFound error, fn callFunc) error {
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		api, idx, err := c.api()
		if err != nil {
			return err
		}
		err = c.attempt(ctx, api, fn)
		if err == nil {
			return nil
		}
		if !retry || status.Code(err) != codes.Unavailable || attempt >= c.opts.MaxRetries {
			return mapError(err, notFound)
		}
		c.next(idx)
		if werr := sleep(ctx, backoff); werr != nil {
			return fmt.Errorf("%w (gave up retrying: %w)", mapError(err, notFound), werr)
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// attempt runs fn once, bounded by the per-call timeout.
func (c *Client) attempt(ctx context.Context, api pb.StrataClient, fn callFunc) error {
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	return fn(ctx, api)
}
