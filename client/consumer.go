package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/stratadb/strata/client/pb"
)

// AddConsumer creates a consumer on stream. The same config again is
// accepted and changes nothing; another config under a taken name is
// ErrConsumerExists. A config without Durable or Name makes an ephemeral
// consumer: the returned info carries the name the server gave it. A
// named consumer is created with retries like other calls (a repeat is
// harmless); an ephemeral one is not (a repeat would make a second one).
func (c *Client) AddConsumer(ctx context.Context, stream string, cfg ConsumerConfig) (*ConsumerInfo, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	named := cfg.Durable != "" || cfg.Name != ""
	return c.consumerConfigCall(ctx, stream, cfg, named, pb.StrataClient.ConsumerCreate)
}

// UpdateConsumer changes a consumer's mutable fields (description, ack
// wait, max deliver, backoff, max ack pending, max waiting): cfg is the
// whole new config, usually the current one (ConsumerInfo) with changes.
func (c *Client) UpdateConsumer(ctx context.Context, stream string, cfg ConsumerConfig) (*ConsumerInfo, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if err := checkConsumerName(cfg.Name); err != nil {
		return nil, err
	}
	return c.consumerConfigCall(ctx, stream, cfg, true, pb.StrataClient.ConsumerUpdate)
}

type consumerConfigRPC func(pb.StrataClient, context.Context, *pb.ConsumerCreateRequest, ...grpc.CallOption) (*pb.Consumer, error)

func (c *Client) consumerConfigCall(ctx context.Context, stream string, cfg ConsumerConfig, retry bool, rpc consumerConfigRPC) (*ConsumerInfo, error) {
	req := &pb.ConsumerCreateRequest{Stream: stream, Config: cfg.toPB()}
	var ci *pb.Consumer
	err := c.call(ctx, retry, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		ci, err = rpc(api, ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return consumerFromPB(ci), nil
}

// ConsumerInfo returns a consumer's configuration, state and Raft group.
func (c *Client) ConsumerInfo(ctx context.Context, stream, name string) (*ConsumerInfo, error) {
	if err := checkNames(stream, name); err != nil {
		return nil, err
	}
	var ci *pb.Consumer
	err := c.call(ctx, true, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		ci, err = api.ConsumerInfo(ctx, &pb.ConsumerRequest{Stream: stream, Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return consumerFromPB(ci), nil
}

// Consumers lists the consumers of stream. A consumer whose leader could
// not be reached is listed with its config and an empty state.
func (c *Client) Consumers(ctx context.Context, stream string) ([]*ConsumerInfo, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	var resp *pb.ConsumerListResponse
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		resp, err = api.ConsumerList(ctx, &pb.StreamRequest{Name: stream})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]*ConsumerInfo, 0, len(resp.GetConsumers()))
	for _, ci := range resp.GetConsumers() {
		out = append(out, consumerFromPB(ci))
	}
	return out, nil
}

// DeleteConsumer deletes a consumer and its state; the stream's messages
// stay.
func (c *Client) DeleteConsumer(ctx context.Context, stream, name string) error {
	if err := checkNames(stream, name); err != nil {
		return err
	}
	return c.call(ctx, true, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		_, err := api.ConsumerDelete(ctx, &pb.ConsumerRequest{Stream: stream, Name: name})
		return err
	})
}

// ConsumerStepDown moves a consumer's leadership to another of its
// replicas and returns the old and the new leader. It is not retried: a
// retry could move the leadership twice.
func (c *Client) ConsumerStepDown(ctx context.Context, stream, name string) (oldLeader, newLeader string, err error) {
	if err := checkNames(stream, name); err != nil {
		return "", "", err
	}
	var r *pb.StepDownResponse
	err = c.call(ctx, false, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.ConsumerStepDown(ctx, &pb.ConsumerRequest{Stream: stream, Name: name})
		return err
	})
	if err != nil {
		return "", "", err
	}
	return r.GetOldLeader(), r.GetNewLeader(), nil
}

// AckBatch sends acks of messages delivered by consumer in one call and
// returns how many took effect and how many were ignored (their message
// was not pending: already acked, or delivered again since). It is
// retried like other calls: a repeated ack is ignored.
func (c *Client) AckBatch(ctx context.Context, stream, consumer string, acks []Ack) (applied, ignored uint64, err error) {
	if err := checkNames(stream, consumer); err != nil {
		return 0, 0, err
	}
	if len(acks) == 0 {
		return 0, 0, nil
	}
	for _, a := range acks {
		switch a.Kind {
		case "", AckKindAck, AckKindNak, AckKindProgress, AckKindTerm:
		default:
			return 0, 0, fmt.Errorf("%w: ack kind %q: want ack, nak, progress or term", ErrInvalid, a.Kind)
		}
		if a.Seq == 0 {
			return 0, 0, fmt.Errorf("%w: ack of sequence 0", ErrInvalid)
		}
	}
	req := &pb.AckRequest{Stream: stream, Consumer: consumer, Acks: acksToPB(acks)}
	var r *pb.AckResponse
	err = c.call(ctx, true, ErrConsumerNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.ConsumerAck(ctx, req)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return r.GetApplied(), r.GetIgnored(), nil
}

func checkConsumerName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty consumer name", ErrInvalid)
	}
	return nil
}

func checkNames(stream, consumer string) error {
	if err := checkName(stream); err != nil {
		return err
	}
	return checkConsumerName(consumer)
}
