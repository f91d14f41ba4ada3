package stream

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

// fuzzEntries are seeds of every entry kind, valid and not.
func fuzzEntries() [][]byte {
	pub := encodePublish(t0, []Publish{
		{Subject: "ORDERS.new", Data: []byte("one")},
		{Subject: "ORDERS.paid", MsgID: "id-2", Header: []Header{{Key: "K", Value: "V"}}, Data: []byte("two")},
	})
	cfg, _ := encodeConfig(Config{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, MaxMsgs: 1})
	restore := encodeRestore(restoreBatch{after: 6, msgs: []Message{{Seq: 7, Time: t0, Subject: "ORDERS.old", Data: []byte("x")}}})
	return [][]byte{
		pub, pub[:len(pub)-1], {opPurge}, cfg, encodeRemove(1), encodeRemoveMsgs([]uint64{1, 2}),
		restore, encodeOldRestore(), {opRestoreAfter, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{opPublish, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, {0}, {99},
	}
}

// encodeOldRestore encodes an opRestore entry, which only entries
// written before opRestoreAfter existed hold (nothing encodes one now).
func encodeOldRestore() []byte {
	b := binary.AppendUvarint([]byte{opRestore}, 1)
	b = binary.BigEndian.AppendUint64(b, 7) // first sequence
	b = binary.BigEndian.AppendUint64(b, uint64(t0))
	return appendPublish(b, Publish{Subject: "ORDERS.old", Data: []byte("x")})
}

// FuzzApplyEntry feeds an arbitrary Raft entry to a stream's FSM: it
// never panics, and whatever the entry did, the stream still takes the
// next publish at the sequence after its last.
func FuzzApplyEntry(f *testing.F) {
	for _, e := range fuzzEntries() {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsm := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
		fsm.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
		before := fsm.State()
		next := encodePublish(t0, []Publish{{Subject: "ORDERS.after", Data: []byte("after")}})
		res, ok := fsm.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: next}).([]Result)
		if !ok || len(res) != 1 {
			t.Fatalf("publish after entry %x: %v", data, res)
		}
		if res[0].Err == nil && res[0].Seq != before.LastSeq+1 {
			t.Fatalf("after entry %x (state %+v) the next publish got seq %d", data, before, res[0].Seq)
		}
		if st := fsm.State(); st.Msgs > 0 && st.FirstSeq > st.LastSeq {
			t.Fatalf("after entry %x: state %+v", data, st)
		}
	})
}

// FuzzPublishEntry checks that a publish entry decodes to what was
// encoded, and that decoding any bytes never panics.
func FuzzPublishEntry(f *testing.F) {
	f.Add(int64(t0), "ORDERS.new", "id", "K", "V", []byte("data"), []byte{})
	f.Add(int64(-1), "", "", "", "", []byte{}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, now int64, subj, id, key, val string, data, raw []byte) {
		_, _, _ = decodePublish(raw)
		_, _ = decodeRemoveMsgs(raw)
		_, _ = decodeRestore(opRestore, raw)
		_, _ = decodeRestore(opRestoreAfter, raw)
		p := Publish{Subject: subj, MsgID: id, Data: data}
		if key != "" || val != "" {
			p.Header = []Header{{Key: key, Value: val}}
		}
		gotNow, got, err := decodePublish(encodePublish(now, []Publish{p, p})[1:])
		if err != nil || gotNow != now || len(got) != 2 {
			t.Fatalf("decode(encode(%d, %+v)) = %d, %+v, %v", now, p, gotNow, got, err)
		}
		if len(got[0].Data) == 0 && len(p.Data) == 0 {
			got[0].Data = p.Data
		}
		if !reflect.DeepEqual(got[0], p) {
			t.Fatalf("decode(encode(%+v)) = %+v", p, got[0])
		}
	})
}
