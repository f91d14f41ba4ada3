package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// pubOptions are `strata pub`'s flags.
type pubOptions struct {
	conn    *connOptions
	id      string
	headers []string
	count   int
}

func newPubCmd(conn *connOptions) *cobra.Command {
	o := &pubOptions{conn: conn}
	cmd := &cobra.Command{
		Use:   "pub SUBJECT [PAYLOAD]",
		Short: "Publish a message to the stream whose subjects match SUBJECT",
		Long: "Publish a message and wait for its ack. Without PAYLOAD the payload is read\n" +
			"from stdin. With --count N the message is published N times and {{Count}}\n" +
			"in the payload and the id is replaced by the message's number.",
		Example: "  strata pub ORDERS.new 'order {{Count}}' --count 10 -H source:cli",
		Args:    cobra.RangeArgs(1, 2),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.id, "id", "", "message id: a repeat inside the stream's dupe window is not stored twice")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "header as key:value (repeatable)")
	f.IntVar(&o.count, "count", 1, "publish the message this many times")
	return cmd
}

func (o *pubOptions) run(cmd *cobra.Command, args []string) error {
	headers, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	if o.count < 1 {
		return fmt.Errorf("invalid --count %d: want at least 1", o.count)
	}
	payload, err := o.payload(cmd, args)
	if err != nil {
		return err
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		for i := 1; i <= o.count; i++ {
			opts := headers
			if o.id != "" {
				opts = append(opts[:len(opts):len(opts)], client.WithMsgID(numbered(o.id, i)))
			}
			ack, err := c.Publish(ctx, args[0], []byte(numbered(payload, i)), opts...)
			if err != nil {
				return err
			}
			dup := ""
			if ack.Duplicate {
				dup = " (duplicate)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Published to stream %s, sequence %d%s\n", ack.Stream, ack.Seq, dup)
		}
		return nil
	})
}

// payload is the PAYLOAD argument, or stdin when it is not a terminal.
func (o *pubOptions) payload(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 2 {
		return args[1], nil
	}
	if isTerminal(cmd.InOrStdin()) {
		return "", errors.New("no payload: give it as the second argument or on stdin")
	}
	b, err := io.ReadAll(cmd.InOrStdin())
	if err != nil {
		return "", fmt.Errorf("reading the payload from stdin: %w", err)
	}
	return string(b), nil
}

// numbered replaces {{Count}} (or {{.Count}}) in s with i.
func numbered(s string, i int) string {
	n := strconv.Itoa(i)
	return strings.NewReplacer("{{Count}}", n, "{{.Count}}", n).Replace(s)
}

// parseHeaders turns key:value flags into publish options.
func parseHeaders(hs []string) ([]client.PubOpt, error) {
	var opts []client.PubOpt
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid header %q: want key:value", h)
		}
		opts = append(opts, client.WithHeader(k, strings.TrimSpace(v)))
	}
	return opts, nil
}
