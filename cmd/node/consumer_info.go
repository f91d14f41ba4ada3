package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerInfoOptions are `strata consumer info`'s flags.
type consumerInfoOptions struct {
	conn *connOptions
	json bool
}

func (o *consumerInfoOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info STREAM NAME",
		Short: "Show a consumer's configuration, Raft group and state",
		Args:  cobra.ExactArgs(2),
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the consumer as JSON")
	return cmd
}

func (o *consumerInfoOptions) run(cmd *cobra.Command, stream, name string) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		ci, err := c.ConsumerInfo(ctx, stream, name)
		if err != nil {
			return err
		}
		if o.json {
			return printJSON(cmd.OutOrStdout(), ci)
		}
		writeConsumerInfo(cmd.OutOrStdout(), ci)
		return nil
	})
}
