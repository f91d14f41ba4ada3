package pluginsdk

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestLogsRoundTrip(t *testing.T) {
	logs := []*raft.Log{
		{},
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("cfg")},
		{Index: 1 << 40, Term: 1<<64 - 1, Type: raft.LogCommand, Data: []byte{0, 0xff}, Extensions: []byte("ext"),
			AppendedAt: time.Unix(1700000000, 123456789)},
		{Index: 7, Term: 2, Type: raft.LogNoop, AppendedAt: time.Now()},
		{Index: 10, Data: bytes.Repeat([]byte("x"), 100000)},
	}
	b := appendLogs(nil, logs)
	if len(b) > logsLen(logs) {
		t.Errorf("encoded %d bytes, bound says %d", len(b), logsLen(logs))
	}
	got, err := decodeLogs(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(logs) {
		t.Fatalf("%d logs back, want %d", len(got), len(logs))
	}
	for i, want := range logs {
		g := got[i]
		if g.Index != want.Index || g.Term != want.Term || g.Type != want.Type ||
			!bytes.Equal(g.Data, want.Data) || !bytes.Equal(g.Extensions, want.Extensions) ||
			!g.AppendedAt.Equal(want.AppendedAt) || g.AppendedAt.IsZero() != want.AppendedAt.IsZero() {
			t.Errorf("log %d:\n got %+v\nwant %+v", i, g, *want)
		}
		if g.Data != nil && cap(g.Data) != len(g.Data) {
			t.Errorf("log %d: Data capacity %d > length %d: appending would clobber Extensions", i, cap(g.Data), len(g.Data))
		}
	}
	if got, err := decodeLogs(appendLogs(nil, nil)); err != nil || len(got) != 0 {
		t.Errorf("no logs: %d logs, %v", len(got), err)
	}
}

func TestLogsMalformed(t *testing.T) {
	good := appendLogs(nil, []*raft.Log{{Index: 300, Term: 4, Data: []byte("hello"), Extensions: []byte("e")}})
	cases := map[string][]byte{
		"empty":          nil,
		"count too big":  {0xff, 0xff, 0xff, 0xff, 0x0f},
		"cut in data":    good[:len(good)-4],
		"trailing bytes": append(good[:len(good):len(good)], 1, 2),
		"cut varint":     append(good[:2:2], 0x80),
	}
	for name, b := range cases {
		if _, err := decodeLogs(b); !errors.Is(err, errBadLogs) {
			t.Errorf("%s: err = %v, want errBadLogs", name, err)
		}
	}
}
