package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestAppendMessageAndNext(t *testing.T) {
	var b []byte
	b = AppendMessage(b, 1000, -5, "ORDERS.new", "id-1", [][2]string{{"k", "v"}, {"k", "w"}}, []byte("hello"))
	b = AppendMessage(b, 1<<40, 1_700_000_000_000_000_000, "s", "", nil, nil)
	b = append(b, 9) // a partial record
	typ, p, rest, err := Next(b)
	if err != nil || typ != Message {
		t.Fatalf("Next: %d %v", typ, err)
	}
	if seq, err := MessageSeq(p); err != nil || seq != 1000 {
		t.Fatalf("MessageSeq = %d, %v", seq, err)
	}
	if !bytes.HasSuffix(p, []byte("\x05hello")) || len(p) != MessageLen(1000, -5, "ORDERS.new", "id-1", [][2]string{{"k", "v"}, {"k", "w"}}, []byte("hello")) {
		t.Fatalf("payload %q", p)
	}
	_, p, rest, err = Next(rest)
	if seq, _ := MessageSeq(p); err != nil || seq != 1<<40 {
		t.Fatalf("second record: %v", err)
	}
	if _, _, _, err := Next(rest); !errors.Is(err, ErrBad) {
		t.Fatalf("partial record: %v", err)
	}
	long := binary.AppendUvarint([]byte{Message}, 100)
	if _, _, _, err := Next(append(long, 1, 2, 3)); !errors.Is(err, ErrBad) {
		t.Fatalf("short payload: %v", err)
	}
}
