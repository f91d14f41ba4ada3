package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// consumerReportOptions are `strata consumer report`'s flags.
type consumerReportOptions struct {
	conn *connOptions
	json bool
}

// consumerReportRow is one consumer of the report (and its JSON form).
type consumerReportRow struct {
	Consumer    string              `json:"consumer"`
	Mode        string              `json:"mode"`
	AckPolicy   string              `json:"ack_policy"`
	AckWait     time.Duration       `json:"ack_wait"`
	AckPending  uint64              `json:"ack_pending"`
	Redelivered uint64              `json:"redelivered"`
	Unprocessed uint64              `json:"unprocessed"`
	AckFloor    client.SequencePair `json:"ack_floor"`
	Cluster     client.ClusterInfo  `json:"cluster"`
	Peers       []string            `json:"peers"`
}

func (o *consumerReportOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report STREAM",
		Short: "Report every consumer of a stream: acks, redeliveries, backlog and replicas",
		Long: "Report every consumer of a stream. Ack Floor is the stream sequence under which\n" +
			"every message is acked. In the Cluster column the leader is marked * and a\n" +
			"replica that is outdated or offline is marked !.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func (o *consumerReportOptions) run(cmd *cobra.Command, stream string) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		list, err := c.Consumers(ctx, stream)
		if err != nil {
			return err
		}
		sortConsumers(list)
		rows := make([]consumerReportRow, 0, len(list))
		for _, ci := range list {
			rows = append(rows, consumerReportRow{
				Consumer: ci.Name(), Mode: "Pull", AckPolicy: title(ci.Config.AckPolicy, client.AckExplicitPolicy),
				AckWait: ci.Config.AckWait, AckPending: ci.State.AckPending, Redelivered: ci.State.Redelivered,
				Unprocessed: ci.State.Unprocessed, AckFloor: ci.State.AckFloor, Cluster: ci.Cluster, Peers: ci.Peers,
			})
		}
		w := cmd.OutOrStdout()
		if o.json {
			return printJSON(w, rows)
		}
		if len(rows) == 0 {
			fmt.Fprintf(w, "No consumers defined on stream %s\n", stream)
			return nil
		}
		t := newTable(w, fmt.Sprintf("Consumer report for %s with %d consumers", stream, len(rows)),
			"Consumer", "Mode", "Ack Policy", "Ack Wait", "Ack Pending", "Redelivered", "Unprocessed", "Ack Floor", "Cluster")
		for _, r := range rows {
			t.AppendRow([]any{r.Consumer, r.Mode, r.AckPolicy, r.AckWait.String(), count(r.AckPending),
				count(r.Redelivered), count(r.Unprocessed), count(r.AckFloor.Stream), clusterPeers(r.Cluster, r.Peers)})
		}
		t.Render()
		return nil
	})
}
