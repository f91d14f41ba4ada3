package storage

import (
	"errors"

	"github.com/stratadb/strata/pluginsdk"
)

// DropGroup asks every plugin that serves the group (log, stable,
// snapshot) to delete what it keeps for it; the group's Raft group must
// be shut down. Plugins without the ability are skipped: their data stays.
// A corrupt entry read from the group's log is no longer reported once
// its log is dropped.
func (h *Host) DropGroup(group string) error {
	var errs []error
	for _, name := range h.pluginNames() {
		p := h.processes[name]
		err := p.do("drop_group", func(c *pluginsdk.Conn) error { return c.DropGroup(group) })
		if err != nil && !errors.Is(err, pluginsdk.ErrNoSuchCapability) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		h.corrupt.forget(group)
	}
	return errors.Join(errs...)
}
