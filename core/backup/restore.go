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
	st, err := Verify(ctx, store, b, nil)
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
	if err := refuseExisting(ctx, c, cfg.Name); err != nil {
		return nil, err
	}
	created, err := c.RestoreBegin(ctx, cfg)
	if err != nil {
		if errors.Is(err, client.ErrStreamExists) {
			return nil, fmt.Errorf("stream %s %w", cfg.Name, ErrStreamExists)
		}
		return nil, err
	}
	lc, closeLC := leaderClient(ctx, c, created.Cluster.Leader)
	info, err := restoreInto(ctx, lc, store, b, cfg.Name, progressOr(opts.Progress))
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

func refuseExisting(ctx context.Context, c *client.Client, name string) error {
	_, err := c.StreamInfo(ctx, name)
	switch {
	case err == nil:
		return fmt.Errorf("stream %s %w", name, ErrStreamExists)
	case errors.Is(err, client.ErrStreamNotFound):
		return nil
	default:
		return err
	}
}

// restoreInto reads the backup again and sends its messages in batches;
// reading and decompressing the next batch overlaps sending this one.
func restoreInto(ctx context.Context, c *client.Client, store objstore.Store, b Backup, name string, prog Progress) (*client.StreamInfo, error) {
	prog.Start(name, int64(b.Manifest.StreamBytes), b.Manifest.Messages)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []client.Msg, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- readBatches(ctx, store, b, batches)
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
func sendBatches(ctx context.Context, cancel context.CancelFunc, c *client.Client, name string, start uint64, batches <-chan []client.Msg, prog Progress) error {
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

func sendBatch(ctx context.Context, c *client.Client, name string, start uint64, batch []client.Msg, prog Progress) error {
	last, err := c.RestoreMsgs(ctx, name, start, batch)
	if err != nil {
		return fmt.Errorf("restore %s at sequence %d: %w", name, batch[0].Seq, err)
	}
	if want := batch[len(batch)-1].Seq; last < want {
		return fmt.Errorf("restore %s: stream's last sequence is %d after a batch through %d", name, last, want)
	}
	var bytes int64
	for _, m := range batch {
		bytes += msgSize(m)
	}
	prog.Add(bytes, len(batch))
	return nil
}

// readBatches reads the backup's messages into batches.
func readBatches(ctx context.Context, store objstore.Store, b Backup, out chan<- []client.Msg) error {
	r, err := openReader(ctx, store, b)
	if err != nil {
		return err
	}
	defer r.Close()
	var batch []client.Msg
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, size = nil, 0
		return nil
	}
	err = r.read(func(client.StreamConfig) error { return nil }, func(m client.Msg) error {
		if size+int(msgSize(m)) > restoreBatchBytes || len(batch) == restoreBatchMsgs {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, m)
		size += int(msgSize(m))
		return nil
	})
	if err != nil {
		return fmt.Errorf("backup %s: %w", b.Dir, err)
	}
	return flush()
}
