package stream

import (
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// runGC runs value-log GC every gcInterval until Close.
func (d *DB) runGC() {
	defer close(d.gcDone)
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stopGC:
			return
		case <-t.C:
			d.gcOnce()
		}
	}
}

// gcOnce rewrites value-log files until Badger finds none worth it.
func (d *DB) gcOnce() {
	for n := 0; ; n++ {
		select {
		case <-d.stopGC:
			return
		default:
		}
		err := d.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			if n > 0 {
				d.logger.Debug("message store value log gc done", "files_rewritten", n)
			}
		default:
			d.logger.Warn("message store value log gc failed", "error", err)
		}
		return
	}
}
