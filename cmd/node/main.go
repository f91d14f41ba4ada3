// Command strata is the Strata server and its admin and client tool:
// `strata serve` runs a node; `strata stream|consumer|pub|get|server|bench` talk to a
// cluster through package client (-s/--server or STRATA_URL).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "strata:", err)
		os.Exit(1)
	}
}

// newRootCmd returns the `strata` command with its subcommands.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Strata: a clustered, replicated message-stream store",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	conn := &connOptions{}
	conn.addFlags(root.PersistentFlags())
	root.AddCommand(newServeCmd(), newRecoverCmd(), newStreamCmd(conn), newConsumerCmd(conn), newPubCmd(conn),
		newGetCmd(conn), newServerCmd(conn), newBenchCmd(conn))
	return root
}
