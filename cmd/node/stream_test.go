package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
	"github.com/stratadb/strata/client/pb"
)

func TestStreamAddAndInfo(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>,ORDERS2.*",
		"--replicas", "3", "--storage", "memory", "--max-msgs", "1000", "--max-bytes", "512MiB",
		"--max-age", "30d", "--discard", "new", "--dupe-window", "5m", "--tag", "az:a", "--max-msg-size", "1KiB")
	wantLines(t, out, "Stream ORDERS was created", "Configuration:", "Subjects: ORDERS.>, ORDERS2.*",
		"Replicas: 3", "Storage: Memory", "Maximum Messages: 1,000", "Maximum Bytes: 512 MiB",
		"Maximum Age: 30d", "Maximum Message Size: 1.0 KiB", "Discard Policy: New",
		"Duplicate Window: 5m0s", "Placement Tags: az:a", "Retention: Limits", "Cluster Information:", "Name: C1",
		"Leader: n1", "Replica: n2, current, seen 0.07s ago", "Replica: n3, current, seen 0.07s ago",
		"State:", "Messages: 0", "Active Consumers: 0")

	srv.SetCluster("ORDERS", &pb.ClusterInfo{Name: "C1", Leader: "n1", Replicas: []*pb.PeerInfo{
		{Name: "n3", ActiveNs: int64(2110 * time.Millisecond), Lag: 3},
		{Name: "n2", Offline: true},
	}})
	c := fakeClient(t, srv)
	for range 2 {
		if _, err := c.Publish(context.Background(), "ORDERS.new", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, srv, "consumer", "add", "ORDERS", "C1")
	mustRun(t, srv, "consumer", "add", "ORDERS", "C2")
	out = mustRun(t, srv, "stream", "info", "ORDERS")
	wantLines(t, out, "Replica: n3, outdated, seen 2.11s ago, 3 operations behind",
		"Replica: n2, outdated, OFFLINE, not seen", "Messages: 2", "Active Consumers: 2")
	if !strings.Contains(out, "Last Sequence: 2 @ ") {
		t.Errorf("no last sequence with time:\n%s", out)
	}

	var si client.StreamInfo
	if err := json.Unmarshal([]byte(mustRun(t, srv, "stream", "info", "ORDERS", "--json")), &si); err != nil {
		t.Fatal(err)
	}
	if si.Config.MaxAge != 30*24*time.Hour || si.Config.MaxBytes != 512<<20 || si.State.Msgs != 2 ||
		si.Config.MaxMsgSize != 1024 || si.Config.Discard != "new" || si.Consumers != 2 || si.Config.Retention != "limits" {
		t.Fatalf("json info %+v", si)
	}
}

func TestStreamInfoRestoring(t *testing.T) {
	srv := clienttest.Start(t)
	if _, err := fakeClient(t, srv).RestoreBegin(context.Background(), client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, mustRun(t, srv, "stream", "info", "ORDERS"),
		"Restoring: yes: a backup is being restored; publishes are refused until it ends")
}

func TestStreamInfoUnknown(t *testing.T) {
	srv := clienttest.Start(t)
	_, err := runCLI(t, srv, "", "stream", "info", "NOPE")
	if !errors.Is(err, client.ErrStreamNotFound) || !strings.Contains(err.Error(), "stream not found: NOPE") {
		t.Fatalf("err = %v", err)
	}
}

func TestStreamEditChangesOnlyGivenFlags(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>", "--replicas", "3", "--max-msgs", "10", "--tag", "az:a")
	out := mustRun(t, srv, "stream", "edit", "ORDERS", "--max-msgs", "20", "--max-bytes", "1GB")
	wantLines(t, out, "Stream ORDERS was updated", "Maximum Messages: 20", "Replicas: 3", "Subjects: ORDERS.>")
	var si client.StreamInfo
	if err := json.Unmarshal([]byte(mustRun(t, srv, "stream", "info", "ORDERS", "--json")), &si); err != nil {
		t.Fatal(err)
	}
	cfg := si.Config
	if cfg.MaxMsgs != 20 || cfg.MaxBytes != 1e9 || cfg.Replicas != 3 || len(cfg.Tags) != 1 || cfg.Subjects[0] != "ORDERS.>" {
		t.Fatalf("config after edit: %+v", cfg)
	}
	if _, err := runCLI(t, srv, "", "stream", "edit", "NOPE", "--max-msgs", "1"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("edit of unknown stream: err = %v", err)
	}
}

func TestStreamBadInputSendsNothing(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"stream", "add", "S", "--discard", "oldest"}, `invalid --discard "oldest"`},
		{[]string{"stream", "add", "S", "--replicas", "2"}, "invalid --replicas 2: want 1, 3 or 5"},
		{[]string{"stream", "add", "S", "--replicas", "0"}, "invalid --replicas 0"},
		{[]string{"stream", "add", "S", "--max-bytes", "12XB"}, `invalid size "12XB"`},
		{[]string{"stream", "add", "S", "--max-age", "forever"}, `invalid duration "forever"`},
		{[]string{"stream", "add", "S", "--storage", "disk"}, `invalid --storage "disk"`},
		{[]string{"stream", "add"}, "accepts 1 arg"},
		{[]string{"stream", "edit", "S"}, "nothing to change"},
		{[]string{"stream", "edit", "S", "--discard", "x"}, "invalid --discard"},
		{[]string{"stream", "rm", "S"}, "refusing to delete stream S without confirmation (stdin is not a terminal): pass -f"},
		{[]string{"stream", "purge", "S"}, "refusing to purge stream S"},
	}
	srv := clienttest.Start(t)
	for _, tc := range cases {
		_, err := runCLI(t, srv, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("strata %s: err = %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("bad input sent %d calls", n)
	}
}

func TestStreamLsAndReport(t *testing.T) {
	srv := clienttest.Start(t)
	if out := mustRun(t, srv, "stream", "ls"); !hasLine(out, "No streams defined") {
		t.Fatalf("empty ls:\n%s", out)
	}
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>", "--replicas", "3")
	mustRun(t, srv, "stream", "add", "LOGS", "--storage", "memory")
	mustRun(t, srv, "pub", "ORDERS.new", "hello")
	mustRun(t, srv, "consumer", "add", "ORDERS", "C1")
	mustRun(t, srv, "consumer", "add", "ORDERS", "C2")

	out := mustRun(t, srv, "stream", "ls")
	if row := tableRow(out, "ORDERS"); len(row) != 5 || row[1] != "ORDERS.>" || row[2] != "1" {
		t.Fatalf("ls row %q in:\n%s", row, out)
	}
	if row := tableRow(out, "Name"); strings.Join(row, "|") != "Name|Subjects|Messages|Size|Last message" {
		t.Fatalf("ls header %q", row)
	}

	srv.SetCluster("LOGS", &pb.ClusterInfo{Name: "C1", Leader: "n1"})
	srv.SetCluster("ORDERS", &pb.ClusterInfo{Name: "C1", Leader: "n2", Replicas: []*pb.PeerInfo{
		{Name: "n1", Current: true}, {Name: "n3", Lag: 4},
	}})
	out = mustRun(t, srv, "stream", "report")
	if row := tableRow(out, "Stream"); strings.Join(row, "|") != "Stream|Consumers|Messages|Bytes|Storage|Lost|Deleted|Cluster" {
		t.Fatalf("report header %q in:\n%s", row, out)
	}
	if row := tableRow(out, "ORDERS"); len(row) != 8 || row[1] != "2" || row[2] != "1" || row[4] != "File" || row[7] != "n1, n2*, n3!" {
		t.Fatalf("report row %q in:\n%s", row, out)
	}
	if row := tableRow(out, "LOGS"); len(row) != 8 || row[1] != "0" || row[4] != "Memory" || row[7] != "n1*" {
		t.Fatalf("report row %q in:\n%s", row, out)
	}

	var streams []client.StreamInfo
	if err := json.Unmarshal([]byte(mustRun(t, srv, "stream", "ls", "--json")), &streams); err != nil || len(streams) != 2 {
		t.Fatalf("ls --json: %v, %+v", err, streams)
	}
	var rows []streamReportRow
	if err := json.Unmarshal([]byte(mustRun(t, srv, "stream", "report", "--json")), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("report --json: %v, %+v", err, rows)
	}
	if rows[1].Stream != "ORDERS" || rows[1].Cluster.Leader != "n2" || rows[1].Messages != 1 || rows[1].Consumers != 2 {
		t.Fatalf("report --json row %+v", rows[1])
	}
}

func TestStreamRetention(t *testing.T) {
	srv := clienttest.Start(t)
	for _, r := range []string{"limits", "workqueue", "interest"} {
		out := mustRun(t, srv, "stream", "add", "S"+r, "--retention", r)
		wantLines(t, out, "Retention: "+strings.ToUpper(r[:1])+r[1:])
	}
	var si client.StreamInfo
	if err := json.Unmarshal([]byte(mustRun(t, srv, "stream", "info", "Sworkqueue", "--json")), &si); err != nil || si.Config.Retention != "workqueue" {
		t.Fatalf("json: %+v, %v", si.Config, err)
	}
	// Edit keeps the retention unless given; the server refuses a change.
	wantLines(t, mustRun(t, srv, "stream", "edit", "Sworkqueue", "--max-msgs", "5"), "Retention: Workqueue")
	if _, err := runCLI(t, srv, "", "stream", "edit", "Sworkqueue", "--retention", "limits"); !errors.Is(err, client.ErrInvalid) ||
		!strings.Contains(err.Error(), "retention cannot change") {
		t.Fatalf("retention change: err = %v", err)
	}

	// A work queue drops what a consumer acked.
	mustRun(t, srv, "pub", "Sworkqueue", "job", "--count", "3")
	mustRun(t, srv, "consumer", "add", "Sworkqueue", "W")
	mustRun(t, srv, "consumer", "next", "Sworkqueue", "W", "--count", "2")
	wantLines(t, mustRun(t, srv, "stream", "info", "Sworkqueue"), "Messages: 1", "Deleted Messages: 2")
}
