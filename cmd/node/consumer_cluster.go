package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// newConsumerClusterCmd returns `strata consumer cluster step-down`.
func newConsumerClusterCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Move a consumer's leadership", Args: cobra.NoArgs}
	o := &leaderOptions{conn: conn}
	down := &cobra.Command{
		Use:   "step-down STREAM NAME",
		Short: "Hand the consumer's leadership to another replica",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			what := fmt.Sprintf("consumer %s of stream %s", args[1], args[0])
			return o.stepDown(cmd, what, func(ctx context.Context, c *client.Client) (*client.StepDown, error) {
				old, next, err := c.ConsumerStepDown(ctx, args[0], args[1])
				return &client.StepDown{OldLeader: old, NewLeader: next}, err
			})
		},
	}
	down.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.AddCommand(down)
	return cmd
}
