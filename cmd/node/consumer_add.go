package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerAddOptions are `strata consumer add`'s flags.
type consumerAddOptions struct {
	conn *connOptions
	cfg  consumerFlags
	json bool
}

func (o *consumerAddOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "add STREAM NAME",
		Aliases: []string{"create", "new"},
		Short:   "Create a durable pull consumer of a stream",
		Example: "  strata consumer add ORDERS PROCESSOR --filter 'ORDERS.new' --ack-wait 1m --backoff 1s,5s,30s --max-deliver 5\n" +
			"  strata consumer add ORDERS AUDIT --deliver 1h --ack none",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	o.cfg.bindCreate(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the consumer as JSON")
	return cmd
}

func (o *consumerAddOptions) run(cmd *cobra.Command, stream, name string) error {
	cfg := client.ConsumerConfig{Durable: name}
	if err := o.cfg.applyCreate(&cfg, cmd.Flags(), time.Now()); err != nil {
		return err
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		ci, err := c.AddConsumer(ctx, stream, cfg)
		if err != nil {
			return err
		}
		return showConsumer(cmd, ci, o.json, fmt.Sprintf("Consumer %s was created", name))
	})
}
