package stream

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratadb/strata/core/subject"
)

// Storage says where a stream's messages live on each replica.
type Storage string

// Discard says what a full stream does with a new message.
type Discard string

// Retention says when a stream removes a message besides its limits.
type Retention string

const (
	// FileStorage keeps messages in the node's message database on disk.
	FileStorage Storage = "file"
	// MemoryStorage keeps messages in memory; they survive restart through
	// the Raft log and snapshots.
	MemoryStorage Storage = "memory"

	// DiscardOld removes the oldest messages to make room.
	DiscardOld Discard = "old"
	// DiscardNew refuses the new message.
	DiscardNew Discard = "new"

	// LimitsRetention keeps messages until the limits remove them.
	LimitsRetention Retention = "limits"
	// WorkQueueRetention removes messages once the consumer that takes
	// them has acked them; the filters of its consumers may not overlap.
	WorkQueueRetention Retention = "workqueue"
	// InterestRetention removes messages once every consumer that takes
	// them has acked them (with no consumers, at once).
	InterestRetention Retention = "interest"

	// DefaultDupeWindow is how long message ids are remembered by default.
	DefaultDupeWindow = 2 * time.Minute
	// DefaultMaxMsgSize bounds one message when the config does not.
	DefaultMaxMsgSize = 1 << 20
	// maxNameLen bounds a stream name.
	maxNameLen = 64
)

// ErrBadConfig is wrapped by every Validate error.
var ErrBadConfig = errors.New("invalid stream config")

// Config is a stream's configuration, as the meta group records it.
type Config struct {
	Name       string        `json:"name"`
	Subjects   []string      `json:"subjects"`
	Replicas   int           `json:"replicas"`
	Storage    Storage       `json:"storage"`
	MaxMsgs    int64         `json:"max_msgs,omitempty"`
	MaxBytes   int64         `json:"max_bytes,omitempty"`
	MaxAge     time.Duration `json:"max_age,omitempty"`
	MaxMsgSize int32         `json:"max_msg_size,omitempty"`
	Discard    Discard       `json:"discard"`
	DupeWindow time.Duration `json:"dupe_window"`
	Tags       []string      `json:"tags,omitempty"`
	Retention  Retention     `json:"retention,omitempty"`
}

// DefaultConfig returns a config with every default filled in; Name and
// Subjects are the caller's.
func DefaultConfig() Config {
	return Config{Replicas: 1, Storage: FileStorage, Discard: DiscardOld, DupeWindow: DefaultDupeWindow,
		Retention: LimitsRetention}
}

// Finish fills in defaults for the fields left zero, and treats -1 limits
// (JetStream's "unlimited") as 0.
func (c *Config) Finish() {
	d := DefaultConfig()
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.Storage == "" {
		c.Storage = d.Storage
	}
	if c.Discard == "" {
		c.Discard = d.Discard
	}
	if c.Retention == "" {
		c.Retention = d.Retention
	}
	if c.DupeWindow == 0 {
		c.DupeWindow = d.DupeWindow
	}
	for _, l := range []*int64{&c.MaxMsgs, &c.MaxBytes} {
		if *l == -1 {
			*l = 0
		}
	}
	if c.MaxMsgSize == -1 {
		c.MaxMsgSize = 0
	}
	if c.MaxAge > 0 && c.DupeWindow > c.MaxAge {
		c.DupeWindow = c.MaxAge
	}
}

// Validate checks a finished config. Replica counts are the placement's
// to check: they depend on the cluster.
func (c Config) Validate() error {
	if err := ValidStoredName(c.Name); err != nil {
		return err
	}
	if len(c.Subjects) == 0 {
		return fmt.Errorf("%w: stream %s needs at least one subject", ErrBadConfig, c.Name)
	}
	for i, s := range c.Subjects {
		if err := subject.ValidFilter(s); err != nil {
			return fmt.Errorf("%w: subjects: %w", ErrBadConfig, err)
		}
		for _, o := range c.Subjects[:i] {
			if subject.Overlap(s, o) {
				return fmt.Errorf("%w: subjects %q and %q overlap", ErrBadConfig, o, s)
			}
		}
	}
	return c.validateLimits()
}

func (c Config) validateLimits() error {
	switch {
	case c.Storage != FileStorage && c.Storage != MemoryStorage:
		return fmt.Errorf("%w: storage %q: want file or memory", ErrBadConfig, c.Storage)
	case c.Retention != LimitsRetention && c.Retention != WorkQueueRetention && c.Retention != InterestRetention:
		return fmt.Errorf("%w: retention %q: want limits, workqueue or interest", ErrBadConfig, c.Retention)
	case c.Discard != DiscardOld && c.Discard != DiscardNew:
		return fmt.Errorf("%w: discard %q: want old or new", ErrBadConfig, c.Discard)
	case c.MaxMsgs < 0:
		return fmt.Errorf("%w: max_msgs %d: want 0 or more (-1 for unlimited)", ErrBadConfig, c.MaxMsgs)
	case c.MaxBytes < 0:
		return fmt.Errorf("%w: max_bytes %d: want 0 or more (-1 for unlimited)", ErrBadConfig, c.MaxBytes)
	case c.MaxAge < 0:
		return fmt.Errorf("%w: max_age %s: want 0 (unlimited) or more", ErrBadConfig, c.MaxAge)
	case c.MaxMsgSize < 0:
		return fmt.Errorf("%w: max_msg_size %d: want 0 or more", ErrBadConfig, c.MaxMsgSize)
	case c.DupeWindow < 0:
		return fmt.Errorf("%w: dupe_window %s: want more than 0", ErrBadConfig, c.DupeWindow)
	}
	return nil
}

// ValidName checks a stream name: 1 to 64 characters, none of them
// whitespace, '.', '*', '>', '/' or '\\' (names appear in subjects and paths).
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: a stream needs a name", ErrBadConfig)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: stream name %q is longer than %d characters", ErrBadConfig, name, maxNameLen)
	case strings.ContainsAny(name, " \t\r\n.*>/\\"):
		return fmt.Errorf("%w: stream name %q may not contain whitespace, '.', '*', '>', '/' or '\\'", ErrBadConfig, name)
	}
	return nil
}

// maxMsgSize is the largest message the stream takes.
func (c Config) maxMsgSize() uint64 {
	if c.MaxMsgSize > 0 {
		return uint64(c.MaxMsgSize)
	}
	return DefaultMaxMsgSize
}

// CheckUpdate reports whether next may replace c: name, storage and
// subjects' ownership stay the stream's to decide elsewhere; storage
// cannot change.
func (c Config) CheckUpdate(next Config) error {
	if next.Name != c.Name {
		return fmt.Errorf("%w: stream name cannot change", ErrBadConfig)
	}
	if next.Storage != c.Storage {
		return fmt.Errorf("%w: storage cannot change (%s to %s)", ErrBadConfig, c.Storage, next.Storage)
	}
	if c.retention() != next.retention() {
		return fmt.Errorf("%w: retention cannot change (%s to %s)", ErrBadConfig, c.retention(), next.retention())
	}
	return nil
}

// retention is the stream's retention; streams recorded before retention
// existed keep their messages by limits.
func (c Config) retention() Retention {
	if c.Retention == "" {
		return LimitsRetention
	}
	return c.Retention
}
