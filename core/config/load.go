package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// file is the HCL file's shape. Blocks are pointers so that an absent
// block keeps the defaults.
type file struct {
	ServerName *string   `hcl:"server_name"`
	Listen     *string   `hcl:"listen"`
	HTTP       *string   `hcl:"http"`
	DataDir    *string   `hcl:"data_dir"`
	Tags       *[]string `hcl:"tags"`
	LogLevel   *string   `hcl:"log_level"`
	// RequirePluginChecksums is Config.RequirePluginChecksums.
	RequirePluginChecksums *bool         `hcl:"require_plugin_checksums"`
	Cluster                *Cluster      `hcl:"cluster,block"`
	Storage                *Storage      `hcl:"storage,block"`
	Limits                 *Limits       `hcl:"limits,block"`
	TLS                    *TLS          `hcl:"tls,block"`
	HTTPTLS                *TLS          `hcl:"http_tls,block"`
	Accounts               *accountsBody `hcl:"accounts,block"`
	SystemAccount          *string       `hcl:"system_account"`
	HTTPAuth               *bool         `hcl:"http_auth"`
	Plugins                []pluginFile  `hcl:"plugin,block"`
}

type pluginFile struct {
	Name       string      `hcl:"name,label"`
	Path       string      `hcl:"path,optional"`
	SHA256     string      `hcl:"sha256,optional"`
	GoMaxProcs int         `hcl:"gomaxprocs,optional"`
	Config     *configBody `hcl:"config,block"`
}

type configBody struct {
	Body hcl.Body `hcl:",remain"`
}

// LoadFile reads an HCL config over the defaults. Relative plugin paths
// are taken from the config file's directory.
func LoadFile(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(src, path)
}

// Parse parses HCL source named filename over the defaults.
func Parse(src []byte, filename string) (*Config, error) {
	if err := checkNumbers(src, filename); err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(diags, src)
	}
	var raw file
	if diags := gohcl.DecodeBody(f.Body, nil, &raw); diags.HasErrors() {
		return nil, diagError(diags, src)
	}
	c := Default()
	if err := raw.apply(c, filepath.Dir(filename)); err != nil {
		return nil, err
	}
	if raw.Accounts != nil {
		accounts, err := decodeAccounts(raw.Accounts, src)
		if err != nil {
			return nil, err
		}
		c.Accounts = accounts
	}
	return c, nil
}

func (f *file) apply(c *Config, baseDir string) error {
	setIf(&c.ServerName, f.ServerName)
	setIf(&c.Listen, f.Listen)
	setIf(&c.HTTP, f.HTTP)
	setIf(&c.DataDir, f.DataDir)
	setIf(&c.Tags, f.Tags)
	setIf(&c.LogLevel, f.LogLevel)
	setIf(&c.RequirePluginChecksums, f.RequirePluginChecksums)
	setIf(&c.SystemAccount, f.SystemAccount)
	setIf(&c.HTTPAuth, f.HTTPAuth)
	if f.Cluster != nil {
		if f.Cluster.TLS != nil {
			f.Cluster.TLS.resolve(baseDir)
		}
		mergeCluster(c.Cluster, f.Cluster)
	}
	if f.Storage != nil {
		mergeStorage(c.Storage, f.Storage)
	}
	if f.Limits != nil {
		c.Limits = f.Limits
	}
	for _, t := range []struct{ dst, src **TLS }{{&c.TLS, &f.TLS}, {&c.HTTPTLS, &f.HTTPTLS}} {
		if *t.src != nil {
			(*t.src).resolve(baseDir)
			*t.dst = *t.src
		}
	}
	for _, pf := range f.Plugins {
		p, err := pf.plugin(baseDir)
		if err != nil {
			return err
		}
		if c.Plugin(p.Name) != nil {
			return fmt.Errorf("config: plugin %q: declared twice", p.Name)
		}
		c.Plugins = append(c.Plugins, p)
	}
	return nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func mergeCluster(dst, src *Cluster) {
	if src.Name != "" {
		dst.Name = src.Name
	}
	if src.Listen != "" {
		dst.Listen = src.Listen
	}
	if src.Advertise != "" {
		dst.Advertise = src.Advertise
	}
	if src.Routes != nil {
		dst.Routes = src.Routes
	}
	if src.BootstrapExpect != 0 {
		dst.BootstrapExpect = src.BootstrapExpect
	}
	if src.Raft != nil {
		dst.Raft = src.Raft
	}
	if src.TLS != nil {
		dst.TLS = src.TLS
	}
	if src.Token != "" {
		dst.Token = src.Token
	}
}

func mergeStorage(dst, src *Storage) {
	for _, f := range []struct{ d, s *string }{
		{&dst.Log, &src.Log}, {&dst.Stable, &src.Stable}, {&dst.Snapshot, &src.Snapshot},
		{&dst.PluginRestartTimeout, &src.PluginRestartTimeout}, {&dst.PluginCallTimeout, &src.PluginCallTimeout},
		{&dst.MinFree, &src.MinFree},
	} {
		if *f.s != "" {
			*f.d = *f.s
		}
	}
}

func (pf pluginFile) plugin(baseDir string) (*Plugin, error) {
	p := &Plugin{Name: pf.Name, Path: pf.Path, SHA256: pf.SHA256, GoMaxProcs: pf.GoMaxProcs, ConfigJSON: []byte("{}")}
	if p.Path != "" && !filepath.IsAbs(p.Path) {
		p.Path = filepath.Join(baseDir, p.Path)
	}
	if pf.Config != nil {
		js, err := bodyJSON(pf.Config.Body)
		if err != nil {
			return nil, fmt.Errorf("config: plugin %q: config: %w", pf.Name, err)
		}
		p.ConfigJSON = js
	}
	return p, nil
}

// bodyJSON turns a block of plain attributes into a JSON object.
func bodyJSON(body hcl.Body) ([]byte, error) {
	attrs, diags := body.JustAttributes()
	if diags.HasErrors() {
		return nil, diagError(diags, nil)
	}
	vals := map[string]cty.Value{}
	for name, attr := range attrs {
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diagError(diags, nil)
		}
		vals[name] = v
	}
	obj := cty.ObjectVal(vals)
	return ctyjson.Marshal(obj, obj.Type())
}

// checkNumbers refuses a number literal beyond float64's range before HCL
// sees it: HCL holds numbers as arbitrary-precision floats, and turning
// one like 9e99999999 into a string or an int takes minutes and GiBs
// (found by FuzzParse).
func checkNumbers(src []byte, filename string) error {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	for _, tok := range tokens {
		if tok.Type != hclsyntax.TokenNumberLit {
			continue
		}
		if _, err := strconv.ParseFloat(string(tok.Bytes), 64); err != nil {
			return fmt.Errorf("config: %s: %snumber %.40q is out of range", tok.Range, sourceLine(src, tok.Range.Start.Line), tok.Bytes)
		}
	}
	return nil
}

// diagError is HCL's diagnostics as one error: file:line: the line's
// text (which names the key), the summary and the detail.
func diagError(diags hcl.Diagnostics, src []byte) error {
	var errs []error
	for _, d := range diags.Errs() {
		var de *hcl.Diagnostic
		if errors.As(d, &de) && de.Subject != nil {
			errs = append(errs, fmt.Errorf("%s: %s%s; %s", de.Subject, sourceLine(src, de.Subject.Start.Line),
				de.Summary, de.Detail))
			continue
		}
		errs = append(errs, d)
	}
	return fmt.Errorf("config: %w", errors.Join(errs...))
}

// sourceLine returns line n (1-based) of src, trimmed, followed by ": ".
func sourceLine(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) || strings.TrimSpace(lines[n-1]) == "" {
		return ""
	}
	return "`" + strings.TrimSpace(lines[n-1]) + "`: "
}
