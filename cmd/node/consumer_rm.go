package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// newConsumerRmCmd returns `strata consumer rm STREAM NAME`, which asks
// first like `strata stream rm`.
func newConsumerRmCmd(conn *connOptions) *cobra.Command {
	o := &streamRemoveOptions{conn: conn}
	cmd := &cobra.Command{
		Use:     "rm STREAM NAME",
		Aliases: []string{"delete", "del"},
		Short:   "Delete a consumer and its state; the stream's messages stay",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, name := args[0], args[1]
			action := fmt.Sprintf("delete consumer %s of stream %s", name, stream)
			return o.run(cmd, action, func(ctx context.Context, c *client.Client) (string, error) {
				return fmt.Sprintf("Consumer %s was deleted", name), c.DeleteConsumer(ctx, stream, name)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "delete without asking")
	return cmd
}
