package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/stratadb/strata/client"
)

// defaultServer is where the client commands connect without -s or STRATA_URL.
const defaultServer = "127.0.0.1:4222"

// connOptions are the connection flags every client command shares.
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

// addFlags binds the connection flags, with defaults from the environment.
func (o *connOptions) addFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.servers, "server", "s", envOr("STRATA_URL", defaultServer),
		"server client `addresses`, comma separated (env STRATA_URL)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "time limit of each request")
	f.StringVar(&o.user, "user", "", "user name (env STRATA_USER)")
	f.StringVar(&o.password, "password", "", "password (env STRATA_PASSWORD)")
	f.StringVar(&o.token, "token", "", "token, instead of a user and password (env STRATA_TOKEN)")
	f.StringVar(&o.tlsCert, "tlscert", os.Getenv("STRATA_TLS_CERT"), "client certificate `file` (PEM) for a TLS port that verifies clients (env STRATA_TLS_CERT)")
	f.StringVar(&o.tlsKey, "tlskey", os.Getenv("STRATA_TLS_KEY"), "the client certificate's key `file` (env STRATA_TLS_KEY)")
	f.StringVar(&o.tlsCA, "tlsca", os.Getenv("STRATA_TLS_CA"), "CA `file` (PEM) the servers' certificates chain to; connects over TLS (env STRATA_TLS_CA)")
}

// tls returns the TLS config the flags ask for, or nil for plain text.
func (o *connOptions) tls() (*tls.Config, error) {
	if o.tlsCert == "" && o.tlsKey == "" && o.tlsCA == "" {
		return nil, nil
	}
	return client.LoadTLS(o.tlsCert, o.tlsKey, o.tlsCA)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// addrs returns the server addresses; "nats://"-like schemes are dropped.
func (o *connOptions) addrs() ([]string, error) {
	var out []string
	for _, a := range strings.Split(o.servers, ",") {
		a = strings.TrimSpace(a)
		if i := strings.Index(a, "://"); i >= 0 {
			a = a[i+3:]
		}
		if a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no server address: pass -s host:port or set STRATA_URL")
	}
	return out, nil
}

// connect connects to the servers within ctx.
func (o *connOptions) connect(ctx context.Context) (*client.Client, error) {
	addrs, err := o.addrs()
	if err != nil {
		return nil, err
	}
	return o.connectTo(ctx, addrs)
}

func (o *connOptions) connectTo(ctx context.Context, addrs []string) (*client.Client, error) {
	opts := client.DefaultOptions()
	opts.Addrs, opts.Timeout = addrs, o.timeout
	opts.User, opts.Password = o.user, o.password
	if opts.User == "" {
		opts.User = os.Getenv("STRATA_USER")
	}
	if opts.Password == "" {
		opts.Password = os.Getenv("STRATA_PASSWORD")
	}
	if opts.Token = o.token; opts.Token == "" {
		opts.Token = os.Getenv("STRATA_TOKEN")
	}
	tlsCfg, err := o.tls()
	if err != nil {
		return nil, err
	}
	opts.TLS = tlsCfg
	return client.ConnectOptions(ctx, opts)
}

// context bounds a short command (connect, call and retries) by --timeout.
func (o *connOptions) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return o.withTimeout(cmd.Context())
}

// withTimeout bounds ctx by --timeout.
func (o *connOptions) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if o.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, o.timeout)
}

// run connects within --timeout and calls fn with the client.
func (o *connOptions) run(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	ctx, cancel := o.context(cmd)
	defer cancel()
	c, err := o.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// runLong connects within --timeout and calls fn with the client and a
// context that ends on Ctrl-C (SIGINT or SIGTERM) rather than at
// --timeout: for the commands that wait for messages. Each request is
// still bounded by --timeout.
func (o *connOptions) runLong(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cctx, cancel := o.withTimeout(ctx)
	c, err := o.connect(cctx)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// isTerminal reports whether r or w is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// confirm asks whether to do action (e.g. "delete stream ORDERS") on a
// terminal. Without one it refuses, telling to pass -f.
func confirm(cmd *cobra.Command, action string) error {
	if !isTerminal(cmd.InOrStdin()) {
		return fmt.Errorf("refusing to %s without confirmation (stdin is not a terminal): pass -f", action)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Really %s? [y/N] ", action)
	answer, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not confirmed: did not %s", action)
}
