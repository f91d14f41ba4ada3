// Package badgerrecover owns what a crash can leave in a Badger directory
// that badger.Open refuses although it holds nothing: empty write-ahead
// and value log files.
//
// Badger creates a memtable log (NNNNN.mem) or a value log (NNNNNN.vlog)
// and sizes it before its first write. After a power loss the file can
// be there with a length of 0, and badger.Open then fails with
// "Create a new file" (dgraph-io/badger#2207). An empty file holds no
// entry, so removing it loses nothing; Badger creates a new one.
package badgerrecover

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// logSuffixes are the Badger files that may be empty after a crash.
var logSuffixes = []string{".mem", ".vlog"}

// RemoveEmptyLogs removes the empty memtable and value log files in dir
// (a Badger directory, which need not exist yet), logs them at warn level
// and returns their names.
func RemoveEmptyLogs(dir string, logger hclog.Logger) (removed []string, err error) {
	defer func() {
		if len(removed) > 0 {
			logger.Warn("removed empty log files a crash left", "dir", dir, "files", removed)
		}
	}()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("badger dir %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isLog(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return removed, fmt.Errorf("badger dir %s: %w", dir, err)
		}
		if info.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return removed, fmt.Errorf("badger dir %s: remove empty %s: %w", dir, e.Name(), err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

func isLog(name string) bool {
	for _, s := range logSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}
