package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestConsumerSub(t *testing.T) {
	srv := withStream(t, 2)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")
	go func() {
		time.Sleep(100 * time.Millisecond)
		fakeClient(t, srv).Publish(context.Background(), "ORDERS.late", []byte("late"))
	}()
	out := mustRun(t, srv, "consumer", "sub", "ORDERS", "PROC", "--count", "3")
	wantLines(t, out, "[1] ORDERS.new: stream seq 1, consumer seq 1, delivered 1, pending 1",
		"[2] ORDERS.new: stream seq 2, consumer seq 2, delivered 1, pending 0",
		"[3] ORDERS.late: stream seq 3, consumer seq 3, delivered 1, pending 0", "late")
	if strings.Contains(out, "[4]") {
		t.Fatalf("more than --count messages:\n%s", out)
	}
	if st := consumerState(t, srv, "ORDERS", "PROC"); st.AckPending != 0 || st.AckFloor.Stream != 3 {
		t.Fatalf("sub did not ack everything: %+v", st)
	}
	if f := srv.Fetches()[0]; f.Batch != 3 || f.HeartbeatNs == 0 {
		t.Fatalf("pull request %v", f)
	}
}
