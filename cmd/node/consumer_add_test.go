package main

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// withStream starts a fake holding stream ORDERS (ORDERS.>, 3 replicas)
// with msgs published on ORDERS.new, payloads "1", "2", ...
func withStream(t *testing.T, msgs int) *clienttest.Server {
	t.Helper()
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>", "--replicas", "3")
	if msgs > 0 {
		mustRun(t, srv, "pub", "ORDERS.new", "{{Count}}", "--count", strconv.Itoa(msgs))
	}
	return srv
}

// consumerJSON runs a command printing a consumer as JSON and decodes it.
func consumerJSON(t *testing.T, srv *clienttest.Server, args ...string) client.ConsumerInfo {
	t.Helper()
	var ci client.ConsumerInfo
	out := mustRun(t, srv, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	return ci
}

func TestConsumerAdd(t *testing.T) {
	srv := withStream(t, 0)
	out := mustRun(t, srv, "consumer", "add", "ORDERS", "PROC", "--ack", "all", "--ack-wait", "1m",
		"--max-deliver", "5", "--backoff", "1s,5s,30s", "--max-pending", "100", "--filter", "ORDERS.new",
		"--filter", "ORDERS.paid", "--deliver", "last", "--replicas", "3", "--description", "order processor",
		"--headers-only", "--max-waiting", "8")
	wantLines(t, out, "Consumer PROC was created", "Configuration:", "Name: PROC", "Description: order processor",
		"Deliver Policy: Last", "Ack Policy: All", "Ack Wait: 1m0s", "Max Deliver: 5", "Backoff: 1s, 5s, 30s",
		"Max Ack Pending: 100", "Filter Subjects: ORDERS.new, ORDERS.paid", "Headers Only: true", "Max Waiting: 8",
		"Replicas: 3", "Cluster Information:", "Leader: n1", "Replica: n2, current, seen 0.07s ago", "State:",
		"Outstanding Acks: 0 out of maximum 100", "Waiting Pulls: 0 of maximum 8")
	if !strings.HasPrefix(out, "Consumer PROC was created\n\nInformation for Consumer ORDERS > PROC created ") {
		t.Fatalf("headline:\n%s", out)
	}

	ci := consumerJSON(t, srv, "consumer", "info", "ORDERS", "PROC")
	cfg := ci.Config
	if cfg.AckPolicy != "all" || cfg.AckWait != time.Minute || cfg.MaxDeliver != 5 || cfg.MaxAckPending != 100 ||
		!slices.Equal(cfg.Backoff, []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}) ||
		len(cfg.FilterSubjects) != 2 || !cfg.HeadersOnly || cfg.MaxWaiting != 8 || cfg.Replicas != 3 {
		t.Fatalf("config %+v", cfg)
	}

	// The same config again is accepted; another one is refused.
	mustRun(t, srv, "consumer", "add", "ORDERS", "SAME", "--ack-wait", "10s")
	mustRun(t, srv, "consumer", "add", "ORDERS", "SAME", "--ack-wait", "10s")
	_, err := runCLI(t, srv, "", "consumer", "add", "ORDERS", "SAME", "--ack-wait", "20s")
	if !errors.Is(err, client.ErrConsumerExists) || !strings.Contains(err.Error(), "consumer already exists") {
		t.Fatalf("another config: err = %v", err)
	}
	_, err = runCLI(t, srv, "", "consumer", "add", "NOPE", "C")
	if !errors.Is(err, client.ErrStreamNotFound) || err.Error() != "stream not found: NOPE" {
		t.Fatalf("unknown stream: err = %v", err)
	}
	if _, err = runCLI(t, srv, "", "consumer", "add", "ORDERS", "C", "--filter", "OTHER.>"); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("filter outside the stream: err = %v", err)
	}
}

func TestConsumerAddDeliver(t *testing.T) {
	srv := withStream(t, 3)
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		deliver string
		policy  string
		check   func(client.ConsumerConfig) bool
		line    string
	}{
		{"all", "all", nil, "Deliver Policy: All"},
		{"new", "new", nil, "Deliver Policy: New"},
		{"last-per-subject", "last_per_subject", nil, "Deliver Policy: Last Per Subject"},
		{"100", "by_start_sequence", func(c client.ConsumerConfig) bool { return c.OptStartSeq == 100 }, "Deliver Policy: From Sequence 100"},
		{since.Format(time.RFC3339), "by_start_time", func(c client.ConsumerConfig) bool { return c.OptStartTime.Equal(since) },
			"Deliver Policy: Since 2026-01-02 03:04:05 UTC"},
		{"1h", "by_start_time", func(c client.ConsumerConfig) bool {
			ago := time.Since(c.OptStartTime)
			return ago > 59*time.Minute && ago < 61*time.Minute
		}, ""},
		{"2d", "by_start_time", func(c client.ConsumerConfig) bool { return time.Since(c.OptStartTime) > 47*time.Hour }, ""},
	}
	for i, tc := range cases {
		name := "C" + strconv.Itoa(i)
		out := mustRun(t, srv, "consumer", "add", "ORDERS", name, "--deliver", tc.deliver)
		if tc.line != "" {
			wantLines(t, out, tc.line)
		}
		cfg := consumerJSON(t, srv, "consumer", "info", "ORDERS", name).Config
		if cfg.DeliverPolicy != tc.policy || tc.check != nil && !tc.check(cfg) {
			t.Errorf("--deliver %s: %+v", tc.deliver, cfg)
		}
	}
}

func TestConsumerBadInputSendsNothing(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"consumer", "add", "S", "C", "--ack", "maybe"}, `invalid --ack "maybe": want explicit, all or none`},
		{[]string{"consumer", "add", "S", "C", "--deliver", "yesterday"}, `invalid --deliver "yesterday": want all, last, new, last-per-subject`},
		{[]string{"consumer", "add", "S", "C", "--deliver", "0"}, "invalid --deliver 0: sequences start at 1"},
		{[]string{"consumer", "add", "S", "C", "--deliver", "-5m"}, `invalid --deliver "-5m"`},
		{[]string{"consumer", "add", "S", "C", "--backoff", "1s,0s"}, `invalid duration "0s": want more than 0`},
		{[]string{"consumer", "add", "S", "C", "--backoff", "soon"}, `invalid duration "soon"`},
		{[]string{"consumer", "add", "S", "C", "--ack-wait", "forever"}, `invalid duration "forever"`},
		{[]string{"consumer", "add", "S", "C", "--max-deliver", "-2"}, "invalid --max-deliver -2"},
		{[]string{"consumer", "add", "S", "C", "--max-pending", "-1"}, "invalid --max-pending -1"},
		{[]string{"consumer", "add", "S", "C", "--replicas", "-1"}, "invalid --replicas -1"},
		{[]string{"consumer", "add", "S"}, "accepts 2 arg(s), received 1"},
		{[]string{"consumer", "edit", "S", "C"}, "nothing to change"},
		{[]string{"consumer", "edit", "S", "C", "--max-waiting", "-3"}, "invalid --max-waiting -3"},
		{[]string{"consumer", "edit", "S", "C", "--ack", "none"}, "unknown flag: --ack"},
		{[]string{"consumer", "rm", "S", "C"}, "refusing to delete consumer C of stream S without confirmation (stdin is not a terminal): pass -f"},
		{[]string{"consumer", "next", "S", "C", "--count", "0"}, "invalid --count 0: want at least 1"},
		{[]string{"consumer", "next", "S", "C", "--wait", "0s"}, "invalid --wait 0s"},
		{[]string{"consumer", "sub", "S", "C", "--count", "-1"}, "invalid --count -1"},
		{[]string{"stream", "view", "S", "--count", "0"}, "invalid --count 0"},
		{[]string{"stream", "sub", "S", "--deliver", "x"}, `invalid --deliver "x"`},
		{[]string{"stream", "add", "S", "--retention", "forever"}, `invalid --retention "forever": want limits, workqueue or interest`},
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
