package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// byteSize is a flag holding a byte count: 1024, 1GB, 512MiB; "unlimited"
// and -1 mean 0 (no limit).
type byteSize int64

func (b *byteSize) String() string {
	if *b == 0 {
		return "0"
	}
	return humanize.IBytes(uint64(*b))
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "-1" || strings.EqualFold(s, "unlimited") {
		*b = 0
		return nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n > 1<<62 {
		return fmt.Errorf("invalid size %q: want bytes like 1048576, 1MB or 512MiB", s)
	}
	*b = byteSize(n)
	return nil
}

func (*byteSize) Type() string { return "size" }

// duration is a flag holding a duration that also accepts days and weeks
// ("30d", "1w"); "unlimited" and -1 mean 0.
type duration time.Duration

func (d *duration) String() string {
	if *d == 0 {
		return "0"
	}
	return time.Duration(*d).String()
}

func (d *duration) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "-1" || strings.EqualFold(s, "unlimited") {
		*d = 0
		return nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				return fmt.Errorf("invalid duration %q", s)
			}
			*d = duration(time.Duration(v) * unit)
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q: want e.g. 90s, 1h30m or 30d", s)
	}
	*d = duration(v)
	return nil
}

func (*duration) Type() string { return "duration" }

// durationList is a flag holding durations, comma separated or repeated:
// "1s,5s,30s". Each must be more than 0.
type durationList []time.Duration

func (l *durationList) String() string {
	parts := make([]string, len(*l))
	for i, d := range *l {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

func (l *durationList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		var d duration
		if err := d.Set(part); err != nil {
			return err
		}
		if d <= 0 {
			return fmt.Errorf("invalid duration %q: want more than 0", strings.TrimSpace(part))
		}
		*l = append(*l, time.Duration(d))
	}
	return nil
}

func (*durationList) Type() string { return "durations" }
