package node

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/stratadb/strata/core/certs"
	"github.com/stratadb/strata/core/config"
)

// portTLS is the TLS material of the node's ports; a nil store is a
// plain-text port.
type portTLS struct {
	client, http, cluster *certs.Store
}

// loadTLS reads the certificates the config names.
func (n *Node) loadTLS() error {
	for _, p := range []struct {
		key   string
		block *config.TLS
		dst   **certs.Store
		force bool // verify whatever the block says
	}{
		{"tls", n.cfg.TLS, &n.tls.client, false},
		{"http_tls", n.cfg.HTTPTLS, &n.tls.http, false},
		{"cluster.tls", n.cfg.Cluster.TLS, &n.tls.cluster, true},
	} {
		if p.block == nil {
			continue
		}
		f := p.block.Files()
		f.Verify = f.Verify || p.force
		s, err := certs.Load(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p.key, err)
		}
		*p.dst = s
	}
	return nil
}

// ReloadTLS reads every port's certificate, key and CA files again (a
// node does on SIGHUP); connections that start afterwards use them. A
// port whose files fail to load keeps what it had, and the error names
// it.
func (n *Node) ReloadTLS() error {
	var errs []error
	for key, s := range map[string]*certs.Store{"tls": n.tls.client, "http_tls": n.tls.http, "cluster.tls": n.tls.cluster} {
		if s == nil {
			continue
		}
		if err := s.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		n.logger.Info("reloaded TLS certificates", "port", key, "cert_file", s.Files().CertFile)
	}
	return errors.Join(errs...)
}

// serverTLS and clientTLS are a store's configs, nil for a plain port.
func serverTLS(s *certs.Store) *tls.Config {
	if s == nil {
		return nil
	}
	return s.ServerConfig()
}

func clientTLS(s *certs.Store) *tls.Config {
	if s == nil {
		return nil
	}
	return s.ClientConfig()
}
