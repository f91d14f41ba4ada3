package storetest

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// mutualTLS: the plugin's gRPC server answers only the host that
// launched it. A client without TLS, and a TLS client without the
// host's certificate, are both refused, while the host's own connection
// works.
func (s Suite) mutualTLS(t *testing.T) {
	conn := Launch(t, s.Binary, t.TempDir(), s.Config)
	addr := conn.Addr()
	if addr == nil {
		t.Fatal("plugin has no address")
	}
	// Launch configured the plugin over the host's own connection.
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())
	if err := healthCheck(addr, plain); err == nil {
		t.Fatal("a plain-text client was answered: the plugin does not require TLS")
	}
	noCert := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}))
	if err := healthCheck(addr, noCert); err == nil {
		t.Fatal("a TLS client without the host's certificate was answered: the plugin does not require mutual TLS")
	}
}

// healthCheck asks the go-plugin health service at addr over a new
// connection with creds.
func healthCheck(addr net.Addr, creds grpc.DialOption) error {
	target := addr.String()
	if addr.Network() == "unix" {
		target = "unix://" + target
	}
	cc, err := grpc.NewClient(target, creds)
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
	return err
}
