package pluginsdk

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// FuzzDecodeLogs feeds arbitrary bytes to the log codec a plugin reads
// StoreLogs requests and GetLogs responses with: it never panics, and
// what it accepts encodes and decodes again to the same logs.
func FuzzDecodeLogs(f *testing.F) {
	seeds := [][]*raft.Log{
		{},
		{{Index: 1, Term: 1, Type: raft.LogCommand, Data: []byte("x")}},
		{{Index: 1 << 40, Term: 3, Type: raft.LogConfiguration, Data: []byte("cfg"), Extensions: []byte("e"),
			AppendedAt: time.Unix(1700000000, 5)}, {Index: 2, Type: raft.LogNoop}},
	}
	for _, logs := range seeds {
		b := appendLogs(nil, logs)
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		logs, err := decodeLogs(b)
		if err != nil {
			return
		}
		ptrs := make([]*raft.Log, len(logs))
		for i := range logs {
			ptrs[i] = &logs[i]
		}
		again, err := decodeLogs(appendLogs(nil, ptrs))
		if err != nil {
			t.Fatalf("re-encoded logs of %x do not decode: %v", b, err)
		}
		if len(again) != len(logs) {
			t.Fatalf("%d logs, re-decoded %d", len(logs), len(again))
		}
		for i := range logs {
			if !sameLog(logs[i], again[i]) {
				t.Fatalf("log %d: %+v, re-decoded %+v", i, logs[i], again[i])
			}
		}
	})
}

func sameLog(a, b raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && a.AppendedAt.Equal(b.AppendedAt) &&
		string(a.Data) == string(b.Data) && string(a.Extensions) == string(b.Extensions)
}
