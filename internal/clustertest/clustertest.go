// Package clustertest runs a local Strata cluster of `strata serve`
// processes on 127.0.0.1 for system tests outside cmd/node: each server
// in its own process group, its log kept and shown when the test fails,
// all killed at cleanup.
package clustertest

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/testnet"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// Build builds strata and the built-in plugins into dir, laid out as
// `make build` lays them out. Call it once from TestMain.
func Build(dir string) error {
	const mod = "github.com/stratadb/strata/"
	return storetest.BuildBinaries(dir, map[string]string{
		"strata":               mod + "cmd/node",
		"strata-plugin-badger": mod + "plugins/badger/cmd/strata-plugin-badger",
		"strata-plugin-file":   mod + "plugins/file/cmd/strata-plugin-file",
		"strata-plugin-s3snap": mod + "plugins/s3snap/cmd/strata-plugin-s3snap",
	})
}

// Main is a TestMain for a package whose tests run clusters: unless
// -short it builds the binaries (Build) into a temporary directory, sets
// *binDir to it, runs the tests and removes the directory. It returns the
// exit code, for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(clustertest.Main(m, &binDir)) }
func Main(m *testing.M, binDir *string) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "strata-clustertest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*binDir = dir
	return m.Run()
}

// Options configures a cluster.
type Options struct {
	// BinDir holds strata and its plugins (Build).
	BinDir string
	// Servers is the number of servers; 0 means 3.
	Servers int
	// Extra is HCL appended to every server's config (storage, plugins).
	Extra string
	// ExtraFor, if set, returns more HCL for the server of that name
	// ("n1", "n2", ...), appended after Extra: settings that differ
	// between servers, such as each its own snapshot prefix.
	ExtraFor func(name string) string
	// HTTPTLS, if set, is the client config WaitHealthy reaches the
	// servers' HTTP ports with (their config has an http_tls block).
	HTTPTLS *tls.Config
	// ClientTLS, if set, is the TLS config Connect uses (their config has
	// a tls block).
	ClientTLS *tls.Config
	// ClusterExtra is HCL added inside every server's cluster block (a
	// raft block, say).
	ClusterExtra string
	// Env is added to every server's environment.
	Env []string
}

// Cluster is a set of servers started together.
type Cluster struct {
	Servers []*Server
	opts    Options
}

// Server is one `strata serve` process.
type Server struct {
	Name, Client, HTTP, ClusterAddr string
	DataDir, Config                 string
	t                               testing.TB
	bin                             string
	env                             []string
	cmd                             *exec.Cmd
	done                            chan struct{}
	log                             string
	runs                            int
	httpTLS                         *tls.Config
}

// Start starts a cluster and waits until every server is healthy.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Servers == 0 {
		opts.Servers = 3
	}
	dir := t.TempDir()
	c := &Cluster{opts: opts}
	var first string
	for i := 1; i <= opts.Servers; i++ {
		s := &Server{Name: fmt.Sprintf("n%d", i), Client: testnet.FreeAddr(t), HTTP: testnet.FreeAddr(t),
			ClusterAddr: testnet.FreeAddr(t), DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i)),
			t: t, bin: filepath.Join(opts.BinDir, "strata"), env: opts.Env, httpTLS: opts.HTTPTLS}
		if first == "" {
			first = s.ClusterAddr
		}
		s.Config = filepath.Join(dir, s.Name+".hcl")
		if err := os.WriteFile(s.Config, []byte(s.hcl(first, opts)), 0o644); err != nil {
			t.Fatal(err)
		}
		c.Servers = append(c.Servers, s)
	}
	t.Cleanup(func() {
		for _, s := range c.Servers {
			s.Kill()
			if t.Failed() {
				s.dumpLog()
			}
		}
	})
	for _, s := range c.Servers {
		s.Start()
	}
	c.WaitHealthy()
	return c
}

func (s *Server) hcl(seed string, opts Options) string {
	routes := ""
	if seed != s.ClusterAddr {
		routes = fmt.Sprintf("%q", seed)
	}
	return fmt.Sprintf(`server_name = %q
listen = %q
http = %q
data_dir = %q
cluster {
  name = "T"
  listen = %q
  routes = [%s]
  bootstrap_expect = %d
%s
}
%s
`, s.Name, s.Client, s.HTTP, s.DataDir, s.ClusterAddr, routes, opts.Servers, opts.ClusterExtra, s.extra(opts))
}

func (s *Server) extra(opts Options) string {
	if opts.ExtraFor == nil {
		return opts.Extra
	}
	return opts.Extra + "\n" + opts.ExtraFor(s.Name)
}

// Addrs returns the servers' client addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Client
	}
	return out
}

// URL is the servers' client addresses as STRATA_URL takes them.
func (c *Cluster) URL() string { return strings.Join(c.Addrs(), ",") }

// Connect returns a client of every server, closed at cleanup.
func (c *Cluster) Connect(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := client.DefaultOptions()
	opts.Addrs = c.Addrs()
	opts.Timeout = 20 * time.Second
	opts.TLS = c.opts.ClientTLS
	cl, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// WaitHealthy waits until every server's /healthz answers 200.
func (c *Cluster) WaitHealthy() {
	for _, s := range c.Servers {
		s.WaitHealthy()
	}
}

// Destroy kills every server and deletes its data: the cluster is lost.
func (c *Cluster) Destroy() {
	for _, s := range c.Servers {
		s.Kill()
		if err := os.RemoveAll(s.DataDir); err != nil {
			s.t.Fatal(err)
		}
	}
}

// Start runs the server in its own process group (its plugins die with
// it), dying with the test process.
func (s *Server) Start() {
	s.t.Helper()
	s.runs++
	s.log = filepath.Join(filepath.Dir(s.Config), fmt.Sprintf("%s.run%d.log", s.Name, s.runs))
	f, err := os.Create(s.log)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "serve", "--config", s.Config)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = f, f
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); f.Close(); close(s.done) }()
}

// Signal sends sig to the server process (SIGHUP reloads its TLS
// certificates), failing the test if it is not running.
func (s *Server) Signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		s.t.Fatalf("%s is not running", s.Name)
	}
	if err := syscall.Kill(s.cmd.Process.Pid, sig); err != nil {
		s.t.Fatal(err)
	}
}

// Kill ends the server and its plugins with SIGKILL, if running.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.Process.Pid <= 0 {
		return
	}
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// WaitHealthy waits until the server's /healthz answers 200, failing the
// test if it exits or is not healthy within a minute.
func (s *Server) WaitHealthy() {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.dumpLog()
			s.t.Fatalf("%s exited while starting", s.Name)
		default:
		}
		resp, err := s.healthz()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.dumpLog()
	s.t.Fatalf("%s not healthy after 60s", s.Name)
}

// healthz asks the server's /healthz, over HTTPS when the cluster's
// HTTP ports use TLS.
func (s *Server) healthz() (*http.Response, error) {
	if s.httpTLS == nil {
		return http.Get("http://" + s.HTTP + "/healthz")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: s.httpTLS}, Timeout: 5 * time.Second}
	return c.Get("https://" + s.HTTP + "/healthz")
}

// Log returns what the server's current (latest) run has logged so far.
func (s *Server) Log() string {
	s.t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func (s *Server) dumpLog() {
	if s.log == "" {
		return
	}
	b, _ := os.ReadFile(s.log)
	if len(b) > 64<<10 {
		b = b[len(b)-64<<10:]
	}
	s.t.Logf("%s log (%s, last 64 KiB):\n%s", s.Name, s.log, b)
}
