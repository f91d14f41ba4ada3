package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
)

func TestConsumerLs(t *testing.T) {
	srv := withStream(t, 3)
	if out := mustRun(t, srv, "consumer", "ls", "ORDERS"); !hasLine(out, "No consumers defined on stream ORDERS") {
		t.Fatalf("empty ls:\n%s", out)
	}
	mustRun(t, srv, "consumer", "add", "ORDERS", "ZED", "--description", "last one")
	mustRun(t, srv, "consumer", "add", "ORDERS", "ALPHA", "--deliver", "new")

	out := mustRun(t, srv, "consumer", "ls", "ORDERS")
	if row := tableRow(out, "Name"); strings.Join(row, "|") != "Name|Description|Created|Ack Pending|Unprocessed" {
		t.Fatalf("header %q in:\n%s", row, out)
	}
	if row := tableRow(out, "ZED"); len(row) != 5 || row[1] != "last one" || row[3] != "0" || row[4] != "3" {
		t.Fatalf("ZED row %q in:\n%s", row, out)
	}
	if row := tableRow(out, "ALPHA"); len(row) != 5 || row[4] != "0" {
		t.Fatalf("ALPHA row %q in:\n%s", row, out)
	}
	if strings.Index(out, "ALPHA") > strings.Index(out, "ZED") {
		t.Fatalf("not sorted by name:\n%s", out)
	}

	var list []client.ConsumerInfo
	if err := json.Unmarshal([]byte(mustRun(t, srv, "consumer", "ls", "ORDERS", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name() != "ALPHA" || list[1].Config.Description != "last one" {
		t.Fatalf("json %+v", list)
	}
}
