package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamViewOptions are `strata stream view`'s flags.
type streamViewOptions struct {
	conn    *connOptions
	count   int
	subject string
	json    bool
}

// viewIdle is how long view waits for more messages once the stream
// has none ready.
const viewIdle = time.Second

func (o *streamViewOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "view STREAM",
		Short: "Print a stream's messages from the first, through a short-lived consumer",
		Long: "Print up to --count messages of a stream from its first one, through an\n" +
			"ephemeral consumer that acks nothing and is deleted at the end. It stops\n" +
			"early when no more messages arrive within a second.",
		Example: "  strata stream view ORDERS --count 20 --subject 'ORDERS.new'",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.IntVar(&o.count, "count", 10, "messages to print at most")
	f.StringVar(&o.subject, "subject", "", "print only messages on subjects matching this filter")
	f.BoolVar(&o.json, "json", false, "print the messages as JSON")
	return cmd
}

func (o *streamViewOptions) run(cmd *cobra.Command, stream string) error {
	if o.count < 1 {
		return fmt.Errorf("invalid --count %d: want at least 1", o.count)
	}
	return o.conn.runLong(cmd, func(ctx context.Context, c *client.Client) error {
		name, err := addEphemeral(ctx, c, stream, o.subject, client.ConsumerConfig{DeliverPolicy: client.DeliverAllPolicy})
		if err != nil {
			return err
		}
		defer o.conn.deleteEphemeral(cmd, c, stream, name)
		w := cmd.OutOrStdout()
		shown := 0
		for shown < o.count {
			opts := client.FetchOptions{Batch: o.count - shown, NoWait: true}
			ms, err := c.Fetch(ctx, stream, name, opts)
			if err == nil && len(ms) == 0 {
				opts.NoWait, opts.Expires = false, viewIdle
				ms, err = c.Fetch(ctx, stream, name, opts)
			}
			if err != nil {
				return err
			}
			if len(ms) == 0 {
				break
			}
			for _, m := range ms {
				shown++
				if o.json {
					if err := printJSON(w, m); err != nil {
						return err
					}
				} else {
					writeConsumerMsg(w, shown, m)
				}
			}
		}
		if shown == 0 && !o.json {
			fmt.Fprintf(w, "No messages in stream %s\n", stream)
		}
		return nil
	})
}

// addEphemeral creates an ephemeral consumer that acks nothing, gone a
// minute after its last pull, starting where start's deliver policy says,
// and returns its name.
func addEphemeral(ctx context.Context, c *client.Client, stream, subject string, start client.ConsumerConfig) (string, error) {
	cfg := client.ConsumerConfig{
		AckPolicy: client.AckNonePolicy, InactiveThreshold: time.Minute, DeliverPolicy: start.DeliverPolicy,
		OptStartSeq: start.OptStartSeq, OptStartTime: start.OptStartTime,
	}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	ci, err := c.AddConsumer(ctx, stream, cfg)
	if err != nil {
		return "", err
	}
	return ci.Name(), nil
}

// deleteEphemeral deletes a command's ephemeral consumer, within
// --timeout even after Ctrl-C; a failure is only reported, since the
// consumer goes anyway once inactive.
func (o *connOptions) deleteEphemeral(cmd *cobra.Command, c *client.Client, stream, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), max(o.timeout, time.Second))
	defer cancel()
	if err := c.DeleteConsumer(ctx, stream, name); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "strata: deleting the ephemeral consumer %s: %v\n", name, err)
	}
}
