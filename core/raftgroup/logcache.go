package raftgroup

import (
	"sync"

	"github.com/hashicorp/raft"
)

// logOverhead is what a cached log costs beyond its data, for the byte
// bound.
const logOverhead = 64

var (
	_ raft.LogStore          = (*LogCache)(nil)
	_ raft.MonotonicLogStore = (*LogCache)(nil)
)

// LogCache keeps the most recent logs stored through it in memory, so raft
// reads them back (to replicate and to apply) without asking the store.
// Unlike raft.LogCache it is bounded by bytes as well as by count: a group
// whose entries are large batches keeps fewer of them.
type LogCache struct {
	store    raft.LogStore
	maxBytes int

	mu     sync.RWMutex
	ring   []*raft.Log // logs lo..hi, at index % len(ring)
	lo, hi uint64      // cached range; hi == 0: empty
	bytes  int
}

// NewLogCache wraps store with a cache of at most maxLogs logs and
// maxBytes bytes of log data.
func NewLogCache(store raft.LogStore, maxLogs, maxBytes int) *LogCache {
	return &LogCache{store: store, maxBytes: maxBytes, ring: make([]*raft.Log, maxLogs)}
}

// GetLog implements raft.LogStore.
func (c *LogCache) GetLog(idx uint64, log *raft.Log) error {
	c.mu.RLock()
	if c.hi != 0 && idx >= c.lo && idx <= c.hi {
		*log = *c.ring[idx%uint64(len(c.ring))]
		c.mu.RUnlock()
		return nil
	}
	c.mu.RUnlock()
	return c.store.GetLog(idx, log)
}

// StoreLog implements raft.LogStore.
func (c *LogCache) StoreLog(log *raft.Log) error { return c.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore; logs are cached once stored.
func (c *LogCache) StoreLogs(logs []*raft.Log) error {
	if err := c.store.StoreLogs(logs); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range logs {
		c.add(l)
	}
	return nil
}

// add appends l, evicting the oldest logs to stay within both bounds. A
// log that does not follow the cached range restarts the cache.
func (c *LogCache) add(l *raft.Log) {
	if c.hi != 0 && l.Index != c.hi+1 {
		c.reset()
	}
	size := len(l.Data) + len(l.Extensions) + logOverhead
	for c.hi != 0 && (c.hi-c.lo+1 >= uint64(len(c.ring)) || c.bytes+size > c.maxBytes) {
		c.evictOldest()
	}
	if size > c.maxBytes {
		return // larger than the whole cache: the store serves it
	}
	c.ring[l.Index%uint64(len(c.ring))] = l
	c.bytes += size
	if c.hi == 0 {
		c.lo = l.Index
	}
	c.hi = l.Index
}

func (c *LogCache) evictOldest() {
	if c.evict(c.lo) {
		c.lo++
	}
}

func (c *LogCache) evictNewest() {
	if c.evict(c.hi) {
		c.hi--
	}
}

// evict removes the cached log at idx, the oldest or the newest, and says
// whether any remain (the caller then moves its end of the range).
func (c *LogCache) evict(idx uint64) bool {
	slot := idx % uint64(len(c.ring))
	old := c.ring[slot]
	c.bytes -= len(old.Data) + len(old.Extensions) + logOverhead
	c.ring[slot] = nil
	if c.lo == c.hi {
		c.lo, c.hi = 0, 0
		return false
	}
	return true
}

func (c *LogCache) reset() {
	clear(c.ring)
	c.lo, c.hi, c.bytes = 0, 0, 0
}

// FirstIndex implements raft.LogStore.
func (c *LogCache) FirstIndex() (uint64, error) { return c.store.FirstIndex() }

// LastIndex implements raft.LogStore.
func (c *LogCache) LastIndex() (uint64, error) { return c.store.LastIndex() }

// DeleteRange implements raft.LogStore. The logs deleted leave the cache
// first; unlike raft's LogCache, which empties itself, it keeps the rest
// when the range cuts its front (raft's compaction after a snapshot) or
// its back (a conflicting suffix), so replication and applying go on
// from memory.
func (c *LogCache) DeleteRange(min, max uint64) error {
	c.mu.Lock()
	c.drop(min, max)
	c.mu.Unlock()
	return c.store.DeleteRange(min, max)
}

// drop removes [min, max] from the cache; a hole in the middle of the
// cached range empties it.
func (c *LogCache) drop(min, max uint64) {
	switch {
	case c.hi == 0 || max < c.lo || min > c.hi:
	case min <= c.lo && max >= c.hi:
		c.reset()
	case min <= c.lo:
		for c.hi != 0 && c.lo <= max {
			c.evictOldest()
		}
	case max >= c.hi:
		for c.hi != 0 && c.hi >= min {
			c.evictNewest()
		}
	default:
		c.reset()
	}
}

// IsMonotonic implements raft.MonotonicLogStore by asking the store.
func (c *LogCache) IsMonotonic() bool {
	m, ok := c.store.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}
