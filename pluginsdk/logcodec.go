package pluginsdk

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/internal/wire"
)

// The encoding of the logs of a StoreLogs request and a GetLogs response:
//
//	count        uvarint
//	then count times:
//	  index      uvarint
//	  term       uvarint
//	  type       byte (raft.LogType)
//	  appended   varint Unix nanoseconds, 0 for the zero time
//	  data       uvarint length, bytes
//	  extensions uvarint length, bytes

// errBadLogs is returned for logs that do not decode.
var errBadLogs = errors.New("malformed logs")

// logsLen bounds the encoding of logs.
func logsLen(logs []*raft.Log) int {
	n := binary.MaxVarintLen64
	for _, l := range logs {
		n += logLen(l)
	}
	return n
}

func logLen(l *raft.Log) int {
	return 1 + 5*binary.MaxVarintLen64 + len(l.Data) + len(l.Extensions)
}

// appendLogs appends the encoding of logs to dst.
func appendLogs(dst []byte, logs []*raft.Log) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(logs)))
	for _, l := range logs {
		dst = appendLogEntry(dst, l)
	}
	return dst
}

func appendLogEntry(dst []byte, l *raft.Log) []byte {
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	dst = append(dst, byte(l.Type))
	var ns int64
	if !l.AppendedAt.IsZero() {
		ns = l.AppendedAt.UnixNano()
	}
	dst = binary.AppendVarint(dst, ns)
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	return append(dst, l.Extensions...)
}

// decodeLogs decodes logs encoded by appendLogs. Their Data and
// Extensions alias b.
func decodeLogs(b []byte) ([]raft.Log, error) {
	r := wire.NewReader(b, errBadLogs)
	n := r.Uvarint()
	// Every log takes at least 6 bytes: refuse a count b cannot hold
	// before allocating for it.
	if r.Err() != nil || n > uint64(r.Len())/6 {
		return nil, errBadLogs
	}
	logs := make([]raft.Log, n)
	for i := range logs {
		l := &logs[i]
		l.Index, l.Term = r.Uvarint(), r.Uvarint()
		l.Type = raft.LogType(r.Byte())
		if ns := r.Varint(); ns != 0 {
			l.AppendedAt = time.Unix(0, ns)
		}
		l.Data, l.Extensions = r.Field(), r.Field()
	}
	if r.Err() != nil || r.Len() > 0 {
		return nil, errBadLogs
	}
	return logs, nil
}

// maxPooledBuffer bounds the encoding buffers kept for reuse, so one huge
// StoreLogs does not stay pinned.
const maxPooledBuffer = 4 << 20

var bufferPool = sync.Pool{New: func() any { return new([]byte) }}

// getBuffer returns an empty buffer of at least size bytes' capacity.
func getBuffer(size int) *[]byte {
	b := bufferPool.Get().(*[]byte)
	if cap(*b) < size {
		*b = make([]byte, 0, size)
	}
	return b
}

// putBuffer returns b for reuse; nothing may refer to it any more.
func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		bufferPool.Put(b)
	}
}
