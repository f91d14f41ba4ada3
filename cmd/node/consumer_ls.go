package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerLsOptions are `strata consumer ls`'s flags.
type consumerLsOptions struct {
	conn *connOptions
	json bool
}

func (o *consumerLsOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ls STREAM",
		Aliases: []string{"list"},
		Short:   "List the consumers of a stream",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the consumers as JSON")
	return cmd
}

func (o *consumerLsOptions) run(cmd *cobra.Command, stream string) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		list, err := c.Consumers(ctx, stream)
		if err != nil {
			return err
		}
		sortConsumers(list)
		w := cmd.OutOrStdout()
		if o.json {
			return printJSON(w, list)
		}
		if len(list) == 0 {
			fmt.Fprintf(w, "No consumers defined on stream %s\n", stream)
			return nil
		}
		t := newTable(w, "Consumers of stream "+stream, "Name", "Description", "Created", "Ack Pending", "Unprocessed")
		for _, ci := range list {
			t.AppendRow([]any{ci.Name(), ci.Config.Description, stamp(ci.Created),
				count(ci.State.AckPending), count(ci.State.Unprocessed)})
		}
		t.Render()
		return nil
	})
}

func sortConsumers(list []*client.ConsumerInfo) {
	slices.SortFunc(list, func(a, b *client.ConsumerInfo) int { return strings.Compare(a.Name(), b.Name()) })
}
