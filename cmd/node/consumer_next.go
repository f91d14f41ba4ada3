package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerNextOptions are `strata consumer next`'s flags.
type consumerNextOptions struct {
	conn  *connOptions
	count int
	noAck bool
	wait  time.Duration
	json  bool
}

func (o *consumerNextOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "next STREAM NAME",
		Short: "Pull the next messages of a consumer, print them and ack them",
		Long: "Pull up to --count messages of a consumer, waiting at most --wait, print them\n" +
			"and ack each one (unless --no-ack: they are delivered again after the ack wait).",
		Example: "  strata consumer next ORDERS PROCESSOR --count 10 --wait 30s",
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.IntVar(&o.count, "count", 1, "messages to pull at most")
	f.BoolVar(&o.noAck, "no-ack", false, "do not ack the messages")
	f.DurationVar(&o.wait, "wait", 5*time.Second, "how long to wait for messages")
	f.BoolVar(&o.json, "json", false, "print the messages as JSON")
	return cmd
}

func (o *consumerNextOptions) run(cmd *cobra.Command, stream, name string) error {
	switch {
	case o.count < 1:
		return fmt.Errorf("invalid --count %d: want at least 1", o.count)
	case o.wait <= 0:
		return fmt.Errorf("invalid --wait %s: want more than 0", o.wait)
	}
	return o.conn.runLong(cmd, func(ctx context.Context, c *client.Client) error {
		ms, err := c.Fetch(ctx, stream, name, client.FetchOptions{Batch: o.count, Expires: o.wait})
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return fmt.Errorf("no message received within %s", o.wait)
		}
		w := cmd.OutOrStdout()
		for i, m := range ms {
			if o.json {
				if err := printJSON(w, m); err != nil {
					return err
				}
			} else {
				writeConsumerMsg(w, i+1, m)
			}
			if o.noAck {
				continue
			}
			if err := m.Ack(ctx); err != nil {
				return fmt.Errorf("ack of message %d: %w", m.Seq, err)
			}
			if !o.json {
				fmt.Fprintf(w, "Acknowledged message %d\n\n", m.Seq)
			}
		}
		return nil
	})
}
