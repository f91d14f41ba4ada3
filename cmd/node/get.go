package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// getOptions are `strata get`'s flags.
type getOptions struct {
	conn *connOptions
	seq  uint64
	json bool
}

func newGetCmd(conn *connOptions) *cobra.Command {
	o := &getOptions{conn: conn}
	cmd := &cobra.Command{
		Use:     "get STREAM --seq N",
		Short:   "Show one message of a stream by sequence",
		Example: "  strata get ORDERS --seq 12",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().Uint64Var(&o.seq, "seq", 0, "the message's sequence")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the message as JSON")
	cmd.MarkFlagRequired("seq")
	return cmd
}

func (o *getOptions) run(cmd *cobra.Command, stream string) error {
	if o.seq == 0 {
		return errors.New("invalid --seq 0: sequences start at 1")
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		m, err := c.GetMsg(ctx, stream, o.seq)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if o.json {
			return printJSON(w, m)
		}
		writeMsg(w, stream, m)
		return nil
	})
}

// writeMsg writes a message like `nats stream get`: a headline, the
// headers, a blank line and the payload.
func writeMsg(w io.Writer, stream string, m *client.Msg) {
	fmt.Fprintf(w, "Item: %s#%d received %s on Subject %s\n\n",
		stream, m.Seq, m.Time.UTC().Format("2006-01-02 15:04:05 -0700 MST"), m.Subject)
	if len(m.Header) > 0 || m.MsgID != "" {
		fmt.Fprintln(w, "Headers:")
		if m.MsgID != "" {
			fmt.Fprintf(w, "  Msg-Id: %s\n", m.MsgID)
		}
		for _, h := range m.Header {
			fmt.Fprintf(w, "  %s: %s\n", h.Key, h.Value)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n", m.Data)
}
