package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
)

// BenchmarkPublishSecurity measures R3 publishes of 128 B on a 3-server
// cluster in plain text with no accounts, then on one with TLS on every
// port (mutual on the client and cluster ports) and accounts (every call
// authenticated and authorized), in the same run: sync (one at a time,
// ns/op is the latency) and async (a window of 256).
//
//	go test -run '^$' -bench PublishSecurity -benchtime 3000x ./cmd/node/
func BenchmarkPublishSecurity(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		if secure {
			name = "tls+auth"
		}
		b.Run(name, func(b *testing.B) {
			c := securityClient(b, secure)
			ctx := context.Background()
			if _, err := c.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 128)
			b.Run("sync", func(b *testing.B) {
				for range b.N {
					if _, err := c.Publish(ctx, "ORDERS.bench", data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
			b.Run("async", func(b *testing.B) { benchAsync(b, c, data) })
		})
	}
}

// securityClient starts the benchmark's cluster and connects a client;
// with secure, TLS and accounts, as the app user (permissions checked on each call).
func securityClient(b *testing.B, secure bool) *client.Client {
	if !secure {
		return clustertest.Start(b, clustertest.Options{BinDir: binDir}).Connect(b)
	}
	cluster, _, clientTLS, _ := tlsClusterWith(b, accountsHCL(b), fmt.Sprintf("token = %q", clusterToken))
	return connectWith(b, cluster.Addrs(), func(o *client.Options) { o.TLS, o.User, o.Password = clientTLS, "app", "ppa" })
}

func benchAsync(b *testing.B, c *client.Client, data []byte) {
	ctx := context.Background()
	p, err := c.PublishAsync(ctx, 256)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	futures := make([]*client.AckFuture, 0, b.N)
	for range b.N {
		f, err := p.Publish("ORDERS.bench", data)
		if err != nil {
			b.Fatal(err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		if _, err := f.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
