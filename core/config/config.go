// Package config owns a node's configuration: the HCL file, the defaults,
// the command-line overrides and the checks that turn a bad config into
// one clear error naming the key.
package config

import (
	"fmt"
	"github.com/dustin/go-humanize"
	"os"
	"path/filepath"
	"time"
)

// Config is a node's configuration.
type Config struct {
	ServerName string   `hcl:"server_name,optional"`
	Listen     string   `hcl:"listen,optional"`
	HTTP       string   `hcl:"http,optional"`
	DataDir    string   `hcl:"data_dir,optional"`
	Tags       []string `hcl:"tags,optional"`
	Cluster    *Cluster `hcl:"cluster,block"`
	Storage    *Storage `hcl:"storage,block"`
	Limits     *Limits  `hcl:"limits,block"` // nil: the API's defaults
	// TLS and HTTPTLS, when set, serve the client and the HTTP port over
	// TLS (nil: plain text).
	TLS      *TLS      `hcl:"tls,block"`
	HTTPTLS  *TLS      `hcl:"http_tls,block"`
	Plugins  []*Plugin `hcl:"-"`
	LogLevel string    `hcl:"log_level,optional"`
	// RequirePluginChecksums refuses a config with any plugin, built-in
	// ones included, whose block pins no sha256: a node then runs only
	// binaries its operator vouched for.
	RequirePluginChecksums bool `hcl:"require_plugin_checksums,optional"`
	// Accounts and their users; none leaves every call allowed (a
	// development cluster). SystemAccount names the account whose users
	// run server, meta and recovery commands.
	Accounts      []*Account `hcl:"-"`
	SystemAccount string     `hcl:"system_account,optional"`
	// HTTPAuth requires a system account user's HTTP basic credentials on
	// every HTTP endpoint but /healthz.
	HTTPAuth bool `hcl:"http_auth,optional"`
}

// Cluster is the `cluster {}` block.
type Cluster struct {
	Name   string `hcl:"name,optional"`
	Listen string `hcl:"listen,optional"`
	// Advertise is the address other servers dial to reach this one
	// (default: Listen), for a server behind NAT or a proxy.
	Advertise       string   `hcl:"advertise,optional"`
	Routes          []string `hcl:"routes,optional"`
	BootstrapExpect int      `hcl:"bootstrap_expect,optional"`
	Raft            *Raft    `hcl:"raft,block"`
	// TLS, when set, is mutual TLS on the cluster port.
	TLS *TLS `hcl:"tls,block"`
	// Token authenticates the servers' calls to each other's client
	// ports; required with accounts, the same on every server, secret.
	Token string `hcl:"token,optional"`
}

// Storage is the `storage {}` block: the plugin serving each store kind.
type Storage struct {
	Log      string `hcl:"log,optional"`
	Stable   string `hcl:"stable,optional"`
	Snapshot string `hcl:"snapshot,optional"`
	// PluginRestartTimeout bounds how long a store operation waits for a
	// dead plugin to be restarted, e.g. "30s".
	PluginRestartTimeout string `hcl:"plugin_restart_timeout,optional"`
	// PluginCallTimeout bounds one call to a plugin, e.g. "10s": a
	// plugin that does not answer within it is restarted, and the call
	// fails (a Raft leader whose log write fails steps down).
	PluginCallTimeout string `hcl:"plugin_call_timeout,optional"`
	// MinFree is the free space the data_dir's file system must keep,
	// e.g. "256MiB": a Raft log write that finds less fails, and the
	// node's /healthz says so, until space is freed ("0": no reserve).
	MinFree string `hcl:"min_free,optional"`
}

// Plugin is a `plugin "NAME" { path, sha256, config {} }` block.
type Plugin struct {
	Name   string
	Path   string
	SHA256 string
	// GoMaxProcs caps the plugin process's Go threads (0: Go's default).
	GoMaxProcs int
	// ConfigJSON is the `config {}` block as a JSON object.
	ConfigJSON []byte
}

// Built-in plugins: their binaries sit beside the strata binary, and a
// node with no storage block runs on badger and file. s3snap (snapshots
// on S3) needs a plugin block for its config { url = "s3://..." }.
const (
	PluginBadger = "badger"
	PluginFile   = "file"
	PluginS3Snap = "s3snap"
)

// builtin reports whether name is a built-in plugin.
func builtin(name string) bool {
	return name == PluginBadger || name == PluginFile || name == PluginS3Snap
}

// Default returns the configuration of a single local node.
func Default() *Config {
	return &Config{
		ServerName: hostname(),
		Listen:     "127.0.0.1:4222",
		HTTP:       "127.0.0.1:8222",
		DataDir:    "./data",
		LogLevel:   "info",
		Cluster:    &Cluster{Name: "strata", Listen: "127.0.0.1:6222", BootstrapExpect: 1},
		Storage: &Storage{Log: PluginBadger, Stable: PluginBadger, Snapshot: PluginFile, PluginRestartTimeout: "30s",
			PluginCallTimeout: "10s", MinFree: "256MiB"},
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "strata"
	}
	return h
}

// PluginRestartTimeout returns the parsed storage.plugin_restart_timeout.
func (c *Config) PluginRestartTimeout() time.Duration {
	d, _ := time.ParseDuration(c.Storage.PluginRestartTimeout)
	return d
}

// PluginCallTimeout returns the parsed storage.plugin_call_timeout.
func (c *Config) PluginCallTimeout() time.Duration {
	d, _ := time.ParseDuration(c.Storage.PluginCallTimeout)
	return d
}

// MinFreeBytes returns the parsed storage.min_free.
func (c *Config) MinFreeBytes() uint64 {
	n, _ := humanize.ParseBytes(c.Storage.MinFree)
	return n
}

// Plugin returns the named plugin block, or nil.
func (c *Config) Plugin(name string) *Plugin {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// addBuiltinPlugins declares the built-in plugins a store kind names but
// no plugin block does, with their binaries beside the running program.
func (c *Config) addBuiltinPlugins(binDir string) {
	for _, name := range []string{c.Storage.Log, c.Storage.Stable, c.Storage.Snapshot} {
		if builtin(name) && c.Plugin(name) == nil {
			c.Plugins = append(c.Plugins, &Plugin{Name: name})
		}
	}
	for _, p := range c.Plugins {
		if p.Path == "" && builtin(p.Name) {
			p.Path = filepath.Join(binDir, "strata-plugin-"+p.Name)
		}
	}
}

// String is for logs.
func (p *Plugin) String() string { return fmt.Sprintf("plugin %q (%s)", p.Name, p.Path) }
