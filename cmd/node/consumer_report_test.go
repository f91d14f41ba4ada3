package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

func TestConsumerReport(t *testing.T) {
	srv := withStream(t, 4)
	if out := mustRun(t, srv, "consumer", "report", "ORDERS"); !hasLine(out, "No consumers defined on stream ORDERS") {
		t.Fatalf("empty report:\n%s", out)
	}
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC", "--ack-wait", "1m")
	mustRun(t, srv, "consumer", "add", "ORDERS", "AUDIT", "--ack", "none", "--replicas", "1")
	c := fakeClient(t, srv)
	ctx := context.Background()
	ms, err := c.Fetch(ctx, "ORDERS", "PROC", client.FetchOptions{Batch: 2})
	if err != nil || len(ms) != 2 {
		t.Fatalf("fetch: %d, %v", len(ms), err)
	}
	ms[0].Ack(ctx)
	mustRun(t, srv, "consumer", "cluster", "step-down", "ORDERS", "PROC")

	out := mustRun(t, srv, "consumer", "report", "ORDERS")
	if !strings.Contains(out, "Consumer report for ORDERS with 2 consumers") {
		t.Fatalf("title:\n%s", out)
	}
	header := "Consumer|Mode|Ack Policy|Ack Wait|Ack Pending|Redelivered|Unprocessed|Ack Floor|Cluster"
	if row := tableRow(out, "Consumer"); strings.Join(row, "|") != header {
		t.Fatalf("header %q in:\n%s", row, out)
	}
	if row := tableRow(out, "PROC"); strings.Join(row, "|") != "PROC|Pull|Explicit|1m0s|1|0|2|1|n1, n2*, n3" {
		t.Fatalf("PROC row %q in:\n%s", row, out)
	}
	if row := tableRow(out, "AUDIT"); strings.Join(row, "|") != "AUDIT|Pull|None|30s|0|0|4|0|n1*" {
		t.Fatalf("AUDIT row %q in:\n%s", row, out)
	}

	var rows []consumerReportRow
	if err := json.Unmarshal([]byte(mustRun(t, srv, "consumer", "report", "ORDERS", "--json")), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("json: %v, %+v", err, rows)
	}
	if r := rows[1]; r.Consumer != "PROC" || r.AckWait != time.Minute || r.AckPending != 1 || r.Cluster.Leader != "n2" || r.AckFloor.Stream != 1 {
		t.Fatalf("json row %+v", r)
	}
}
