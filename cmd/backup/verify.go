package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/core/backup"
)

type verifyOptions struct{ progressOptions }

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify SOURCE",
		Short: "Read a backup end to end and check its checksum and counts; restores nothing",
		Example: `  strata-backup verify s3://backups/strata/ORDERS
  strata-backup verify /var/backups/strata/ORDERS/20261126T200102.123Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "log lines instead of a progress bar")
	return cmd
}

func (o *verifyOptions) run(cmd *cobra.Command, source string) error {
	store, b, err := openBackup(cmd, source)
	if err != nil {
		return err
	}
	p := o.newProgress(cmd.ErrOrStderr(), newLogger(cmd.ErrOrStderr(), "verify"), "verifying")
	start := time.Now()
	st, err := backup.Verify(cmd.Context(), store, b, p)
	if err != nil {
		return err
	}
	m := b.Manifest
	fmt.Fprintf(cmd.OutOrStdout(), "backup %s/%s is complete and intact: stream %s, %d messages (seq %d-%d), %s uncompressed, %s compressed, sha256 %s, read in %s\n",
		store, b.Dir, m.Stream, st.Messages, m.FirstSeq, m.LastSeq, mib(st.Bytes), mib(st.Compressed), m.SHA256[:16],
		time.Since(start).Round(time.Millisecond))
	return nil
}
