// Command plugin-bolt is an example third-party Strata storage plugin. It
// serves each Raft group's log and stable state from an existing store,
// hashicorp/raft-boltdb, which already implements raft.LogStore and
// raft.StableStore: the plugin only maps groups to files.
//
// Build it, point a node's config at the binary, and the node starts it:
//
//	go build -o strata-plugin-bolt ./examples/plugin-bolt
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"

	"github.com/stratadb/strata/pluginsdk"
)

// The SDK finds the store kinds a plugin serves by these interfaces.
var (
	_ pluginsdk.Plugin       = (*Plugin)(nil)
	_ pluginsdk.LogStores    = (*Plugin)(nil)
	_ pluginsdk.StableStores = (*Plugin)(nil)
)

// Plugin keeps one bolt file per Raft group in the node's data dir for
// the plugin, opened on first use.
type Plugin struct {
	mu     sync.Mutex
	dir    string
	stores map[string]*raftboltdb.BoltStore
}

// New returns an unconfigured plugin.
func New() *Plugin {
	return &Plugin{stores: make(map[string]*raftboltdb.BoltStore)}
}

// Configure is called once, before any store is asked for.
func (p *Plugin) Configure(req pluginsdk.ConfigureRequest) error {
	var cfg struct{} // no settings: any config key is refused by name
	if err := pluginsdk.DecodeConfig(req.Config, &cfg); err != nil {
		return err
	}
	p.dir = req.DataDir
	return os.MkdirAll(p.dir, 0o755)
}

// LogStore and StableStore hand out the same BoltStore for a group.
func (p *Plugin) LogStore(group string) (raft.LogStore, error) {
	s, err := p.store(group)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *Plugin) StableStore(group string) (raft.StableStore, error) {
	s, err := p.store(group)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *Plugin) store(group string) (*raftboltdb.BoltStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stores[group]; ok {
		return s, nil
	}
	if group == "" {
		return nil, errors.New("empty group name")
	}
	// Group names are arbitrary strings ("stream/ORDERS"); hex makes a
	// safe file name, and two groups never share one.
	path := filepath.Join(p.dir, hex.EncodeToString([]byte(group))+".bolt")
	s, err := raftboltdb.NewBoltStore(path)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", group, err)
	}
	p.stores[group] = s
	return s, nil
}

// Close closes every open bolt file when the node stops the plugin.
func (p *Plugin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for group, s := range p.stores {
		errs = append(errs, s.Close())
		delete(p.stores, group)
	}
	return errors.Join(errs...)
}

func main() { pluginsdk.Serve(New()) }
