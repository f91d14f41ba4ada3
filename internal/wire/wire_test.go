package wire

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestReader(t *testing.T) {
	bad := errors.New("bad")
	b := binary.BigEndian.AppendUint64(nil, 1<<60)
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -7)
	b = append(binary.AppendUvarint(b, 3), "abc"...)
	r := NewReader(b, bad)
	if r.Uint64() != 1<<60 || r.Uvarint() != 300 || r.Varint() != -7 || r.String() != "abc" || r.Err() != nil || r.Len() != 0 {
		t.Fatalf("read back wrong: %v", r.Err())
	}
	if r.Uvarint(); !errors.Is(r.Err(), bad) {
		t.Fatalf("read past the end: %v", r.Err())
	}
	short := NewReader(append(binary.AppendUvarint(nil, 10), "abc"...), bad)
	if short.Bytes() != nil || !errors.Is(short.Err(), bad) || short.Uint64() != 0 {
		t.Fatal("a length past the end must fail and stick")
	}
}

func TestReaderField(t *testing.T) {
	bad := errors.New("bad")
	b := append([]byte{7}, append(binary.AppendUvarint(nil, 2), "hi"...)...)
	b = binary.AppendUvarint(b, 0)
	b = append(b, 9)
	r := NewReader(b, bad)
	if r.Byte() != 7 {
		t.Fatal("Byte")
	}
	f := r.Field()
	if string(f) != "hi" || cap(f) != 2 || &f[0] != &b[2] {
		t.Fatalf("Field = %q (cap %d): want an alias of \"hi\" clipped to it", f, cap(f))
	}
	if r.Field() != nil || r.Byte() != 9 || r.Err() != nil {
		t.Fatalf("empty field, last byte: %v", r.Err())
	}
	if r.Byte(); !errors.Is(r.Err(), bad) {
		t.Fatalf("Byte past the end: %v", r.Err())
	}
}
