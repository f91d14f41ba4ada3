package storetest

import (
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

var (
	_ pluginsdk.LogStores      = (*Slow)(nil)
	_ pluginsdk.StableStores   = (*Slow)(nil)
	_ pluginsdk.SnapshotStores = (*Slow)(nil)
	_ raft.MonotonicLogStore   = slowLog{}
)

// Slow serves the stores of another plugin with every call made Delay
// slower: a disk that answers, but late. Put it around any plugin (in a
// plugin binary for tests) to see what a slow store does to the node: a
// call slower than the host's call timeout is a hung plugin to it, a
// call within it only a slow one. Every store call waits, and so does
// each Write to a snapshot sink and each Read of a snapshot.
//
// Slow offers all three store kinds; asking it for one the plugin does
// not serve is the plugin's error, ErrNoSuchCapability.
type Slow struct {
	Plugin pluginsdk.Plugin
	Delay  time.Duration
}

// Configure configures the plugin.
func (s *Slow) Configure(req pluginsdk.ConfigureRequest) error { return s.Plugin.Configure(req) }

// Close closes the plugin.
func (s *Slow) Close() error { return s.Plugin.Close() }

// LogStore returns the plugin's log store of group, slowed.
func (s *Slow) LogStore(group string) (raft.LogStore, error) {
	p, ok := s.Plugin.(pluginsdk.LogStores)
	if !ok {
		return nil, fmt.Errorf("slow: log store: %w", pluginsdk.ErrNoSuchCapability)
	}
	st, err := p.LogStore(group)
	return slowLog{st, s.Delay}, err
}

// StableStore returns the plugin's stable store of group, slowed.
func (s *Slow) StableStore(group string) (raft.StableStore, error) {
	p, ok := s.Plugin.(pluginsdk.StableStores)
	if !ok {
		return nil, fmt.Errorf("slow: stable store: %w", pluginsdk.ErrNoSuchCapability)
	}
	st, err := p.StableStore(group)
	return slowStable{st, s.Delay}, err
}

// SnapshotStore returns the plugin's snapshot store of group, slowed.
func (s *Slow) SnapshotStore(group string) (raft.SnapshotStore, error) {
	p, ok := s.Plugin.(pluginsdk.SnapshotStores)
	if !ok {
		return nil, fmt.Errorf("slow: snapshot store: %w", pluginsdk.ErrNoSuchCapability)
	}
	st, err := p.SnapshotStore(group)
	return slowSnapshots{st, s.Delay}, err
}

type slowLog struct {
	raft.LogStore
	d time.Duration
}

func (s slowLog) FirstIndex() (uint64, error) { time.Sleep(s.d); return s.LogStore.FirstIndex() }
func (s slowLog) LastIndex() (uint64, error)  { time.Sleep(s.d); return s.LogStore.LastIndex() }
func (s slowLog) GetLog(i uint64, l *raft.Log) error {
	time.Sleep(s.d)
	return s.LogStore.GetLog(i, l)
}
func (s slowLog) StoreLog(l *raft.Log) error     { time.Sleep(s.d); return s.LogStore.StoreLog(l) }
func (s slowLog) StoreLogs(ls []*raft.Log) error { time.Sleep(s.d); return s.LogStore.StoreLogs(ls) }
func (s slowLog) DeleteRange(lo, hi uint64) error {
	time.Sleep(s.d)
	return s.LogStore.DeleteRange(lo, hi)
}

// IsMonotonic is the store's own answer: a slow store is still monotonic.
func (s slowLog) IsMonotonic() bool {
	m, ok := s.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

type slowStable struct {
	raft.StableStore
	d time.Duration
}

func (s slowStable) Set(k, v []byte) error { time.Sleep(s.d); return s.StableStore.Set(k, v) }
func (s slowStable) Get(k []byte) ([]byte, error) {
	time.Sleep(s.d)
	return s.StableStore.Get(k)
}
func (s slowStable) SetUint64(k []byte, v uint64) error {
	time.Sleep(s.d)
	return s.StableStore.SetUint64(k, v)
}
func (s slowStable) GetUint64(k []byte) (uint64, error) {
	time.Sleep(s.d)
	return s.StableStore.GetUint64(k)
}

type slowSnapshots struct {
	raft.SnapshotStore
	d time.Duration
}

func (s slowSnapshots) Create(v raft.SnapshotVersion, index, term uint64, c raft.Configuration, ci uint64,
	t raft.Transport) (raft.SnapshotSink, error) {
	time.Sleep(s.d)
	sink, err := s.SnapshotStore.Create(v, index, term, c, ci, t)
	if err != nil {
		return nil, err
	}
	return slowSink{sink, s.d}, nil
}

func (s slowSnapshots) List() ([]*raft.SnapshotMeta, error) {
	time.Sleep(s.d)
	return s.SnapshotStore.List()
}

func (s slowSnapshots) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	time.Sleep(s.d)
	meta, rc, err := s.SnapshotStore.Open(id)
	if err != nil {
		return nil, nil, err
	}
	return meta, slowReader{rc, s.d}, nil
}

type slowSink struct {
	raft.SnapshotSink
	d time.Duration
}

func (s slowSink) Write(p []byte) (int, error) { time.Sleep(s.d); return s.SnapshotSink.Write(p) }
func (s slowSink) Close() error                { time.Sleep(s.d); return s.SnapshotSink.Close() }

type slowReader struct {
	io.ReadCloser
	d time.Duration
}

func (r slowReader) Read(p []byte) (int, error) { time.Sleep(r.d); return r.ReadCloser.Read(p) }
