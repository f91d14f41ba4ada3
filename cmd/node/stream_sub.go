package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamSubOptions are `strata stream sub`'s flags.
type streamSubOptions struct {
	conn    *connOptions
	subject string
	deliver string
	count   int
	json    bool
}

func (o *streamSubOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sub STREAM",
		Short: "Print a stream's messages as they arrive, through a short-lived consumer, until Ctrl-C",
		Long: "Print a stream's messages as they arrive (from --deliver on: new ones by\n" +
			"default), through an ephemeral consumer that acks nothing and is deleted at\n" +
			"the end, until Ctrl-C or --count messages.",
		Example: "  strata stream sub ORDERS --subject 'ORDERS.new'\n  strata stream sub ORDERS --deliver 1h",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.subject, "subject", "", "print only messages on subjects matching this filter")
	f.StringVar(&o.deliver, "deliver", "new",
		"where to start: new, all, last, last-per-subject, a stream sequence (100), an RFC3339 time or a duration ago (1h)")
	f.IntVar(&o.count, "count", 0, "stop after this many messages (0: until Ctrl-C)")
	f.BoolVar(&o.json, "json", false, "print the messages as JSON")
	return cmd
}

func (o *streamSubOptions) run(cmd *cobra.Command, stream string) error {
	if o.count < 0 {
		return fmt.Errorf("invalid --count %d: want 0 (no limit) or more", o.count)
	}
	var start client.ConsumerConfig
	if err := parseDeliver(o.deliver, time.Now(), &start); err != nil {
		return err
	}
	return o.conn.runLong(cmd, func(ctx context.Context, c *client.Client) error {
		name, err := addEphemeral(ctx, c, stream, o.subject, start)
		if err != nil {
			return err
		}
		defer o.conn.deleteEphemeral(cmd, c, stream, name)
		return consume(ctx, cmd, c, stream, name, o.count, o.json, false)
	})
}
