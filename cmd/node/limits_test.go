package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
)

// TestLimitsRefusePublishes runs a server whose limits block lowers every
// limit: a publish beyond one is refused with an error naming it and
// stores nothing; one at the limit is stored.
func TestLimitsRefusePublishes(t *testing.T) {
	needBinaries(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir, Servers: 1,
		Extra: "limits {\n  max_payload = 1024\n  max_subject_length = 32\n  max_header_bytes = 64\n}\n"})
	c := cluster.Connect(t)
	ctx := context.Background()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "L", Subjects: []string{"L.>"}}); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, subject, want string
		data                []byte
		opts                []client.PubOpt
	}{
		{"payload", "L.x", "payload of 1025 bytes, max_payload is 1024", make([]byte, 1025), nil},
		{"subject", "L." + strings.Repeat("s", 31), "subject of 33 bytes, max_subject_length is 32", nil, nil},
		{"headers", "L.x", "headers of 65 bytes, max_header_bytes is 64", nil,
			[]client.PubOpt{client.WithHeader("K", strings.Repeat("v", 64))}},
	}
	for _, r := range refused {
		if _, err := c.Publish(ctx, r.subject, r.data, r.opts...); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: publish = %v, want an error with %q", r.name, err, r.want)
		}
	}
	ap, err := c.PublishAsync(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	f, err := ap.Publish("L.x", make([]byte, 1025))
	if err == nil {
		_, err = f.Wait(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "max_payload is 1024") {
		t.Errorf("async publish = %v, want an error naming max_payload", err)
	}
	if _, err := c.Publish(ctx, "L."+strings.Repeat("s", 30), make([]byte, 1024),
		client.WithHeader("K", strings.Repeat("v", 63))); err != nil {
		t.Fatalf("publish at every limit: %v", err)
	}
	info, err := c.StreamInfo(ctx, "L")
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream info = %+v, %v; want the one message at the limits", info, err)
	}
}
