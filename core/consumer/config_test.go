package consumer

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var streamSubjects = []string{"ORDERS.>", "RETURNS.*"}

// finished returns a finished durable config named C, edited by edit.
func finished(edit ...func(*Config)) Config {
	c := Config{Durable: "C"}
	for _, e := range edit {
		e(&c)
	}
	c.Finish(3)
	return c
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" for valid, else a word of the error naming the field
	}{
		{"defaults", func(*Config) {}, ""},
		{"filters within", func(c *Config) { c.FilterSubjects = []string{"ORDERS.new", "RETURNS.*"} }, ""},
		{"ack none", func(c *Config) { c.AckPolicy = AckNone }, ""},
		{"by start sequence", func(c *Config) { c.DeliverPolicy, c.OptStartSeq = DeliverByStartSequence, 5 }, ""},
		{"by start time", func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, 1 }, ""},
		{"backoff within max deliver", func(c *Config) { c.MaxDeliver, c.Backoff = 3, []time.Duration{time.Second, 2 * time.Second} }, ""},
		{"one replica", func(c *Config) { c.Replicas = 1 }, ""},
		{"no name", func(c *Config) { c.Durable = "" }, "name"},
		{"name with dot", func(c *Config) { c.Durable = "a.b" }, "may not contain"},
		{"name too long", func(c *Config) { c.Durable = strings.Repeat("x", 65) }, "longer than"},
		{"durable and name differ", func(c *Config) { c.Name = "D" }, "durable name"},
		{"bad deliver policy", func(c *Config) { c.DeliverPolicy = "sometimes" }, "deliver policy"},
		{"start sequence missing", func(c *Config) { c.DeliverPolicy = DeliverByStartSequence }, "start sequence"},
		{"start time missing", func(c *Config) { c.DeliverPolicy = DeliverByStartTime }, "start time"},
		{"start sequence with all", func(c *Config) { c.OptStartSeq = 3 }, "takes no start"},
		{"start time with new", func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverNew, 3 }, "takes no start"},
		{"bad ack policy", func(c *Config) { c.AckPolicy = "maybe" }, "ack policy"},
		{"ack none with max deliver", func(c *Config) { c.AckPolicy, c.MaxDeliver = AckNone, 3 }, "max_deliver"},
		{"ack none with backoff", func(c *Config) { c.AckPolicy, c.Backoff = AckNone, []time.Duration{time.Second} }, "backoff"},
		{"negative ack wait", func(c *Config) { c.AckWait = -time.Second }, "ack_wait"},
		{"negative max deliver", func(c *Config) { c.MaxDeliver = -2 }, "max_deliver"},
		{"negative max ack pending", func(c *Config) { c.MaxAckPending = -1 }, "max_ack_pending"},
		{"backoff longer than max deliver", func(c *Config) { c.MaxDeliver, c.Backoff = 1, []time.Duration{time.Second, time.Second} }, "backoff"},
		{"zero backoff delay", func(c *Config) { c.Backoff = []time.Duration{0} }, "backoff delay"},
		{"filter outside stream", func(c *Config) { c.FilterSubjects = []string{"INVOICES.>"} }, "not within"},
		{"filter wider than stream", func(c *Config) { c.FilterSubjects = []string{"RETURNS.>"} }, "not within"},
		{"bad filter", func(c *Config) { c.FilterSubjects = []string{"ORDERS..x"} }, "filter subjects"},
		{"overlapping filters", func(c *Config) { c.FilterSubjects = []string{"ORDERS.*", "ORDERS.new"} }, "overlap"},
		{"replicas above stream's", func(c *Config) { c.Replicas = 4 }, "replicas"},
		{"negative replicas", func(c *Config) { c.Replicas = -1 }, "replicas"},
		{"negative max waiting", func(c *Config) { c.MaxWaiting = -1 }, "max_waiting"},
		{"negative inactive threshold", func(c *Config) { c.InactiveThreshold = -time.Second }, "inactive_threshold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := finished(tc.edit).Validate(streamSubjects, 3)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tc.want == "":
			case !errors.Is(err, ErrBadConfig):
				t.Fatalf("error %v: want ErrBadConfig", err)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

func TestConfigFinish(t *testing.T) {
	cases := []struct {
		name  string
		in    Config
		check func(Config) bool
	}{
		{"defaults", Config{Durable: "C"}, func(c Config) bool {
			return c.Name == "C" && c.DeliverPolicy == DeliverAll && c.AckPolicy == AckExplicit &&
				c.AckWait == DefaultAckWait && c.MaxAckPending == DefaultMaxAckPending &&
				c.MaxWaiting == DefaultMaxWaiting && c.Replicas == 3 && c.InactiveThreshold == 0
		}},
		{"unlimited max deliver", Config{Durable: "C", MaxDeliver: -1}, func(c Config) bool { return c.MaxDeliver == 0 }},
		{"own replicas kept", Config{Durable: "C", Replicas: 1}, func(c Config) bool { return c.Replicas == 1 }},
		{"ephemeral threshold", Config{Name: "eph"}, func(c Config) bool { return c.InactiveThreshold == DefaultInactiveThreshold }},
		{"set fields kept", Config{Durable: "C", AckWait: time.Second, AckPolicy: AckAll, MaxAckPending: 7}, func(c Config) bool {
			return c.AckWait == time.Second && c.AckPolicy == AckAll && c.MaxAckPending == 7
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			c.Finish(3)
			if !tc.check(c) {
				t.Fatalf("finished %+v", c)
			}
			again := c
			again.Finish(3)
			if !again.Equal(c) {
				t.Fatalf("Finish is not idempotent: %+v then %+v", c, again)
			}
		})
	}
}

func TestConfigCheckUpdate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" when allowed, else the field named
	}{
		{"same", func(*Config) {}, ""},
		{"description", func(c *Config) { c.Description = "new" }, ""},
		{"ack wait", func(c *Config) { c.AckWait = time.Minute }, ""},
		{"max deliver", func(c *Config) { c.MaxDeliver = 9 }, ""},
		{"backoff", func(c *Config) { c.Backoff = []time.Duration{time.Second} }, ""},
		{"max ack pending", func(c *Config) { c.MaxAckPending = 9 }, ""},
		{"max waiting", func(c *Config) { c.MaxWaiting = 9 }, ""},
		{"deliver policy", func(c *Config) { c.DeliverPolicy = DeliverNew }, "deliver policy"},
		{"ack policy", func(c *Config) { c.AckPolicy = AckAll }, "ack policy"},
		{"filters", func(c *Config) { c.FilterSubjects = []string{"ORDERS.x"} }, "filter subjects"},
		{"headers only", func(c *Config) { c.HeadersOnly = true }, "headers only"},
		{"replicas", func(c *Config) { c.Replicas = 1 }, "replicas"},
		{"name", func(c *Config) { c.Durable, c.Name = "D", "D" }, "name"},
	}
	cur := finished()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := finished(tc.edit)
			err := cur.CheckUpdate(next)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("allowed edit refused: %v", err)
			case tc.want == "":
			case !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %v: want ErrBadConfig naming %q", err, tc.want)
			}
		})
	}
}

func TestConfigAckWaitFor(t *testing.T) {
	backoff := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	cases := []struct {
		backoff []time.Duration
		n       uint64
		want    time.Duration
	}{
		{nil, 1, 30 * time.Second},
		{nil, 7, 30 * time.Second},
		{backoff, 0, time.Second},
		{backoff, 1, time.Second},
		{backoff, 2, 2 * time.Second},
		{backoff, 3, 4 * time.Second},
		{backoff, 9, 4 * time.Second},
		{backoff, math.MaxUint64, 4 * time.Second},
	}
	for _, tc := range cases {
		c := finished(func(c *Config) { c.Backoff = tc.backoff })
		if got := c.AckWaitFor(tc.n); got != tc.want {
			t.Errorf("backoff %v: AckWaitFor(%d) = %s, want %s", tc.backoff, tc.n, got, tc.want)
		}
	}
}

func TestConfigMatches(t *testing.T) {
	cases := []struct {
		filters []string
		subj    string
		want    bool
	}{
		{nil, "ORDERS.new", true},
		{[]string{"ORDERS.new"}, "ORDERS.new", true},
		{[]string{"ORDERS.new"}, "ORDERS.old", false},
		{[]string{"ORDERS.*", "RETURNS.>"}, "RETURNS.a.b", true},
		{[]string{"ORDERS.*"}, "ORDERS.a.b", false},
	}
	for _, tc := range cases {
		c := finished(func(c *Config) { c.FilterSubjects = tc.filters })
		if got := c.Matches(tc.subj); got != tc.want {
			t.Errorf("filters %v: Matches(%q) = %v", tc.filters, tc.subj, got)
		}
	}
}
