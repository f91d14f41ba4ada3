package badger

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestCodecRoundTrip(t *testing.T) {
	zone := time.FixedZone("x", -7*3600)
	logs := []*raft.Log{
		{},
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("cfg")},
		{Index: 1 << 40, Term: 1<<64 - 1, Type: raft.LogCommand, Data: []byte{0, 0xff}, Extensions: []byte("ext"),
			AppendedAt: time.Date(2024, 2, 29, 23, 59, 59, 999999999, zone)},
		{Index: 7, Term: 2, Type: raft.LogNoop, AppendedAt: time.Now()},
		{Index: 8, Term: 2, AppendedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},    // before UnixNano's range
		{Index: 9, Term: 2, AppendedAt: time.Date(9999, 1, 1, 0, 0, 0, 5, time.UTC)}, // after it
		{Index: 10, Data: bytes.Repeat([]byte("x"), 100000)},
	}
	for _, want := range logs {
		b := appendLog(nil, want)
		if len(b) > encodedLen(want) {
			t.Errorf("index %d: encoded %d bytes, bound says %d", want.Index, len(b), encodedLen(want))
		}
		var got raft.Log
		if err := decodeLog(b, &got); err != nil {
			t.Fatalf("index %d: decode: %v", want.Index, err)
		}
		if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
			!got.AppendedAt.Equal(want.AppendedAt) || got.AppendedAt.IsZero() != want.AppendedAt.IsZero() {
			t.Errorf("round trip of index %d:\n got %+v\nwant %+v", want.Index, got, *want)
		}
		if got.Data != nil && cap(got.Data) != len(got.Data) {
			t.Errorf("index %d: Data capacity %d > length %d: appending would clobber Extensions", want.Index, cap(got.Data), len(got.Data))
		}
	}
}

func TestCodecCorrupt(t *testing.T) {
	good := appendLog(nil, &raft.Log{Index: 300, Term: 4, Data: []byte("hello"), Extensions: []byte("e")})
	cases := map[string][]byte{
		"empty":       nil,
		"short":       good[:2],
		"version":     append([]byte{9}, good[1:]...),
		"cut in data": good[:len(good)-4],
		"cut varint":  append(good[:3:3], 0x80),
	}
	for name, b := range cases {
		var l raft.Log
		if err := decodeLog(b, &l); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err = %v, want errCorrupt", name, err)
		}
	}
}
