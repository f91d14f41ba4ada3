package client

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// Backup reads a point-in-time view of a stream on its leader: info
// receives the stream as of that point (its State counts exactly the
// messages that follow), then msgs receives them in order, in batches.
// The stream keeps taking writes meanwhile, and its limits do not remove
// messages from the view. A backup read fails over to another server
// only until its first chunk arrived: its reads cannot resume elsewhere.
// The client's per-call timeout does not apply; ctx bounds it.
func (c *Client) Backup(ctx context.Context, name string, info func(*StreamInfo) error, msgs func([]Msg) error) error {
	return c.backup(ctx, &pb.BackupRequest{Stream: name}, func(chunk *pb.BackupChunk, first bool) error {
		if err := deliverInfo(chunk, first, info); err != nil || len(chunk.GetMsgs()) == 0 {
			return err
		}
		out := make([]Msg, len(chunk.GetMsgs()))
		for i, m := range chunk.GetMsgs() {
			out[i] = *msgFromPB(m)
		}
		return msgs(out)
	})
}

// BackupRecords is Backup with the messages as the backup format's
// message records (package core/backup/record), whole records in
// sequence order, as a backup tool writes them.
func (c *Client) BackupRecords(ctx context.Context, name string, info func(*StreamInfo) error, records func([]byte) error) error {
	return c.backup(ctx, &pb.BackupRequest{Stream: name, Records: true}, func(chunk *pb.BackupChunk, first bool) error {
		if err := deliverInfo(chunk, first, info); err != nil || len(chunk.GetRecords()) == 0 {
			return err
		}
		return records(chunk.GetRecords())
	})
}

// backup runs a backup read, retrying on another server while nothing
// was delivered.
func (c *Client) backup(ctx context.Context, req *pb.BackupRequest, deliver func(*pb.BackupChunk, bool) error) error {
	if err := checkName(req.GetStream()); err != nil {
		return err
	}
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		started, err := c.backupOnce(ctx, req, deliver)
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
// deliver handles the previous ones.
func (c *Client) backupOnce(ctx context.Context, req *pb.BackupRequest, deliver func(*pb.BackupChunk, bool) error) (started bool, err error) {
	api, idx, err := c.api()
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bs, err := api.StreamBackup(ctx, req)
	if err != nil {
		return false, err
	}
	chunks := make(chan *pb.BackupChunk, 4)
	recvErr := make(chan error, 1)
	go receiveChunks(ctx, bs, chunks, recvErr)
	for chunk := range chunks {
		if err = deliver(chunk, !started); err != nil {
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

func receiveChunks(ctx context.Context, bs grpc.ServerStreamingClient[pb.BackupChunk], chunks chan<- *pb.BackupChunk, errc chan<- error) {
	defer close(chunks)
	for {
		chunk, err := bs.Recv()
		if err != nil {
			errc <- err
			return
		}
		select {
		case chunks <- chunk:
		case <-ctx.Done():
			errc <- ctx.Err()
			return
		}
	}
}

func deliverInfo(chunk *pb.BackupChunk, first bool, info func(*StreamInfo) error) error {
	if !first {
		return nil
	}
	if chunk.GetInfo() == nil {
		return errors.New("client: backup: the server sent no stream info")
	}
	return info(streamFromPB(chunk.GetInfo()))
}

// RestoreBegin creates a stream to restore a backup into: it takes
// restored messages only (RestoreMsgs) until RestoreEnd. ErrStreamExists
// when the name is taken.
func (c *Client) RestoreBegin(ctx context.Context, cfg StreamConfig) (*StreamInfo, error) {
	return c.configCall(ctx, cfg, pb.StrataClient.StreamRestoreBegin)
}

// RestoreMsgs stores msgs, with increasing sequences, with their
// original sequences and times, and returns the stream's last sequence.
// start is the backup's first sequence: batches may be sent
// concurrently, and the leader stores them in order from start. after is
// the last sequence of the batch before (0 for the first batch); the
// sequences between after and msgs, and those msgs skip, become holes
// (messages removed one by one before the backup; at most 4096 in a
// batch). A batch already stored is acknowledged again, so it is retried
// like a read.
func (c *Client) RestoreMsgs(ctx context.Context, stream string, start, after uint64, msgs []Msg) (uint64, error) {
	return c.restoreMsgs(ctx, &pb.RestoreMsgs{Stream: stream, Start: start, After: after}, msgs)
}

// RestoreHoles makes holes, in a stream being restored, of the sequences
// after after (the last of the batch before) through through: the
// backup's messages after them were removed one by one. At most 4096.
func (c *Client) RestoreHoles(ctx context.Context, stream string, start, after, through uint64) (uint64, error) {
	return c.restoreMsgs(ctx, &pb.RestoreMsgs{Stream: stream, Start: start, After: after, HolesThrough: through}, nil)
}

func (c *Client) restoreMsgs(ctx context.Context, req *pb.RestoreMsgs, msgs []Msg) (uint64, error) {
	stream := req.GetStream()
	if err := checkName(stream); err != nil {
		return 0, err
	}
	req.Msgs = make([]*pb.Msg, len(msgs))
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
