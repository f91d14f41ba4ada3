package stream

import (
	"errors"
	"testing"
)

func (l *testLog) restore(msgs []Message) any {
	return l.apply(encodeRestore(msgs))
}

func TestRestoreCodec(t *testing.T) {
	msgs := testMsgs(41, 60)
	got, err := decodeRestore(encodeRestore(msgs)[1:])
	if err != nil {
		t.Fatal(err)
	}
	checkScan(t, got, 41, 60)
	if _, err := decodeRestore(encodeRestore(msgs)[1:50]); !errors.Is(err, errBadEntry) {
		t.Fatalf("truncated entry decoded: %v", err)
	}
}

// TestFSMRestore restores a backup that starts past sequence 1 onto an
// empty stream, in batches, with a retried batch, then publishes.
func TestFSMRestore(t *testing.T) {
	for _, storage := range []Storage{FileStorage, MemoryStorage} {
		t.Run(string(storage), func(t *testing.T) {
			c := testConfig(t, storage)
			f := newFSM(t, c, NewMemStore(), nil)
			l := newTestLog(t, f)
			for _, batch := range [][2]uint64{{1000, 1099}, {1100, 1499}, {1100, 1499}, {1500, 1500}} {
				res := l.restore(testMsgs(batch[0], batch[1]))
				if r, ok := res.(RestoreResult); !ok || r.LastSeq != batch[1] {
					t.Fatalf("restore %v answered %#v", batch, res)
				}
			}
			checkScan(t, viewOf(t, f), 1000, 1500)
			if st := f.State(); st.FirstSeq != 1000 || st.LastSeq != 1500 || st.Msgs != 501 {
				t.Fatalf("state after restore %+v", st)
			}
			// A restored message id is still a duplicate.
			res := l.publish(testMsg(1500).Time+1, Publish{Subject: "ORDERS.1", MsgID: "id-1497"}, pub(1, ""))
			if !res[0].Duplicate || res[0].Seq != 1497 {
				t.Fatalf("restored message id: publish answered %+v", res[0])
			}
			wantSeqs(t, res[1:], 1501)
			if res := l.restore(testMsgs(1600, 1610)); !errors.Is(asError(res), ErrRestoreSequence) {
				t.Fatalf("restore with a gap answered %#v", res)
			}
			if st := f.State(); st.LastSeq != 1501 {
				t.Fatalf("refused restore changed the stream: %+v", st)
			}
		})
	}
}

func TestFSMRestoreReplay(t *testing.T) {
	c := testConfig(t, FileStorage, func(c *Config) { c.MaxMsgs = 150 })
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	l.restore(testMsgs(7, 106))
	l.restore(testMsgs(107, 206))
	// Limits hold for restored messages as for published ones.
	if st := f.State(); st.FirstSeq != 57 || st.Msgs != 150 {
		t.Fatalf("state %+v, want 150 messages from 57", st)
	}
	g := newFSM(t, c, NewMemStore(), nil)
	replay(g, l.entries)
	if !sameState(f.State(), g.State()) {
		t.Fatalf("replayed state %+v, want %+v", g.State(), f.State())
	}
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}

func viewOf(t testing.TB, f *FSM) []Message {
	t.Helper()
	v, _, err := f.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	return scanAll(t, v, 0)
}
