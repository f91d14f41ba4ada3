package badger

import (
	"encoding/binary"
	"fmt"
)

// A batch is the value of one log key: entries with consecutive indexes
// stored together, so that a StoreLogs of many small entries costs Badger
// one key rather than one per entry (its costs are mostly per key: a
// skiplist node, a WAL record, a table index entry, and a tombstone when
// raft compacts the log). The key holds the first index.
//
//	version  byte (2)
//	count    uvarint
//	ends     count × uint32 little-endian: where each entry ends in entries
//	entries  count entries in the log entry encoding (codec.go), back to back
const (
	batchVersion byte = 2

	// maxBatchEntries bounds the entries of one batch, so a read of one
	// entry never scans a huge table of ends.
	maxBatchEntries = 1024
)

// batchLen bounds the size of a batch of n entries whose encodings take
// at most entryBytes together.
func batchLen(n, entryBytes int) int {
	return 1 + binary.MaxVarintLen64 + 4*n + entryBytes
}

// appendBatch appends a batch of n entries to dst; add appends the
// encoding of entry i to its argument.
func appendBatch(dst []byte, n int, add func(dst []byte, i int) []byte) []byte {
	dst = append(dst, batchVersion)
	dst = binary.AppendUvarint(dst, uint64(n))
	table := len(dst)
	dst = append(dst, make([]byte, 4*n)...)
	start := len(dst)
	for i := range n {
		dst = add(dst, i)
		binary.LittleEndian.PutUint32(dst[table+4*i:], uint32(len(dst)-start))
	}
	return dst
}

// batch is a parsed batch value; it aliases the value.
type batch struct {
	count   int
	ends    []byte
	entries []byte
}

// parseBatch reads the header of a batch value.
func parseBatch(v []byte) (batch, error) {
	if len(v) < 2 || v[0] != batchVersion {
		return batch{}, fmt.Errorf("log batch: %w: bad header", errCorrupt)
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 || n == 0 || n > uint64(len(v))/4 {
		return batch{}, fmt.Errorf("log batch: %w: bad count", errCorrupt)
	}
	ends := v[1+k:]
	if uint64(len(ends)) < 4*n {
		return batch{}, fmt.Errorf("log batch: %w: %d entries in %d bytes", errCorrupt, n, len(v))
	}
	b := batch{count: int(n), ends: ends[:4*n], entries: ends[4*n:]}
	if int(b.end(b.count-1)) != len(b.entries) {
		return batch{}, fmt.Errorf("log batch: %w: entries end at %d of %d bytes", errCorrupt, b.end(b.count-1), len(b.entries))
	}
	return b, nil
}

func (b batch) end(i int) uint32 { return binary.LittleEndian.Uint32(b.ends[4*i:]) }

// entry returns the encoding of the i-th entry, aliasing the value.
func (b batch) entry(i int) ([]byte, error) {
	if i < 0 || i >= b.count {
		return nil, fmt.Errorf("log batch: %w: entry %d of %d", errCorrupt, i, b.count)
	}
	var start uint32
	if i > 0 {
		start = b.end(i - 1)
	}
	end := b.end(i)
	if start > end || end > uint32(len(b.entries)) {
		return nil, fmt.Errorf("log batch: %w: entry %d spans [%d, %d) of %d bytes", errCorrupt, i, start, end, len(b.entries))
	}
	return b.entries[start:end:end], nil
}

// all returns the encodings of every entry, aliasing the value.
func (b batch) all() ([][]byte, error) {
	entries := make([][]byte, b.count)
	for i := range entries {
		var err error
		if entries[i], err = b.entry(i); err != nil {
			return nil, err
		}
	}
	return entries, nil
}
