package stream

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigCheckUpdate: an edit may not change a stream's retention in
// any direction; keeping it (an unset retention is limits) is accepted.
func TestConfigCheckUpdate(t *testing.T) {
	with := func(r Retention) Config {
		return Config{Name: "X", Subjects: []string{"x.>"}, Replicas: 3, Storage: FileStorage, Retention: r}
	}
	for _, tc := range []struct {
		cur, next Retention
		want      string // "" when the edit is accepted
	}{
		{LimitsRetention, LimitsRetention, ""},
		{WorkQueueRetention, WorkQueueRetention, ""},
		{InterestRetention, InterestRetention, ""},
		{"", LimitsRetention, ""},
		{LimitsRetention, "", ""},
		{LimitsRetention, WorkQueueRetention, "retention cannot change (limits to workqueue)"},
		{LimitsRetention, InterestRetention, "retention cannot change (limits to interest)"},
		{WorkQueueRetention, LimitsRetention, "retention cannot change (workqueue to limits)"},
		{WorkQueueRetention, InterestRetention, "retention cannot change (workqueue to interest)"},
		{InterestRetention, LimitsRetention, "retention cannot change (interest to limits)"},
		{InterestRetention, WorkQueueRetention, "retention cannot change (interest to workqueue)"},
		{"", WorkQueueRetention, "retention cannot change (limits to workqueue)"},
		{InterestRetention, "", "retention cannot change (interest to limits)"},
	} {
		next := with(tc.next)
		next.MaxMsgs = 10 // an allowed change beside the retention
		err := with(tc.cur).CheckUpdate(next)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q to %q: %v; want accepted", tc.cur, tc.next, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q to %q: %v; want ErrBadConfig saying %q", tc.cur, tc.next, err, tc.want)
		}
	}
}
