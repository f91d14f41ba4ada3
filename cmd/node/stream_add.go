package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamAddOptions are `strata stream add`'s flags.
type streamAddOptions struct {
	conn *connOptions
	cfg  configFlags
	json bool
}

func (o *streamAddOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "add NAME",
		Aliases: []string{"create", "new"},
		Short:   "Create a stream",
		Example: "  strata stream add ORDERS --subjects 'ORDERS.>' --replicas 3 --max-age 30d",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	o.cfg.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the stream as JSON")
	return cmd
}

func (o *streamAddOptions) run(cmd *cobra.Command, name string) error {
	cfg := client.StreamConfig{Name: name}
	if err := o.cfg.apply(&cfg, cmd.Flags(), true); err != nil {
		return err
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		si, err := c.AddStream(ctx, cfg)
		if err != nil {
			return err
		}
		return showStream(cmd, si, o.json, fmt.Sprintf("Stream %s was created", name))
	})
}
