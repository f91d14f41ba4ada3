package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/stratadb/strata/client/pb"
)

// AddStream creates a stream; ErrStreamExists when the name is taken.
func (c *Client) AddStream(ctx context.Context, cfg StreamConfig) (*StreamInfo, error) {
	return c.configCall(ctx, cfg, pb.StrataClient.StreamCreate)
}

// UpdateStream replaces a stream's configuration with cfg (changing its
// replicas moves it onto more or fewer servers).
func (c *Client) UpdateStream(ctx context.Context, cfg StreamConfig) (*StreamInfo, error) {
	return c.configCall(ctx, cfg, pb.StrataClient.StreamUpdate)
}

type configRPC func(pb.StrataClient, context.Context, *pb.StreamConfig, ...grpc.CallOption) (*pb.Stream, error)

func (c *Client) configCall(ctx context.Context, cfg StreamConfig, rpc configRPC) (*StreamInfo, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	req := cfg.toPB()
	var s *pb.Stream
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		s, err = rpc(api, ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return streamFromPB(s), nil
}

// StreamInfo returns a stream's configuration, state and Raft group.
func (c *Client) StreamInfo(ctx context.Context, name string) (*StreamInfo, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var s *pb.Stream
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		s, err = api.StreamInfo(ctx, &pb.StreamRequest{Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return streamFromPB(s), nil
}

// Streams lists every stream.
func (c *Client) Streams(ctx context.Context) ([]*StreamInfo, error) {
	var resp *pb.StreamListResponse
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		resp, err = api.StreamList(ctx, &pb.StreamListRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]*StreamInfo, 0, len(resp.GetStreams()))
	for _, s := range resp.GetStreams() {
		out = append(out, streamFromPB(s))
	}
	return out, nil
}

// DeleteStream deletes a stream and its messages.
func (c *Client) DeleteStream(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		_, err := api.StreamDelete(ctx, &pb.StreamRequest{Name: name})
		return err
	})
}

// PurgeStream removes every message of a stream and returns how many it
// removed; sequences continue after the last one.
func (c *Client) PurgeStream(ctx context.Context, name string) (uint64, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	var resp *pb.PurgeResponse
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		resp, err = api.StreamPurge(ctx, &pb.StreamRequest{Name: name})
		return err
	})
	if err != nil {
		return 0, err
	}
	return resp.GetPurged(), nil
}

// GetMsg returns the message of stream with sequence seq.
func (c *Client) GetMsg(ctx context.Context, stream string, seq uint64) (*Msg, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	if seq == 0 {
		return nil, fmt.Errorf("%w: sequence 0 (sequences start at 1)", ErrInvalid)
	}
	var m *pb.Msg
	err := c.call(ctx, true, ErrMsgNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		m, err = api.GetMsg(ctx, &pb.GetMsgRequest{Stream: stream, Seq: seq})
		return err
	})
	if err != nil {
		return nil, err
	}
	return msgFromPB(m), nil
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty stream name", ErrInvalid)
	}
	return nil
}
