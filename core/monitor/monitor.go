// Package monitor owns a node's HTTP monitoring endpoints: /healthz (is the
// node ready), /jsz (its cluster and Raft state as JSON) and /metrics
// (Prometheus), and Go's profiler under /debug/pprof/.
package monitor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadb/strata/core/membership"
)

// DefaultMaxApplyLag is how many committed entries the meta group may have
// left to apply and still count as current.
const DefaultMaxApplyLag = 64

var (
	// ErrNoMeta is returned by Config.Validate when Meta is nil.
	ErrNoMeta = errors.New("monitor: Meta is required")
	// ErrNoMembers is returned by Config.Validate when Members is nil.
	ErrNoMembers = errors.New("monitor: Members is required")
)

// Config configures the monitoring server.
type Config struct {
	// Addr is the host:port to listen on.
	Addr string
	// ServerName and ClusterName identify this node.
	ServerName, ClusterName string
	// Members returns the cluster's members.
	Members func() []membership.Member
	// Meta is the node's meta Raft group.
	Meta *raft.Raft
	// MaxApplyLag is the largest commit index - applied index at which
	// the node is still healthy.
	MaxApplyLag uint64
	// Storage, if set, returns an error while a storage plugin is down:
	// the node is then not healthy.
	Storage func() error
	// Collectors are more metrics to serve on /metrics (the storage
	// host's plugin-call metrics).
	Collectors []prometheus.Collector
	// Registered, if set, reports whether the meta state records this
	// server (with its addresses): until it does, the meta leader cannot
	// place replicas on it, and the node is not healthy.
	Registered func() bool
	// Streams, if set, returns the node's stream replicas.
	Streams func() []StreamReplica
	// Consumers, if set, returns the node's consumer replicas.
	Consumers func() []ConsumerReplica
	// API, if set, returns the client API's counters.
	API func() API
	// TLS, if set, serves the endpoints over HTTPS.
	TLS *tls.Config
	// Authorize, if set, guards every endpoint but /healthz: a request
	// must carry HTTP basic credentials it accepts (a system account
	// user's), else it is answered 401.
	Authorize func(user, password string) bool
	// Logger (nil: a null logger).
	Logger hclog.Logger
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Meta == nil:
		return ErrNoMeta
	case c.Members == nil:
		return ErrNoMembers
	}
	return nil
}

// Server serves the monitoring endpoints.
type Server struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Start binds cfg.Addr and serves the endpoints in the background.
func Start(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.MaxApplyLag == 0 {
		cfg.MaxApplyLag = DefaultMaxApplyLag
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s := &Server{cfg: cfg, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          cfg.Logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	go s.serve()
	return s, nil
}

func (s *Server) serve() {
	defer close(s.done)
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.cfg.Logger.Error("monitoring server stopped", "error", err)
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /jsz", s.guard(http.HandlerFunc(s.jsz)))
	mux.Handle("GET /metrics", s.guard(s.metricsHandler()))
	// Go's profiler, as nats-server offers on its profiling port.
	mux.Handle("GET /debug/pprof/", s.guard(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", s.guard(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/trace", s.guard(http.HandlerFunc(pprof.Trace)))
	return mux
}

// guard answers 401 to a request without credentials Authorize accepts.
func (s *Server) guard(h http.Handler) http.Handler {
	if s.cfg.Authorize == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || !s.cfg.Authorize(user, password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="strata", charset="UTF-8"`)
			http.Error(w, "a system account user is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting requests and waits for those in flight until
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
