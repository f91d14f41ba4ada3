package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/pluginsdk"
)

// process is one supervised plugin subprocess. Calls go through do, which
// waits for a live process and retries an operation the plugin died in.
type process struct {
	launch  pluginsdk.LaunchConfig
	cfg     Config
	logger  hclog.Logger
	metrics *metrics

	mu      sync.Mutex
	conn    *pluginsdk.Conn // nil while down
	gen     uint64          // bumps on every (re)start
	up      chan struct{}   // closed when conn is set
	stopped bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// startProcess launches the plugin and starts watching it. A plugin that
// does not start is an error here: the node does not come up without it.
func startProcess(pc PluginConfig, cfg Config, m *metrics) (*process, error) {
	logger := cfg.Logger.Named("plugin." + pc.Name)
	p := &process{
		launch: pluginsdk.LaunchConfig{
			Name: pc.Name, Path: pc.Path, SHA256: pc.SHA256, Config: pc.Config,
			DataDir: filepath.Join(cfg.DataDir, "plugins", pc.Name), Logger: logger, Env: pc.env(),
			CallTimeout: cfg.CallTimeout,
		},
		cfg: cfg, logger: logger, metrics: m, up: make(chan struct{}), stop: make(chan struct{}),
	}
	conn, err := pluginsdk.Launch(p.launch)
	if err != nil {
		return nil, err
	}
	p.setConn(conn)
	p.wg.Add(1)
	go p.watch()
	return p, nil
}

func (p *process) setConn(conn *pluginsdk.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conn = conn
	p.gen++
	close(p.up)
	p.metrics.up.WithLabelValues(p.launch.Name).Set(1)
	if p.gen > 1 {
		p.metrics.restarts.WithLabelValues(p.launch.Name).Inc()
	}
	p.logger.Info("plugin running", "pid", conn.Pid(), "generation", p.gen)
}

// current returns the live connection, waiting up to the deadline for one.
func (p *process) current(ctx context.Context) (*pluginsdk.Conn, uint64, error) {
	for {
		p.mu.Lock()
		conn, gen, up, stopped := p.conn, p.gen, p.up, p.stopped
		p.mu.Unlock()
		if stopped {
			return nil, 0, fmt.Errorf("plugin %q: %w: node is shutting down", p.launch.Name, pluginsdk.ErrPluginUnavailable)
		}
		if conn != nil {
			return conn, gen, nil
		}
		select {
		case <-up:
		case <-p.stop:
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("plugin %q: %w: not back after %s", p.launch.Name, pluginsdk.ErrPluginUnavailable, p.cfg.UnavailableTimeout)
		}
	}
}

// markDown records that generation gen failed; the watcher restarts it.
func (p *process) markDown(gen uint64, cause error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen != gen || p.conn == nil {
		return
	}
	p.logger.Error("plugin is down", "generation", gen, "error", cause)
	p.conn.KillNow()
	p.conn = nil
	p.up = make(chan struct{})
	p.metrics.up.WithLabelValues(p.launch.Name).Set(0)
}

// do runs the operation named name on a live plugin. If the plugin dies
// under it, do waits for the restart and runs op again (every store
// operation is idempotent or made so by its caller), until
// UnavailableTimeout.
func (p *process) do(name string, op func(*pluginsdk.Conn) error) (err error) {
	start := time.Now()
	defer func() { p.metrics.observe(p.launch.Name, name, start, err) }()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.UnavailableTimeout)
	defer cancel()
	for {
		conn, gen, err := p.current(ctx)
		if err != nil {
			return err
		}
		err = op(conn)
		if isPluginHung(err) {
			// Killed and restarted, not retried: the caller (a Raft
			// leader's log write) must fail now rather than wait again.
			p.markDown(gen, err)
			return fmt.Errorf("plugin %q: %w: %s did not answer within %s, so the plugin is restarted (%v)",
				p.launch.Name, pluginsdk.ErrPluginUnavailable, name, p.cfg.CallTimeout, err)
		}
		if !isPluginGone(err) {
			return err
		}
		p.markDown(gen, err)
	}
}

// isPluginHung reports a call the plugin did not answer within the call
// timeout.
func isPluginHung(err error) bool {
	return err != nil && status.Code(err) == codes.DeadlineExceeded
}

// doWait is do without the time bound, for the operations hashicorp/raft
// panics on when they fail (saving its term or vote, reading a committed
// log to apply it): it waits for the plugin as long as the node runs,
// warning every UnavailableTimeout, and fails only when the node stops.
func (p *process) doWait(what string, op func(*pluginsdk.Conn) error) error {
	for waited := time.Duration(0); ; waited += p.cfg.UnavailableTimeout {
		err := p.do(what, op)
		if !errors.Is(err, pluginsdk.ErrPluginUnavailable) || p.isStopped() {
			return err
		}
		p.logger.Warn("still waiting for the plugin", "operation", what, "waited", waited+p.cfg.UnavailableTimeout)
	}
}

func (p *process) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// isPluginGone tells a dead or unreachable plugin from a store's refusal.
func isPluginGone(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, pluginsdk.ErrPluginUnavailable) {
		return true
	}
	code := status.Code(err)
	return code == codes.Unavailable || code == codes.Canceled
}

// watch restarts the plugin with backoff whenever its process is gone.
func (p *process) watch() {
	defer p.wg.Done()
	tick := time.NewTicker(p.cfg.WatchInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		conn, gen := p.conn, p.gen
		p.mu.Unlock()
		if conn != nil && conn.Exited() {
			p.markDown(gen, errors.New("process exited"))
			conn = nil
		}
		if conn == nil {
			p.restart()
		}
	}
}

// restart relaunches the plugin, doubling the wait after each failure.
func (p *process) restart() {
	backoff := p.cfg.RestartBackoff
	for attempt := 1; ; attempt++ {
		select {
		case <-p.stop:
			return
		case <-time.After(backoff):
		}
		conn, err := pluginsdk.Launch(p.launch)
		if err == nil {
			p.setConn(conn)
			return
		}
		p.logger.Error("plugin restart failed", "attempt", attempt, "next_in", backoff, "error", err)
		backoff = min(2*backoff, p.cfg.MaxRestartBackoff)
	}
}

// close stops watching and stops the plugin.
func (p *process) close() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.stop)
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		p.conn.Kill()
		p.conn = nil
	}
}

// pid is the live plugin's process id, or 0.
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return 0
	}
	return p.conn.Pid()
}

// env is the environment the host adds for the plugin.
func (pc PluginConfig) env() []string {
	if pc.GoMaxProcs > 0 {
		return []string{fmt.Sprintf("GOMAXPROCS=%d", pc.GoMaxProcs)}
	}
	return nil
}
