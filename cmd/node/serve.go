package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/node"
)

// serveOptions are `strata serve`'s flags.
type serveOptions struct {
	configFile       string
	name             string
	cluster          string
	listen           string
	clusterListen    string
	clusterAdvertise string
	routes           []string
	http             string
	dataDir          string
	bootstrapExpect  int
}

func newServeCmd() *cobra.Command { return (&serveOptions{}).command() }

// command returns the serve command with its flags bound to o.
func (o *serveOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Strata server",
		Long: "Run a Strata server until SIGINT or SIGTERM. Settings come from --config and the\n" +
			"defaults; flags given on the command line override both. SIGHUP reloads the TLS\n" +
			"certificates, keys and CAs of every port and the accounts' users and permissions\n" +
			"without a restart.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "HCL config `file`")
	f.StringVar(&o.name, "name", "", "server name, unique in the cluster (server_name)")
	f.StringVar(&o.cluster, "cluster", "", "cluster name (cluster.name)")
	f.StringVar(&o.listen, "listen", "", "client `host:port` (listen)")
	f.StringVar(&o.clusterListen, "cluster-listen", "", "cluster `host:port` shared by all Raft groups (cluster.listen)")
	f.StringVar(&o.clusterAdvertise, "cluster-advertise", "", "cluster `host:port` other servers dial, if not cluster-listen (cluster.advertise)")
	f.StringSliceVar(&o.routes, "routes", nil, "seed cluster addresses, comma separated (cluster.routes)")
	f.StringVar(&o.http, "http", "", "monitoring `host:port` (http)")
	f.StringVar(&o.dataDir, "data-dir", "", "data `directory` (data_dir)")
	f.IntVar(&o.bootstrapExpect, "bootstrap-expect", 0, "servers to wait for before forming the meta group (cluster.bootstrap_expect)")
	return cmd
}

// config reads the config file (or the defaults), applies the flags the
// user set, resolves built-in plugins beside the strata binary and
// validates the result.
func (o *serveOptions) config(flags *pflag.FlagSet) (*config.Config, error) {
	cfg := config.Default()
	if o.configFile != "" {
		var err error
		if cfg, err = config.LoadFile(o.configFile); err != nil {
			return nil, err
		}
	}
	o.override(cfg, flags)
	binDir, err := executableDir()
	if err != nil {
		return nil, err
	}
	if err := cfg.Finish(binDir); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (o *serveOptions) override(cfg *config.Config, flags *pflag.FlagSet) {
	strs := []struct {
		flag     string
		dst, val *string
	}{
		{"name", &cfg.ServerName, &o.name},
		{"cluster", &cfg.Cluster.Name, &o.cluster},
		{"listen", &cfg.Listen, &o.listen},
		{"cluster-listen", &cfg.Cluster.Listen, &o.clusterListen},
		{"cluster-advertise", &cfg.Cluster.Advertise, &o.clusterAdvertise},
		{"http", &cfg.HTTP, &o.http},
		{"data-dir", &cfg.DataDir, &o.dataDir},
	}
	for _, s := range strs {
		if flags.Changed(s.flag) {
			*s.dst = *s.val
		}
	}
	if flags.Changed("routes") {
		cfg.Cluster.Routes = o.routes
	}
	if flags.Changed("bootstrap-expect") {
		cfg.Cluster.BootstrapExpect = o.bootstrapExpect
	}
}

// executableDir is the directory of the running strata binary, where the
// built-in plugins are.
func executableDir() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating the strata binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe), nil
}

// run starts the node and shuts it down on SIGINT, SIGTERM, a lame duck
// request (`strata server lame-duck`) or when the command's context ends. Signals during the shutdown are ignored (a
// Ctrl-C reaches both a script and the nodes it started, and the script
// then sends SIGTERM too); the shutdown itself is bounded.
func (o *serveOptions) run(cmd *cobra.Command) error {
	cfg, err := o.config(cmd.Flags())
	if err != nil {
		return err
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name: "strata", Level: hclog.LevelFromString(cfg.LogLevel), Output: cmd.ErrOrStderr(),
	})
	n, err := node.New(cfg, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := n.Start(); err != nil {
		return err
	}
	stopReload := reloadOnHangup(n, logger, func() (*config.Config, error) { return o.config(cmd.Flags()) })
	defer stopReload()
	select {
	case <-ctx.Done():
		logger.Info("stopping", "reason", context.Cause(ctx))
	case <-n.LameDuckRequested():
		logger.Info("stopping", "reason", "lame duck mode requested")
	}
	return n.Shutdown()
}

// reloadOnHangup, on each SIGHUP until the returned func is called,
// reloads the node's TLS certificates and reads the config again for its
// accounts' users and permissions.
func reloadOnHangup(n *node.Node, logger hclog.Logger, load func() (*config.Config, error)) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := n.ReloadTLS(); err != nil {
					logger.Error("reloading TLS certificates failed; the ones loaded before stay in use", "error", err)
				}
				cfg, err := load()
				if err == nil {
					err = n.ReloadAccounts(cfg)
				}
				if err != nil {
					logger.Error("reloading the accounts failed; the users loaded before stay in use", "error", err)
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
