package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// leaderOptions are the flags of the leadership and peer commands.
type leaderOptions struct {
	conn *connOptions
	json bool
}

// newStreamClusterCmd returns `strata stream cluster step-down|peer-remove`.
func newStreamClusterCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Move a stream's leadership or replicas", Args: cobra.NoArgs}
	o := &leaderOptions{conn: conn}
	down := &cobra.Command{
		Use:   "step-down NAME",
		Short: "Hand the stream's leadership to another replica",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.stepDown(cmd, fmt.Sprintf("stream %s", args[0]), func(ctx context.Context, c *client.Client) (*client.StepDown, error) {
				return c.StepDownStream(ctx, args[0])
			})
		},
	}
	remove := &cobra.Command{
		Use:   "peer-remove NAME SERVER",
		Short: "Take a server out of the stream's replicas; a replacement is placed and catches up",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.RemoveStreamPeer(ctx, args[0], args[1])
				if err != nil {
					return err
				}
				if o.json {
					return printJSON(cmd.OutOrStdout(), info)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed %s from stream %s; its peers are now %v\n", args[1], args[0], info.Peers)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{down, remove} {
		c.Flags().BoolVar(&o.json, "json", false, "print JSON")
	}
	cmd.AddCommand(down, remove)
	return cmd
}

// newServerRaftCmd returns `strata server raft step-down`.
func newServerRaftCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "raft", Short: "Act on the meta group's Raft", Args: cobra.NoArgs}
	o := &leaderOptions{conn: conn}
	down := &cobra.Command{
		Use:   "step-down",
		Short: "Hand the meta group's leadership to another server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.stepDown(cmd, "the meta group", func(ctx context.Context, c *client.Client) (*client.StepDown, error) {
				return c.StepDownMeta(ctx)
			})
		},
	}
	down.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.AddCommand(down, newServerPeerRemoveCmd(conn))
	return cmd
}

// newServerPeerRemoveCmd returns `strata server raft peer-remove NAME`.
func newServerPeerRemoveCmd(conn *connOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "peer-remove NAME",
		Short: "Remove a server that will not return; its stream replicas are placed elsewhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				if err := confirm(cmd, "remove server "+args[0]+" from the cluster for good"); err != nil {
					return err
				}
			}
			return conn.run(cmd, func(ctx context.Context, c *client.Client) error {
				moved, err := c.RemoveServer(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed server %s; %d stream(s) moved to other servers: %v\n",
					args[0], len(moved), moved)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove without asking")
	return cmd
}

// stepDown runs fn and prints the old and the new leader, as nats does.
func (o *leaderOptions) stepDown(cmd *cobra.Command, what string,
	fn func(ctx context.Context, c *client.Client) (*client.StepDown, error)) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		w := cmd.OutOrStdout()
		if !o.json {
			fmt.Fprintf(w, "%s Requesting leader step down of %s\n", clock(), what)
		}
		r, err := fn(ctx, c)
		if err != nil {
			return err
		}
		if o.json {
			return printJSON(w, r)
		}
		fmt.Fprintf(w, "%s New leader elected %q (was %q)\n", clock(), r.NewLeader, r.OldLeader)
		return nil
	})
}

func clock() string { return time.Now().Format("15:04:05") }

// newServerLameDuckCmd returns `strata server lame-duck NAME`.
func newServerLameDuckCmd(conn *connOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "lame-duck NAME",
		Short: "Make a server hand off its leaderships, finish calls in flight and exit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return conn.run(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.LameDuck(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Server %s is entering lame duck mode and will exit\n", args[0])
				return nil
			})
		},
	}
}
