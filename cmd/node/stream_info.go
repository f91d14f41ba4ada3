package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
)

// streamInfoOptions are `strata stream info`'s flags.
type streamInfoOptions struct {
	conn *connOptions
	json bool
}

func (o *streamInfoOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info NAME",
		Short: "Show a stream's configuration, Raft group and state",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the stream as JSON")
	return cmd
}

func (o *streamInfoOptions) run(cmd *cobra.Command, name string) error {
	return o.conn.run(cmd, func(ctx context.Context, c *client.Client) error {
		si, err := c.StreamInfo(ctx, name)
		if err != nil {
			return err
		}
		if o.json {
			return printJSON(cmd.OutOrStdout(), si)
		}
		writeStreamInfo(cmd.OutOrStdout(), si)
		return nil
	})
}

// writeStreamInfo writes a stream like `nats stream info`.
func writeStreamInfo(w io.Writer, si *client.StreamInfo) {
	fmt.Fprintf(w, "Information for Stream %s created %s\n\n", si.Config.Name, stamp(si.Created))
	var s sections
	cfg := si.Config
	s.section("Configuration:")
	s.add("Subjects", "%s", strings.Join(cfg.Subjects, ", "))
	s.add("Replicas", "%d", cfg.Replicas)
	s.add("Storage", "%s", title(cfg.Storage, "file"))
	s.add("Retention", "%s", title(cfg.Retention, "limits"))
	s.add("Maximum Messages", "%s", limit(cfg.MaxMsgs, false))
	s.add("Maximum Bytes", "%s", limit(cfg.MaxBytes, true))
	s.add("Maximum Age", "%s", ageLimit(cfg.MaxAge))
	s.add("Maximum Message Size", "%s", limit(int64(cfg.MaxMsgSize), true))
	s.add("Discard Policy", "%s", title(cfg.Discard, "old"))
	s.add("Duplicate Window", "%s", dupeWindow(cfg.DupeWindow))
	if len(cfg.Tags) > 0 {
		s.add("Placement Tags", "%s", strings.Join(cfg.Tags, ", "))
	}

	s.cluster(si.Cluster)

	st := si.State
	s.section("State:")
	if si.Restoring {
		s.add("Restoring", "%s", "yes: a backup is being restored; publishes are refused until it ends")
	}
	s.add("Messages", "%s", count(st.Msgs))
	s.add("Bytes", "%s", size(st.Bytes))
	s.add("First Sequence", "%s", seqAt(st.FirstSeq, st.FirstTime))
	s.add("Last Sequence", "%s", seqAt(st.LastSeq, st.LastTime))
	s.add("Deleted Messages", "%s", count(st.Deleted))
	s.add("Active Consumers", "%s", count(si.Consumers))
	s.write(w)
}

// cluster adds the Cluster Information section of a Raft group: a
// stream's or a consumer's.
func (s *sections) cluster(ci client.ClusterInfo) {
	s.section("Cluster Information:")
	s.add("Name", "%s", ci.Name)
	s.add("Leader", "%s", orDash(ci.Leader))
	for _, p := range sortedPeers(ci.Replicas) {
		s.add("Replica", "%s", replicaState(p))
	}
}

// replicaState is a follower's line: "n3, outdated, seen 2.11s ago, 3
// operations behind".
func replicaState(p client.PeerInfo) string {
	parts := []string{p.Name, "current"}
	if !p.Current {
		parts[1] = "outdated"
	}
	if p.Offline {
		parts = append(parts, "OFFLINE")
	}
	if p.Active > 0 {
		parts = append(parts, fmt.Sprintf("seen %s ago", humanDur(p.Active)))
	} else {
		parts = append(parts, "not seen")
	}
	switch {
	case p.Lag == 1:
		parts = append(parts, "1 operation behind")
	case p.Lag > 1:
		parts = append(parts, fmt.Sprintf("%s operations behind", count(p.Lag)))
	}
	return strings.Join(parts, ", ")
}

func sortedPeers(ps []client.PeerInfo) []client.PeerInfo {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b client.PeerInfo) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

func seqAt(seq uint64, t time.Time) string {
	if t.IsZero() {
		return count(seq)
	}
	return fmt.Sprintf("%s @ %s", count(seq), stamp(t))
}

func ageLimit(d time.Duration) string {
	if d <= 0 {
		return "unlimited"
	}
	return humanDur(d)
}

func dupeWindow(d time.Duration) string {
	if d <= 0 {
		return "2m0s"
	}
	return d.String()
}

// title capitalizes v ("file" → "File"), or def when v is empty.
func title(v, def string) string {
	if v == "" {
		v = def
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
