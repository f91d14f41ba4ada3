package agent

import (
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when a job runs.
type Schedule interface {
	// Next returns the first run time after t.
	Next(t time.Time) time.Time
}

// Every runs a job at a fixed interval.
type Every time.Duration

// Next returns t plus the interval.
func (e Every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// ParseCron parses a standard 5-field cron expression ("0 */6 * * *"),
// a descriptor ("@daily", "@every 2h"), optionally prefixed with
// "CRON_TZ=Zone "; times are in the local zone otherwise.
func ParseCron(spec string) (Schedule, error) {
	return cron.ParseStandard(spec)
}

// firstRun is when a job first runs after the agent starts at now: an
// interval job at once, a cron job at its next time.
func firstRun(j *job, now time.Time) time.Time {
	if j.interval {
		return now
	}
	return j.schedule.Next(now)
}

// nextRun is when a job runs after the run scheduled at prev, as of now:
// the schedule's next time after prev, or, when that has passed already
// (the run's jitter or a stalled agent went beyond it), its next time
// after now: missed runs are skipped, not made up in a burst.
func nextRun(s Schedule, prev, now time.Time) time.Time {
	next := s.Next(prev)
	if next.Before(now) {
		next = s.Next(now)
	}
	return next
}

// jitterFunc returns a random delay in [0, max); 0 when max <= 0.
type jitterFunc func(max time.Duration) time.Duration

func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}

// backoff is the wait after the attempt-th failure (1-based): the base
// doubled attempt-1 times, at most the limit.
func (r retryPolicy) backoff(attempt int) time.Duration {
	d := r.base
	for i := 1; i < attempt && d < r.limit; i++ {
		d *= 2
	}
	return min(d, r.limit)
}
