package stream

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// Reader is what a digest reads: a store, or an FSM.
type Reader interface {
	State() State
	Get(seq uint64) (Message, error)
}

// Digest is a SHA-256 over every message of a replica, in sequence
// order, through LastSeq. Two replicas with the same LastSeq serve the
// same history exactly when their digests are equal.
type Digest struct {
	LastSeq uint64 `json:"last_seq"`
	Sum     string `json:"sum"`
}

// DigestOf reads every message r holds and returns their digest. The
// messages are those of r's state when it starts; one removed by limits
// while it reads is skipped.
func DigestOf(r Reader) (Digest, error) {
	st := r.State()
	h := sha256.New()
	for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
		m, err := r.Get(seq)
		if errors.Is(err, ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return Digest{}, fmt.Errorf("digest: read %d: %w", seq, err)
		}
		hashMessage(h, m)
	}
	return Digest{LastSeq: st.LastSeq, Sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// hashMessage writes every field of m, each string length-prefixed.
func hashMessage(h hash.Hash, m Message) {
	var b [8]byte
	num := func(v uint64) { binary.BigEndian.PutUint64(b[:], v); h.Write(b[:]) }
	str := func(s string) { num(uint64(len(s))); h.Write([]byte(s)) }
	num(m.Seq)
	num(uint64(m.Time))
	str(m.Subject)
	str(m.MsgID)
	num(uint64(len(m.Header)))
	for _, hd := range m.Header {
		str(hd.Key)
		str(hd.Value)
	}
	num(uint64(len(m.Data)))
	h.Write(m.Data)
}
