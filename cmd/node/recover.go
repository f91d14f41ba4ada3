package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/spf13/cobra"

	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/recovery"
)

// recoverOptions are the flags of `strata recover`.
type recoverOptions struct {
	configFile string
	peersFile  string
}

func newRecoverCmd() *cobra.Command {
	o := &recoverOptions{}
	cmd := &cobra.Command{
		Use:   "recover --config FILE --peers FILE",
		Short: "Bring back groups that lost their quorum for good (run on each stopped survivor)",
		Long: `recover rewrites the Raft configuration of the meta group and of every stream
group this server holds to the survivors listed in the peers file, like Consul's
peers.json. Run it on every surviving server while the server is stopped, with the
same peers file, then start them. Entries the old groups never committed are kept:
a message that was never acknowledged may appear. The peers file is JSON:

  [{"id": "n1", "address": "127.0.0.1:6222"}, {"id": "n2", "address": "127.0.0.1:6223"}]

(addresses are cluster addresses).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().StringVar(&o.configFile, "config", "", "the stopped server's HCL config file (required)")
	cmd.Flags().StringVar(&o.peersFile, "peers", "", "JSON file listing the surviving servers (required)")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("peers")
	return cmd
}

func (o *recoverOptions) run(cmd *cobra.Command) error {
	cfg, err := config.LoadFile(o.configFile)
	if err != nil {
		return err
	}
	binDir, err := executableDir()
	if err != nil {
		return err
	}
	if err := cfg.Finish(binDir); err != nil {
		return err
	}
	peers, err := raft.ReadConfigJSON(o.peersFile)
	if err != nil {
		return fmt.Errorf("peers file %s: %w", o.peersFile, err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "strata", Level: hclog.Warn, Output: cmd.ErrOrStderr()})
	groups, err := recovery.Run(cfg, peers, logger)
	for _, g := range groups {
		fmt.Fprintf(cmd.OutOrStdout(), "Recovered %s with peers %v\n", g.Name, g.Peers)
	}
	return err
}
