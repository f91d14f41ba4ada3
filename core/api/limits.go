package api

import (
	"fmt"

	"github.com/stratadb/strata/client/pb"
)

// Limits bound what one publish may carry to a node (a publish beyond
// one is refused with ErrLimit before it is routed or stored) and what
// clients may hold open on it (refused with ErrResourceLimit).
type Limits struct {
	// MaxPayload bounds a message's data, in bytes.
	MaxPayload int
	// MaxSubject bounds a subject's length, in bytes.
	MaxSubject int
	// MaxHeaders bounds a message's headers (keys and values), in bytes.
	MaxHeaders int
	// MaxConns bounds the client connections a node serves; a call on a
	// connection beyond it is refused.
	MaxConns int
	// MaxFetches bounds the fetches in flight on one client connection.
	MaxFetches int
}

// Default limits: NATS's 1 MiB payload and 64K connections; subjects,
// headers and fetches generous for any real use and small beside the
// payload and a node's memory.
const (
	DefaultMaxPayload = 1 << 20
	DefaultMaxSubject = 1024
	DefaultMaxHeaders = 64 << 10
	DefaultMaxConns   = 64 << 10
	DefaultMaxFetches = 1024
)

// DefaultLimits returns the limits of a node whose config sets none.
func DefaultLimits() Limits {
	return Limits{MaxPayload: DefaultMaxPayload, MaxSubject: DefaultMaxSubject, MaxHeaders: DefaultMaxHeaders,
		MaxConns: DefaultMaxConns, MaxFetches: DefaultMaxFetches}
}

// orDefault fills the unset (zero) limits with the defaults.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxPayload == 0 {
		l.MaxPayload = d.MaxPayload
	}
	if l.MaxSubject == 0 {
		l.MaxSubject = d.MaxSubject
	}
	if l.MaxHeaders == 0 {
		l.MaxHeaders = d.MaxHeaders
	}
	if l.MaxConns == 0 {
		l.MaxConns = d.MaxConns
	}
	if l.MaxFetches == 0 {
		l.MaxFetches = d.MaxFetches
	}
	return l
}

// recvLimit is the largest gRPC message the client port accepts: a
// publish at every limit, or a restore batch, with room for framing.
func (l Limits) recvLimit() int {
	return max(4<<20, l.MaxPayload+l.MaxHeaders+l.MaxSubject+64<<10)
}

// check returns ErrLimit naming the limit req exceeds, or nil.
func (l Limits) check(req *pb.PubRequest) error {
	if n := len(req.GetSubject()); n > l.MaxSubject {
		return fmt.Errorf("%w: subject of %d bytes, max_subject_length is %d", ErrLimit, n, l.MaxSubject)
	}
	if n := len(req.GetData()); n > l.MaxPayload {
		return fmt.Errorf("%w: payload of %d bytes, max_payload is %d", ErrLimit, n, l.MaxPayload)
	}
	n := 0
	for _, h := range req.GetHeaders() {
		n += len(h.GetKey()) + len(h.GetValue())
	}
	if n > l.MaxHeaders {
		return fmt.Errorf("%w: headers of %d bytes, max_header_bytes is %d", ErrLimit, n, l.MaxHeaders)
	}
	return nil
}
