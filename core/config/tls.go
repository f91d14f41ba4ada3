package config

import (
	"fmt"
	"path/filepath"

	"github.com/stratadb/strata/core/certs"
)

// TLS is a `tls {}` block: the certificate a port presents, the CAs its
// peers' certificates must chain to, and whether it requires them. The
// top-level `tls` is the client port's, `http_tls` the HTTP port's and
// `cluster { tls {} }` the cluster port's, which always verifies: a
// server without a certificate the cluster trusts cannot join, vote or
// append entries. Relative paths are taken from the config file's
// directory.
type TLS struct {
	CertFile string `hcl:"cert_file,optional"`
	KeyFile  string `hcl:"key_file,optional"`
	CAFile   string `hcl:"ca_file,optional"`
	// Verify requires clients to present a certificate that chains to
	// ca_file (mutual TLS).
	Verify bool `hcl:"verify,optional"`
}

// Files returns the block as certs takes it.
func (t *TLS) Files() certs.Files {
	return certs.Files{CertFile: t.CertFile, KeyFile: t.KeyFile, CAFile: t.CAFile, Verify: t.Verify}
}

// resolve takes the block's relative paths from baseDir.
func (t *TLS) resolve(baseDir string) {
	for _, p := range []*string{&t.CertFile, &t.KeyFile, &t.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
}

func (c *Config) validateTLS() error {
	var cluster *TLS
	if c.Cluster != nil {
		cluster = c.Cluster.TLS
	}
	for i, t := range []*TLS{c.TLS, c.HTTPTLS, cluster} {
		key := [...]string{"tls", "http_tls", "cluster.tls"}[i]
		if t == nil {
			continue
		}
		if err := t.Files().Validate(); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if key == "cluster.tls" && t.CAFile == "" {
			return fmt.Errorf("cluster.tls: ca_file: required (the cluster port always verifies its peers)")
		}
	}
	return nil
}
