package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/stratadb/strata/core/backup"
)

// progressOptions choose how a command shows its progress.
type progressOptions struct {
	noProgress bool
}

// isTerminal reports whether w is a terminal; tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a bar on a terminal, else log lines every few
// seconds; verb is "saving", "verifying" or "restoring".
func (o progressOptions) newProgress(w io.Writer, logger hclog.Logger, verb string) *progress {
	return &progress{w: w, logger: logger, verb: verb, bar: !o.noProgress && isTerminal(w)}
}

// progress implements backup.Progress and keeps the totals for the
// final line.
type progress struct {
	w      io.Writer
	logger hclog.Logger
	verb   string
	bar    bool

	mu      sync.Mutex
	pb      *progressbar.ProgressBar
	stream  string
	total   int64
	bytes   int64
	msgs    uint64
	chunks  int
	started time.Time
	logged  time.Time
}

var _ backup.Progress = (*progress)(nil)

func (p *progress) Start(stream string, bytes int64, msgs uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stream, p.total, p.started, p.logged = stream, bytes, time.Now(), time.Now()
	if p.bar {
		p.pb = progressbar.NewOptions64(bytes,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("%s %s", p.verb, stream)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		return
	}
	p.logger.Info(p.verb, "stream", stream, "messages", msgs, "bytes", bytes)
}

func (p *progress) Add(bytes int64, msgs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes += bytes
	p.msgs += uint64(msgs)
	p.chunks++
	if p.pb != nil {
		_ = p.pb.Add64(bytes)
		return
	}
	if time.Since(p.logged) >= 5*time.Second {
		p.logged = time.Now()
		p.logger.Info(p.verb, "stream", p.stream, "messages", p.msgs, "bytes", p.bytes,
			"percent", percent(p.bytes, p.total), "MiB/s", p.rate())
	}
}

func (p *progress) Done(error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pb != nil {
		_ = p.pb.Finish()
	}
}

// rate is MiB/s of stream data so far; p.mu is held.
func (p *progress) rate() string {
	return fmt.Sprintf("%.1f", float64(p.bytes)/(1<<20)/max(time.Since(p.started).Seconds(), 1e-3))
}

// elapsed returns the time since Start.
func (p *progress) elapsed() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Since(p.started)
}

func percent(n, total int64) string {
	if total <= 0 {
		return "100"
	}
	return fmt.Sprintf("%.0f", 100*float64(n)/float64(total))
}

// mib formats bytes as MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// newLogger returns the command's logger on w.
func newLogger(w io.Writer, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: w, Level: hclog.Info})
}
