// Command inmemplugin serves raft's in-memory stores: the SDK's benchmarks
// use it to measure the protocol's own cost, with no storage behind it.
package main

import (
	"runtime"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

type inmem struct {
	mu     sync.Mutex
	stores map[string]*raft.InmemStore
}

func (p *inmem) Configure(req pluginsdk.ConfigureRequest) error {
	p.stores = map[string]*raft.InmemStore{}
	req.Logger.Warn("configured", "data_dir", req.DataDir, "gomaxprocs", runtime.GOMAXPROCS(0),
		"debug", req.Logger.IsDebug())
	return nil
}

func (p *inmem) Close() error { return nil }

func (p *inmem) store(group string) *raft.InmemStore {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.stores[group]
	if !ok {
		s = raft.NewInmemStore()
		p.stores[group] = s
	}
	return s
}

func (p *inmem) LogStore(g string) (raft.LogStore, error)       { return p.store(g), nil }
func (p *inmem) StableStore(g string) (raft.StableStore, error) { return p.store(g), nil }

func main() { pluginsdk.Serve(&inmem{}) }
