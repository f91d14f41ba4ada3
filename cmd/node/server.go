package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// newServerCmd returns `strata server` and its subcommands.
func newServerCmd(conn *connOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "server",
		Aliases: []string{"srv"},
		Short:   "Inspect the servers of the cluster",
		Args:    cobra.NoArgs,
	}
	ls := &serverLsOptions{conn: conn}
	report := &serverReportOptions{conn: conn}
	passwd := &serverPasswdOptions{}
	token := &serverTokenOptions{}
	cmd.AddCommand(ls.command(), report.command(), newServerRaftCmd(conn), newServerLameDuckCmd(conn),
		passwd.command(), token.command())
	return cmd
}

// serverLsOptions are `strata server ls`'s flags.
type serverLsOptions struct {
	conn *connOptions
	json bool
}

func (o *serverLsOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the servers of the cluster",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the servers as JSON")
	return cmd
}

func (o *serverLsOptions) run(cmd *cobra.Command) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		list, err := c.Servers(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(list.Servers, func(a, b client.ServerInfo) int { return strings.Compare(a.Name, b.Name) })
		if o.json {
			return printJSON(cmd.OutOrStdout(), list)
		}
		t := newTable(cmd.OutOrStdout(), fmt.Sprintf("Servers of cluster %s", list.Cluster),
			"Name", "Cluster address", "Client address", "HTTP", "Tags")
		for _, s := range list.Servers {
			t.AppendRow([]any{s.Name, s.ClusterAddr, s.ClientAddr, s.HTTPAddr, strings.Join(s.Tags, ", ")})
		}
		t.Render()
		return nil
	})
}

// serverReportOptions are `strata server report`'s flags.
type serverReportOptions struct {
	conn *connOptions
	json bool
}

func (o *serverReportOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report every server's streams and load, and the meta group's Raft state",
		Long: "Report every server's streams and load (the meta leader is marked *), with a\n" +
			"totals row, then the Raft state of the meta group.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func (o *serverReportOptions) run(cmd *cobra.Command) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		rep, err := c.ServerReport(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(rep.Servers, func(a, b client.ServerStats) int { return strings.Compare(a.Name, b.Name) })
		if o.json {
			return printJSON(cmd.OutOrStdout(), rep)
		}
		writeServerSummary(cmd.OutOrStdout(), rep)
		fmt.Fprintln(cmd.OutOrStdout())
		if writeServerFaults(cmd.OutOrStdout(), rep) {
			fmt.Fprintln(cmd.OutOrStdout())
		}
		writeMetaGroup(cmd.OutOrStdout(), rep.Meta)
		return nil
	})
}

// writeServerSummary writes the per-server table with a totals row.
func writeServerSummary(w io.Writer, rep *client.ServerReport) {
	t := newTable(w, "Server Summary", "Server", "Cluster", "Streams", "Consumers",
		"Messages", "Bytes", "Memory", "File", "API Req", "API Err")
	var sum client.ServerStats
	for _, s := range rep.Servers {
		name := s.Name
		if name == rep.Meta.Leader {
			name += "*"
		}
		t.AppendRow([]any{name, s.Cluster, count(s.Streams), count(s.Consumers), count(s.Messages),
			size(s.Bytes), size(s.MemoryBytes), size(s.FileBytes), count(s.APIRequests), count(s.APIErrors)})
		sum.Streams += s.Streams
		sum.Consumers += s.Consumers
		sum.Messages += s.Messages
		sum.Bytes += s.Bytes
		sum.MemoryBytes += s.MemoryBytes
		sum.FileBytes += s.FileBytes
		sum.APIRequests += s.APIRequests
		sum.APIErrors += s.APIErrors
	}
	t.AppendSeparator()
	t.AppendRow([]any{"", "", count(sum.Streams), count(sum.Consumers), count(sum.Messages),
		size(sum.Bytes), size(sum.MemoryBytes), size(sum.FileBytes), count(sum.APIRequests), count(sum.APIErrors)})
	t.Render()
}

// writeServerFaults writes, if a server's storage cannot serve, a table
// of why (a plugin down, corrupt storage), and reports whether it did.
func writeServerFaults(w io.Writer, rep *client.ServerReport) bool {
	var faulty []client.ServerStats
	for _, s := range rep.Servers {
		if s.Fault != "" {
			faulty = append(faulty, s)
		}
	}
	if len(faulty) == 0 {
		return false
	}
	t := newTable(w, "Server Faults", "Server", "Fault")
	for _, s := range faulty {
		t.AppendRow([]any{s.Name, s.Fault})
	}
	t.Render()
	return true
}

// writeMetaGroup writes the meta group's peers, the leader included.
func writeMetaGroup(w io.Writer, meta client.ClusterInfo) {
	t := newTable(w, "RAFT Meta Group Information", "Name", "Leader", "Current", "Offline", "Active", "Lag")
	peers := meta.Replicas
	if meta.Leader != "" {
		peers = append([]client.PeerInfo{{Name: meta.Leader, Current: true}}, peers...)
	}
	for _, p := range sortedPeers(peers) {
		leader := ""
		if p.Name == meta.Leader {
			leader = "yes"
		}
		t.AppendRow([]any{p.Name, leader, p.Current, p.Offline, humanDur(p.Active), count(p.Lag)})
	}
	t.Render()
}
