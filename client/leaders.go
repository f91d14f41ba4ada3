package client

import (
	"context"

	"github.com/stratadb/strata/client/pb"
)

// StepDown is the outcome of a leadership move.
type StepDown struct {
	OldLeader string `json:"old_leader"`
	NewLeader string `json:"new_leader"`
}

// StepDownStream moves a stream's leadership to another of its replicas.
// It is not retried: a retry could move the leadership twice.
func (c *Client) StepDownStream(ctx context.Context, name string) (*StepDown, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var r *pb.StepDownResponse
	err := c.call(ctx, false, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.StreamStepDown(ctx, &pb.StreamRequest{Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &StepDown{OldLeader: r.GetOldLeader(), NewLeader: r.GetNewLeader()}, nil
}

// StepDownMeta moves the meta group's leadership to another server.
func (c *Client) StepDownMeta(ctx context.Context) (*StepDown, error) {
	var r *pb.StepDownResponse
	err := c.call(ctx, false, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.MetaStepDown(ctx, &pb.Empty{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &StepDown{OldLeader: r.GetOldLeader(), NewLeader: r.GetNewLeader()}, nil
}

// RemoveStreamPeer takes peer out of a stream's replicas; the cluster
// places a replacement, which catches up while the stream serves.
func (c *Client) RemoveStreamPeer(ctx context.Context, name, peer string) (*StreamInfo, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var s *pb.Stream
	err := c.call(ctx, false, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		s, err = api.StreamPeerRemove(ctx, &pb.PeerRemoveRequest{Stream: name, Peer: peer})
		return err
	})
	if err != nil {
		return nil, err
	}
	return streamFromPB(s), nil
}

// RemoveServer removes a server that will not return: from the meta group
// and from every stream it held, each moved to a server placement picks.
// It returns the streams that moved.
func (c *Client) RemoveServer(ctx context.Context, name string) ([]string, error) {
	var r *pb.ServerPeerRemoveResponse
	err := c.call(ctx, false, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		r, err = api.ServerPeerRemove(ctx, &pb.ServerRequest{Name: name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.GetStreams(), nil
}

// LameDuck asks the named server to hand off its leaderships, finish the
// calls in flight and exit.
func (c *Client) LameDuck(ctx context.Context, name string) error {
	return c.call(ctx, false, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		_, err := api.ServerLameDuck(ctx, &pb.ServerRequest{Name: name})
		return err
	})
}
