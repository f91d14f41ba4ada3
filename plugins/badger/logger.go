package badger

import (
	"fmt"
	"strings"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

var _ bdb.Logger = badgerLogger{}

// badgerLogger routes Badger's printf-style log into hclog. Badger's info
// lines (table flushes, compactions, replay progress) are chatter for a
// node operator, so they go out at debug, and its debug lines at trace.
type badgerLogger struct {
	l hclog.Logger
}

func (b badgerLogger) Errorf(format string, args ...any) {
	b.log(hclog.Error, format, args)
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.log(hclog.Warn, format, args)
}

func (b badgerLogger) Infof(format string, args ...any) {
	b.log(hclog.Debug, format, args)
}

func (b badgerLogger) Debugf(format string, args ...any) {
	b.log(hclog.Trace, format, args)
}

// log formats only when the level is enabled: Badger logs at debug on
// every write.
func (b badgerLogger) log(level hclog.Level, format string, args []any) {
	if b.l.GetLevel() > level {
		return
	}
	b.l.Log(level, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
