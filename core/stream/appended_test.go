package stream

import (
	"testing"
)

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestFSMAppended(t *testing.T) {
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 3 })
	cases := []struct {
		name    string
		change  func(l *testLog)
		changed bool
	}{
		{"publish", func(l *testLog) { l.publish(t0+1, pub(1, "")) }, true},
		{"duplicate only", func(l *testLog) { l.publish(t0+1, pub(0, "id-0")) }, false},
		{"refused only", func(l *testLog) { l.publish(t0+1, Publish{Subject: "ORDERS.x", Data: make([]byte, 2<<20)}) }, false},
		{"purge", func(l *testLog) { l.purge() }, true},
		{"remove (max_age)", func(l *testLog) {
			if res := l.apply(encodeRemove(1)); res != nil {
				l.t.Fatalf("remove answered %v", res)
			}
		}, true},
		{"restore entry", func(l *testLog) {
			if res := l.apply(encodeRestore(restoreBatch{msgs: []Message{{Seq: 2, Subject: "ORDERS.r", Time: t0}}})); res == nil {
				l.t.Fatal("restore entry answered nothing")
			}
		}, true},
		{"config trimming", func(l *testLog) {
			l.publish(t0+1, pubs(1, 3)...)
			cfg := l.f.Config()
			cfg.MaxMsgs = 1
			ch := l.f.Appended()
			l.config(cfg)
			if !closed(ch) {
				l.t.Fatal("a config that removes messages must close Appended")
			}
		}, true},
		{"snapshot install", func(l *testLog) {
			other := newFSM(l.t, c, NewMemStore(), nil)
			newTestLog(l.t, other).publish(t0, pubs(0, 2)...)
			if err := restore(l.f, snapshotOf(l.t, other)); err != nil {
				l.t.Fatal(err)
			}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFSM(t, c, NewMemStore(), nil)
			l := newTestLog(t, f)
			l.publish(t0, pub(0, "id-0"))
			ch := f.Appended()
			if closed(ch) {
				t.Fatal("Appended closed before any change")
			}
			if again := f.Appended(); again != ch {
				t.Fatal("Appended must return the same channel until a change")
			}
			tc.change(l)
			if got := closed(ch); got != tc.changed {
				t.Fatalf("Appended closed = %v, want %v", got, tc.changed)
			}
			if next := f.Appended(); closed(next) {
				t.Fatal("the channel after a change must be open")
			}
		})
	}
}
