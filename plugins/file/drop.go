package file

import (
	"fmt"
	"os"

	"github.com/stratadb/strata/pluginsdk"
)

var _ pluginsdk.GroupDroppers = (*Plugin)(nil)

// DropGroup closes the group's WAL and removes its directory: log, stable
// state and snapshots.
func (p *Plugin) DropGroup(group string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	dir, err := p.groupDir(group)
	if err != nil {
		return err
	}
	if w, ok := p.wals[group]; ok {
		if err := w.Close(); err != nil {
			return fmt.Errorf("group %q: closing wal: %w", group, err)
		}
		delete(p.wals, group)
	}
	delete(p.snaps, group)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("group %q: %w", group, err)
	}
	return nil
}
