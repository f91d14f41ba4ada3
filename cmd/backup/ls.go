package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/stratadb/strata/core/backup"
)

type lsOptions struct{ json bool }

func newLsCmd() *cobra.Command {
	o := &lsOptions{}
	cmd := &cobra.Command{
		Use:   "ls TARGET",
		Short: "List the complete backups under s3://bucket/prefix or a directory",
		Example: `  strata-backup ls s3://backups/strata
  strata-backup ls s3://backups/strata/ORDERS --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the manifests as JSON")
	return cmd
}

func (o *lsOptions) run(cmd *cobra.Command, target string) error {
	store, err := openStore(cmd, target)
	if err != nil {
		return err
	}
	all, err := backup.List(cmd.Context(), store)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	if len(all) == 0 {
		fmt.Fprintf(w, "no backups in %s\n", store)
		return nil
	}
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleRounded)
	t.SetTitle(fmt.Sprintf("Backups in %s", store))
	t.AppendHeader(table.Row{"Stream", "Backup", "Time", "Messages", "Sequences", "Consumers", "Size", "Compressed"})
	for _, b := range all {
		m := b.Manifest
		t.AppendRow(table.Row{m.Stream, b.Dir, m.Started.Local().Format(time.DateTime), m.Messages,
			fmt.Sprintf("%d-%d", m.FirstSeq, m.LastSeq), m.Consumers, mib(m.Bytes), mib(m.Compressed)})
	}
	t.Render()
	return nil
}
