package consumer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratadb/strata/core/subject"
)

// AckPolicy says which acknowledgements a consumer expects.
type AckPolicy string

// DeliverPolicy says where a new consumer starts in its stream.
type DeliverPolicy string

const (
	// AckExplicit expects an ack for every message (the default).
	AckExplicit AckPolicy = "explicit"
	// AckAll takes an ack of a message as an ack of every earlier one.
	AckAll AckPolicy = "all"
	// AckNone expects no ack: a message counts as processed once delivered.
	AckNone AckPolicy = "none"

	// DeliverAll starts at the stream's first message (the default).
	DeliverAll DeliverPolicy = "all"
	// DeliverLast starts at the stream's last message.
	DeliverLast DeliverPolicy = "last"
	// DeliverNew starts after the stream's last message.
	DeliverNew DeliverPolicy = "new"
	// DeliverByStartSequence starts at OptStartSeq.
	DeliverByStartSequence DeliverPolicy = "by_start_sequence"
	// DeliverByStartTime starts at the first message at or after OptStartTime.
	DeliverByStartTime DeliverPolicy = "by_start_time"
	// DeliverLastPerSubject starts with the last message of every subject.
	DeliverLastPerSubject DeliverPolicy = "last_per_subject"

	// DefaultAckWait is how long a delivery waits for its ack by default.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxAckPending bounds the deliveries awaiting an ack.
	DefaultMaxAckPending = 1000
	// DefaultMaxWaiting bounds the pull requests waiting at once.
	DefaultMaxWaiting = 512
	// DefaultInactiveThreshold is how long an ephemeral consumer lives
	// without a pull request.
	DefaultInactiveThreshold = 5 * time.Minute
	// maxNameLen bounds a consumer name.
	maxNameLen = 64
)

// Config is a consumer's configuration, as the meta group records it.
type Config struct {
	// Durable names a durable consumer; an ephemeral one is named by the
	// server and has InactiveThreshold set.
	Durable       string        `json:"durable,omitempty"`
	Name          string        `json:"name"`
	Description   string        `json:"description,omitempty"`
	DeliverPolicy DeliverPolicy `json:"deliver_policy"`
	OptStartSeq   uint64        `json:"opt_start_seq,omitempty"`
	// OptStartTime is Unix nanoseconds.
	OptStartTime int64         `json:"opt_start_time,omitempty"`
	AckPolicy    AckPolicy     `json:"ack_policy"`
	AckWait      time.Duration `json:"ack_wait"`
	// MaxDeliver bounds the deliveries of one message; 0 is unlimited.
	MaxDeliver int `json:"max_deliver,omitempty"`
	// Backoff are the ack waits of the first, second, ... delivery; the
	// last repeats. Set, it overrides AckWait.
	Backoff        []time.Duration `json:"backoff,omitempty"`
	MaxAckPending  int             `json:"max_ack_pending"`
	FilterSubjects []string        `json:"filter_subjects,omitempty"`
	MaxWaiting     int             `json:"max_waiting"`
	HeadersOnly    bool            `json:"headers_only,omitempty"`
	Replicas       int             `json:"replicas"`
	// InactiveThreshold, for an ephemeral consumer, is how long it lives
	// without a pull request.
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
}

// DefaultConfig returns a config with every default filled in; the name
// and filters are the caller's, and replicas default to the stream's.
func DefaultConfig() Config {
	return Config{
		DeliverPolicy: DeliverAll, AckPolicy: AckExplicit, AckWait: DefaultAckWait,
		MaxAckPending: DefaultMaxAckPending, MaxWaiting: DefaultMaxWaiting,
	}
}

// Ephemeral reports whether the consumer is removed once inactive.
func (c Config) Ephemeral() bool { return c.Durable == "" }

// Finish fills in defaults for the fields left zero, treats -1 limits
// (JetStream's "unlimited") as 0, and takes the stream's replica count
// when the consumer names none.
func (c *Config) Finish(streamReplicas int) {
	d := DefaultConfig()
	if c.Name == "" {
		c.Name = c.Durable
	}
	if c.DeliverPolicy == "" {
		c.DeliverPolicy = d.DeliverPolicy
	}
	if c.AckPolicy == "" {
		c.AckPolicy = d.AckPolicy
	}
	if c.AckWait == 0 {
		c.AckWait = d.AckWait
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = d.MaxAckPending
	}
	if c.MaxWaiting == 0 {
		c.MaxWaiting = d.MaxWaiting
	}
	if c.MaxDeliver == -1 {
		c.MaxDeliver = 0
	}
	if c.Replicas == 0 {
		c.Replicas = streamReplicas
	}
	if c.Ephemeral() && c.InactiveThreshold == 0 {
		c.InactiveThreshold = DefaultInactiveThreshold
	}
}

// Validate checks a finished config against its stream's subjects and
// replica count.
func (c Config) Validate(streamSubjects []string, streamReplicas int) error {
	if err := ValidName(c.Name); err != nil {
		return err
	}
	if c.Durable != "" && c.Durable != c.Name {
		return fmt.Errorf("%w: durable name %q and name %q differ", ErrBadConfig, c.Durable, c.Name)
	}
	if err := c.validateStart(); err != nil {
		return err
	}
	if err := c.validateAcks(); err != nil {
		return err
	}
	if err := c.validateFilters(streamSubjects); err != nil {
		return err
	}
	switch {
	case c.Replicas < 1:
		return fmt.Errorf("%w: replicas %d: want 1 or more", ErrBadConfig, c.Replicas)
	case c.Replicas > streamReplicas:
		return fmt.Errorf("%w: replicas %d: more than the stream's %d", ErrBadConfig, c.Replicas, streamReplicas)
	case c.MaxWaiting < 1:
		return fmt.Errorf("%w: max_waiting %d: want 1 or more", ErrBadConfig, c.MaxWaiting)
	case c.InactiveThreshold < 0:
		return fmt.Errorf("%w: inactive_threshold %s: want 0 or more", ErrBadConfig, c.InactiveThreshold)
	}
	return nil
}

func (c Config) validateStart() error {
	switch c.DeliverPolicy {
	case DeliverAll, DeliverLast, DeliverNew, DeliverLastPerSubject:
		if c.OptStartSeq != 0 || c.OptStartTime != 0 {
			return fmt.Errorf("%w: deliver policy %s takes no start sequence or time", ErrBadConfig, c.DeliverPolicy)
		}
	case DeliverByStartSequence:
		if c.OptStartSeq == 0 || c.OptStartTime != 0 {
			return fmt.Errorf("%w: deliver policy by_start_sequence needs a start sequence (and no start time)", ErrBadConfig)
		}
	case DeliverByStartTime:
		if c.OptStartTime == 0 || c.OptStartSeq != 0 {
			return fmt.Errorf("%w: deliver policy by_start_time needs a start time (and no start sequence)", ErrBadConfig)
		}
	default:
		return fmt.Errorf("%w: deliver policy %q: want all, last, new, by_start_sequence, by_start_time or last_per_subject", ErrBadConfig, c.DeliverPolicy)
	}
	return nil
}

func (c Config) validateAcks() error {
	switch c.AckPolicy {
	case AckExplicit, AckAll:
	case AckNone:
		if c.MaxDeliver != 0 {
			return fmt.Errorf("%w: max_deliver %d needs acks: ack policy none delivers each message once", ErrBadConfig, c.MaxDeliver)
		}
		if len(c.Backoff) > 0 {
			return fmt.Errorf("%w: backoff needs acks: ack policy none never redelivers", ErrBadConfig)
		}
	default:
		return fmt.Errorf("%w: ack policy %q: want explicit, all or none", ErrBadConfig, c.AckPolicy)
	}
	switch {
	case c.AckWait <= 0:
		return fmt.Errorf("%w: ack_wait %s: want more than 0", ErrBadConfig, c.AckWait)
	case c.MaxDeliver < 0:
		return fmt.Errorf("%w: max_deliver %d: want 0 (unlimited) or more", ErrBadConfig, c.MaxDeliver)
	case c.MaxAckPending < 1:
		return fmt.Errorf("%w: max_ack_pending %d: want 1 or more", ErrBadConfig, c.MaxAckPending)
	case c.MaxDeliver > 0 && len(c.Backoff) > c.MaxDeliver:
		return fmt.Errorf("%w: backoff has %d delays, more than max_deliver %d", ErrBadConfig, len(c.Backoff), c.MaxDeliver)
	}
	for _, d := range c.Backoff {
		if d <= 0 {
			return fmt.Errorf("%w: backoff delay %s: want more than 0", ErrBadConfig, d)
		}
	}
	return nil
}

func (c Config) validateFilters(streamSubjects []string) error {
	for i, f := range c.FilterSubjects {
		if err := subject.ValidFilter(f); err != nil {
			return fmt.Errorf("%w: filter subjects: %w", ErrBadConfig, err)
		}
		if !slices.ContainsFunc(streamSubjects, func(s string) bool { return subject.Within(f, s) }) {
			return fmt.Errorf("%w: filter subject %q is not within the stream's subjects %s", ErrBadConfig, f, strings.Join(streamSubjects, ", "))
		}
		for _, o := range c.FilterSubjects[:i] {
			if subject.Overlap(f, o) {
				return fmt.Errorf("%w: filter subjects %q and %q overlap", ErrBadConfig, o, f)
			}
		}
	}
	return nil
}

// ValidName checks a consumer name: 1 to 64 characters, none of them
// whitespace, '.', '*', '>', '/' or '\\'.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: a durable consumer needs a name", ErrBadConfig)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: consumer name %q is longer than %d characters", ErrBadConfig, name, maxNameLen)
	case strings.ContainsAny(name, " \t\r\n.*>/\\"):
		return fmt.Errorf("%w: consumer name %q may not contain whitespace, '.', '*', '>', '/' or '\\'", ErrBadConfig, name)
	}
	return nil
}

// CheckUpdate reports whether next may replace c: only the description,
// ack wait, max deliver, backoff, max ack pending and max waiting change in
// place.
func (c Config) CheckUpdate(next Config) error {
	fixed := c
	fixed.Description, fixed.AckWait, fixed.MaxDeliver = next.Description, next.AckWait, next.MaxDeliver
	fixed.Backoff, fixed.MaxAckPending, fixed.MaxWaiting = next.Backoff, next.MaxAckPending, next.MaxWaiting
	if diff := fixed.firstDifference(next); diff != "" {
		return fmt.Errorf("%w: %s cannot change on an existing consumer", ErrBadConfig, diff)
	}
	return nil
}

// Equal reports whether two finished configs are the same.
func (c Config) Equal(o Config) bool { return c.firstDifference(o) == "" }

// firstDifference names the first field in which c and o differ, or "".
func (c Config) firstDifference(o Config) string {
	switch {
	case c.Name != o.Name || c.Durable != o.Durable:
		return "name"
	case c.Description != o.Description:
		return "description"
	case c.DeliverPolicy != o.DeliverPolicy || c.OptStartSeq != o.OptStartSeq || c.OptStartTime != o.OptStartTime:
		return "deliver policy"
	case c.AckPolicy != o.AckPolicy:
		return "ack policy"
	case c.AckWait != o.AckWait:
		return "ack wait"
	case c.MaxDeliver != o.MaxDeliver:
		return "max deliver"
	case !slices.Equal(c.Backoff, o.Backoff):
		return "backoff"
	case c.MaxAckPending != o.MaxAckPending:
		return "max ack pending"
	case !slices.Equal(c.FilterSubjects, o.FilterSubjects):
		return "filter subjects"
	case c.MaxWaiting != o.MaxWaiting:
		return "max waiting"
	case c.HeadersOnly != o.HeadersOnly:
		return "headers only"
	case c.Replicas != o.Replicas:
		return "replicas"
	case c.InactiveThreshold != o.InactiveThreshold:
		return "inactive threshold"
	}
	return ""
}

// AckWaitFor returns how long delivery number n (1 for the first) waits
// for its ack: the backoff's delay for it, or AckWait.
func (c Config) AckWaitFor(n uint64) time.Duration {
	if len(c.Backoff) == 0 {
		return c.AckWait
	}
	i := min(n, uint64(len(c.Backoff)))
	return c.Backoff[max(i, 1)-1]
}

// Matches reports whether the consumer wants a message on subj.
func (c Config) Matches(subj string) bool {
	if len(c.FilterSubjects) == 0 {
		return true
	}
	return slices.ContainsFunc(c.FilterSubjects, func(f string) bool { return subject.Match(f, subj) })
}

// OverlapsFilters reports whether some subject would be wanted by both
// c and o: work-queue streams refuse such consumers.
func (c Config) OverlapsFilters(o Config) bool {
	a, b := c.FilterSubjects, o.FilterSubjects
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if subject.Overlap(x, y) {
				return true
			}
		}
	}
	return false
}
