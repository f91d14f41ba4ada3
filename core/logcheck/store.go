// Package logcheck owns the checksum every Raft log entry carries in its
// log store. Store decorates any raft.LogStore: on the way in it appends
// a CRC-32C of the entry to the entry's Extensions, on the way out it
// checks and removes it, so an entry a plugin's damaged files return is
// an error wrapping ErrCorrupt, never a different entry.
//
// The log plugins cannot be trusted to check for themselves: raft-wal
// checks its checksums only when it recovers the tail of its last
// segment, not when it reads a sealed one.
//
// The stored Extensions are the entry's own, then the trailer:
//
//	crc   4 bytes, little endian: CRC-32C (Castagnoli) of index (8 bytes
//	      big endian), term (8), type (1), len(data) (8), data, and the
//	      entry's own extensions
//	tag   2 bytes: 0x53 0x01
//
// AppendedAt is left out: it is informational, and not every plugin keeps
// it. An entry stored with empty Extensions has no trailer: such entries
// were written before checksums (Strata sets no Extensions of its own)
// and are returned unchecked.
package logcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/hashicorp/raft"
)

var (
	_ raft.LogStore          = (*Store)(nil)
	_ raft.MonotonicLogStore = (*Store)(nil)
)

// ErrCorrupt is wrapped by the error of a read that returned an entry
// whose checksum does not match, or another entry than the one asked for.
var ErrCorrupt = errors.New("raft log entry corrupt")

const trailerLen = 6

var (
	tag    = [2]byte{0x53, 0x01}
	crcTab = crc32.MakeTable(crc32.Castagnoli)
)

// Store is a raft.LogStore that checksums the entries of another.
type Store struct {
	logs  raft.LogStore
	group string
	// OnCorrupt, if set, is called with every corrupt-entry error before
	// it is returned.
	OnCorrupt func(error)
}

// New returns a Store over logs, the log store of group (named in errors).
func New(logs raft.LogStore, group string) *Store {
	return &Store{logs: logs, group: group}
}

// FirstIndex implements raft.LogStore.
func (s *Store) FirstIndex() (uint64, error) { return s.logs.FirstIndex() }

// LastIndex implements raft.LogStore.
func (s *Store) LastIndex() (uint64, error) { return s.logs.LastIndex() }

// GetLog implements raft.LogStore; a corrupt entry is an ErrCorrupt error.
func (s *Store) GetLog(index uint64, l *raft.Log) error {
	if err := s.logs.GetLog(index, l); err != nil {
		return err
	}
	if err := s.open(index, l); err != nil {
		if s.OnCorrupt != nil {
			s.OnCorrupt(err)
		}
		return err
	}
	return nil
}

// StoreLog implements raft.LogStore.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs implements raft.LogStore. The entries raft passes are not
// changed: raft keeps them (in its log cache, for replication).
func (s *Store) StoreLogs(logs []*raft.Log) error {
	sealed := make([]raft.Log, len(logs))
	ptrs := make([]*raft.Log, len(logs))
	for i, l := range logs {
		sealed[i] = *l
		sealed[i].Extensions = seal(l)
		ptrs[i] = &sealed[i]
	}
	return s.logs.StoreLogs(ptrs)
}

// DeleteRange implements raft.LogStore.
func (s *Store) DeleteRange(min, max uint64) error { return s.logs.DeleteRange(min, max) }

// IsMonotonic implements raft.MonotonicLogStore as the store underneath.
func (s *Store) IsMonotonic() bool {
	m, ok := s.logs.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// seal returns l's extensions followed by the trailer.
func seal(l *raft.Log) []byte {
	ext := make([]byte, 0, len(l.Extensions)+trailerLen)
	ext = append(ext, l.Extensions...)
	ext = binary.LittleEndian.AppendUint32(ext, sum(l, l.Extensions))
	return append(ext, tag[:]...)
}

// open checks the entry read for index and removes its trailer.
func (s *Store) open(index uint64, l *raft.Log) error {
	if l.Index != index {
		return s.corrupt(index, fmt.Sprintf("the store returned entry %d", l.Index))
	}
	if len(l.Extensions) == 0 {
		return nil // written before checksums
	}
	n := len(l.Extensions) - trailerLen
	if n < 0 || [2]byte(l.Extensions[n+4:]) != tag {
		return s.corrupt(index, "no checksum trailer")
	}
	ext := l.Extensions[:n]
	if want, got := binary.LittleEndian.Uint32(l.Extensions[n:]), sum(l, ext); got != want {
		return s.corrupt(index, fmt.Sprintf("checksum %08x, stored %08x", got, want))
	}
	l.Extensions = ext
	if len(ext) == 0 {
		l.Extensions = nil
	}
	return nil
}

func (s *Store) corrupt(index uint64, what string) error {
	return fmt.Errorf("%w: group %s index %d: %s", ErrCorrupt, s.group, index, what)
}

// sum is the CRC-32C of l with ext as its extensions.
func sum(l *raft.Log, ext []byte) uint32 {
	var h [25]byte
	binary.BigEndian.PutUint64(h[0:], l.Index)
	binary.BigEndian.PutUint64(h[8:], l.Term)
	h[16] = byte(l.Type)
	binary.BigEndian.PutUint64(h[17:], uint64(len(l.Data)))
	c := crc32.Update(0, crcTab, h[:])
	c = crc32.Update(c, crcTab, l.Data)
	return crc32.Update(c, crcTab, ext)
}
