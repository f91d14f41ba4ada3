package badger

import (
	"encoding/binary"
)

// Key layout. Every group shares the one DB; a group's keys sit under a
// prefix that holds the group name with its length in front, so no group's
// prefix is a prefix of another's ("a" and "ab" stay apart):
//
//	b <uvarint len(group)> <group> <8-byte big-endian index>   raft log batch (batch.go) from index
//	s <uvarint len(group)> <group> <key>                       stable key
//	l <uvarint len(group)> <group> <8-byte big-endian index>   raft log entry, before batches (migrate.go)
//
// Big-endian indexes sort numerically, so a group's batches iterate in
// index order.
const (
	kindBatch  byte = 'b'
	kindStable byte = 's'
	kindLog    byte = 'l'

	indexLen = 8
)

// groupPrefix returns kind, the length of group and group.
func groupPrefix(kind byte, group string, extra int) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(group)+extra)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(group)))
	return append(b, group...)
}

// logKey appends the key of index to a group's log prefix, in a new slice.
func logKey(prefix []byte, index uint64) []byte {
	k := make([]byte, len(prefix)+indexLen)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], index)
	return k
}

// appendLogKey appends the key of index under prefix to dst.
func appendLogKey(dst, prefix []byte, index uint64) []byte {
	dst = append(dst, prefix...)
	return binary.BigEndian.AppendUint64(dst, index)
}

// keyIndex reads the log index at the end of a log key.
func keyIndex(key []byte) uint64 {
	return binary.BigEndian.Uint64(key[len(key)-indexLen:])
}

// stableKey returns the key of a stable key under a group's stable prefix.
func stableKey(prefix, key []byte) []byte {
	k := make([]byte, 0, len(prefix)+len(key))
	k = append(k, prefix...)
	return append(k, key...)
}
