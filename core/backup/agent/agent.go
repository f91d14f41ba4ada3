// Package agent runs scheduled backups of Strata streams: the
// `strata-backup agent` command. Each backup block of its HCL config
// (Config) runs on an interval or a cron schedule, with jitter, and backs
// up its streams (or every stream) with core/backup into S3 or a
// directory: one save at a time per stream, retried with exponential
// backoff when it fails for a reason that can pass (S3 errors, an
// unavailable cluster), and followed by pruning older backups by count
// and age once it completed. Every run logs one line; /metrics serves
// the agent's own Prometheus registry.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/objstore"
)

// ErrNoClient is returned by New without a client.
var ErrNoClient = errors.New("agent: no cluster client")

// Bounds of what the agent finishes while it stops.
const (
	metricsShutdownTimeout = 5 * time.Second
	pruneTimeout           = time.Minute
)

// Agent runs the backup jobs of a config until its context ends.
type Agent struct {
	cfg     Config
	plan    *plan
	client  *client.Client
	logger  hclog.Logger
	stores  map[string]objstore.Store // by target
	metrics *metrics

	// Seams for tests.
	now    func() time.Time
	jitter jitterFunc
	onRun  func(runResult)

	mu   sync.Mutex
	busy map[string]bool // streams with a backup running

	runs sync.WaitGroup // runs in progress
}

// runResult is what one run of a job did for one stream.
type runResult struct {
	job, stream string
	backup      backup.Backup
	pruned      []backup.Backup
	attempts    int
	err         error
	skipped     bool
}

// New validates cfg and opens its targets; c is the cluster the backups
// are taken from (the caller connects it, from cfg.Servers or its own
// flags, and closes it after Run).
func New(cfg Config, c *client.Client, logger hclog.Logger) (*Agent, error) {
	if c == nil {
		return nil, ErrNoClient
	}
	p, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	a := &Agent{cfg: cfg, plan: p, client: c, logger: logger, stores: map[string]objstore.Store{},
		metrics: newMetrics(), now: time.Now, jitter: randomJitter, busy: map[string]bool{}}
	for _, j := range p.jobs {
		if a.stores[j.storeKey()] != nil {
			continue
		}
		store, err := objstore.Open(context.Background(), j.target, objstore.WithLogger(logger.Named("s3")),
			objstore.WithSSE(j.sse))
		if err != nil {
			return nil, fmt.Errorf("backup %q: target: %w", j.name, err)
		}
		a.stores[j.storeKey()] = store
	}
	return a, nil
}

// Handler serves the agent's metrics in the Prometheus text format.
func (a *Agent) Handler() http.Handler { return a.metrics.handler() }

// Run runs every job on its schedule until ctx ends, then aborts the
// backups in progress (an interrupted save leaves no complete-looking
// backup and aborts its multipart upload), waits for them and returns
// nil. It fails only when the metrics listener cannot start.
func (a *Agent) Run(ctx context.Context) error {
	stopMetrics, err := a.serveMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	var jobs sync.WaitGroup
	for _, j := range a.plan.jobs {
		jobs.Go(func() { a.schedule(ctx, j) })
	}
	jobs.Wait()
	a.runs.Wait()
	a.logger.Info("agent stopped")
	return nil
}

// schedule starts j's runs at its times until ctx ends.
func (a *Agent) schedule(ctx context.Context, j *job) {
	at := firstRun(j, a.now())
	a.logger.Info("backup scheduled", "backup", j.name, "streams", j.describeStreams(),
		"target", a.stores[j.storeKey()].String(), "schedule", j.when, "jitter", j.jitter, "first_run", at.Format(time.RFC3339))
	for {
		if !sleep(ctx, at.Sub(a.now())+a.jitter(j.jitter)) {
			return
		}
		a.runs.Go(func() { a.run(ctx, j) })
		at = nextRun(j.schedule, at, a.now())
	}
}

func (j *job) describeStreams() string {
	if j.all {
		return "all"
	}
	return strings.Join(j.streams, ",")
}

// run backs up j's streams one after the other.
func (a *Agent) run(ctx context.Context, j *job) {
	streams := j.streams
	if j.all {
		var err error
		if streams, err = a.allStreams(ctx, j); err != nil {
			return
		}
	}
	for _, s := range streams {
		if ctx.Err() != nil {
			return
		}
		a.report(a.backupStream(ctx, j, s))
	}
}

// allStreams lists the cluster's streams, with retries.
func (a *Agent) allStreams(ctx context.Context, j *job) ([]string, error) {
	log := a.logger.With("backup", j.name)
	var names []string
	attempts, err := a.withRetry(ctx, log, func() {}, func() error {
		infos, err := a.client.Streams(ctx)
		names = names[:0]
		for _, s := range infos {
			names = append(names, s.Config.Name)
		}
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("backup run failed: cannot list the streams", "attempts", attempts, "error", err)
	case err == nil && len(names) == 0:
		log.Info("backup run: the cluster has no streams")
	}
	return names, err
}

// backupStream saves stream with retries, then prunes its older backups.
func (a *Agent) backupStream(ctx context.Context, j *job, stream string) runResult {
	res := runResult{job: j.name, stream: stream}
	log := a.logger.With("backup", j.name, "stream", stream)
	if !a.acquire(stream) {
		log.Warn("backup skipped: the previous backup of this stream is still running")
		a.metrics.skipped(stream)
		res.skipped = true
		return res
	}
	defer a.release(stream)
	store := a.stores[j.storeKey()]
	var took time.Duration
	res.attempts, res.err = a.withRetry(ctx, log, func() { a.metrics.attemptFailed(stream) }, func() error {
		start := time.Now()
		var err error
		res.backup, err = a.save(ctx, j, store, stream)
		took = time.Since(start)
		return err
	})
	switch {
	case res.err != nil && ctx.Err() != nil:
		log.Info("backup aborted: the agent is stopping", "target", store.String(), "attempts", res.attempts, "error", res.err)
		return res
	case res.err != nil:
		log.Error("backup failed", "target", store.String(), "attempts", res.attempts, "error", res.err)
		a.metrics.failure(stream)
		return res
	}
	var perr error
	if j.prune {
		res.pruned, perr = a.prune(ctx, j, store, stream)
	}
	a.metrics.success(stream, res.backup, took, len(res.pruned))
	m := res.backup.Manifest
	fields := []any{"target", store.String(), "dir", res.backup.Dir, "messages", m.Messages,
		"first_seq", m.FirstSeq, "last_seq", m.LastSeq, "consumers", m.Consumers, "bytes", m.Bytes, "compressed", m.Compressed,
		"duration", took.Round(time.Millisecond), "attempts", res.attempts, "pruned", len(res.pruned)}
	if perr != nil {
		log.Warn("backup complete; pruning older backups failed", append(fields, "error", perr)...)
	} else {
		log.Info("backup complete", fields...)
	}
	return res
}

// save takes one backup. Asking for the stream first fails fast when it
// does not exist, and moves the client off a server that is down (a
// backup call itself is not retried on another server).
func (a *Agent) save(ctx context.Context, j *job, store objstore.Store, stream string) (backup.Backup, error) {
	if _, err := a.client.StreamInfo(ctx, stream); err != nil {
		return backup.Backup{}, err
	}
	return backup.Save(ctx, a.client, store, backup.SaveOptions{Stream: stream, Level: j.level, Key: j.key})
}

// prune applies j's retention to stream's backups once a newer one
// completed. It finishes even when the agent is stopping: the backup it
// follows is complete, and a few deletes are quick.
func (a *Agent) prune(ctx context.Context, j *job, store objstore.Store, stream string) ([]backup.Backup, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pruneTimeout)
	defer cancel()
	return backup.Prune(ctx, store, stream, j.retain, a.now())
}

// withRetry runs fn until it succeeds, fails for good, or has failed the
// policy's attempts; failed is called after each failed attempt but one
// that the agent's stop caused. It returns the attempts made.
func (a *Agent) withRetry(ctx context.Context, log hclog.Logger, failed func(), fn func() error) (int, error) {
	r := a.plan.retry
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, err
		}
		failed()
		if !retryable(err) || attempt >= r.attempts {
			return attempt, err
		}
		wait := r.backoff(attempt)
		log.Warn("backup attempt failed; retrying", "attempt", attempt, "of", r.attempts, "retry_in", wait, "error", err)
		if !sleep(ctx, wait) {
			return attempt, err
		}
	}
}

// retryable reports whether another attempt could succeed: not for a
// missing stream or a refused argument.
func retryable(err error) bool {
	for _, final := range []error{client.ErrStreamNotFound, client.ErrInvalid, client.ErrClosed,
		objstore.ErrInvalidKey, objstore.ErrInvalidURL, context.Canceled} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}

func (a *Agent) acquire(stream string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.busy[stream] {
		return false
	}
	a.busy[stream] = true
	return true
}

func (a *Agent) release(stream string) {
	a.mu.Lock()
	delete(a.busy, stream)
	a.mu.Unlock()
}

func (a *Agent) report(r runResult) {
	if a.onRun != nil {
		a.onRun(r)
	}
}

// serveMetrics starts the /metrics listener when one is configured and
// returns what stops it.
func (a *Agent) serveMetrics() (stop func(), err error) {
	if a.cfg.Metrics == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("agent: metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("metrics listener failed", "error", err)
		}
	}()
	a.logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
