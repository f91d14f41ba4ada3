package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/objstore"
)

var t0 = time.Date(2026, 11, 26, 1, 30, 0, 0, time.UTC)

func TestEveryNextRun(t *testing.T) {
	s := Every(time.Hour)
	tests := []struct {
		name      string
		prev, now time.Time
		want      time.Time
	}{
		{"on time", t0, t0.Add(time.Second), t0.Add(time.Hour)},
		{"late by the jitter", t0, t0.Add(10 * time.Minute), t0.Add(time.Hour)},
		{"exactly at the next time", t0, t0.Add(time.Hour), t0.Add(time.Hour)},
		{"missed runs are skipped", t0, t0.Add(3*time.Hour + time.Minute), t0.Add(4*time.Hour + time.Minute)},
	}
	for _, tc := range tests {
		if got := nextRun(s, tc.prev, tc.now); !got.Equal(tc.want) {
			t.Errorf("%s: nextRun(%v, %v) = %v, want %v", tc.name, tc.prev, tc.now, got, tc.want)
		}
	}
	// A one-second interval is taken as it is.
	if got := nextRun(Every(time.Second), t0, t0.Add(10*time.Millisecond)); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("1s interval: next = %v", got)
	}
}

func TestCronNextRun(t *testing.T) {
	s, err := ParseCron("0 */6 * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		prev, now time.Time
		want      time.Time
	}{
		{"next slot", at(6, 0), at(6, 0).Add(time.Second), at(12, 0)},
		{"from any time", at(1, 30), at(1, 30), at(6, 0)},
		{"missed slots are skipped", at(6, 0), at(13, 0), at(18, 0)},
		{"over midnight", at(18, 0), at(18, 1), at(24, 0)},
	}
	for _, tc := range tests {
		if got := nextRun(s, tc.prev, tc.now); !got.Equal(tc.want) {
			t.Errorf("%s: nextRun(%v, %v) = %v, want %v", tc.name, tc.prev, tc.now, got, tc.want)
		}
	}

	tz, err := ParseCron("CRON_TZ=Asia/Tokyo 0 9 * * *") // 09:00 JST is 00:00 UTC
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tz.Next(at(1, 30)), at(24, 0); !got.Equal(want) {
		t.Errorf("CRON_TZ: next = %v, want %v", got, want)
	}
	every, err := ParseCron("@every 90s")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := every.Next(at(1, 30)), at(1, 30).Add(90*time.Second); !got.Equal(want) {
		t.Errorf("@every: next = %v, want %v", got, want)
	}
}

func TestFirstRun(t *testing.T) {
	cron, err := ParseCron("@hourly")
	if err != nil {
		t.Fatal(err)
	}
	if got := firstRun(&job{schedule: Every(time.Hour), interval: true}, t0); !got.Equal(t0) {
		t.Errorf("interval job first runs at %v, want at start %v", got, t0)
	}
	if got, want := firstRun(&job{schedule: cron}, t0), t0.Add(30*time.Minute); !got.Equal(want) {
		t.Errorf("cron job first runs at %v, want %v", got, want)
	}
}

func TestRandomJitterBounds(t *testing.T) {
	for _, max := range []time.Duration{0, -time.Second} {
		if got := randomJitter(max); got != 0 {
			t.Errorf("randomJitter(%v) = %v, want 0", max, got)
		}
	}
	const max = 5 * time.Minute
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := randomJitter(max)
		if d < 0 || d >= max {
			t.Fatalf("randomJitter(%v) = %v, out of [0, %v)", max, d, max)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("1000 jitters took %d distinct values", len(seen))
	}
	if got := randomJitter(1); got != 0 {
		t.Errorf("randomJitter(1ns) = %v", got)
	}
}

func TestBackoff(t *testing.T) {
	r := retryPolicy{attempts: 9, base: time.Second, limit: 30 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := r.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	flat := retryPolicy{attempts: 3, base: 50 * time.Millisecond, limit: 50 * time.Millisecond}
	if got := flat.backoff(3); got != 50*time.Millisecond {
		t.Errorf("flat backoff = %v", got)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("save: %w", client.ErrStreamNotFound), false},
		{fmt.Errorf("save: %w", client.ErrInvalid), false},
		{client.ErrClosed, false},
		{fmt.Errorf("%w: bad", objstore.ErrInvalidURL), false},
		{fmt.Errorf("stop: %w", context.Canceled), false},
		{fmt.Errorf("no leader: %w", client.ErrUnavailable), true},
		{errors.New("objstore: upload ORDERS/x/data.zst: 503 SlowDown"), true},
		{context.DeadlineExceeded, true},
	}
	for _, tc := range tests {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
