package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamRemoveOptions are the flags of `strata stream rm` and `purge`,
// which both destroy messages and so ask first.
type streamRemoveOptions struct {
	conn  *connOptions
	force bool
}

func newStreamRmCmd(conn *connOptions) *cobra.Command {
	o := &streamRemoveOptions{conn: conn}
	cmd := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete", "del"},
		Short:   "Delete a stream and all its messages",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "delete stream "+args[0], func(ctx context.Context, c *client.Client) (string, error) {
				return fmt.Sprintf("Stream %s was deleted", args[0]), c.DeleteStream(ctx, args[0])
			})
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "delete without asking")
	return cmd
}

func newStreamPurgeCmd(conn *connOptions) *cobra.Command {
	o := &streamRemoveOptions{conn: conn}
	cmd := &cobra.Command{
		Use:   "purge NAME",
		Short: "Remove every message of a stream; sequences continue",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "purge stream "+args[0], func(ctx context.Context, c *client.Client) (string, error) {
				n, err := c.PurgeStream(ctx, args[0])
				return fmt.Sprintf("Purged %s messages from stream %s", count(n), args[0]), err
			})
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "purge without asking")
	return cmd
}

// run asks whether to do action unless -f, then runs fn and prints its message.
func (o *streamRemoveOptions) run(cmd *cobra.Command, action string,
	fn func(ctx context.Context, c *client.Client) (string, error)) error {
	if !o.force {
		if err := confirm(cmd, action); err != nil {
			return err
		}
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		msg, err := fn(ctx, c)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), msg)
		return nil
	})
}
