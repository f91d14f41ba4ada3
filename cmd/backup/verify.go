package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/core/backup"
)

type verifyOptions struct {
	progressOptions
	keyOptions
	json bool
}

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify SOURCE",
		Short: "Read a backup end to end and check its checksum and counts; restores nothing",
		Example: `  strata-backup verify s3://backups/strata/ORDERS
  strata-backup verify /var/backups/strata/ORDERS/20261126T200102.123Z --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "log lines instead of a progress bar")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the verified backup as JSON")
	o.addKeyFlags(cmd.Flags(), "decrypts an encrypted backup")
	return cmd
}

// verifyReport is what verify --json prints.
type verifyReport struct {
	Backup     string            `json:"backup"`
	Manifest   backup.Manifest   `json:"manifest"`
	Messages   uint64            `json:"messages"`
	Bytes      int64             `json:"bytes"`
	Compressed int64             `json:"compressed_bytes"`
	Consumers  []backup.Consumer `json:"consumers"`
}

func (o *verifyOptions) run(cmd *cobra.Command, source string) error {
	key, err := o.key()
	if err != nil {
		return err
	}
	store, b, err := openBackup(cmd, source)
	if err != nil {
		return err
	}
	p := o.newProgress(cmd.ErrOrStderr(), newLogger(cmd.ErrOrStderr(), "verify"), "verifying")
	start := time.Now()
	st, err := backup.Verify(cmd.Context(), store, b, backup.VerifyOptions{Progress: p, Key: key})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(verifyReport{Backup: fmt.Sprintf("%s/%s", store, b.Dir), Manifest: b.Manifest,
			Messages: st.Messages, Bytes: st.Bytes, Compressed: st.Compressed, Consumers: st.Consumers})
	}
	m := b.Manifest
	fmt.Fprintf(w, "backup %s/%s is complete and intact: stream %s, %d messages (seq %d-%d), %s, %s uncompressed, %s compressed, sha256 %s, read in %s\n",
		store, b.Dir, m.Stream, st.Messages, m.FirstSeq, m.LastSeq, consumerList(st.Consumers), mib(st.Bytes), mib(st.Compressed), m.SHA256[:16],
		time.Since(start).Round(time.Millisecond))
	return nil
}

// consumerList is "no consumers", "1 consumer (A)" or "2 consumers (A, B)".
func consumerList(cs []backup.Consumer) string {
	if len(cs) == 0 {
		return "no consumers"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name()
	}
	noun := "consumers"
	if len(cs) == 1 {
		noun = "consumer"
	}
	return fmt.Sprintf("%d %s (%s)", len(cs), noun, strings.Join(names, ", "))
}
