package raftgroup

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Wire header written by the dialing side before any raft traffic:
//
//	magic (1 byte) | group id length (uint16, big endian) | group id |
//	sender length (uint16, big endian) | sender
//
// The sender is the dialing mux's advertised address: it names the server
// a connection comes from, for logs and for proxies that cut links.
const (
	muxMagic     byte = 0xA8
	muxHeaderLen      = 3

	// MaxGroupIDLen is the longest group id the mux header can carry.
	MaxGroupIDLen = 1024

	// DefaultHeaderTimeout bounds how long an inbound connection may take to
	// send its header before the mux drops it.
	DefaultHeaderTimeout = 5 * time.Second

	// DefaultCoalesceWindow (for MuxConfig.CoalesceWindow) is how long a coalesced call may wait for
	// others to share its frame: it delays heartbeats and commit-index
	// ticks by at most this much, and with a thousand groups turns
	// thousands of RPCs a second per peer into a few hundred frames.
	DefaultCoalesceWindow = 5 * time.Millisecond
)

var (
	// ErrMuxClosed is returned by a Mux or its stream layers after Close.
	ErrMuxClosed = errors.New("raftgroup: mux closed")
	// ErrStreamClosed is returned by a group's stream layer after its Close.
	ErrStreamClosed = errors.New("raftgroup: group stream layer closed")
	// ErrGroupRegistered is returned when a group id already has a stream layer.
	ErrGroupRegistered = errors.New("raftgroup: group already registered on mux")
	// ErrInvalidGroupID is returned for an empty or too long group id.
	ErrInvalidGroupID = errors.New("raftgroup: invalid group id")
	// ErrNotAdvertisable is returned when the mux address cannot be dialed by peers.
	ErrNotAdvertisable = errors.New("raftgroup: mux address is not advertisable")
	// ErrBadHeader is returned when an inbound connection sends a malformed header.
	ErrBadHeader = errors.New("raftgroup: bad mux header")
)

// MuxConfig configures a Mux.
type MuxConfig struct {
	// Advertise is the address peers dial. Defaults to the listener address;
	// it must not be an unspecified IP (0.0.0.0 / ::).
	Advertise net.Addr
	// HeaderTimeout bounds the time an inbound connection has to send its header
	// and, once routed, to be picked up by its group's transport.
	HeaderTimeout time.Duration
	// Logger receives the mux's own log lines. Defaults to a null logger.
	Logger hclog.Logger
	// CoalesceWindow, if positive, makes the groups on this mux send their
	// heartbeats and empty AppendEntries to each peer node in shared frames,
	// one frame per window (see coalescer). Zero sends each as its own RPC.
	// Every node of a cluster must agree on it being on or off, since a mux
	// without it refuses coalesced connections (measured 2026-12-07: 100
	// idle R3 streams, 29% -> 22% of a core per node; docs/benchmarks.md).
	CoalesceWindow time.Duration
	// ServerTLS, if set, serves the port over TLS: with a config that
	// requires and verifies client certificates (certs.Store's, verify
	// on), a process without a certificate the cluster trusts cannot open
	// a connection to any group. ClientTLS is then the config this node
	// dials its peers with; the server name is the address's host.
	ServerTLS, ClientTLS *tls.Config
}

// DefaultMuxConfig returns a MuxConfig with default values.
func DefaultMuxConfig() MuxConfig {
	return MuxConfig{HeaderTimeout: DefaultHeaderTimeout, CoalesceWindow: DefaultCoalesceWindow}
}

// Mux shares one TCP listener between all raft groups of a node. Each group
// gets a raft.StreamLayer from StreamLayer; outbound connections carry a
// header naming the group and the mux routes inbound ones by that header.
type Mux struct {
	ln            net.Listener
	advertise     net.Addr
	headerTimeout time.Duration
	logger        hclog.Logger

	mu      sync.Mutex
	closed  bool
	closeCh chan struct{}
	groups  map[string]*muxStream
	pending map[net.Conn]struct{}
	wg      sync.WaitGroup
	co      *coalescer
	coSend  bool // groups send through co (CoalesceWindow > 0)

	clientTLS *tls.Config // nil: plain TCP
}

// Listen binds addr (for example "127.0.0.1:6222" or "127.0.0.1:0") and
// returns a Mux serving it.
func Listen(addr string, cfg MuxConfig) (*Mux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m, err := NewMux(ln, cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return m, nil
}

// NewMux returns a Mux serving ln. The Mux owns ln and closes it on Close.
func NewMux(ln net.Listener, cfg MuxConfig) (*Mux, error) {
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.CoalesceWindow < 0 {
		return nil, fmt.Errorf("%w: CoalesceWindow %s is negative", ErrBadConfig, cfg.CoalesceWindow)
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Advertise == nil {
		cfg.Advertise = ln.Addr()
	}
	if err := checkAdvertisable(cfg.Advertise); err != nil {
		return nil, err
	}
	if (cfg.ServerTLS == nil) != (cfg.ClientTLS == nil) {
		return nil, fmt.Errorf("%w: ServerTLS and ClientTLS go together", ErrBadConfig)
	}
	if cfg.ServerTLS != nil {
		ln = tls.NewListener(ln, cfg.ServerTLS)
	}
	m := &Mux{
		ln:            ln,
		advertise:     cfg.Advertise,
		headerTimeout: cfg.HeaderTimeout,
		logger:        cfg.Logger,
		closeCh:       make(chan struct{}),
		groups:        make(map[string]*muxStream),
		pending:       make(map[net.Conn]struct{}),
		coSend:        cfg.CoalesceWindow > 0,
		clientTLS:     cfg.ClientTLS,
	}
	if cfg.CoalesceWindow > 0 {
		layer := newMuxStream(m, coalesceStreamID)
		m.groups[coalesceStreamID] = layer
		m.co = newCoalescer(layer, cfg.CoalesceWindow, cfg.Logger.Named("coalescer"))
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

func checkAdvertisable(addr net.Addr) error {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("%w: %v is not a TCP address", ErrNotAdvertisable, addr)
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Errorf("%w: %v", ErrNotAdvertisable, addr)
	}
	return nil
}

// Addr returns the address peers dial to reach this mux.
func (m *Mux) Addr() net.Addr { return m.advertise }

// StreamLayer registers group and returns its raft.StreamLayer. Closing the
// returned layer unregisters only that group.
func (m *Mux) StreamLayer(group string) (raft.StreamLayer, error) {
	if err := validGroupID(group); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrMuxClosed
	}
	if _, ok := m.groups[group]; ok {
		return nil, fmt.Errorf("%w: %q", ErrGroupRegistered, group)
	}
	s := newMuxStream(m, group)
	m.groups[group] = s
	return s, nil
}

func validGroupID(group string) error {
	if group == "" || len(group) > MaxGroupIDLen {
		return fmt.Errorf("%w: length %d not in 1..%d", ErrInvalidGroupID, len(group), MaxGroupIDLen)
	}
	return nil
}

// Close stops accepting, closes connections still sending their header,
// closes every group's stream layer and waits for the mux's goroutines.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.closeCh)
	m.mu.Unlock()
	if m.co != nil {
		m.co.close()
	}
	m.mu.Lock()
	err := m.ln.Close()
	for c := range m.pending {
		_ = c.Close()
	}
	streams := make([]*muxStream, 0, len(m.groups))
	for _, s := range m.groups {
		streams = append(streams, s)
	}
	clear(m.groups)
	m.mu.Unlock()

	for _, s := range streams {
		s.shutdown()
	}
	m.wg.Wait()
	return err
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = nextDelay(delay)
			m.logger.Warn("mux accept failed", "error", err, "retry_in", delay)
			select {
			case <-m.closeCh:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if !m.trackPending(conn) {
			_ = conn.Close()
			return
		}
		go m.handshake(conn)
	}
}

func nextDelay(d time.Duration) time.Duration {
	const base, limit = 5 * time.Millisecond, time.Second
	if d == 0 {
		return base
	}
	return min(2*d, limit)
}

// trackPending records conn as waiting for its header and counts its
// handshake goroutine; it reports false once the mux is closed.
func (m *Mux) trackPending(conn net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.pending[conn] = struct{}{}
	m.wg.Add(1)
	return true
}

func (m *Mux) untrackPending(conn net.Conn) {
	m.mu.Lock()
	delete(m.pending, conn)
	m.mu.Unlock()
}

// handshake reads conn's header and hands conn to the named group.
func (m *Mux) handshake(conn net.Conn) {
	defer m.wg.Done()
	if err := m.tlsHandshake(conn); err != nil {
		m.untrackPending(conn)
		m.logger.Warn("refused a cluster connection: TLS handshake failed", "remote", conn.RemoteAddr(), "error", err)
		_ = conn.Close()
		return
	}
	group, err := readHeader(conn, m.headerTimeout)
	m.untrackPending(conn)
	if err != nil {
		m.logger.Debug("dropping inbound connection", "remote", conn.RemoteAddr(), "error", err)
		_ = conn.Close()
		return
	}
	s := m.lookup(group)
	if s == nil {
		m.logger.Debug("dropping connection for unknown group", "remote", conn.RemoteAddr(), "group", group)
		_ = conn.Close()
		return
	}
	s.deliver(conn, m.headerTimeout)
}

// tlsHandshake completes a TLS connection's handshake within the header
// timeout, so that a peer refused for its certificate is told apart from
// one that sent a bad header.
func (m *Mux) tlsHandshake(conn net.Conn) error {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.headerTimeout)
	defer cancel()
	return tc.HandshakeContext(ctx)
}

func (m *Mux) lookup(group string) *muxStream {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.groups[group]
}

func (m *Mux) unregister(s *muxStream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.groups[s.group] == s {
		delete(m.groups, s.group)
	}
}

func encodeHeader(group, sender string) []byte {
	hdr := make([]byte, 0, muxHeaderLen+len(group)+2+len(sender))
	hdr = append(hdr, muxMagic)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(group)))
	hdr = append(hdr, group...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(sender)))
	return append(hdr, sender...)
}

// readHeader reads exactly the header bytes (no read-ahead, so the raft
// stream that follows stays intact) within timeout.
func readHeader(conn net.Conn, timeout time.Duration) (string, error) {
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	group, err := parseHeader(conn)
	if err != nil {
		return "", err
	}
	return group, conn.SetReadDeadline(time.Time{})
}

// parseHeader reads what encodeHeader wrote from r and returns its group.
func parseHeader(r io.Reader) (string, error) {
	var fixed [muxHeaderLen]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return "", err
	}
	n := int(binary.BigEndian.Uint16(fixed[1:]))
	if fixed[0] != muxMagic || n == 0 || n > MaxGroupIDLen {
		return "", fmt.Errorf("%w: magic %#x, length %d", ErrBadHeader, fixed[0], n)
	}
	group := make([]byte, n+2)
	if _, err := io.ReadFull(r, group); err != nil {
		return "", err
	}
	sender := make([]byte, binary.BigEndian.Uint16(group[n:]))
	if _, err := io.ReadFull(r, sender); err != nil {
		return "", err
	}
	return string(group[:n]), nil
}
