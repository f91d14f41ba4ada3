// Command strata-backup saves Strata streams as zstd-compressed backups
// into S3 or a local directory, verifies and lists them, restores them
// onto any cluster, and runs scheduled backups (agent). Package
// core/backup owns the format; this is its command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT
// says otherwise: a save or restore streams, and holds a few MiB of
// messages, zstd's windows and the S3 parts in flight, so the collector
// keeps the process near this instead of letting garbage double it.
const memoryLimit = 64 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-backup:", err)
		os.Exit(1)
	}
}

// newRootCmd returns the `strata-backup` command with its subcommands.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "strata-backup",
		Short: "Back up Strata streams to S3 or a directory, and restore them",
		Long: `strata-backup saves a consistent point-in-time backup of a stream (its config
and every message) as a zstd stream with a manifest, into s3://bucket/prefix
or a local directory, and restores it onto the same or another cluster.

S3 credentials and endpoint follow the AWS conventions: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	conn := &connOptions{}
	conn.addFlags(root.PersistentFlags())
	root.AddCommand(newSaveCmd(conn), newRestoreCmd(conn), newLsCmd(), newVerifyCmd(), newAgentCmd(conn))
	return root
}
