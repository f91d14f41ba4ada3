package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamReportOptions are `strata stream report`'s flags.
type streamReportOptions struct {
	conn *connOptions
	json bool
}

// streamReportRow is one stream of the report (and its JSON form).
type streamReportRow struct {
	Stream    string             `json:"stream"`
	Consumers int                `json:"consumers"`
	Messages  uint64             `json:"messages"`
	Bytes     uint64             `json:"bytes"`
	Storage   string             `json:"storage"`
	Lost      uint64             `json:"lost"`
	Deleted   uint64             `json:"deleted"`
	Replicas  int                `json:"replicas"`
	Cluster   client.ClusterInfo `json:"cluster"`
	Peers     []string           `json:"peers"`
}

func (o *streamReportOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report every stream's size and where its replicas are",
		Long: "Report every stream's size and Raft group. In the Cluster column the\n" +
			"leader is marked * and a replica that is outdated or offline is marked !.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func (o *streamReportOptions) run(cmd *cobra.Command) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		streams, err := c.Streams(ctx)
		if err != nil {
			return err
		}
		sortStreams(streams)
		rows := make([]streamReportRow, 0, len(streams))
		for _, s := range streams {
			rows = append(rows, streamReportRow{
				Stream: s.Config.Name, Consumers: int(s.Consumers), Messages: s.State.Msgs, Bytes: s.State.Bytes,
				Storage: title(s.Config.Storage, "file"), Deleted: s.State.Deleted,
				Replicas: s.Config.Replicas, Cluster: s.Cluster, Peers: s.Peers,
			})
		}
		w := cmd.OutOrStdout()
		if o.json {
			return printJSON(w, rows)
		}
		if len(rows) == 0 {
			fmt.Fprintln(w, "No streams defined")
			return nil
		}
		t := newTable(w, "Stream Report",
			"Stream", "Consumers", "Messages", "Bytes", "Storage", "Lost", "Deleted", "Cluster")
		for _, r := range rows {
			t.AppendRow([]any{r.Stream, count(r.Consumers), count(r.Messages), size(r.Bytes), r.Storage,
				count(r.Lost), count(r.Deleted), clusterPeers(r.Cluster, r.Peers)})
		}
		t.Render()
		return nil
	})
}

// clusterPeers lists a group's peers by name: the leader marked *, an
// outdated or offline replica marked !. Placed peers the group does not
// report (no leader yet) are listed bare.
func clusterPeers(ci client.ClusterInfo, placed []string) string {
	marks := make(map[string]string)
	for _, p := range placed {
		marks[p] = ""
	}
	if ci.Leader != "" {
		marks[ci.Leader] = "*"
	}
	for _, p := range ci.Replicas {
		marks[p.Name] = ""
		if !p.Current || p.Offline {
			marks[p.Name] = "!"
		}
	}
	names := make([]string, 0, len(marks))
	for n := range marks {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		names[i] = n + marks[n]
	}
	return strings.Join(names, ", ")
}
