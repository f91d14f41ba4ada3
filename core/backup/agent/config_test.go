package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

const exampleHCL = `
servers = ["127.0.0.1:4222", "127.0.0.1:4223"]
metrics = "127.0.0.1:9090"
backup "orders" {
  streams   = ["ORDERS", "PAYMENTS"]
  target    = "s3://backups/strata"
  interval  = "1h"
  jitter    = "5m"
  retain {
    count   = 7
    max_age = "720h"
  }
  level     = "better"
}
backup "everything" {
  all    = true
  target = "/var/backups/strata"
  cron   = "0 */6 * * *"
  retain { max_age = "30d" }
}
`

func TestParseExample(t *testing.T) {
	cfg, err := Parse([]byte(exampleHCL), "backup.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Servers, ","); got != "127.0.0.1:4222,127.0.0.1:4223" {
		t.Errorf("servers = %s", got)
	}
	if cfg.Metrics != "127.0.0.1:9090" {
		t.Errorf("metrics = %q", cfg.Metrics)
	}
	p, err := cfg.compile()
	if err != nil {
		t.Fatal(err)
	}
	if p.retry != (retryPolicy{attempts: DefaultAttempts, base: DefaultBackoff, limit: DefaultMaxBackoff}) {
		t.Errorf("retry = %+v, want the defaults", p.retry)
	}
	if len(p.jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(p.jobs))
	}
	o := p.jobs[0]
	if o.name != "orders" || strings.Join(o.streams, ",") != "ORDERS,PAYMENTS" || o.all || o.target != "s3://backups/strata" {
		t.Errorf("orders job = %+v", o)
	}
	if o.schedule != Every(time.Hour) || !o.interval || o.jitter != 5*time.Minute {
		t.Errorf("orders schedule = %v interval %v jitter %v", o.schedule, o.interval, o.jitter)
	}
	if !o.prune || o.retain.Count != 7 || o.retain.MaxAge != 720*time.Hour || o.level != zstd.SpeedBetterCompression {
		t.Errorf("orders retain %+v prune %v level %v", o.retain, o.prune, o.level)
	}
	e := p.jobs[1]
	if !e.all || e.interval || e.jitter != 0 || e.level != zstd.SpeedFastest {
		t.Errorf("everything job = %+v", e)
	}
	if !e.prune || e.retain.Count != 0 || e.retain.MaxAge != 30*24*time.Hour {
		t.Errorf("everything retain = %+v", e.retain)
	}
	from := time.Date(2026, 11, 26, 1, 30, 0, 0, time.Local)
	if got, want := e.schedule.Next(from), time.Date(2026, 11, 26, 6, 0, 0, 0, time.Local); !got.Equal(want) {
		t.Errorf("cron next after %v = %v, want %v", from, got, want)
	}
}

func TestParseRetryAndShortInterval(t *testing.T) {
	cfg, err := Parse([]byte(`
retry {
  attempts = 2
  backoff  = "10ms"
}
backup "fast" {
  streams  = ["S"]
  target   = "file:///tmp/x"
  interval = "1s"
  retain { count = 1 }
}`), "fast.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.compile()
	if err != nil {
		t.Fatal(err)
	}
	// max_backoff keeps its default when the block leaves it out.
	if want := (retryPolicy{attempts: 2, base: 10 * time.Millisecond, limit: DefaultMaxBackoff}); p.retry != want {
		t.Errorf("retry = %+v, want %+v", p.retry, want)
	}
	if p.jobs[0].schedule != Every(time.Second) {
		t.Errorf("interval = %v, want 1s (not clamped)", p.jobs[0].schedule)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.hcl")
	if err := os.WriteFile(path, []byte(exampleHCL), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jobs) != 2 || cfg.Jobs[0].Name != "orders" {
		t.Errorf("jobs = %+v", cfg.Jobs)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.hcl")); !errors.Is(err, ErrConfig) {
		t.Errorf("missing file: %v, want ErrConfig", err)
	}
}

// job wraps the attributes of one backup block named "b".
func block(body string) string { return "backup \"b\" {\n" + body + "\n}\n" }

const okBlock = `streams = ["S"]
target = "s3://bkt/p"
interval = "1h"`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"no backup block", `servers = ["a:1"]`, []string{"no backup block"}},
		{"unknown top-level key", `colour = "red"` + "\n" + block(okBlock), []string{"Unsupported argument", `"colour"`}},
		{"unknown key in backup", block(okBlock + "\nschedule = \"daily\""), []string{"Unsupported argument", `"schedule"`}},
		{"unknown key in retain", block(okBlock + "\nretain {\n count = 2\n keep = 3\n}"), []string{"Unsupported argument", `"keep"`}},
		{"unknown block", block(okBlock) + "alerts {}\n", []string{"Unsupported block type", `"alerts"`}},
		{"missing target", block("streams = [\"S\"]\ninterval = \"1h\""), []string{"Missing required argument", `"target"`}},
		{"missing label", "backup {\n" + okBlock + "\n}", []string{"Missing name for backup"}},
		{"wrong type", block(okBlock + "\nall = \"yes please\""), []string{"Unsuitable value"}},
		{"interval and cron", block(okBlock + "\ncron = \"@daily\""), []string{`backup "b": set interval or cron, not both`}},
		{"neither interval nor cron", block("streams = [\"S\"]\ntarget = \"/tmp/b\""), []string{`backup "b": set interval or cron`}},
		{"bad interval", block("streams = [\"S\"]\ntarget = \"/tmp/b\"\ninterval = \"1x\""), []string{`backup "b": interval: "1x" is not a duration`}},
		{"zero interval", block("streams = [\"S\"]\ntarget = \"/tmp/b\"\ninterval = \"0s\""), []string{`backup "b": interval: "0s" must be above zero`}},
		{"negative interval", block("streams = [\"S\"]\ntarget = \"/tmp/b\"\ninterval = \"-5m\""), []string{`backup "b": interval: "-5m" is negative`}},
		{"bad cron", block("streams = [\"S\"]\ntarget = \"/tmp/b\"\ncron = \"61 * * * *\""), []string{`backup "b": cron: "61 * * * *"`}},
		{"cron with seconds", block("streams = [\"S\"]\ntarget = \"/tmp/b\"\ncron = \"0 0 */6 * * *\""), []string{`backup "b": cron:`}},
		{"bad jitter", block(okBlock + "\njitter = \"soon\""), []string{`backup "b": jitter: "soon" is not a duration`}},
		{"jitter not below interval", block(okBlock + "\njitter = \"1h\""), []string{`backup "b": jitter: 1h must be shorter than the interval 1h`}},
		{"unknown level", block(okBlock + "\nlevel = \"ultra\""), []string{`backup "b": level: unknown zstd level "ultra"`}},
		{"unknown sse", block(okBlock + "\nsse = \"rot13\""), []string{`backup "b": sse:`, `"rot13"`}},
		{"kms key without kms", block(okBlock + "\nsse_kms_key_id = \"k\""), []string{`backup "b": sse:`, "needs server-side encryption aws:kms"}},
		{"missing key file", block(okBlock + "\nkey_file = \"/nonexistent/k\""), []string{`backup "b": key_file:`}},
		{"no streams", block("target = \"/tmp/b\"\ninterval = \"1h\""), []string{`backup "b": streams: name at least one stream, or set all = true`}},
		{"empty streams", block("streams = []\ntarget = \"/tmp/b\"\ninterval = \"1h\""), []string{`backup "b": streams: name at least one stream`}},
		{"streams and all", block(okBlock + "\nall = true"), []string{`backup "b": streams: set streams or all = true, not both`}},
		{"bad stream name", block("streams = [\"A/B\"]\ntarget = \"/tmp/b\"\ninterval = \"1h\""), []string{`backup "b": streams[0]: "A/B" is not a stream name`}},
		{"stream twice", block("streams = [\"A\", \"A\"]\ntarget = \"/tmp/b\"\ninterval = \"1h\""), []string{`backup "b": streams: "A" is listed twice`}},
		{"retain count zero", block(okBlock + "\nretain { count = 0 }"), []string{`backup "b": retain: count: 0 is below 1`}},
		{"retain count negative", block(okBlock + "\nretain {\n count = -1\n max_age = \"1h\"\n}"), []string{`backup "b": retain: count: -1 is below 1`}},
		{"retain empty", block(okBlock + "\nretain {}"), []string{`backup "b": retain: count: 0 is below 1`}},
		{"retain bad max_age", block(okBlock + "\nretain {\n count = 2\n max_age = \"a month\"\n}"), []string{`backup "b": retain: max_age: "a month" is not a duration`}},
		{"empty target", block("streams = [\"S\"]\ntarget = \"\"\ninterval = \"1h\""), []string{`backup "b": target: empty`}},
		{"bad target scheme", block("streams = [\"S\"]\ntarget = \"ftp://host/x\"\ninterval = \"1h\""), []string{`backup "b": target: "ftp://host/x": scheme "ftp" is not s3 or file`}},
		{"target without bucket", block("streams = [\"S\"]\ntarget = \"s3:///x\"\ninterval = \"1h\""), []string{`backup "b": target: "s3:///x" has no bucket`}},
		{"duplicate block", block(okBlock) + block(okBlock), []string{`backup "b": declared twice`}},
		{"two blocks, one stream, one target",
			"backup \"x\" {\n" + okBlock + "\n}\nbackup \"y\" {\n" + okBlock + "\n}\n",
			[]string{`backup "x" and backup "y" both back up S to s3://bkt/p`}},
		{"retry attempts", "retry { attempts = 0 }\n" + block(okBlock), []string{"retry: attempts: 0 is below 1"}},
		{"retry backoffs", "retry {\n backoff = \"1m\"\n max_backoff = \"1s\"\n}\n" + block(okBlock), []string{"retry: max_backoff 1s is below backoff 1m"}},
		{"bad metrics address", `metrics = "9090"` + "\n" + block(okBlock), []string{`metrics: "9090" is not host:port`}},
		{"empty server", `servers = [""]` + "\n" + block(okBlock), []string{"servers[0]: empty address"}},
		{"every problem at once", block("streams = []\ntarget = \"/tmp/b\"\ninterval = \"1x\"\nlevel = \"max\""),
			[]string{"streams: name at least one stream", `interval: "1x"`, `level: unknown zstd level "max"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "backup.hcl")
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.src)
			}
			t.Log(err)
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%v is not ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestValidateProgrammatic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Jobs = []*Job{{Name: "j", All: true, Target: t.TempDir(), Interval: "1s", Jitter: "500ms"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Retry = nil // the defaults
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Jobs[0].Name = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "backup block without a name") {
		t.Errorf("nameless job: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"1s": time.Second, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "0d": 0,
	} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "1.5d", "1w", "1d2h", "abc"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q): no error", s)
		}
	}
}
