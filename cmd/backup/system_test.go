package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/s3test"
)

// env is a cluster, an S3 server with bucket "backups", and a client.
type env struct {
	cluster *clustertest.Cluster
	s3      *s3test.Server
	c       *client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	needBinaries(t)
	e := &env{s3: s3test.Start(t)}
	e.s3.Bucket(t, "backups")
	e.cluster = clustertest.Start(t, clustertest.Options{BinDir: binDir})
	e.c = e.cluster.Connect(t)
	return e
}

// run runs strata-backup with args and returns its stdout and stderr.
func (e *env) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := e.command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func (e *env) command(args ...string) *exec.Cmd {
	cmd := exec.Command(backupBin(), append([]string{"-s", e.cluster.URL()}, args...)...)
	cmd.Env = append(os.Environ(), e.s3.Env()...)
	return cmd
}

func (e *env) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := e.run(t, args...)
	if err != nil {
		t.Fatalf("strata-backup %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fill creates stream name (R1) and publishes n messages of size bytes of
// random (incompressible) data.
func (e *env) fill(t *testing.T, name string, n, size int) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.c.AddStream(ctx, client.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
		t.Fatal(err)
	}
	p, err := e.c.PublishAsync(ctx, 256)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range n {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		if _, err := p.Publish(fmt.Sprintf("%s.%d", name, i%4), data, client.WithHeader("n", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) uploads(t *testing.T) int {
	t.Helper()
	out, err := e.s3.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("backups")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// TestCLISaveLsVerifyRestore: the commands' happy path, their final
// lines, and a restore under another name.
func TestCLISaveLsVerifyRestore(t *testing.T) {
	e := newEnv(t)
	e.fill(t, "ORDERS", 2000, 512)
	e.fill(t, "EVENTS", 500, 128)
	out := e.mustRun(t, "save", "ORDERS", "s3://backups/strata", "--no-progress")
	if !strings.Contains(out, "saved ORDERS to s3://backups/strata/ORDERS/") || !strings.Contains(out, "2000 messages (seq 1-2000)") ||
		!strings.Contains(out, "chunks") {
		t.Fatalf("save printed %q", out)
	}
	out = e.mustRun(t, "save", "--all", "s3://backups/strata", "--no-progress")
	if !strings.Contains(out, "2 streams saved, 0 failed") {
		t.Fatalf("save --all printed %q", out)
	}
	out = e.mustRun(t, "ls", "s3://backups/strata")
	if strings.Count(out, "│ ORDERS │") != 2 || strings.Count(out, "│ EVENTS │") != 1 {
		t.Fatalf("ls printed\n%s", out)
	}
	out = e.mustRun(t, "verify", "s3://backups/strata/ORDERS")
	if !strings.Contains(out, "complete and intact") {
		t.Fatalf("verify printed %q", out)
	}
	// Under another name (its subjects must be free: EVENTS goes first).
	if err := e.c.DeleteStream(context.Background(), "EVENTS"); err != nil {
		t.Fatal(err)
	}
	out = e.mustRun(t, "restore", "s3://backups/strata/EVENTS", "--as", "EVENTS2", "--no-progress")
	if !strings.Contains(out, "restored EVENTS2") || !strings.Contains(out, "500 messages (seq 1-500)") {
		t.Fatalf("restore printed %q", out)
	}
	// Everything, as after losing the cluster.
	for _, name := range []string{"ORDERS", "EVENTS2"} {
		if err := e.c.DeleteStream(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	out = e.mustRun(t, "restore", "--all", "s3://backups/strata", "--no-progress")
	if !strings.Contains(out, "restored ORDERS") || !strings.Contains(out, "restored EVENTS") {
		t.Fatalf("restore --all printed %q", out)
	}
}

// TestCLIRestoreOntoExistingStream: the error, and nothing changed.
func TestCLIRestoreOntoExistingStream(t *testing.T) {
	e := newEnv(t)
	e.fill(t, "ORDERS", 100, 64)
	e.mustRun(t, "save", "ORDERS", "s3://backups/strata", "--no-progress")
	e.fill2(t, "ORDERS", 5)
	before, err := e.c.StreamInfo(context.Background(), "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, err := e.run(t, "restore", "s3://backups/strata/ORDERS", "--no-progress")
	if err == nil || !strings.Contains(errOut, "stream ORDERS already exists") {
		t.Fatalf("restore onto an existing stream: %v\n%s", err, errOut)
	}
	after, err := e.c.StreamInfo(context.Background(), "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if after.State != before.State || after.Created != before.Created {
		t.Fatalf("stream changed: %+v, was %+v", after.State, before.State)
	}
}

// fill2 publishes n more messages to an existing stream.
func (e *env) fill2(t *testing.T, name string, n int) {
	t.Helper()
	for i := range n {
		if _, err := e.c.Publish(context.Background(), name+".more", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCLICorruptBackupRefused flips one byte of a backup's data: verify
// and restore refuse it and nothing is created.
func TestCLICorruptBackupRefused(t *testing.T) {
	e := newEnv(t)
	e.fill(t, "ORDERS", 1000, 256)
	dir := t.TempDir()
	e.mustRun(t, "save", "ORDERS", dir, "--no-progress")
	datas, _ := filepath.Glob(filepath.Join(dir, "ORDERS", "*", "data.zst"))
	if len(datas) != 1 {
		t.Fatalf("data objects: %v", datas)
	}
	b, err := os.ReadFile(datas[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(datas[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := e.run(t, "verify", filepath.Join(dir, "ORDERS")); err == nil || !strings.Contains(errOut, "corrupt") {
		t.Fatalf("verify of a corrupt backup: %v\n%s", err, errOut)
	}
	_, errOut, err := e.run(t, "restore", filepath.Join(dir, "ORDERS"), "--as", "ORDERS2", "--no-progress")
	if err == nil || !strings.Contains(errOut, "corrupt") {
		t.Fatalf("restore of a corrupt backup: %v\n%s", err, errOut)
	}
	if _, err := e.c.StreamInfo(context.Background(), "ORDERS2"); err == nil {
		t.Fatal("a refused restore created the stream")
	}
}

// TestCLIKilledSaveLeavesNothing kills a save to S3 midway, by SIGTERM
// (it aborts its upload) and by SIGKILL (the next save aborts it): no
// backup looks complete and no multipart upload is left.
func TestCLIKilledSaveLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.fill(t, "ORDERS", 12_000, 4096) // ~48 MiB that does not compress: several parts
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		cmd := e.command("save", "ORDERS", "s3://backups/strata", "--no-progress")
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if !e.waitUpload(t, done) {
			t.Fatalf("the save ended before its multipart upload was seen:\n%s", errOut.String())
		}
		_ = cmd.Process.Signal(sig)
		if err := <-done; err == nil {
			t.Fatalf("save killed by %v exited 0", sig)
		}
		if out := e.mustRun(t, "ls", "s3://backups/strata"); !strings.Contains(out, "no backups") {
			t.Fatalf("after %v, ls shows\n%s", sig, out)
		}
		if sig == syscall.SIGTERM && e.uploads(t) != 0 {
			t.Fatalf("SIGTERM left %d multipart uploads:\n%s", e.uploads(t), errOut.String())
		}
	}
	// The next save aborts what the killed one left, and completes.
	e.mustRun(t, "save", "ORDERS", "s3://backups/strata", "--no-progress")
	if n := e.uploads(t); n != 0 {
		t.Fatalf("%d multipart uploads left after the next save", n)
	}
	if out := e.mustRun(t, "ls", "s3://backups/strata"); strings.Count(out, "ORDERS/") != 1 {
		t.Fatalf("ls after the next save:\n%s", out)
	}
}

// waitUpload polls until a multipart upload is in progress; false if
// the command ended first.
func (e *env) waitUpload(t *testing.T, done chan error) bool {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			return false
		default:
		}
		if e.uploads(t) > 0 {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no multipart upload within 60s")
	return false
}
