package storage

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// corruptLog remembers the first corrupt entry read from each group's
// Raft log, for Host.Corrupt.
type corruptLog struct {
	mu     sync.Mutex
	groups map[string]error
}

func (c *corruptLog) record(logger hclog.Logger, plugin, group string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil {
		c.groups = map[string]error{}
	}
	if c.groups[group] == nil {
		c.groups[group] = err
	}
	logger.Error("raft log corrupt: the log plugin returned a damaged entry; move this group's replica"+
		" (strata stream cluster peer-remove) or replace the server (docs/operations.md, Damaged files)",
		"plugin", plugin, "group", group, "error", err)
}

func (c *corruptLog) forget(group string) {
	c.mu.Lock()
	delete(c.groups, group)
	c.mu.Unlock()
}

// Corrupt returns an error naming each group a corrupt Raft log entry
// was read from since the node started (and whose log was not dropped
// since), or nil.
func (h *Host) Corrupt() error {
	h.corrupt.mu.Lock()
	defer h.corrupt.mu.Unlock()
	if len(h.corrupt.groups) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(h.corrupt.groups))
	for _, err := range h.corrupt.groups {
		msgs = append(msgs, err.Error())
	}
	sort.Strings(msgs)
	return fmt.Errorf("storage corrupt: %s", strings.Join(msgs, "; "))
}
