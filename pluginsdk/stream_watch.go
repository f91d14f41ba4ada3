package pluginsdk

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// streamWatch bounds each step of a snapshot stream (the handshake, a
// chunk sent or received, the finish) by the client's call timeout: a
// step the plugin does not answer in time cancels the stream, so a hung
// plugin fails the snapshot (raft takes another later, or retries the
// restore) instead of blocking raft's snapshot or restore forever. Time
// between steps, while raft produces or consumes the data, is not bounded.
type streamWatch struct {
	d      time.Duration // 0: steps are not bounded
	timer  *time.Timer
	fired  atomic.Bool
	cancel context.CancelFunc
}

func newStreamWatch(d time.Duration, cancel context.CancelFunc) *streamWatch {
	w := &streamWatch{d: d, cancel: cancel}
	if d > 0 {
		w.timer = time.AfterFunc(d, func() {
			w.fired.Store(true)
			cancel()
		})
		w.timer.Stop()
	}
	return w
}

// step runs f within the bound; an error after the bound is a
// DeadlineExceeded status naming op.
func (w *streamWatch) step(op string, f func() error) error {
	if w.timer == nil {
		return f()
	}
	w.timer.Reset(w.d)
	err := f()
	w.timer.Stop()
	if err != nil && w.fired.Load() {
		return status.Error(codes.DeadlineExceeded, fmt.Sprintf("%s: the plugin did not answer within %s: %v", op, w.d, err))
	}
	return err
}

// stop ends the stream and the timer.
func (w *streamWatch) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel()
}
