package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamEditOptions are `strata stream edit`'s flags.
type streamEditOptions struct {
	conn *connOptions
	cfg  configFlags
	json bool
}

func (o *streamEditOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "edit NAME",
		Aliases: []string{"update"},
		Short:   "Change a stream's configuration: only the flags given change",
		Example: "  strata stream edit ORDERS --replicas 3 --max-msgs 1000000",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	o.cfg.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the stream as JSON")
	return cmd
}

func (o *streamEditOptions) run(cmd *cobra.Command, name string) error {
	var probe client.StreamConfig
	if err := o.cfg.apply(&probe, cmd.Flags(), false); err != nil {
		return err
	}
	if !o.cfg.changed(cmd.Flags()) {
		return errors.New("nothing to change: give at least one configuration flag")
	}
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		si, err := c.StreamInfo(ctx, name)
		if err != nil {
			return err
		}
		cfg := si.Config
		if err := o.cfg.apply(&cfg, cmd.Flags(), false); err != nil {
			return err
		}
		if si, err = c.UpdateStream(ctx, cfg); err != nil {
			return err
		}
		return showStream(cmd, si, o.json, fmt.Sprintf("Stream %s was updated", name))
	})
}
