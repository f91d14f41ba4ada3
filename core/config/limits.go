package config

import "fmt"

// Limits is the `limits {}` block: what one publish may carry to this
// node, and what clients may hold open on its client port. A key unset
// (or 0) keeps the client API's default (api.Limits: NATS's 1 MiB
// payload, 1024-byte subjects, 64 KiB of headers, 65,536 connections,
// 1,024 fetches in flight per connection).
type Limits struct {
	// MaxPayload bounds a message's data, in bytes.
	MaxPayload int `hcl:"max_payload,optional"`
	// MaxSubjectLength bounds a subject, in bytes.
	MaxSubjectLength int `hcl:"max_subject_length,optional"`
	// MaxHeaderBytes bounds a message's headers (keys and values).
	MaxHeaderBytes int `hcl:"max_header_bytes,optional"`
	// MaxConnections bounds the client connections the node serves.
	MaxConnections int `hcl:"max_connections,optional"`
	// MaxFetchesPerConnection bounds the consumer fetches in flight on
	// one client connection.
	MaxFetchesPerConnection int `hcl:"max_fetches_per_connection,optional"`
}

// The ceilings of the limits block's keys. max_payload stays well under
// the 64 MiB a client receives in one message.
const (
	MaxMaxPayload       = 32 << 20
	MaxMaxSubjectLength = 1 << 16
	MaxMaxHeaderBytes   = 1 << 24
	MaxMaxConnections   = 1 << 20
	MaxMaxFetches       = 1 << 20
)

func (c *Config) validateLimits() error {
	l := c.Limits
	if l == nil {
		return nil
	}
	for _, k := range []struct {
		key, unit string
		v, limit  int
	}{
		{"max_payload", "bytes", l.MaxPayload, MaxMaxPayload},
		{"max_subject_length", "bytes", l.MaxSubjectLength, MaxMaxSubjectLength},
		{"max_header_bytes", "bytes", l.MaxHeaderBytes, MaxMaxHeaderBytes},
		{"max_connections", "connections", l.MaxConnections, MaxMaxConnections},
		{"max_fetches_per_connection", "fetches", l.MaxFetchesPerConnection, MaxMaxFetches},
	} {
		if k.v < 0 || k.v > k.limit {
			return fmt.Errorf("limits.%s: must be 1 to %d %s (0: the default), got %d", k.key, k.limit, k.unit, k.v)
		}
	}
	return nil
}
