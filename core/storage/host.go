package storage

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadb/strata/core/logcheck"
)

// Host runs a node's storage plugins: one process per configured plugin
// that a store kind names, shared by every Raft group.
type Host struct {
	cfg       Config
	processes map[string]*process
	metrics   *metrics
	corrupt   corruptLog
}

// Stores are the stores of one Raft group.
type Stores struct {
	Log       raft.LogStore
	Stable    raft.StableStore
	Snapshots raft.SnapshotStore
}

// Open validates cfg and starts the plugins it names. If one does not
// start or lacks the store kind it is named for, the others are stopped
// and the error names the plugin and the cause.
func Open(cfg Config) (*Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	h := &Host{cfg: cfg, processes: map[string]*process{}, metrics: newMetrics()}
	for _, name := range h.pluginNames() {
		p, err := startProcess(cfg.Plugins[name], cfg, h.metrics)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.processes[name] = p
	}
	if err := h.checkCapabilities(); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// pluginNames are the distinct plugins the store kinds name, sorted.
func (h *Host) pluginNames() []string {
	set := map[string]bool{h.cfg.Log: true, h.cfg.Stable: true, h.cfg.Snapshot: true}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (h *Host) checkCapabilities() error {
	checks := []struct {
		kind, name string
		has        func(*process) bool
	}{
		{"log", h.cfg.Log, func(p *process) bool { return p.conn.Capabilities.Log }},
		{"stable", h.cfg.Stable, func(p *process) bool { return p.conn.Capabilities.Stable }},
		{"snapshot", h.cfg.Snapshot, func(p *process) bool { return p.conn.Capabilities.Snapshot }},
	}
	for _, c := range checks {
		if !c.has(h.processes[c.name]) {
			return fmt.Errorf("storage: %s: plugin %q does not serve a %s store", c.kind, c.name, c.kind)
		}
	}
	return nil
}

// Stores returns the stores of group. They are cheap handles; the plugin
// opens the group's data on first use. The log store checksums every
// entry (logcheck); a corrupt entry read is logged and reported by
// Corrupt.
func (h *Host) Stores(group string) Stores {
	logs := logcheck.New(&LogStore{p: h.processes[h.cfg.Log], group: group, full: h.DiskFull}, group)
	logs.OnCorrupt = func(err error) { h.corrupt.record(h.cfg.Logger, h.cfg.Log, group, err) }
	return Stores{
		Log:       logs,
		Stable:    &StableStore{p: h.processes[h.cfg.Stable], group: group},
		Snapshots: &SnapshotStore{p: h.processes[h.cfg.Snapshot], group: group},
	}
}

// PluginPIDs returns the process id of each running plugin by name.
func (h *Host) PluginPIDs() map[string]int {
	pids := map[string]int{}
	for name, p := range h.processes {
		pids[name] = p.pid()
	}
	return pids
}

// Collectors are the host's Prometheus metrics: calls, call latency,
// restarts and liveness of each plugin.
func (h *Host) Collectors() []prometheus.Collector { return h.metrics.collectors() }

// Down returns an error naming the plugins that are not running, or nil.
func (h *Host) Down() error {
	var down []string
	for name, p := range h.processes {
		if p.pid() == 0 {
			down = append(down, name)
		}
	}
	if len(down) == 0 {
		return nil
	}
	sort.Strings(down)
	return fmt.Errorf("storage plugin down: %s", strings.Join(down, ", "))
}

// Close stops every plugin.
func (h *Host) Close() {
	for _, p := range h.processes {
		p.close()
	}
}
