package storetest

import (
	"encoding/json"
	"net"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stratadb/strata/pluginsdk"
)

// Suite runs the whole kit for one plugin: in process, over a real gRPC
// connection (ServeGRPC), and, when Binary is set,
// against the plugin binary as a subprocess, with kill -9 durability.
//
//	func TestConformance(t *testing.T) {
//		storetest.Suite{
//			New:    func() pluginsdk.Plugin { return mystore.New() },
//			Binary: storetest.BuildPlugin(t, "./cmd/strata-plugin-mystore"),
//		}.Run(t)
//	}
type Suite struct {
	// New returns an unconfigured plugin.
	New func() pluginsdk.Plugin
	// Config is the plugin's config block as JSON (may be empty).
	Config json.RawMessage
	// Binary is the path of the built plugin; empty skips the subprocess
	// cases.
	Binary string
	// LargeSnapshotSize is the size of the large-snapshot case over gRPC
	// and in the subprocess; zero means 64 MiB.
	LargeSnapshotSize int64
}

// Run runs every case as a subtest: InProcess/..., GRPC/..., Binary/...
func (s Suite) Run(t *testing.T) {
	t.Run("InProcess", func(t *testing.T) { Run(t, s.inProcess(t)) })
	t.Run("GRPC", func(t *testing.T) {
		conn := s.grpc(t)
		Run(t, clientOpener(conn.Client, conn.Capabilities))
		s.largeSnapshot(t, conn.Client, conn.Capabilities)
		dropGroup(t, conn.Client, conn.Capabilities)
	})
	if s.Binary == "" {
		return
	}
	t.Run("Binary", func(t *testing.T) { s.runBinary(t) })
}

func (s Suite) largeSnapshotSize() int64 {
	if s.LargeSnapshotSize > 0 {
		return s.LargeSnapshotSize
	}
	return 64 << 20
}

func (s Suite) largeSnapshot(t *testing.T, c *pluginsdk.Client, caps pluginsdk.Capabilities) {
	t.Run("LargeSnapshot", func(t *testing.T) {
		if !caps.Snapshot {
			t.Skip("plugin serves no SnapshotStore")
		}
		LargeSnapshot(t, c.SnapshotStore(newGroup("large")), s.largeSnapshotSize())
	})
}

// inProcess configures one plugin for the run and opens stores straight
// from it.
func (s Suite) inProcess(t *testing.T) Opener {
	p := s.New()
	if err := p.Configure(pluginsdk.ConfigureRequest{DataDir: t.TempDir(), Config: s.Config, Logger: testLogger(t)}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return func(t testing.TB, group string) Stores {
		var st Stores
		var err error
		if lp, ok := p.(pluginsdk.LogStores); ok {
			st.Log, err = lp.LogStore(group)
			failOn(t, "log store", err)
		}
		if sp, ok := p.(pluginsdk.StableStores); ok {
			st.Stable, err = sp.StableStore(group)
			failOn(t, "stable store", err)
		}
		if np, ok := p.(pluginsdk.SnapshotStores); ok {
			st.Snapshots, err = np.SnapshotStore(group)
			failOn(t, "snapshot store", err)
		}
		return st
	}
}

func failOn(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// grpcConn is a plugin served over go-plugin's in-process gRPC test
// connection and configured.
type grpcConn struct {
	Client       *pluginsdk.Client
	Capabilities pluginsdk.Capabilities
}

func (s Suite) grpc(t *testing.T) grpcConn {
	p := s.New()
	cc := ServeGRPC(t, p)
	t.Cleanup(func() { _ = p.Close() })
	c := pluginsdk.NewClient(cc)
	caps, err := c.Configure(t.TempDir(), s.Config)
	failOn(t, "configure", err)
	return grpcConn{Client: c, Capabilities: caps}
}

// ServeGRPC serves p on a real gRPC server over a Unix socket, with the
// same message limits as a launched plugin, and returns a connection to
// it; both are closed at cleanup. It is go-plugin's TestPluginGRPCConn
// with the SDK's server options.
func ServeGRPC(t testing.TB, p pluginsdk.Plugin) *grpc.ClientConn {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "plugin.sock")
	ln, err := net.Listen("unix", sock)
	failOn(t, "listen", err)
	server := grpc.NewServer(grpc.MaxRecvMsgSize(pluginsdk.MaxMessageSize), grpc.MaxSendMsgSize(pluginsdk.MaxMessageSize))
	failOn(t, "register", (&pluginsdk.GRPCPlugin{Impl: p, Logger: testLogger(t)}).GRPCServer(nil, server))
	go func() { _ = server.Serve(ln) }()
	cc, err := grpc.NewClient("unix://"+sock,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(pluginsdk.MaxMessageSize),
			grpc.MaxCallSendMsgSize(pluginsdk.MaxMessageSize)))
	failOn(t, "dial", err)
	t.Cleanup(func() {
		_ = cc.Close()
		server.Stop()
	})
	return cc
}

// clientOpener opens a group's stores on the host side of a plugin.
func clientOpener(c *pluginsdk.Client, caps pluginsdk.Capabilities) Opener {
	return func(_ testing.TB, group string) Stores {
		var st Stores
		if caps.Log {
			st.Log = c.LogStore(group)
		}
		if caps.Stable {
			st.Stable = c.StableStore(group)
		}
		if caps.Snapshot {
			st.Snapshots = c.SnapshotStore(group)
		}
		return st
	}
}

// testLogger sends a plugin's logs to t.Log until the test ends.
func testLogger(t testing.TB) hclog.Logger { return testlog.Logger(t, "plugin", hclog.Info) }
