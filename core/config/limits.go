package config

import "fmt"

// Limits is the `limits {}` block: what one publish may carry to this
// node. A key unset (or 0) keeps the client API's default (api.Limits:
// NATS's 1 MiB payload, 1024-byte subjects, 64 KiB of headers).
type Limits struct {
	// MaxPayload bounds a message's data, in bytes.
	MaxPayload int `hcl:"max_payload,optional"`
	// MaxSubjectLength bounds a subject, in bytes.
	MaxSubjectLength int `hcl:"max_subject_length,optional"`
	// MaxHeaderBytes bounds a message's headers (keys and values).
	MaxHeaderBytes int `hcl:"max_header_bytes,optional"`
}

// The ceilings of the limits block's keys. max_payload stays well under
// the 64 MiB a client receives in one message.
const (
	MaxMaxPayload       = 32 << 20
	MaxMaxSubjectLength = 1 << 16
	MaxMaxHeaderBytes   = 1 << 24
)

func (c *Config) validateLimits() error {
	l := c.Limits
	if l == nil {
		return nil
	}
	for _, k := range []struct {
		key      string
		v, limit int
	}{
		{"max_payload", l.MaxPayload, MaxMaxPayload},
		{"max_subject_length", l.MaxSubjectLength, MaxMaxSubjectLength},
		{"max_header_bytes", l.MaxHeaderBytes, MaxMaxHeaderBytes},
	} {
		if k.v < 0 || k.v > k.limit {
			return fmt.Errorf("limits.%s: must be 1 to %d bytes (0: the default), got %d", k.key, k.limit, k.v)
		}
	}
	return nil
}
