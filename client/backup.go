package client

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// Backup reads a point-in-time view of a stream on its leader: info
// receives the stream as of that point (its State counts exactly the
// messages that follow), then msgs receives them in order, in batches.
// The stream keeps taking writes meanwhile, and its limits do not remove
// messages from the view. A backup is one call, not retried: its reads
// cannot resume on another server. The client's per-call timeout does
// not apply; ctx bounds it.
func (c *Client) Backup(ctx context.Context, name string, info func(*StreamInfo) error, msgs func([]Msg) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		started, err := c.backupOnce(ctx, name, info, msgs)
		// Until the first chunk arrived nothing was delivered: a server
		// that is unavailable is skipped, as calls that retry do.
		if err == nil || started || status.Code(err) != codes.Unavailable || attempt >= c.opts.MaxRetries {
			return mapError(err, ErrStreamNotFound)
		}
		if werr := sleep(ctx, backoff); werr != nil {
			return mapError(err, ErrStreamNotFound)
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// backupOnce runs a backup read on the current server; started reports
// whether any chunk arrived. Chunks are received ahead (a few MiB) while
// the caller handles the previous ones.
func (c *Client) backupOnce(ctx context.Context, name string, info func(*StreamInfo) error, msgs func([]Msg) error) (started bool, err error) {
	api, idx, err := c.api()
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bs, err := api.StreamBackup(ctx, &pb.StreamRequest{Name: name})
	if err != nil {
		return false, err
	}
	chunks := make(chan *pb.BackupChunk, 4)
	recvErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		for {
			chunk, err := bs.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case chunks <- chunk:
			case <-ctx.Done():
				recvErr <- ctx.Err()
				return
			}
		}
	}()
	for chunk := range chunks {
		if err = deliverChunk(chunk, !started, info, msgs); err != nil {
			cancel()
			for range chunks { // let the receiver end
			}
			return true, err
		}
		started = true
	}
	if err = <-recvErr; errors.Is(err, io.EOF) {
		return started, nil
	}
	if !started && status.Code(err) == codes.Unavailable {
		c.next(idx)
	}
	return started, err
}

func deliverChunk(chunk *pb.BackupChunk, first bool, info func(*StreamInfo) error, msgs func([]Msg) error) error {
	if first {
		if chunk.GetInfo() == nil {
			return errors.New("client: backup: the server sent no stream info")
		}
		if err := info(streamFromPB(chunk.GetInfo())); err != nil {
			return err
		}
	}
	if len(chunk.GetMsgs()) == 0 {
		return nil
	}
	out := make([]Msg, len(chunk.GetMsgs()))
	for i, m := range chunk.GetMsgs() {
		out[i] = *msgFromPB(m)
	}
	return msgs(out)
}

// RestoreBegin creates a stream to restore a backup into: it takes
// restored messages only (RestoreMsgs) until RestoreEnd. ErrStreamExists
// when the name is taken.
func (c *Client) RestoreBegin(ctx context.Context, cfg StreamConfig) (*StreamInfo, error) {
	return c.configCall(ctx, cfg, pb.StrataClient.StreamRestoreBegin)
}

// RestoreMsgs stores msgs, which must have consecutive sequences, with
// their original sequences and times, and returns the stream's last
// sequence. start is the backup's first sequence: batches may be sent
// concurrently, and the leader stores them in order from start. A batch
// already stored is acknowledged again, so it is retried like a read.
func (c *Client) RestoreMsgs(ctx context.Context, stream string, start uint64, msgs []Msg) (uint64, error) {
	if err := checkName(stream); err != nil {
		return 0, err
	}
	req := &pb.RestoreMsgs{Stream: stream, Start: start, Msgs: make([]*pb.Msg, len(msgs))}
	for i, m := range msgs {
		req.Msgs[i] = msgToPB(m)
	}
	var ack *pb.RestoreAck
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		ack, err = api.StreamRestoreMsgs(ctx, req)
		return err
	})
	if err != nil {
		return 0, err
	}
	return ack.GetLastSeq(), nil
}

// RestoreEnd opens a restored stream to publishes.
func (c *Client) RestoreEnd(ctx context.Context, stream string) (*StreamInfo, error) {
	if err := checkName(stream); err != nil {
		return nil, err
	}
	var s *pb.Stream
	err := c.call(ctx, true, ErrStreamNotFound, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		s, err = api.StreamRestoreEnd(ctx, &pb.StreamRequest{Name: stream})
		return err
	})
	if err != nil {
		return nil, err
	}
	return streamFromPB(s), nil
}

func msgToPB(m Msg) *pb.Msg {
	out := &pb.Msg{Subject: m.Subject, Seq: m.Seq, Data: m.Data, Time: unixNano(m.Time), MsgId: m.MsgID}
	if len(m.Header) > 0 {
		out.Headers = make([]*pb.Header, len(m.Header))
		for i, h := range m.Header {
			out.Headers[i] = &pb.Header{Key: h.Key, Value: h.Value}
		}
	}
	return out
}

// unixNano is unixTime's inverse: the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
