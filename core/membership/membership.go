package membership

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	// DefaultInterval is how often every route and member is contacted.
	DefaultInterval = time.Second
	// DefaultDialTimeout bounds connecting to a peer.
	DefaultDialTimeout = 500 * time.Millisecond
	// DefaultIOTimeout bounds one request/response exchange.
	DefaultIOTimeout = 2 * time.Second
)

var (
	// ErrNoLayer is returned by Config.Validate when Layer is nil.
	ErrNoLayer = errors.New("membership: Layer is required")
	// ErrBadSelf is returned by Config.Validate when Self lacks a name,
	// cluster address or cluster name.
	ErrBadSelf = errors.New("membership: Self needs Name, Cluster and ClusterName")
	// ErrBadTimeout is returned by Config.Validate for a non-positive timing.
	ErrBadTimeout = errors.New("membership: Interval, DialTimeout and IOTimeout must be positive")
)

// Config configures a Membership.
type Config struct {
	// Self is this node.
	Self Member
	// Routes are seed cluster addresses to contact besides known members.
	Routes []string
	// Layer carries the exchange: the mux's StreamID stream layer.
	Layer raft.StreamLayer
	// Interval is how often every route and member is contacted.
	Interval time.Duration
	// DialTimeout bounds connecting; IOTimeout bounds one exchange.
	DialTimeout, IOTimeout time.Duration
	// Logger receives refusals and errors (nil: a null logger).
	Logger hclog.Logger
}

// DefaultConfig returns a Config with the default timings; callers fill
// in Self, Routes and Layer.
func DefaultConfig() Config {
	return Config{Interval: DefaultInterval, DialTimeout: DefaultDialTimeout, IOTimeout: DefaultIOTimeout}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Layer == nil:
		return ErrNoLayer
	case c.Self.Name == "" || c.Self.Cluster == "" || c.Self.ClusterName == "":
		return ErrBadSelf
	case c.Interval <= 0 || c.DialTimeout <= 0 || c.IOTimeout <= 0:
		return ErrBadTimeout
	}
	return nil
}

// Membership keeps this node's view of the cluster's members.
type Membership struct {
	cfg    Config
	logger hclog.Logger

	mu      sync.Mutex
	members map[string]Member // by name, self included
	refused map[string]bool   // refusals already logged at error level

	changes chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stop    sync.Once
}

// New validates cfg and returns a Membership that knows only itself.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Membership{
		cfg:     cfg,
		logger:  cfg.Logger,
		members: map[string]Member{cfg.Self.Name: cfg.Self.clone()},
		refused: map[string]bool{},
		changes: make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// Start serves peers' exchanges and starts contacting routes and members.
func (m *Membership) Start() {
	m.wg.Add(2)
	go m.acceptLoop()
	go m.gossipLoop()
}

// Stop ends the exchanges, closes the stream layer and waits for them.
func (m *Membership) Stop() {
	m.stop.Do(func() {
		m.cancel()
		_ = m.cfg.Layer.Close()
		m.wg.Wait()
	})
}

// Members returns every known member, this node included, sorted by name.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, mem := range m.members {
		out = append(out, mem.clone())
	}
	return sortByName(out)
}

// Self returns this node's own entry.
func (m *Membership) Self() Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.members[m.cfg.Self.Name].clone()
}

// Changes receives a value after the member list changed. Notifications
// coalesce: read Members after each.
func (m *Membership) Changes() <-chan struct{} { return m.changes }

// UpdateSelf changes this node's own entry, for example to mark it
// bootstrapped; its name, address and cluster name cannot change.
func (m *Membership) UpdateSelf(update func(*Member)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.members[m.cfg.Self.Name]
	next := old.clone()
	update(&next)
	next.Name, next.Cluster, next.ClusterName = old.Name, old.Cluster, old.ClusterName
	if !next.equal(old) {
		m.members[next.Name] = next
		m.notify()
	}
}

// notify signals a change; the caller holds mu.
func (m *Membership) notify() {
	select {
	case m.changes <- struct{}{}:
	default:
	}
}

// logRefusal logs a refusal at error level the first time and at debug
// level after that, so a misconfigured peer does not flood the log.
func (m *Membership) logRefusal(key, msg string, err error) {
	m.mu.Lock()
	first := !m.refused[key]
	m.refused[key] = true
	m.mu.Unlock()
	if first {
		m.logger.Error(msg, "error", err)
		return
	}
	m.logger.Debug(msg, "error", err)
}
