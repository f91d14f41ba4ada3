package consumer

import "testing"

func TestFSMInfo(t *testing.T) {
	src := newTestSource()
	src.publish(t, "ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.b")
	src.removeThrough(t, 2) // the stream holds 3..8
	cases := []struct {
		name    string
		edit    func(*Config)
		start   uint64
		initial []uint64
		deliver []uint64
		want    Info
	}{
		{"nothing delivered", func(*Config) {}, 0, nil, nil,
			Info{Unprocessed: 6}},
		{"some delivered", func(*Config) {}, 0, nil, []uint64{3, 4},
			Info{Delivered: SeqPair{2, 4}, AckFloor: SeqPair{0, 2}, AckPending: 2, Unprocessed: 4}},
		{"filtered", func(c *Config) { c.FilterSubjects = []string{"ORDERS.b"} }, 0, nil, []uint64{4},
			Info{Delivered: SeqPair{1, 4}, AckFloor: SeqPair{0, 3}, AckPending: 1, Unprocessed: 2}},
		{"with initial", func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject }, 8, []uint64{7, 8}, []uint64{7},
			Info{Delivered: SeqPair{1, 8}, AckFloor: SeqPair{0, 6}, AckPending: 1, Unprocessed: 1}},
		{"all delivered", func(*Config) {}, 8, nil, nil,
			Info{Delivered: SeqPair{0, 8}, AckFloor: SeqPair{0, 8}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished(tc.edit))
			l.start(tc.start, tc.initial...)
			l.deliver(t0, tc.deliver...)
			if got := l.f.Info(src); got != tc.want {
				t.Fatalf("info %+v, want %+v", got, tc.want)
			}
		})
	}
	// Redelivered counts pending messages delivered more than once.
	l := newFSMLog(t, finished())
	l.start(0)
	l.deliver(t0, 3, 4, 5)
	l.deliver(t0+31*sec, 3, 4)
	if got := l.f.Info(nil); got.Redelivered != 2 || got.AckPending != 3 {
		t.Fatalf("info %+v", got)
	}
}
