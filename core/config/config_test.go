package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/auth"
)

const goodConfig = `
server_name = "n1"
listen      = "127.0.0.1:4222"
http        = "127.0.0.1:8222"
data_dir    = "./data/n1"
tags        = ["az:a"]

cluster {
  name             = "C1"
  listen           = "127.0.0.1:6222"
  routes           = ["127.0.0.1:6223", "127.0.0.1:6224"]
  bootstrap_expect = 3
  raft {
    heartbeat_timeout = "500ms"
    election_timeout  = "500ms"
    commit_timeout    = "20ms"
  }
}

storage {
  log      = "badger"
  stable   = "badger"
  snapshot = "file"
}

plugin "badger" {
  gomaxprocs = 1
  config {
    sync_writes           = true
    value_log_gc_interval = "10m"
    memtable_size_mb      = 32
  }
}
`

func TestParseGood(t *testing.T) {
	c, err := Parse([]byte(goodConfig), "/etc/strata/n1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish("/opt/strata/bin"); err != nil {
		t.Fatal(err)
	}
	if c.ServerName != "n1" || c.Cluster.Name != "C1" || c.Cluster.BootstrapExpect != 3 || len(c.Cluster.Routes) != 2 {
		t.Fatalf("parsed %+v %+v", c, c.Cluster)
	}
	b := c.Plugin("badger")
	if b == nil || b.Path != "/opt/strata/bin/strata-plugin-badger" || b.GoMaxProcs != 1 {
		t.Fatalf("badger plugin = %+v", b)
	}
	var pc map[string]any
	if err := json.Unmarshal(b.ConfigJSON, &pc); err != nil {
		t.Fatal(err)
	}
	if pc["sync_writes"] != true || pc["value_log_gc_interval"] != "10m" || pc["memtable_size_mb"] != float64(32) {
		t.Fatalf("plugin config json = %s", b.ConfigJSON)
	}
	if f := c.Plugin("file"); f == nil || f.Path != "/opt/strata/bin/strata-plugin-file" {
		t.Fatalf("file plugin = %+v", f)
	}
	rc, err := c.RaftConfig(raft.DefaultConfig())
	if err != nil || rc.ElectionTimeout != 500*time.Millisecond || rc.CommitTimeout != 20*time.Millisecond ||
		rc.LeaderLeaseTimeout != raft.DefaultConfig().LeaderLeaseTimeout {
		t.Fatalf("RaftConfig = %+v, %v", rc, err)
	}
	sc := c.StorageConfig(nil)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRelativePluginPath(t *testing.T) {
	c, err := Parse([]byte(`plugin "bolt" { path = "../bin/strata-plugin-bolt" }`), "/etc/strata/n1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Plugin("bolt"); p.Path != "/etc/bin/strata-plugin-bolt" {
		t.Fatalf("path = %s", p.Path)
	}
}

func TestBadConfig(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown key", `server_nme = "x"`, `server_nme`},
		{"syntax", `server_name = `, `n1.hcl:1`},
		{"unknown block key", `cluster { lsten = "x" }`, `lsten`},
		{"bad listen", `listen = "nope"`, `listen: "nope" is not host:port`},
		{"bad route", `cluster { routes = ["127.0.0.1"] }`, `cluster.routes`},
		{"bad bootstrap", `cluster { bootstrap_expect = -1 }`, `cluster.bootstrap_expect`},
		{"undeclared plugin", `storage { log = "rocks" }`, `storage.log: no plugin "rocks"`},
		{"bad sha", `plugin "badger" { sha256 = "xyz" }`, `sha256: must be 64 hex digits`},
		{"twice", "plugin \"a\" {\n}\nplugin \"a\" {\n}", `declared twice`},
		{"bad timeout", `storage { plugin_restart_timeout = "soon" }`, `plugin_restart_timeout`},
		{"bad call timeout", `storage { plugin_call_timeout = "0s" }`, `plugin_call_timeout`},
		{"bad min_free", `storage { min_free = "lots" }`, `storage.min_free: "lots" is not a size`},
		{"bad level", `log_level = "loud"`, `log_level`},
		{"bad gomaxprocs", `plugin "badger" { gomaxprocs = -1 }`, `gomaxprocs`},
		{"bad raft duration", "cluster {\n raft {\n election_timeout = \"soon\"\n }\n}", `cluster.raft.election_timeout`},
		{"raft rule", "cluster {\n raft {\n leader_lease_timeout = \"5s\"\n }\n}", `cluster.raft`},
		{"wrong type", `cluster { bootstrap_expect = "three" }`, `bootstrap_expect`},
		{"nested config", "plugin \"badger\" {\n config {\n x {\n y = 1\n }\n }\n}", `plugin "badger": config`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.src), "n1.hcl")
			if err == nil {
				err = c.Finish("/bin")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestS3SnapBuiltin: s3snap is a built-in plugin name, its binary beside
// strata, its config block passed through.
func TestS3SnapBuiltin(t *testing.T) {
	src := "storage {\n snapshot = \"s3snap\"\n}\nplugin \"s3snap\" {\n config {\n url = \"s3://b/n1\"\n retain = 3\n }\n}\n"
	c, err := Parse([]byte(src), "/etc/strata/n1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish("/opt/strata/bin"); err != nil {
		t.Fatal(err)
	}
	p := c.Plugin(PluginS3Snap)
	if p == nil || p.Path != "/opt/strata/bin/strata-plugin-s3snap" {
		t.Fatalf("s3snap plugin = %+v", p)
	}
	var pc map[string]any
	if err := json.Unmarshal(p.ConfigJSON, &pc); err != nil || pc["url"] != "s3://b/n1" || pc["retain"] != float64(3) {
		t.Fatalf("s3snap config = %s, %v", p.ConfigJSON, err)
	}
	// Named without a block it is still declared (its own check then
	// refuses the missing url when it starts).
	c, err = Parse([]byte("storage {\n snapshot = \"s3snap\"\n}\n"), "n1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish("/bin"); err != nil || c.Plugin(PluginS3Snap) == nil {
		t.Fatalf("s3snap without a block: %v, %+v", err, c.Plugins)
	}
}

// TestParseRefusesHugeNumbers: a number beyond float64's range is a
// clear error at once; HCL took minutes (and GiBs) to convert one like
// 9e99999999 (found by FuzzParse).
func TestParseRefusesHugeNumbers(t *testing.T) {
	for _, src := range []string{"listen = 9e99999999", "server_name = 1e1000000",
		"cluster {\n  bootstrap_expect = 1e10000000\n}"} {
		_, err := Parse([]byte(src), "n.hcl")
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Parse(%q) = %v, want an out-of-range error", src, err)
		}
	}
	if _, err := Parse([]byte("cluster {\n  bootstrap_expect = 3\n}"), "n.hcl"); err != nil {
		t.Fatal(err)
	}
}

func TestLimitsBlock(t *testing.T) {
	c, err := Parse([]byte("limits {\n  max_payload = 4096\n  max_connections = 10\n  max_fetches_per_connection = 3\n}"), "n.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Limits{MaxPayload: 4096, MaxConnections: 10, MaxFetchesPerConnection: 3}); c.Limits == nil || *c.Limits != want {
		t.Fatalf("limits = %+v, want %+v", c.Limits, want)
	}
	if d := Default(); d.Limits != nil || d.validateLimits() != nil {
		t.Fatalf("default limits %+v: %v", d.Limits, d.validateLimits())
	}
	for src, want := range map[string]string{
		"limits {\n  max_payload = -1\n}":                     "limits.max_payload: must be 1 to 33554432 bytes (0: the default), got -1",
		"limits {\n  max_payload = 33554433\n}":               "limits.max_payload: must be 1 to",
		"limits {\n  max_subject_length = 70000\n}":           "limits.max_subject_length: must be 1 to 65536",
		"limits {\n  max_header_bytes = -5\n}":                "limits.max_header_bytes",
		"limits {\n  max_connections = -1\n}":                 "limits.max_connections: must be 1 to 1048576 connections",
		"limits {\n  max_fetches_per_connection = 2000000\n}": "limits.max_fetches_per_connection: must be 1 to 1048576 fetches",
	} {
		c, err := Parse([]byte(src), "n.hcl")
		if err == nil {
			err = c.Finish(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

// TestRequirePluginChecksums: with require_plugin_checksums, a plugin
// without a pinned sha256 (a built-in one included) is refused, naming
// it; pinning every plugin in use passes, the built-in paths kept.
func TestRequirePluginChecksums(t *testing.T) {
	c, err := Parse([]byte("require_plugin_checksums = true\n"), "n.hcl")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Finish("/opt/strata")
	if want := `plugin "badger": sha256: required by require_plugin_checksums (/opt/strata/strata-plugin-badger)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("finish = %v, want %q", err, want)
	}
	sum := strings.Repeat("ab", 32)
	c, err = Parse([]byte("require_plugin_checksums = true\nplugin \"badger\" { sha256 = \""+sum+"\" }\nplugin \"file\" { sha256 = \""+sum+"\" }\n"), "n.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish("/opt/strata"); err != nil {
		t.Fatalf("every plugin pinned: %v", err)
	}
	if p := c.Plugin("file"); p == nil || p.Path != "/opt/strata/strata-plugin-file" || p.SHA256 != sum {
		t.Fatalf("file plugin = %+v", p)
	}
	if d := Default(); d.RequirePluginChecksums {
		t.Fatal("checksums required by default")
	}
}

// TestTLSBlocks: the three TLS blocks parse with paths taken from the
// config file's directory; a block without its key, a verifying one
// without a CA, and a cluster block without a CA are refused.
func TestTLSBlocks(t *testing.T) {
	src := "tls {\n  cert_file = \"n.pem\"\n  key_file = \"/k/n-key.pem\"\n  ca_file = \"ca.pem\"\n  verify = true\n}\n" +
		"http_tls {\n  cert_file = \"n.pem\"\n  key_file = \"n-key.pem\"\n}\n" +
		"cluster {\n  tls {\n    cert_file = \"n.pem\"\n    key_file = \"n-key.pem\"\n    ca_file = \"ca.pem\"\n  }\n}\n"
	c, err := Parse([]byte(src), "/etc/strata/n.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if want := (TLS{CertFile: "/etc/strata/n.pem", KeyFile: "/k/n-key.pem", CAFile: "/etc/strata/ca.pem", Verify: true}); *c.TLS != want {
		t.Fatalf("tls = %+v, want %+v", *c.TLS, want)
	}
	if c.HTTPTLS.CAFile != "" || c.Cluster.TLS.CAFile != "/etc/strata/ca.pem" {
		t.Fatalf("http_tls %+v, cluster.tls %+v", c.HTTPTLS, c.Cluster.TLS)
	}
	for src, want := range map[string]string{
		"tls {\n  cert_file = \"n.pem\"\n}":                                           "tls: certs: cert_file and key_file are required",
		"http_tls {\n  cert_file = \"n.pem\"\n  key_file = \"k\"\n  verify = true\n}": "http_tls: certs: ca_file is required",
		"cluster {\n  tls {\n    cert_file = \"n.pem\"\n    key_file = \"k\"\n  }\n}": "cluster.tls: ca_file: required",
	} {
		c, err := Parse([]byte(src), "n.hcl")
		if err == nil {
			err = c.Finish(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

// TestAccountsBlock: accounts with users and permissions parse into auth
// users, the system account's marked; a plain-text password, a missing
// system account or cluster token, and an unknown key are refused.
func TestAccountsBlock(t *testing.T) {
	hash := "$2a$04$1GLU4tDn6HutZVHqnS9Bd.5ZlxdaBhHeBD0ztLbEy7Ve8mSeJkK7y" // bcrypt of "pw", cost 4
	tokenHash := auth.TokenHash("a token")
	good := `accounts {
  APP {
    users = [{ user = "app", password = "` + hash + `",
               permissions = { publish = ["ORDERS.>"], subscribe = ["ORDERS.>"], admin = ["ORDERS"] } }]
  }
  SYS { users = [{ user = "admin", password = "` + hash + `" },
                 { user = "ci", token = "` + tokenHash + `" }] }
}
system_account = "SYS"
cluster { token = "0123456789abcdef" }
`
	c, err := Parse([]byte(good), "n.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	users := c.AuthUsers()
	if len(users) != 3 {
		t.Fatalf("users = %+v", users)
	}
	for _, u := range users {
		switch u.Name {
		case "app":
			if u.System || u.Account != "APP" || u.Permissions.Admin[0] != "ORDERS" || u.Permissions.Publish[0] != "ORDERS.>" {
				t.Errorf("app = %+v", u)
			}
		case "admin":
			if !u.System || u.Account != "SYS" {
				t.Errorf("admin = %+v", u)
			}
		case "ci":
			if !u.System || u.TokenHash != tokenHash || u.Hash != "" {
				t.Errorf("ci = %+v", u)
			}
		}
	}
	for src, want := range map[string]string{
		strings.Replace(good, hash, "hunter2", 1):                                `user "app": password is not a bcrypt hash`,
		strings.Replace(good, tokenHash, "a token", 1):                           `user "ci": token is not a SHA-256`,
		strings.Replace(good, `system_account = "SYS"`, "", 1):                   "system_account: required with accounts",
		strings.Replace(good, `cluster { token = "0123456789abcdef" }`, "", 1):   "cluster.token: required with accounts",
		strings.Replace(good, `user = "admin"`, `user = "admin", role = "x"`, 1): `unknown field "role"`,
		strings.Replace(good, "APP {", "APP {\n    limit = 1", 1):                `unknown key "limit"`,
		`system_account = "SYS"`:                                                 `system_account: "SYS" names no account`,
	} {
		c, err := Parse([]byte(src), "n.hcl")
		if err == nil {
			err = c.Finish(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", want, err, want)
		}
	}
}

func TestMinFree(t *testing.T) {
	if got := Default().StorageConfig(nil).MinFreeBytes; got != 256<<20 {
		t.Fatalf("default min_free: %d bytes", got)
	}
	for src, want := range map[string]uint64{`storage { min_free = "1GiB" }`: 1 << 30, `storage { min_free = "0" }`: 0} {
		c, err := Parse([]byte(src), "t.hcl")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.StorageConfig(nil).MinFreeBytes; got != want {
			t.Fatalf("%s: %d bytes, want %d", src, got, want)
		}
	}
}
