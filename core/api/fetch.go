package api

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/consumer"
)

// Fetch end reasons, sent in the last FetchBatch.
const (
	fetchFull    = "batch complete"
	fetchExpired = "request expired"
	fetchNoMsgs  = "no messages"
)

// ConsumerFetch serves a pull request on the consumer's leader, or
// relays it from there.
func (s *Server) ConsumerFetch(req *pb.FetchRequest, ss pb.Strata_ConsumerFetchServer) error {
	ctx := ss.Context()
	release, err := s.conns.acquireFetch(ctx)
	if err != nil {
		return err
	}
	defer release()
	local, c, fctx, err := s.consumerRoute(ctx, req.GetStream(), req.GetConsumer())
	if err != nil {
		return err
	}
	if local == nil {
		return relayFetch(c.ConsumerFetch(fctx, req))(ss)
	}
	fr := consumer.FetchRequest{
		Batch: int(max(req.GetBatch(), 1)), MaxBytes: int(req.GetMaxBytes()),
		Expires: time.Duration(req.GetExpiresNs()), NoWait: req.GetNoWait(),
		Heartbeat: time.Duration(req.GetHeartbeatNs()),
	}
	if fr.Batch > maxFetchBatch {
		return fmt.Errorf("%w: batch %d: at most %d", errInvalid, fr.Batch, maxFetchBatch)
	}
	sent := 0
	err = local.Fetch(ctx, fr, func(ds []consumer.Delivery) error {
		sent += len(ds)
		return ss.Send(&pb.FetchBatch{Msgs: deliveriesToPB(ds)})
	}, func() error {
		return ss.Send(&pb.FetchBatch{Heartbeat: true})
	})
	if err != nil {
		return err
	}
	reason := fetchExpired
	switch {
	case sent >= fr.Batch:
		reason = fetchFull
	case fr.NoWait:
		reason = fetchNoMsgs
	}
	return ss.Send(&pb.FetchBatch{Done: true, Reason: reason})
}

// maxFetchBatch bounds the messages of one pull request.
const maxFetchBatch = 100_000

// relayFetch copies a forwarded pull's batches to the client.
func relayFetch(up pb.Strata_ConsumerFetchClient, err error) func(pb.Strata_ConsumerFetchServer) error {
	return func(ss pb.Strata_ConsumerFetchServer) error {
		if err != nil {
			return err
		}
		for {
			b, err := up.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := ss.Send(b); err != nil {
				return err
			}
		}
	}
}
