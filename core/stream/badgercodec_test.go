package stream

import (
	"bytes"
	"errors"
	"testing"
)

func TestStoreCodec(t *testing.T) {
	msgs := []Message{
		{},
		{Subject: "a", Data: []byte{0}, Time: -5},
		{Subject: "ORDERS.new", MsgID: "x", Header: []Header{{"", ""}, {"k", "v"}}, Data: bytes.Repeat([]byte("d"), 5000), Time: 1 << 62},
		testMsg(3),
		{Subject: "b", Time: -1 << 63},
	}
	for n := 1; n <= len(msgs); n++ {
		batch, before := msgs[:n], uint64(n)*1000
		v := appendBatch(nil, batch, before)
		if len(v) != batchLen(batch, before) {
			t.Errorf("batch of %d: %d bytes, batchLen %d", n, len(v), batchLen(batch, before))
		}
		checkBatch(t, v, batch, before)
	}

	good := appendBatch(nil, testMsgs(1, 3), 7) // sizes of one byte each
	swapped := bytes.Clone(good)
	copy(swapped[3:7], good[11:15]) // body 0 ends after body 1
	for name, v := range map[string][]byte{
		"empty":   nil,
		"version": append([]byte{1}, good[1:]...),
		"zero":    {batchVersion, 7, 0},
		"count":   {batchVersion, 7, 2, 0, 0, 0, 0},
		"cut":     good[:len(good)-4],
		"ends":    swapped,
		"sizes":   good[:len(good)-2],
		"body":    {batchVersion, 0, 1, 0, 0, 0, 3, 0, 0, 100},
	} {
		if err := readBatch(v); !errors.Is(err, errCorruptValue) {
			t.Errorf("%s: err = %v, want errCorruptValue", name, err)
		}
	}

	meta := storeMeta{State: stateOf(3, 9, 2), Applied: 77, Total: 12345}
	got, err := decodeMeta(appendMeta(nil, meta))
	if err != nil || got != meta {
		t.Fatalf("meta round trip: %+v, %v; want %+v", got, err, meta)
	}
	bad := meta
	bad.FirstSeq = 20
	if _, err := decodeMeta(appendMeta(nil, bad)); !errors.Is(err, errCorruptValue) {
		t.Fatalf("meta with FirstSeq > LastSeq+1: %v", err)
	}
	if _, err := decodeMeta(append(appendMeta(nil, meta), 0)); !errors.Is(err, errCorruptValue) {
		t.Fatalf("meta with trailing byte: %v", err)
	}
	if _, err := decodeMeta(append([]byte{1}, appendMeta(nil, meta)[1:]...)); !errors.Is(err, errCorruptValue) {
		t.Fatalf("meta of version 1: %v", err)
	}
}

// checkBatch checks that v, a batch value, decodes to msgs (but for
// their sequences), with the Total before them starting at before, and
// that the messages it returns do not share v's memory.
func checkBatch(t *testing.T, v []byte, msgs []Message, before uint64) {
	t.Helper()
	b, err := parseBatch(v)
	if err != nil || b.n != len(msgs) {
		t.Fatalf("batch of %d: parse: %d messages, %v", len(msgs), b.n, err)
	}
	got := make([]Message, len(msgs))
	for i, want := range msgs {
		body, err := b.body(i)
		if err != nil || len(body) != bodyLen(want) {
			t.Fatalf("message %d of %d: body of %d bytes (bodyLen %d), %v", i, len(msgs), len(body), bodyLen(want), err)
		}
		if tm, err := bodyTime(body); err != nil || tm != want.Time {
			t.Fatalf("message %d of %d: time %d, %v", i, len(msgs), tm, err)
		}
		got[i], err = decodeBody(body)
		got[i].Seq = want.Seq // in the key, not the value
		if err != nil || !sameMsg(got[i], want) {
			t.Fatalf("message %d of %d: got %+v, %v; want %+v", i, len(msgs), got[i], err, want)
		}
		if tb, err := b.totalBefore(i); err != nil || tb != before {
			t.Fatalf("message %d of %d: Total before = %d, %v; want %d", i, len(msgs), tb, err, before)
		}
		before += want.Size()
	}
	clear(v)
	for i := range msgs {
		if !sameMsg(got[i], msgs[i]) {
			t.Fatalf("message %d of %d shares the value's memory", i, len(msgs))
		}
	}
}

// readBatch reads every part of every message of batch value v.
func readBatch(v []byte) error {
	b, err := parseBatch(v)
	if err != nil {
		return err
	}
	for i := range b.n {
		body, err := b.body(i)
		if err != nil {
			return err
		}
		if _, err := decodeBody(body); err != nil {
			return err
		}
		if _, err := b.totalBefore(i); err != nil {
			return err
		}
	}
	return nil
}
