package main

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/stratadb/strata/client"
)

func TestConsumerClusterStepDown(t *testing.T) {
	srv := withStream(t, 0)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")
	out := mustRun(t, srv, "consumer", "cluster", "step-down", "ORDERS", "PROC")
	want := regexp.MustCompile(`^\d\d:\d\d:\d\d Requesting leader step down of consumer PROC of stream ORDERS\n` +
		`\d\d:\d\d:\d\d New leader elected "n2" \(was "n1"\)\n$`)
	if !want.MatchString(out) {
		t.Fatalf("output:\n%s", out)
	}
	var sd client.StepDown
	if err := json.Unmarshal([]byte(mustRun(t, srv, "consumer", "cluster", "step-down", "ORDERS", "PROC", "--json")), &sd); err != nil ||
		sd.OldLeader != "n2" || sd.NewLeader != "n3" {
		t.Fatalf("json: %+v, %v", sd, err)
	}
	if ci := consumerJSON(t, srv, "consumer", "info", "ORDERS", "PROC"); ci.Cluster.Leader != "n3" {
		t.Fatalf("leader after step-downs: %+v", ci.Cluster)
	}

	mustRun(t, srv, "consumer", "add", "ORDERS", "ONE", "--replicas", "1")
	_, err := runCLI(t, srv, "", "consumer", "cluster", "step-down", "ORDERS", "ONE")
	if !errors.Is(err, client.ErrInvalid) || err.Error() != "invalid request: consumer ONE has one replica: no other can lead" {
		t.Fatalf("one replica: err = %v", err)
	}
}
