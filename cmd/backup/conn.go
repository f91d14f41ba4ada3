package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stratadb/strata/client"
)

// connOptions are the flags that say which cluster to talk to.
type connOptions struct {
	servers  string
	timeout  time.Duration
	user     string
	password string
	token    string
	tlsCert  string
	tlsKey   string
	tlsCA    string
}

func (o *connOptions) addFlags(f *pflag.FlagSet) {
	def := os.Getenv("STRATA_URL")
	if def == "" {
		def = "127.0.0.1:4222"
	}
	f.StringVarP(&o.servers, "server", "s", def, "server client `addresses`, comma separated (env STRATA_URL)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of each request (not of a whole backup)")
	f.StringVar(&o.user, "user", os.Getenv("STRATA_USER"), "user name (env STRATA_USER)")
	f.StringVar(&o.password, "password", os.Getenv("STRATA_PASSWORD"), "password (env STRATA_PASSWORD)")
	f.StringVar(&o.token, "token", os.Getenv("STRATA_TOKEN"), "token, instead of a user and password (env STRATA_TOKEN)")
	f.StringVar(&o.tlsCert, "tlscert", os.Getenv("STRATA_TLS_CERT"), "client certificate `file` (PEM) for a TLS port that verifies clients (env STRATA_TLS_CERT)")
	f.StringVar(&o.tlsKey, "tlskey", os.Getenv("STRATA_TLS_KEY"), "the client certificate's key `file` (env STRATA_TLS_KEY)")
	f.StringVar(&o.tlsCA, "tlsca", os.Getenv("STRATA_TLS_CA"), "CA `file` (PEM) the servers' certificates chain to; connects over TLS (env STRATA_TLS_CA)")
}

// connect connects to the servers, or to addrs when given (the agent's
// config may name them).
func (o *connOptions) connect(ctx context.Context, addrs ...string) (*client.Client, error) {
	if len(addrs) == 0 {
		for _, a := range strings.Split(o.servers, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, stripScheme(a))
			}
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("no server address: pass -s host:port or set STRATA_URL")
	}
	opts := client.DefaultOptions()
	opts.Addrs, opts.Timeout, opts.User, opts.Password, opts.Token = addrs, o.timeout, o.user, o.password, o.token
	if o.tlsCert != "" || o.tlsKey != "" || o.tlsCA != "" {
		cfg, err := client.LoadTLS(o.tlsCert, o.tlsKey, o.tlsCA)
		if err != nil {
			return nil, err
		}
		opts.TLS = cfg
	}
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return client.ConnectOptions(cctx, opts)
}

// stripScheme drops a "nats://"-like scheme.
func stripScheme(a string) string {
	if i := strings.Index(a, "://"); i >= 0 {
		return a[i+3:]
	}
	return a
}
