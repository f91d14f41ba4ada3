package stream

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func (l *testLog) restore(msgs []Message) any {
	return l.apply(encodeRestore(restoreBatch{msgs: msgs}))
}

// encodeRestoreConsecutive is the opRestore entry of earlier builds.
func encodeRestoreConsecutive(msgs []Message) []byte {
	b := binary.AppendUvarint([]byte{opRestore}, uint64(len(msgs)))
	b = binary.BigEndian.AppendUint64(b, msgs[0].Seq)
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
		b = appendPublish(b, Publish{Subject: m.Subject, Header: m.Header, Data: m.Data, MsgID: m.MsgID})
	}
	return b
}

func TestRestoreCodec(t *testing.T) {
	msgs := testMsgs(41, 60)
	for name, data := range map[string][]byte{
		"after":       encodeRestore(restoreBatch{after: 40, msgs: msgs}),
		"consecutive": encodeRestoreConsecutive(msgs),
	} {
		got, err := decodeRestore(data[0], data[1:])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkScan(t, got.msgs, 41, 60)
		if _, err := decodeRestore(data[0], data[1:50]); !errors.Is(err, errBadEntry) {
			t.Fatalf("%s: truncated entry decoded: %v", name, err)
		}
	}
	holes := restoreBatch{after: 60, holesThrough: 70}
	if got, err := decodeRestore(opRestoreAfter, encodeRestore(holes)[1:]); err != nil || got.after != 60 || got.holesThrough != 70 || len(got.msgs) != 0 {
		t.Fatalf("holes batch decoded as %+v, %v", got, err)
	}
}

// TestFSMRestoreHoles: batches that skip sequences (messages removed one
// by one before the backup) leave them holes, and a batch of holes
// carries the stream's last sequence past its last message; limits count
// only messages.
func TestFSMRestoreHoles(t *testing.T) {
	c := testConfig(t, FileStorage, func(c *Config) { c.MaxMsgs = 12 })
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	without := func(from, to uint64, skip ...uint64) []Message {
		var out []Message
		for _, m := range testMsgs(from, to) {
			if !slices.Contains(skip, m.Seq) {
				out = append(out, m)
			}
		}
		return out
	}
	for _, b := range []restoreBatch{
		{msgs: without(1000, 1009, 1003, 1005)},
		{after: 1009, msgs: testMsgs(1015, 1020)}, // 1010-1014 are holes
		{after: 1020, holesThrough: 1030},
	} {
		if res, ok := l.apply(encodeRestore(b)).(RestoreResult); !ok || res.LastSeq != b.end() {
			t.Fatalf("restore %+v answered %#v", b, res)
		}
	}
	// 14 messages, 12 kept: 1000 and 1001 go to max_msgs.
	st := f.State()
	if st.FirstSeq != 1002 || st.LastSeq != 1030 || st.Msgs != 12 {
		t.Fatalf("state after restore with holes %+v", st)
	}
	var got []uint64
	for _, m := range viewOf(t, f) {
		got = append(got, m.Seq)
	}
	want := []uint64{1002, 1004, 1006, 1007, 1008, 1009, 1015, 1016, 1017, 1018, 1019, 1020}
	if !slices.Equal(got, want) {
		t.Fatalf("restored %v, want %v", got, want)
	}
	if res := l.apply(encodeRestore(restoreBatch{after: 1031, holesThrough: 1040})); !errors.Is(asError(res), ErrRestoreSequence) {
		t.Fatalf("a batch of holes after a missing one answered %#v", res)
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
