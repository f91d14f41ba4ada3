package pluginsdk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// LaunchConfig says how to start a plugin binary.
type LaunchConfig struct {
	// Name names the plugin in errors and logs.
	Name string
	// Path is the plugin binary.
	Path string
	// SHA256 is the hex checksum of the binary; when set, a binary that
	// does not match is refused before it runs.
	SHA256 string
	// DataDir and Config are sent with Configure.
	DataDir string
	Config  json.RawMessage
	// Logger receives the plugin's own log lines at their levels.
	Logger hclog.Logger
	// Env is added to the plugin's environment (KEY=VALUE), for example
	// GOMAXPROCS=1.
	Env []string
	// CallTimeout bounds each unary call (0: DefaultCallTimeout).
	CallTimeout time.Duration
}

// Validate checks the launch config without starting anything.
func (c LaunchConfig) Validate() error {
	if c.Path == "" {
		return fmt.Errorf("plugin %q: path is required", c.Name)
	}
	info, err := os.Stat(c.Path)
	if err != nil {
		return fmt.Errorf("plugin %q: path %s: %w", c.Name, c.Path, err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("plugin %q: path %s is not an executable file", c.Name, c.Path)
	}
	if c.SHA256 != "" {
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("plugin %q: sha256 must be 64 hex digits", c.Name)
		}
	}
	return nil
}

// Conn is a running, configured plugin process.
type Conn struct {
	*Client
	Capabilities Capabilities
	process      *plugin.Client
}

// Launch starts the plugin, checks its checksum and protocol version,
// connects over gRPC with mutual TLS and configures it.
func Launch(cfg LaunchConfig) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	stderr := &tailWriter{max: 2048}
	pc := plugin.NewClient(clientConfig(cfg, stderr))
	conn, err := connect(cfg, pc)
	if err != nil {
		pc.Kill()
		if errors.Is(err, errExitedAtStart) && stderr.String() != "" {
			err = fmt.Errorf("%w; its last words: %s", err, stderr.String())
		}
		return nil, err
	}
	return conn, nil
}

// tailWriter keeps the last max bytes written to it: a plugin's stderr,
// to explain why it exited at start.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = w.buf[len(w.buf)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}

func clientConfig(cfg LaunchConfig, stderr io.Writer) *plugin.ClientConfig {
	cc := &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(nil, nil),
		Cmd:              pluginCommand(cfg.Path, append([]string{hostLevelEnv(cfg.Logger.GetLevel())}, cfg.Env...)),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           cfg.Logger,
		Stderr:           stderr,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
			grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(connWindow)},
	}
	if cfg.SHA256 != "" {
		sum, _ := hex.DecodeString(cfg.SHA256)
		cc.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	return cc
}

func connect(cfg LaunchConfig, pc *plugin.Client) (*Conn, error) {
	rpc, err := pc.Client()
	if err != nil {
		return nil, launchError(cfg.Name, err)
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", cfg.Name, err)
	}
	client, ok := raw.(*Client)
	if !ok {
		return nil, fmt.Errorf("plugin %q: unexpected client type %T", cfg.Name, raw)
	}
	if cfg.CallTimeout > 0 {
		client.SetCallTimeout(cfg.CallTimeout)
	}
	caps, err := client.Configure(cfg.DataDir, cfg.Config)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", cfg.Name, err)
	}
	return &Conn{Client: client, Capabilities: caps, process: pc}, nil
}

var errExitedAtStart = errors.New("it is not a Strata storage plugin or it exited at start")

// launchError names the plugin and the cause in the words an operator
// needs.
func launchError(name string, err error) error {
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("plugin %q: binary does not match the configured sha256", name)
	case strings.Contains(err.Error(), "ncompatible API version"):
		return fmt.Errorf("plugin %q: %w (host speaks %d): %v", name, ErrIncompatibleProtocol, ProtocolVersion, err)
	case strings.Contains(err.Error(), "Unrecognized remote plugin message"):
		return fmt.Errorf("plugin %q: start: %w", name, errExitedAtStart)
	default:
		return fmt.Errorf("plugin %q: start: %w", name, err)
	}
}

// Exited reports whether the plugin process has exited.
func (c *Conn) Exited() bool { return c.process.Exited() }

// Pid is the plugin process id, or 0 when it is not running.
func (c *Conn) Pid() int {
	rc := c.process.ReattachConfig()
	if rc == nil {
		return 0
	}
	return rc.Pid
}

// Addr is the address the plugin process serves gRPC on (a Unix socket
// on Linux), or nil when it is not running. Only the host that launched
// it can talk to it: the connection is mutual TLS with certificates
// made for this launch (go-plugin's AutoMTLS).
func (c *Conn) Addr() net.Addr {
	rc := c.process.ReattachConfig()
	if rc == nil {
		return nil
	}
	return rc.Addr
}

// killGrace bounds Kill's graceful stop: a plugin that does not answer
// the shutdown call within it (a hung plugin) is killed.
const killGrace = 5 * time.Second

// Kill stops the plugin process: gracefully first, then by force, also
// when the plugin does not answer.
func (c *Conn) Kill() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.process.Kill()
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
		c.signalKill()
		<-done
	}
}

// KillNow stops a plugin that failed (died or stopped answering) at once,
// with SIGKILL, then releases what the connection holds: a graceful stop
// would wait on a plugin that no longer answers.
func (c *Conn) KillNow() {
	c.signalKill()
	c.process.Kill()
}

func (c *Conn) signalKill() {
	if pid := c.Pid(); pid > 0 && !c.process.Exited() {
		if proc, err := os.FindProcess(pid); err == nil {
			_ = proc.Kill()
		}
	}
}

// pluginCommand runs the plugin so that it dies with the host: a host
// killed with -9 must not leave a plugin holding its data directory.
func pluginCommand(path string, env []string) *exec.Cmd {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}
