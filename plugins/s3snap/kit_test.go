package s3snap_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/internal/s3test"
	"github.com/stratadb/strata/plugins/s3snap"
	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestConformance runs the storage conformance kit in process, over gRPC
// and against the built plugin binary (with kill -9 durability), on a real
// S3 server. The plugin process gets the server's address and credentials
// from the AWS environment variables, as in production.
func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	srv.Setenv(t)
	url := srv.Bucket(t, "conformance") + "/node-1"
	cfg, err := json.Marshal(map[string]any{"url": url, "part_size_mb": 5})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Suite{
		New:               func() pluginsdk.Plugin { return s3snap.New() },
		Config:            cfg,
		Binary:            storetest.BuildPlugin(t, "./cmd/strata-plugin-s3snap"),
		LargeSnapshotSize: 16 << 20,
	}.Run(t)
}

// TestKilledMidSnapshot kill -9s the plugin binary in the middle of a
// multipart snapshot upload: the snapshot is never listed, and the plugin's
// next start aborts the upload it left behind.
func TestKilledMidSnapshot(t *testing.T) {
	srv := s3test.Start(t)
	srv.Setenv(t)
	url := srv.Bucket(t, "killed") + "/node-1"
	cfg, _ := json.Marshal(map[string]any{"url": url, "part_size_mb": 5, "compression": "fastest"})
	bin := storetest.BuildPlugin(t, "./cmd/strata-plugin-s3snap")
	dir := t.TempDir()

	conn := storetest.Launch(t, bin, dir, cfg)
	done := writeSnapshot(t, conn.SnapshotStore("g"), 1, 10, []byte("complete"))
	sink, err := conn.SnapshotStore("g").Create(raft.SnapshotVersionMax, 20, 2, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{1})
	deadline := time.Now().Add(time.Minute)
	for len(uploads(t, srv, "killed")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no multipart upload started")
		}
		_, _ = rng.Read(noise)
		if _, err := sink.Write(noise); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Kill(conn.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for !conn.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("plugin did not exit after kill -9")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(uploads(t, srv, "killed")) == 0 {
		t.Fatal("the killed snapshot's upload is already gone")
	}

	conn = storetest.Launch(t, bin, dir, cfg)
	metas, err := conn.SnapshotStore("g").List()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 || metas[0].ID != done {
		t.Fatalf("List after kill -9 = %d snapshots, want only %s", len(metas), done)
	}
	if ups := uploads(t, srv, "killed"); len(ups) != 0 {
		t.Fatalf("uploads left after restart: %v", ups)
	}
}

func writeSnapshot(t *testing.T, s raft.SnapshotStore, term, index uint64, data []byte) string {
	t.Helper()
	sink, err := s.Create(raft.SnapshotVersionMax, index, term, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.ID()
}

func uploads(t *testing.T, srv *s3test.Server, bucket string) []string {
	t.Helper()
	out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}
