package badger

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
)

func benchGroups(b *testing.B, cfg string, par int) {
	p := openPlugin(b, b.TempDir(), cfg)
	data := make([]byte, 128)
	var groups atomic.Int64
	b.SetParallelism(par)
	b.RunParallel(func(pb *testing.PB) {
		s, _ := p.LogStore(fmt.Sprintf("group-%d", groups.Add(1)))
		next := uint64(1)
		for pb.Next() {
			logs := make([]*raft.Log, 64)
			for i := range logs {
				logs[i] = &raft.Log{Index: next, Term: 1, Data: data}
				next++
			}
			if err := s.StoreLogs(logs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
func BenchmarkTmpGroupsNoSync1(b *testing.B) { benchGroups(b, `{"sync_writes": false}`, 1) }
func BenchmarkTmpGroupsNoSync4(b *testing.B) { benchGroups(b, `{"sync_writes": false}`, 4) }
func BenchmarkTmpGroupsSync1(b *testing.B) { benchGroups(b, `{"sync_writes": true}`, 1) }
func BenchmarkTmpGroupsSync8(b *testing.B) { benchGroups(b, `{"sync_writes": true}`, 8) }
