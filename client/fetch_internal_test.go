package client

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	var fired atomic.Int32
	k := newClock(40*time.Millisecond, func() { fired.Add(1) })
	defer k.stop()
	k.pause()
	time.Sleep(60 * time.Millisecond)
	if fired.Load() != 0 {
		t.Fatal("fired while paused")
	}
	k.resume()
	k.restart() // a restart after a resume starts a whole new period
	k.pause()
	k.pause() // a second pause changes nothing
	k.restart()
	time.Sleep(20 * time.Millisecond)
	if fired.Load() != 0 {
		t.Fatal("fired early")
	}
	time.Sleep(60 * time.Millisecond)
	if fired.Load() != 1 {
		t.Fatalf("fired %d times, want once", fired.Load())
	}
	k.restart()
	time.Sleep(60 * time.Millisecond)
	if fired.Load() != 1 {
		t.Fatal("a clock that fired fired again")
	}
	var none *clock
	none.pause()
	none.resume()
	none.restart()
	none.stop()
}
