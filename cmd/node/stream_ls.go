package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamLsOptions are `strata stream ls`'s flags.
type streamLsOptions struct {
	conn *connOptions
	json bool
}

func (o *streamLsOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the streams",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the streams as JSON")
	return cmd
}

func (o *streamLsOptions) run(cmd *cobra.Command) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		streams, err := c.Streams(ctx)
		if err != nil {
			return err
		}
		sortStreams(streams)
		w := cmd.OutOrStdout()
		if o.json {
			return printJSON(w, streams)
		}
		if len(streams) == 0 {
			fmt.Fprintln(w, "No streams defined")
			return nil
		}
		t := newTable(w, "Streams", "Name", "Subjects", "Messages", "Size", "Last message")
		for _, s := range streams {
			last := "never"
			if !s.State.LastTime.IsZero() {
				last = humanDur(time.Since(s.State.LastTime))
			}
			t.AppendRow([]any{s.Config.Name, strings.Join(s.Config.Subjects, ", "),
				count(s.State.Msgs), size(s.State.Bytes), last})
		}
		t.Render()
		return nil
	})
}

func sortStreams(ss []*client.StreamInfo) {
	slices.SortFunc(ss, func(a, b *client.StreamInfo) int { return strings.Compare(a.Config.Name, b.Config.Name) })
}
