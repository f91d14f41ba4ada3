package consumer

import (
	"slices"
	"testing"
)

func TestStartPolicies(t *testing.T) {
	full := newTestSource()
	for i, subj := range []string{"ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.c", "ORDERS.b", "ORDERS.a", "ORDERS.c"} {
		full.publishAt(t, t0+int64(i+1)*sec, subj) // seq i+1 at t0 + (i+1)s
	}
	full.removeThrough(t, 1) // the stream holds 2..7
	empty := newTestSource()
	purged := newTestSource()
	purged.publishN(t, "ORDERS.a", 3)
	purged.removeThrough(t, 3)

	cases := []struct {
		name    string
		src     *testSource
		edit    func(*Config)
		after   uint64
		initial []uint64
	}{
		{"all", full, func(*Config) {}, 1, nil},
		{"last", full, func(c *Config) { c.DeliverPolicy = DeliverLast }, 6, nil},
		{"last filtered", full, func(c *Config) { c.DeliverPolicy, c.FilterSubjects = DeliverLast, []string{"ORDERS.b"} }, 4, nil},
		{"last filtered, none", full, func(c *Config) { c.DeliverPolicy, c.FilterSubjects = DeliverLast, []string{"ORDERS.x"} }, 7, nil},
		{"new", full, func(c *Config) { c.DeliverPolicy = DeliverNew }, 7, nil},
		{"by start sequence", full, func(c *Config) { c.DeliverPolicy, c.OptStartSeq = DeliverByStartSequence, 4 }, 3, nil},
		{"by start sequence ahead", full, func(c *Config) { c.DeliverPolicy, c.OptStartSeq = DeliverByStartSequence, 50 }, 49, nil},
		{"by start time exact", full, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, t0+3*sec }, 2, nil},
		{"by start time between", full, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, t0+3*sec+1 }, 3, nil},
		{"by start time before", full, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, 1 }, 1, nil},
		{"by start time after", full, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, t0+100*sec }, 7, nil},
		{"last per subject", full, func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject }, 7, []uint64{5, 6, 7}},
		{"last per subject filtered", full, func(c *Config) {
			c.DeliverPolicy, c.FilterSubjects = DeliverLastPerSubject, []string{"ORDERS.a", "ORDERS.b"}
		}, 7, []uint64{5, 6}},
		{"empty all", empty, func(*Config) {}, 0, nil},
		{"empty last", empty, func(c *Config) { c.DeliverPolicy = DeliverLast }, 0, nil},
		{"empty last per subject", empty, func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject }, 0, nil},
		{"empty by start time", empty, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, 5 }, 0, nil},
		{"purged all", purged, func(*Config) {}, 3, nil},
		{"purged last", purged, func(c *Config) { c.DeliverPolicy = DeliverLast }, 3, nil},
		{"purged by start time", purged, func(c *Config) { c.DeliverPolicy, c.OptStartTime = DeliverByStartTime, 5 }, 3, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := finished(tc.edit)
			if err := cfg.Validate(streamSubjects, 3); err != nil {
				t.Fatal(err)
			}
			e, err := resolveStart(cfg, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if e.startSeq != tc.after || !slices.Equal(e.initial, tc.initial) {
				t.Fatalf("start after %d initial %v, want %d %v", e.startSeq, e.initial, tc.after, tc.initial)
			}
			// Through opStart: delivered and floor follow.
			l := newFSMLog(t, cfg)
			l.start(e.startSeq, e.initial...)
			st := l.f.State()
			floor := tc.after
			if len(tc.initial) > 0 {
				floor = tc.initial[0] - 1
			}
			if !st.Started || st.Delivered != (SeqPair{Stream: tc.after}) || st.AckFloor != (SeqPair{Stream: floor}) || !slices.Equal(st.Initial, tc.initial) {
				t.Fatalf("state after opStart %+v", st)
			}
		})
	}
}
