package config

import "fmt"

// Limits is the `limits {}` block: what one publish may carry to this
// node. Unset keys keep the defaults (NATS's 1 MiB payload).
type Limits struct {
	// MaxPayload bounds a message's data, in bytes.
	MaxPayload int `hcl:"max_payload,optional"`
	// MaxSubjectLength bounds a subject, in bytes.
	MaxSubjectLength int `hcl:"max_subject_length,optional"`
	// MaxHeaderBytes bounds a message's headers (keys and values).
	MaxHeaderBytes int `hcl:"max_header_bytes,optional"`
}

// Defaults of the limits block, and the ceiling of max_payload (a
// client port message carries one publish, framed, under 64 MiB).
const (
	DefaultMaxPayload       = 1 << 20
	DefaultMaxSubjectLength = 1024
	DefaultMaxHeaderBytes   = 64 << 10
	MaxMaxPayload           = 32 << 20
)

func defaultLimits() *Limits {
	return &Limits{MaxPayload: DefaultMaxPayload, MaxSubjectLength: DefaultMaxSubjectLength, MaxHeaderBytes: DefaultMaxHeaderBytes}
}

// APILimits returns the limits as the client API takes them; zero (its
// defaults) for a config without them.
func (c *Config) APILimits() (maxPayload, maxSubject, maxHeaders int) {
	if c.Limits == nil {
		return 0, 0, 0
	}
	return c.Limits.MaxPayload, c.Limits.MaxSubjectLength, c.Limits.MaxHeaderBytes
}

func mergeLimits(dst, src *Limits) {
	for _, f := range []struct{ d, s *int }{
		{&dst.MaxPayload, &src.MaxPayload}, {&dst.MaxSubjectLength, &src.MaxSubjectLength},
		{&dst.MaxHeaderBytes, &src.MaxHeaderBytes},
	} {
		if *f.s != 0 {
			*f.d = *f.s
		}
	}
}

func (c *Config) validateLimits() error {
	l := c.Limits
	if l == nil {
		return nil // the API's defaults apply
	}
	for _, k := range []struct {
		key      string
		v, limit int
	}{
		{"max_payload", l.MaxPayload, MaxMaxPayload},
		{"max_subject_length", l.MaxSubjectLength, 1 << 16},
		{"max_header_bytes", l.MaxHeaderBytes, 1 << 24},
	} {
		if k.v < 1 || k.v > k.limit {
			return fmt.Errorf("limits.%s: must be 1 to %d bytes, got %d", k.key, k.limit, k.v)
		}
	}
	return nil
}
