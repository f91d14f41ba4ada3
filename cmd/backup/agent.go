package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup/agent"
)

// Bounds of the agent's waits for the cluster at start.
const (
	agentConnectBackoff    = time.Second
	agentConnectMaxBackoff = 30 * time.Second
)

type agentOptions struct {
	config   string
	check    bool
	logLevel string
	logJSON  bool
}

func newAgentCmd(conn *connOptions) *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run scheduled backups: streams, interval or cron, target, retention",
		Long: `agent runs the backup blocks of an HCL config on their schedules until
SIGINT or SIGTERM: one backup at a time per stream, failed backups retried
with exponential backoff, older backups pruned by count and age once a newer
one is complete, one log line per run, and its own /metrics when "metrics"
is set. A backup in progress when it stops is aborted and leaves nothing
that looks complete.

The cluster is "servers" from the config, else --server / STRATA_URL.`,
		Example: `  strata-backup agent --config backup.hcl

  # backup.hcl
  servers = ["127.0.0.1:4222"]
  metrics = "127.0.0.1:9090"
  backup "orders" {
    streams  = ["ORDERS"]              # or all = true
    target   = "s3://backups/strata"   # or a local directory
    interval = "1h"                    # or cron = "0 */6 * * *"
    jitter   = "5m"
    retain {
      count   = 7
      max_age = "30d"
    }
  }`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, conn) },
	}
	cmd.Flags().StringVarP(&o.config, "config", "c", "", "the agent's HCL config `file` (required)")
	cmd.Flags().BoolVar(&o.check, "check", false, "check the config and exit")
	cmd.Flags().StringVar(&o.logLevel, "log-level", "info", "log level: trace, debug, info, warn or error")
	cmd.Flags().BoolVar(&o.logJSON, "log-json", false, "log JSON lines")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func (o *agentOptions) run(cmd *cobra.Command, conn *connOptions) error {
	cfg, err := agent.LoadFile(o.config)
	if err != nil {
		return err
	}
	if o.check {
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d backup blocks, valid\n", o.config, len(cfg.Jobs))
		return nil
	}
	level := hclog.LevelFromString(o.logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("unknown --log-level %q: trace, debug, info, warn or error", o.logLevel)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "backup-agent", Output: cmd.ErrOrStderr(), Level: level,
		JSONFormat: o.logJSON})
	ctx := cmd.Context()
	c, err := connectAgent(ctx, conn, cfg.Servers, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the cluster
		}
		return err
	}
	defer c.Close()
	a, err := agent.New(cfg, c, logger)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// connectAgent connects to the cluster, waiting for it with backoff until
// ctx ends: an agent started before its cluster waits for it.
func connectAgent(ctx context.Context, conn *connOptions, servers []string, logger hclog.Logger) (*client.Client, error) {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = stripScheme(s)
	}
	if len(addrs) == 0 && strings.TrimSpace(conn.servers) == "" {
		return nil, errors.New("no server address: set servers in the config, pass -s host:port or set STRATA_URL")
	}
	backoff := agentConnectBackoff
	for {
		c, err := conn.connect(ctx, addrs...)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || errors.Is(err, client.ErrInvalid) {
			return nil, err
		}
		logger.Warn("cannot connect to the cluster; retrying", "retry_in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, agentConnectMaxBackoff)
	}
}
