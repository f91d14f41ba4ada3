package agent

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/core/backup/crypt"
	"github.com/stratadb/strata/internal/objstore"
)

// Config is the agent's configuration: an HCL file such as
//
//	servers = ["127.0.0.1:4222"]   # optional: else --server / STRATA_URL
//	metrics = "127.0.0.1:9090"     # optional: serve /metrics there
//	retry {                        # optional; these are the defaults
//	  attempts    = 5
//	  backoff     = "1s"
//	  max_backoff = "1m"
//	}
//	backup "orders" {
//	  streams  = ["ORDERS"]              # or all = true
//	  target   = "s3://backups/strata"   # or a local directory
//	  interval = "1h"                    # or cron = "0 */6 * * *"
//	  jitter   = "5m"                    # optional
//	  retain {                           # optional: else keep all
//	    count   = 7
//	    max_age = "720h"
//	  }
//	  level    = "fastest"               # optional zstd level
//	  key_file = "/etc/strata/backup.key" # optional: encrypt on the client
//	  sse      = "aws:kms"               # optional: AES256 or aws:kms
//	  sse_kms_key_id = "arn:aws:kms:..."  # optional, with aws:kms
//	}
//
// (HCL allows one attribute only in a block written on one line.)
// Durations are Go durations ("90s", "1h30m") or whole days ("30d").
// Values stay as written; Validate checks them and New compiles them.
type Config struct {
	// Servers are the cluster's client addresses; empty means the
	// command's --server flag or STRATA_URL.
	Servers []string `hcl:"servers,optional"`
	// Metrics is the address /metrics is served on; empty means none.
	Metrics string `hcl:"metrics,optional"`
	// Retry says how a failed backup is retried.
	Retry *RetryConfig `hcl:"retry,block"`
	// Jobs are the backup blocks.
	Jobs []*Job `hcl:"backup,block"`
}

// RetryConfig bounds the retries of a failed backup: Attempts tries in
// all, waiting Backoff after the first failure, doubling up to MaxBackoff.
type RetryConfig struct {
	Attempts   int    `hcl:"attempts,optional"`
	Backoff    string `hcl:"backoff,optional"`
	MaxBackoff string `hcl:"max_backoff,optional"`
}

// Job is one backup block: which streams, where, when, and what to keep.
type Job struct {
	Name string `hcl:"name,label"`
	// Streams are backed up one after the other at each run; with All,
	// every stream the cluster has at the time of the run.
	Streams []string `hcl:"streams,optional"`
	All     bool     `hcl:"all,optional"`
	// Target is "s3://bucket/prefix" or a local directory.
	Target string `hcl:"target"`
	// Interval or Cron (exactly one): a duration between runs (the first
	// run is at start), or a standard 5-field cron expression in local
	// time (or with a CRON_TZ= prefix; @daily and such work too).
	Interval string `hcl:"interval,optional"`
	Cron     string `hcl:"cron,optional"`
	// Jitter delays each run by a random duration below it.
	Jitter string `hcl:"jitter,optional"`
	// Retain prunes older backups after a newer one completes; nil keeps
	// every backup.
	Retain *RetainConfig `hcl:"retain,block"`
	// Level is the zstd level: fastest (the default), default, better
	// or best.
	Level string `hcl:"level,optional"`
	// KeyFile, if set, holds the 32-byte key (64 hex digits or base64)
	// that encrypts the job's backups on the client (core/backup/crypt).
	KeyFile string `hcl:"key_file,optional"`
	// SSE asks S3 to encrypt the objects: "AES256" (SSE-S3) or "aws:kms"
	// (SSE-KMS, with SSEKMSKeyID or the AWS managed key).
	SSE         string `hcl:"sse,optional"`
	SSEKMSKeyID string `hcl:"sse_kms_key_id,optional"`
}

// RetainConfig is a job's retention: keep the newest Count backups of
// each stream (0: no limit by count) and none older than MaxAge (empty:
// no limit by age). The newest backup is always kept.
type RetainConfig struct {
	Count  int    `hcl:"count,optional"`
	MaxAge string `hcl:"max_age,optional"`
}

// Defaults of the retry block.
const (
	DefaultAttempts   = 5
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = time.Minute
)

// ErrConfig marks configuration errors.
var ErrConfig = errors.New("config")

// DefaultConfig returns a config with the default retries and no jobs.
func DefaultConfig() Config {
	return Config{Retry: &RetryConfig{
		Attempts:   DefaultAttempts,
		Backoff:    DefaultBackoff.String(),
		MaxBackoff: DefaultMaxBackoff.String(),
	}}
}

// LoadFile reads an HCL config over the defaults and validates it.
func LoadFile(path string) (Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return Parse(src, path)
}

// Parse parses HCL source named filename over the defaults and
// validates it. Unknown keys and blocks are errors.
func Parse(src []byte, filename string) (Config, error) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return Config{}, diagError(diags)
	}
	c := DefaultConfig()
	if diags := gohcl.DecodeBody(f.Body, nil, &c); diags.HasErrors() {
		return Config{}, diagError(diags)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func diagError(diags hcl.Diagnostics) error {
	var errs []error
	for _, d := range diags.Errs() {
		errs = append(errs, d)
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// Validate reports every problem of the config, each naming its block
// and field.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// plan is a validated config in the form the agent runs.
type plan struct {
	retry retryPolicy
	jobs  []*job
}

// retryPolicy is the compiled retry block.
type retryPolicy struct {
	attempts    int
	base, limit time.Duration
}

// job is a compiled backup block.
type job struct {
	name     string
	streams  []string
	all      bool
	target   string
	schedule Schedule
	when     string // the schedule as written, for logs
	interval bool   // schedule is an interval: the first run is at start
	jitter   time.Duration
	retain   backup.Retention
	prune    bool
	level    zstd.EncoderLevel
	key      []byte // nil: no client-side encryption
	sse      objstore.SSE
}

// compile checks the config and turns it into a plan; the error joins
// every problem found.
func (c Config) compile() (*plan, error) {
	v := &validator{}
	p := &plan{retry: v.retry(c.Retry)}
	for i, a := range c.Servers {
		if strings.TrimSpace(a) == "" {
			v.errf("servers[%d]: empty address", i)
		}
	}
	if c.Metrics != "" {
		if _, _, err := net.SplitHostPort(c.Metrics); err != nil {
			v.errf("metrics: %q is not host:port: %v", c.Metrics, err)
		}
	}
	if len(c.Jobs) == 0 {
		v.errf("no backup block: nothing to do")
	}
	names := map[string]bool{}
	for _, j := range c.Jobs {
		if j == nil {
			continue
		}
		if names[j.Name] {
			v.errf("backup %q: declared twice", j.Name)
		}
		names[j.Name] = true
		p.jobs = append(p.jobs, v.job(j))
	}
	v.overlaps(p.jobs)
	if err := v.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// validator collects the problems of a config.
type validator struct{ errs []error }

func (v *validator) errf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(v.errs...))
}

func (v *validator) retry(r *RetryConfig) retryPolicy {
	d := DefaultConfig().Retry
	if r == nil {
		r = d
	}
	p := retryPolicy{attempts: r.Attempts}
	if p.attempts < 1 {
		v.errf("retry: attempts: %d is below 1", r.Attempts)
	}
	p.base = v.duration("retry", "backoff", cmp.Or(r.Backoff, d.Backoff), true)
	p.limit = v.duration("retry", "max_backoff", cmp.Or(r.MaxBackoff, d.MaxBackoff), true)
	if p.limit < p.base {
		v.errf("retry: max_backoff %s is below backoff %s", p.limit, p.base)
	}
	return p
}

func (v *validator) job(j *Job) *job {
	where := fmt.Sprintf("backup %q", j.Name)
	out := &job{name: j.Name, streams: j.Streams, all: j.All, target: j.Target}
	if j.Name == "" {
		v.errf("backup block without a name: write backup \"NAME\" { ... }")
	}
	v.streams(where, j)
	v.target(where, j.Target)
	v.schedule(where, j, out)
	if j.Retain != nil {
		out.retain, out.prune = v.retain(where, j.Retain), true
	}
	out.level = zstd.SpeedFastest
	if j.Level != "" {
		ok, level := zstd.EncoderLevelFromString(j.Level)
		if !ok {
			v.errf("%s: level: unknown zstd level %q: fastest, default, better or best", where, j.Level)
		}
		out.level = level
	}
	v.encryption(where, j, out)
	return out
}

// storeKey tells the job's store apart: jobs on one target with the same
// server-side encryption share a store.
func (j *job) storeKey() string { return j.target + "|" + j.sse.Mode + "|" + j.sse.KMSKeyID }

func (v *validator) encryption(where string, j *Job, out *job) {
	if j.KeyFile != "" {
		key, err := crypt.KeyFile(j.KeyFile)
		if err != nil {
			v.errf("%s: key_file: %v", where, err)
		}
		out.key = key
	}
	out.sse = objstore.SSE{Mode: j.SSE, KMSKeyID: j.SSEKMSKeyID}
	if err := out.sse.Validate(); err != nil {
		v.errf("%s: sse: %v", where, err)
	}
}

func (v *validator) streams(where string, j *Job) {
	switch {
	case j.All && len(j.Streams) > 0:
		v.errf("%s: streams: set streams or all = true, not both", where)
	case !j.All && len(j.Streams) == 0:
		v.errf("%s: streams: name at least one stream, or set all = true", where)
	}
	seen := map[string]bool{}
	for i, s := range j.Streams {
		switch {
		case strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/\\ \t\n*>."):
			v.errf("%s: streams[%d]: %q is not a stream name", where, i, s)
		case seen[s]:
			v.errf("%s: streams: %q is listed twice", where, s)
		}
		seen[s] = true
	}
}

func (v *validator) target(where, target string) {
	if target == "" {
		v.errf("%s: target: empty: give s3://bucket/prefix or a directory", where)
		return
	}
	scheme, rest, ok := strings.Cut(target, "://")
	switch {
	case !ok:
	case scheme == "s3":
		if bucket, _, _ := strings.Cut(rest, "/"); bucket == "" {
			v.errf("%s: target: %q has no bucket", where, target)
		}
	case scheme != "file":
		v.errf("%s: target: %q: scheme %q is not s3 or file", where, target, scheme)
	}
}

func (v *validator) schedule(where string, j *Job, out *job) {
	switch {
	case j.Interval != "" && j.Cron != "":
		v.errf("%s: set interval or cron, not both", where)
	case j.Interval == "" && j.Cron == "":
		v.errf("%s: set interval or cron: when to run", where)
	case j.Interval != "":
		out.when = "every " + j.Interval
		out.schedule, out.interval = Every(v.duration(where, "interval", j.Interval, true)), true
	default:
		out.when = "cron " + j.Cron
		s, err := ParseCron(j.Cron)
		if err != nil {
			v.errf("%s: cron: %q: %v", where, j.Cron, err)
		}
		out.schedule = s
	}
	if j.Jitter == "" {
		return
	}
	out.jitter = v.duration(where, "jitter", j.Jitter, false)
	if every, ok := out.schedule.(Every); ok && every > 0 && out.jitter >= time.Duration(every) {
		v.errf("%s: jitter: %s must be shorter than the interval %s", where, j.Jitter, j.Interval)
	}
}

func (v *validator) retain(where string, r *RetainConfig) backup.Retention {
	out := backup.Retention{Count: r.Count}
	if r.Count < 0 || r.Count == 0 && r.MaxAge == "" {
		v.errf("%s: retain: count: %d is below 1 (keep at least one backup, or set only max_age)", where, r.Count)
	}
	if r.MaxAge != "" {
		out.MaxAge = v.duration(where+": retain", "max_age", r.MaxAge, true)
	}
	return out
}

// duration parses field of block where. Negative durations are errors,
// and so is zero when positive is set.
func (v *validator) duration(where, field, s string, positive bool) time.Duration {
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		v.errf("%s: %s: %v", where, field, err)
	case d < 0:
		v.errf("%s: %s: %q is negative", where, field, s)
	case d == 0 && positive:
		v.errf("%s: %s: %q must be above zero", where, field, s)
	}
	return d
}

// overlaps refuses two jobs that back up a named stream to one target:
// their retentions would prune each other's backups.
func (v *validator) overlaps(jobs []*job) {
	owner := map[[2]string]string{}
	for _, j := range jobs {
		for _, s := range j.streams {
			k := [2]string{strings.TrimSuffix(j.target, "/"), s}
			if other, ok := owner[k]; ok && other != j.name {
				v.errf("backup %q and backup %q both back up %s to %s", other, j.name, s, j.target)
			}
			owner[k] = j.name
		}
	}
}

// ParseDuration parses a Go duration ("90s", "1h30m") or whole days
// ("30d").
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (such as 90s, 1h30m or 30d)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (such as 90s, 1h30m or 30d)", s)
	}
	return d, nil
}
