package config

import (
	"encoding/hex"
	"fmt"
	"github.com/dustin/go-humanize"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/storage"
)

// Finish declares built-in plugins the storage block names and resolves
// their paths against binDir (the directory of the strata binary), then
// validates the whole config.
func (c *Config) Finish(binDir string) error {
	c.addBuiltinPlugins(binDir)
	return c.Validate()
}

// Validate returns the first problem, naming the key and the reason.
func (c *Config) Validate() error {
	checks := []func() error{c.validateNode, c.validateCluster, c.validateStorage, c.validatePlugins, c.validateLimits, c.validateTLS, c.validateAccounts}
	for _, check := range checks {
		if err := check(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}

func (c *Config) validateNode() error {
	if c.ServerName == "" {
		return fmt.Errorf("server_name: required")
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: required")
	}
	for key, addr := range map[string]string{"listen": c.Listen, "http": c.HTTP} {
		if err := checkAddr(addr); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if hclog.LevelFromString(c.LogLevel) == hclog.NoLevel {
		return fmt.Errorf("log_level: %q is not one of trace, debug, info, warn, error", c.LogLevel)
	}
	return nil
}

func (c *Config) validateCluster() error {
	if err := checkAddr(c.Cluster.Listen); err != nil {
		return fmt.Errorf("cluster.listen: %w", err)
	}
	if c.Cluster.Advertise != "" {
		if err := checkAddr(c.Cluster.Advertise); err != nil {
			return fmt.Errorf("cluster.advertise: %w", err)
		}
	}
	for _, r := range c.Cluster.Routes {
		if err := checkAddr(r); err != nil {
			return fmt.Errorf("cluster.routes: %q: %w", r, err)
		}
	}
	if c.Cluster.BootstrapExpect < 1 {
		return fmt.Errorf("cluster.bootstrap_expect: must be at least 1, got %d", c.Cluster.BootstrapExpect)
	}
	_, err := c.RaftConfig(raft.DefaultConfig())
	return err
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if host == "" || port == "" {
		return fmt.Errorf("%q needs both a host and a port", addr)
	}
	return nil
}

func (c *Config) validateStorage() error {
	for key, name := range map[string]string{"storage.log": c.Storage.Log, "storage.stable": c.Storage.Stable,
		"storage.snapshot": c.Storage.Snapshot} {
		if name == "" {
			return fmt.Errorf("%s: required", key)
		}
		if c.Plugin(name) == nil {
			return fmt.Errorf("%s: no plugin %q is declared", key, name)
		}
	}
	if d, err := time.ParseDuration(c.Storage.PluginRestartTimeout); err != nil || d <= 0 {
		return fmt.Errorf("storage.plugin_restart_timeout: %q is not a positive duration", c.Storage.PluginRestartTimeout)
	}
	if d, err := time.ParseDuration(c.Storage.PluginCallTimeout); err != nil || d <= 0 {
		return fmt.Errorf("storage.plugin_call_timeout: %q is not a positive duration", c.Storage.PluginCallTimeout)
	}
	if _, err := humanize.ParseBytes(c.Storage.MinFree); err != nil {
		return fmt.Errorf("storage.min_free: %q is not a size (e.g. \"256MiB\", \"0\")", c.Storage.MinFree)
	}
	return nil
}

func (c *Config) validatePlugins() error {
	for _, p := range c.Plugins {
		if p.Path == "" {
			return fmt.Errorf("plugin %q: path: required", p.Name)
		}
		if p.SHA256 == "" && c.RequirePluginChecksums {
			return fmt.Errorf("plugin %q: sha256: required by require_plugin_checksums (%s); "+
				"pin it in a plugin %q { sha256 = \"...\" } block (sha256sum prints it)", p.Name, p.Path, p.Name)
		}
		if p.SHA256 != "" {
			if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 {
				return fmt.Errorf("plugin %q: sha256: must be 64 hex digits", p.Name)
			}
		}
		if p.GoMaxProcs < 0 {
			return fmt.Errorf("plugin %q: gomaxprocs: must be 0 (Go's default) or more, got %d", p.Name, p.GoMaxProcs)
		}
	}
	return nil
}

// StorageConfig is the storage host's config for this node.
func (c *Config) StorageConfig(logger hclog.Logger) storage.Config {
	sc := storage.DefaultConfig()
	sc.DataDir = c.DataDir
	sc.Log, sc.Stable, sc.Snapshot = c.Storage.Log, c.Storage.Stable, c.Storage.Snapshot
	sc.UnavailableTimeout = c.PluginRestartTimeout()
	sc.CallTimeout = c.PluginCallTimeout()
	sc.MinFreeBytes = c.MinFreeBytes()
	for _, p := range c.Plugins {
		sc.Plugins[p.Name] = storage.PluginConfig{Name: p.Name, Path: p.Path, SHA256: p.SHA256,
			GoMaxProcs: p.GoMaxProcs, Config: p.ConfigJSON}
	}
	sc.Logger = logger
	return sc
}
