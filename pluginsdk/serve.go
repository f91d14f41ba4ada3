package pluginsdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve serves p as a storage plugin on go-plugin's gRPC transport and
// returns when the host is gone. It is all a plugin's main calls. The
// plugin logs JSON to stderr at the level the host asks for (LogLevelEnv);
// the host re-emits each line at its level. Stdout belongs to go-plugin's
// handshake: never write to it.
func Serve(p Plugin) {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      levelFromEnv(),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	go exitWithHost(logger)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(p, logger),
		GRPCServer:       newGRPCServer,
		Logger:           logger,
	})
	if err := p.Close(); err != nil {
		logger.Error("close plugin", "error", err)
	}
}

// LogLevelEnv names the environment variable in which the host gives a
// plugin its logger's level (hclog's names: trace, debug, info, warn,
// error). A plugin that logs below the host's level would only have its
// lines formatted, piped and dropped.
const LogLevelEnv = "STRATA_PLUGIN_LOG_LEVEL"

// levelFromEnv is the level LogLevelEnv gives, info when unset.
func levelFromEnv() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv(LogLevelEnv)); l != hclog.NoLevel {
		return l
	}
	return hclog.Info
}

// hostLevelEnv is the LogLevelEnv setting for a host logging at level.
// Errors always pass, so a plugin that fails at start can say why.
func hostLevelEnv(level hclog.Level) string {
	if level == hclog.NoLevel || level > hclog.Error {
		level = hclog.Error
	}
	return LogLevelEnv + "=" + level.String()
}

// Flow-control windows of the plugin connection, both ways: gRPC's
// 64 KiB default makes a MiB-sized StoreLogs (a batch of publishes, a
// restore) wait for many window updates on the way to the plugin.
const (
	streamWindow = 8 << 20
	connWindow   = 16 << 20
)

func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(streamWindow), grpc.InitialConnWindowSize(connWindow))
	return grpc.NewServer(opts...)
}

// exitWithHost ends the plugin when its host is gone (its parent process
// changes), so a host killed with -9 leaves no plugin holding its data.
// Everything a plugin acknowledged is already durable.
func exitWithHost(logger hclog.Logger) {
	parent := os.Getppid()
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			logger.Warn("host process is gone, exiting")
			os.Exit(2)
		}
	}
}
