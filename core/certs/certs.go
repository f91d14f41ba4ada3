// Package certs owns a node's TLS material: it loads a certificate, its
// key and a CA bundle from files, reloads them when asked (a node does on
// SIGHUP) without dropping connections, and builds the tls.Configs of a
// port's server side and of the node's own outbound connections. The
// configs it builds read the material at each handshake, so a reload
// applies to every connection that starts after it.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Errors of loading TLS material.
var (
	// ErrNoCertificate is a config that names no certificate or no key.
	ErrNoCertificate = errors.New("certs: cert_file and key_file are required")
	// ErrNoCA is a config that verifies peers with no CA to verify them by.
	ErrNoCA = errors.New("certs: ca_file is required to verify peers")
	// ErrBadCA is a CA file with no PEM certificate in it.
	ErrBadCA = errors.New("certs: no certificate in ca_file")
)

// Files names a port's TLS material.
type Files struct {
	// CertFile and KeyFile are the PEM certificate (chain) and key the
	// port presents.
	CertFile, KeyFile string
	// CAFile is a PEM bundle of the CAs peers' certificates must chain to.
	CAFile string
	// Verify requires peers to present a certificate that chains to CAFile
	// (mutual TLS); without it, a server port accepts any client.
	Verify bool
}

// Validate checks that the files' settings go together.
func (f Files) Validate() error {
	if f.CertFile == "" || f.KeyFile == "" {
		return ErrNoCertificate
	}
	if f.Verify && f.CAFile == "" {
		return ErrNoCA
	}
	return nil
}

// Store holds a port's loaded material; Reload replaces it.
type Store struct {
	files Files

	mu   sync.RWMutex
	cert *tls.Certificate
	pool *x509.CertPool // nil: no CA file (the system's roots for clients)
}

// Load reads f's files.
func Load(f Files) (*Store, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	s := &Store{files: f}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the files again. On an error the material loaded before
// stays in use.
func (s *Store) Reload() error {
	cert, err := tls.LoadX509KeyPair(s.files.CertFile, s.files.KeyFile)
	if err != nil {
		return fmt.Errorf("certs: %s: %w", s.files.CertFile, err)
	}
	var pool *x509.CertPool
	if s.files.CAFile != "" {
		pem, err := os.ReadFile(s.files.CAFile)
		if err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%w: %s", ErrBadCA, s.files.CAFile)
		}
	}
	s.mu.Lock()
	s.cert, s.pool = &cert, pool
	s.mu.Unlock()
	return nil
}

// Files returns the files the store loads.
func (s *Store) Files() Files { return s.files }

func (s *Store) current() (*tls.Certificate, *x509.CertPool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert, s.pool
}

// ServerConfig is the server side of a port: it presents the current
// certificate and, with Verify, requires a client certificate that
// chains to the current CAs.
func (s *Store) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, pool := s.current()
			c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}, ClientCAs: pool}
			if s.files.Verify {
				c.ClientAuth = tls.RequireAndVerifyClientCert
			}
			return c, nil
		},
	}
}

// ClientConfig is the client side of the node's own connections to a
// port of another node: it presents the current certificate and checks
// the server's against the current CAs and the name dialed (set
// ServerName, or let gRPC set it from the target).
func (s *Store) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, _ := s.current()
			return cert, nil
		},
		// The standard check is done by VerifyConnection, against the CAs
		// loaded last rather than those of the config's creation.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, pool := s.current()
			return VerifyServer(cs, pool)
		},
	}
}

// VerifyServer is the check a TLS client makes by default (the chain to
// roots, nil meaning the system's, and the server name), for configs that
// must load their roots late.
func VerifyServer(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("certs: the server presented no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}
