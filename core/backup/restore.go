package backup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/objstore"
)

// Restore batches: one request carries at most this many bytes or
// messages (under gRPC's 4 MiB, with room for the framing of each
// message). Bigger batches restore faster: a batch costs about as much
// per message as the publishes it replaces, plus a round trip.
const (
	restoreBatchBytes = 3 << 20
	restoreBatchMsgs  = 32768
)

// ErrStreamExists refuses a restore onto an existing stream.
var ErrStreamExists = errors.New("already exists")

// RestoreOptions configures Restore.
type RestoreOptions struct {
	// As restores under another name (empty: the backup's).
	As string
	// Replicas overrides the stream's replica count (0: the backup's).
	Replicas int
	Progress Progress
	// Key decrypts a backup saved with SaveOptions.Key.
	Key []byte
}

// Restore recreates a backup's stream on the cluster c talks to: the
// backup is verified end to end first (a corrupt one is refused before
// anything is created), then the stream is created (placed by the
// cluster's own rules) taking restored messages only, every message is
// stored with its original sequence and time, the stream is opened to
// publishes, and its durable consumers are recreated from their saved
// state: consumption goes on where it was when the backup began. An
// existing stream is an error and is left unchanged; a restore that
// fails after creating the stream deletes it (and its consumers).
func Restore(ctx context.Context, c *client.Client, store objstore.Store, b Backup, opts RestoreOptions) (*client.StreamInfo, error) {
	st, err := Verify(ctx, store, b, VerifyOptions{Key: opts.Key})
	if err != nil {
		return nil, err
	}
	cfg := b.Manifest.Config
	if opts.As != "" {
		cfg.Name = opts.As
	}
	if opts.Replicas > 0 {
		cfg.Replicas = opts.Replicas
	}
	// The meta leader alone knows whether the name is taken: another
	// server's meta state may not show a delete it just acknowledged.
	created, err := c.RestoreBegin(ctx, cfg)
	if err != nil {
		if errors.Is(err, client.ErrStreamExists) {
			return nil, fmt.Errorf("stream %s %w", cfg.Name, ErrStreamExists)
		}
		return nil, err
	}
	lc, closeLC := leaderClient(ctx, c, created.Cluster.Leader)
	info, err := restoreInto(ctx, lc, store, b, cfg.Name, opts.Key, progressOr(opts.Progress))
	closeLC()
	if err == nil {
		err = restoreConsumers(ctx, c, cfg.Name, info.Config.Replicas, st.Consumers)
	}
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := c.DeleteStream(dctx, cfg.Name); derr != nil {
			return nil, fmt.Errorf("%w (and deleting the partly restored stream %s failed: %w)", err, cfg.Name, derr)
		}
		return nil, fmt.Errorf("%w (the partly restored stream %s was deleted)", err, cfg.Name)
	}
	return info, nil
}

// leaderClient returns a client that talks to the stream leader's server
// first, so that no server forwards the restore's MiB-sized batches; c
// itself when the leader's address is unknown.
func leaderClient(ctx context.Context, c *client.Client, leader string) (*client.Client, func()) {
	list, err := c.Servers(ctx)
	if err != nil || leader == "" {
		return c, func() {}
	}
	for _, s := range list.Servers {
		if s.Name != leader || s.ClientAddr == "" {
			continue
		}
		lc, err := c.Prefer(ctx, s.ClientAddr)
		if err != nil {
			return c, func() {}
		}
		return lc, func() { _ = lc.Close() }
	}
	return c, func() {}
}

// restoreInto reads the backup again and sends its messages in batches;
// reading and decompressing the next batch overlaps sending this one.
func restoreInto(ctx context.Context, c *client.Client, store objstore.Store, b Backup, name string, key []byte, prog Progress) (*client.StreamInfo, error) {
	prog.Start(name, int64(b.Manifest.StreamBytes), b.Manifest.Messages)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan restoreBatch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- readBatches(ctx, store, b, key, batches)
	}()
	err := sendBatches(ctx, cancel, c, name, b.Manifest.FirstSeq, batches, prog)
	if rerr := <-readErr; err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		prog.Done(err)
		return nil, err
	}
	info, err := c.RestoreEnd(ctx, name)
	prog.Done(err)
	return info, err
}

// restoreWindow is how many restore batches are in flight: the leader
// proposes them in order as they arrive, and raft replicates them
// together.
const restoreWindow = 3

// sendBatches sends batches, restoreWindow at a time; on the first
// error it cancels the reader and drains what it still sends.
func sendBatches(ctx context.Context, cancel context.CancelFunc, c *client.Client, name string, start uint64, batches <-chan restoreBatch, prog Progress) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	window := make(chan struct{}, restoreWindow)
	for batch := range batches {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			continue
		}
		window <- struct{}{}
		wg.Go(func() {
			defer func() { <-window }()
			if err := sendBatch(ctx, c, name, start, batch, prog); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return first
}

func sendBatch(ctx context.Context, c *client.Client, name string, start uint64, b restoreBatch, prog Progress) error {
	var last uint64
	var err error
	if len(b.msgs) == 0 {
		last, err = c.RestoreHoles(ctx, name, start, b.after, b.holesThrough)
	} else {
		last, err = c.RestoreMsgs(ctx, name, start, b.after, b.msgs)
	}
	if err != nil {
		return fmt.Errorf("restore %s after sequence %d: %w", name, b.after, err)
	}
	if want := b.end(); last < want {
		return fmt.Errorf("restore %s: stream's last sequence is %d after a batch through %d", name, last, want)
	}
	var bytes int64
	for _, m := range b.msgs {
		bytes += msgSize(m)
	}
	prog.Add(bytes, len(b.msgs))
	return nil
}

// restoreBatch is one RestoreMsgs call: messages that follow sequence
// after (0: the first batch), the sequences between being holes; or,
// without messages, one RestoreHoles call through holesThrough.
type restoreBatch struct {
	after, holesThrough uint64
	msgs                []client.Msg
}

// end is the batch's last sequence.
func (b restoreBatch) end() uint64 {
	if n := len(b.msgs); n > 0 {
		return b.msgs[n-1].Seq
	}
	return b.holesThrough
}

// maxBatchHoles is how many holes one batch may make (the server's
// stream.MaxRemove).
const maxBatchHoles = 4096

// batcher cuts the backup's messages into restore batches: by count and
// bytes, and so that no batch makes more than maxBatchHoles holes (a
// longer run of holes goes in batches of its own, without messages).
type batcher struct {
	cur   restoreBatch
	size  int
	holes int
	last  uint64 // the last sequence of the batches so far
	emit  func(restoreBatch) error
}

func (bt *batcher) add(m client.Msg) error {
	gap := 0
	if bt.last > 0 {
		gap = int(m.Seq - bt.last - 1)
	}
	if bt.size+int(msgSize(m)) > restoreBatchBytes || len(bt.cur.msgs) == restoreBatchMsgs || bt.holes+gap > maxBatchHoles {
		if err := bt.flush(); err != nil {
			return err
		}
	}
	if gap > maxBatchHoles {
		if err := bt.holesThrough(m.Seq - 1); err != nil {
			return err
		}
		gap = 0
	}
	bt.cur.msgs = append(bt.cur.msgs, m)
	bt.size += int(msgSize(m))
	bt.holes += gap
	bt.last = m.Seq
	return nil
}

// holesThrough sends batches without messages that make holes of the
// sequences after the last one through seq.
func (bt *batcher) holesThrough(seq uint64) error {
	if err := bt.flush(); err != nil {
		return err
	}
	for bt.last > 0 && bt.last < seq {
		next := min(seq, bt.last+maxBatchHoles)
		if err := bt.emit(restoreBatch{after: bt.last, holesThrough: next}); err != nil {
			return err
		}
		bt.last = next
	}
	bt.cur.after = bt.last
	return nil
}

func (bt *batcher) flush() error {
	if len(bt.cur.msgs) == 0 {
		return nil
	}
	err := bt.emit(bt.cur)
	bt.cur = restoreBatch{after: bt.last}
	bt.size, bt.holes = 0, 0
	return err
}

// readBatches reads the backup's messages into batches; holes at its end
// (through the manifest's last sequence) go in batches of their own.
func readBatches(ctx context.Context, store objstore.Store, b Backup, key []byte, out chan<- restoreBatch) error {
	r, err := openReader(ctx, store, b, key)
	if err != nil {
		return err
	}
	defer r.Close()
	bt := &batcher{emit: func(rb restoreBatch) error {
		select {
		case out <- rb:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	err = r.read(func(client.StreamConfig) error { return nil }, bt.add)
	if err == nil {
		err = bt.holesThrough(b.Manifest.LastSeq)
	}
	if err != nil {
		return fmt.Errorf("backup %s: %w", b.Dir, err)
	}
	return nil
}
