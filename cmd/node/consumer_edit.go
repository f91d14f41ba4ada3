package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerEditOptions are `strata consumer edit`'s flags.
type consumerEditOptions struct {
	conn *connOptions
	cfg  consumerFlags
	json bool
}

func (o *consumerEditOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "edit STREAM NAME",
		Aliases: []string{"update"},
		Short:   "Change a consumer's configuration: only the flags given change",
		Long: "Change a consumer's configuration: only the flags given change. An existing\n" +
			"consumer changes its description, ack wait, max deliver, backoff, max pending\n" +
			"and max waiting; the rest is fixed at creation.",
		Example: "  strata consumer edit ORDERS PROCESSOR --ack-wait 2m --max-pending 5000",
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	o.cfg.bindMutable(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the consumer as JSON")
	return cmd
}

func (o *consumerEditOptions) run(cmd *cobra.Command, stream, name string) error {
	var probe client.ConsumerConfig
	if err := o.cfg.applyMutable(&probe, cmd.Flags(), false); err != nil {
		return err
	}
	if !o.cfg.changed(cmd.Flags()) {
		return errors.New("nothing to change: give at least one configuration flag")
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		ci, err := c.ConsumerInfo(ctx, stream, name)
		if err != nil {
			return err
		}
		cfg := ci.Config
		if err := o.cfg.applyMutable(&cfg, cmd.Flags(), false); err != nil {
			return err
		}
		if ci, err = c.UpdateConsumer(ctx, stream, cfg); err != nil {
			return err
		}
		return showConsumer(cmd, ci, o.json, fmt.Sprintf("Consumer %s was updated", name))
	})
}
