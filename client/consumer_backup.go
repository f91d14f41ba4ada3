package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratadb/strata/client/pb"
)

// ConsumerExport is a consumer as a backup keeps it: its config and its
// replicated state (delivered, ack floor, pending deliveries and their
// counts), the state as JSON the server defines (core/consumer.State).
type ConsumerExport struct {
	Config ConsumerConfig
	State  json.RawMessage
}

// ExportConsumer returns a consumer's config and state, read on its
// leader once every committed entry is applied: every ack that returned
// before the call is in it.
func (c *Client) ExportConsumer(ctx context.Context, stream, name string) (*ConsumerExport, error) {
	if err := checkNames(stream, name); err != nil {
		return nil, err
	}
	var r *pb.ConsumerExportResponse
	err := c.call(ctx, true, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.ConsumerExport(ctx, &pb.ConsumerRequest{Stream: stream, Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ConsumerExport{Config: consumerConfigFromPB(r.GetConfig()), State: r.GetStateJson()}, nil
}

// RestoreConsumer creates a durable consumer that starts from state (an
// ExportConsumer's) instead of its deliver policy: it goes on where the
// exported consumer was, its pending messages delivered again after the
// ack wait. A state ahead of the stream's last sequence is ErrInvalid.
// It returns once the consumer's leader started from the state, or
// after the server's leader wait.
func (c *Client) RestoreConsumer(ctx context.Context, stream string, cfg ConsumerConfig, state json.RawMessage) (*ConsumerInfo, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	if cfg.Durable == "" {
		return nil, fmt.Errorf("%w: only durable consumers are restored", ErrInvalid)
	}
	if len(state) == 0 {
		return nil, fmt.Errorf("%w: consumer %s: no state to restore", ErrInvalid, cfg.Durable)
	}
	req := &pb.ConsumerCreateRequest{Stream: stream, Config: cfg.toPB(), RestoreState: state}
	var ci *pb.Consumer
	err := c.call(ctx, true, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		ci, err = api.ConsumerCreate(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return consumerFromPB(ci), nil
}
