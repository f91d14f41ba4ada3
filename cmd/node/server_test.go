package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
	"github.com/stratadb/strata/client/pb"
)

func TestServerLs(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "server", "ls")
	if row := tableRow(out, "Name"); strings.Join(row, "|") != "Name|Cluster address|Client address|HTTP|Tags" {
		t.Fatalf("header %q in:\n%s", row, out)
	}
	if row := tableRow(out, "n2"); len(row) != 5 || row[1] != "127.0.0.1:6223" || row[2] != srv.Addr || row[4] != "az:b" {
		t.Fatalf("row %q in:\n%s", row, out)
	}
	var list client.ServerList
	if err := json.Unmarshal([]byte(mustRun(t, srv, "server", "ls", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Cluster != "C1" || len(list.Servers) != 3 || list.Servers[2].HTTPAddr != "127.0.0.1:8224" {
		t.Fatalf("json %+v", list)
	}
}

func TestServerReport(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--replicas", "3")
	mustRun(t, srv, "stream", "add", "ONE", "--storage", "memory")
	mustRun(t, srv, "pub", "ORDERS", "x")
	mustRun(t, srv, "consumer", "add", "ORDERS", "ALL3")
	mustRun(t, srv, "consumer", "add", "ORDERS", "ONE", "--replicas", "1")
	srv.SetMeta(&pb.ClusterInfo{Name: "C1", Leader: "n2", Replicas: []*pb.PeerInfo{
		{Name: "n1", Current: true, ActiveNs: int64(250 * time.Millisecond)},
		{Name: "n3", Offline: true, ActiveNs: int64(90 * time.Second), Lag: 7},
	}})
	out := mustRun(t, srv, "server", "report")
	header := "Server|Cluster|Streams|Consumers|Messages|Bytes|Memory|File|API Req|API Err"
	if row := tableRow(out, "Server"); strings.Join(row, "|") != header {
		t.Fatalf("header %q in:\n%s", row, out)
	}
	if row := tableRow(out, "n2*"); len(row) != 10 || row[1] != "C1" || row[2] != "1" || row[4] != "1" {
		t.Fatalf("leader row %q in:\n%s", row, out)
	}
	if row := tableRow(out, "n1"); len(row) != 10 || row[2] != "2" || row[3] != "2" || row[6] != "0 B" {
		t.Fatalf("n1 row %q in:\n%s", row, out)
	}
	if row := tableRow(out, ""); len(row) != 10 || row[2] != "4" || row[3] != "4" || row[4] != "3" {
		t.Fatalf("totals row %q in:\n%s", row, out)
	}

	meta := out[strings.Index(out, "RAFT Meta Group Information"):]
	if row := tableRow(meta, "Name"); strings.Join(row, "|") != "Name|Leader|Current|Offline|Active|Lag" {
		t.Fatalf("meta header %q in:\n%s", row, out)
	}
	for name, want := range map[string]string{
		"n1": "n1||true|false|0.25s|0",
		"n2": "n2|yes|true|false|0.00s|0",
		"n3": "n3||false|true|1m30s|7",
	} {
		if row := tableRow(meta, name); strings.Join(row, "|") != want {
			t.Errorf("meta row %q, want %q", strings.Join(row, "|"), want)
		}
	}

	var rep client.ServerReport
	if err := json.Unmarshal([]byte(mustRun(t, srv, "server", "report", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Meta.Leader != "n2" || len(rep.Servers) != 3 || rep.Servers[0].Streams != 2 {
		t.Fatalf("json %+v", rep)
	}
}
