package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerSubOptions are `strata consumer sub`'s flags.
type consumerSubOptions struct {
	conn  *connOptions
	count int
	json  bool
}

func (o *consumerSubOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "sub STREAM NAME",
		Aliases: []string{"consume"},
		Short:   "Print and ack a consumer's messages as they arrive, until Ctrl-C",
		Example: "  strata consumer sub ORDERS PROCESSOR --count 100",
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	cmd.Flags().IntVar(&o.count, "count", 0, "stop after this many messages (0: until Ctrl-C)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the messages as JSON")
	return cmd
}

func (o *consumerSubOptions) run(cmd *cobra.Command, stream, name string) error {
	if o.count < 0 {
		return fmt.Errorf("invalid --count %d: want 0 (no limit) or more", o.count)
	}
	return o.conn.runLong(cmd, func(ctx context.Context, c *client.Client) error {
		return consume(ctx, cmd, c, stream, name, o.count, o.json, true)
	})
}

// consume prints the messages of a consumer as they arrive, acking each
// when ack is set, until ctx ends or after limit messages (0: no limit).
func consume(ctx context.Context, cmd *cobra.Command, c *client.Client, stream, name string, limit int, asJSON, ack bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := cmd.OutOrStdout()
	var mu sync.Mutex
	n := 0
	opts := client.ConsumeOptions{OnError: func(err error) { fmt.Fprintln(cmd.ErrOrStderr(), "strata:", err) }}
	if limit > 0 {
		opts.Batch = min(limit, client.DefaultConsumeBatch)
	}
	sub, err := c.Consume(ctx, stream, name, func(m *client.ConsumerMsg) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if asJSON {
			printJSON(w, m)
		} else {
			writeConsumerMsg(w, n, m)
		}
		if ack {
			m.Ack(ctx)
		}
		if limit > 0 && n >= limit {
			cancel()
		}
	}, opts)
	if err != nil {
		return err
	}
	return sub.Wait()
}
