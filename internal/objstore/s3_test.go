package objstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratadb/strata/internal/s3test"
)

// TestOpenS3FromEnv opens "s3://bucket/prefix" the way the tools do, with
// the endpoint and credentials from the AWS environment variables.
func TestOpenS3FromEnv(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "envbucket")
	srv.Setenv(t)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)

	st, err := Open(ctxT(t), "s3://envbucket/backups/daily/")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.String(); got != "s3://envbucket/backups/daily" {
		t.Fatalf("String() = %q", got)
	}
	s := st.(*S3)
	if o := s.Client().Options(); !o.UsePathStyle || aws.ToString(o.BaseEndpoint) != srv.Endpoint {
		t.Fatalf("client endpoint %q path-style %v", aws.ToString(o.BaseEndpoint), o.UsePathStyle)
	}
	put(t, st, "ORDERS/manifest.json", []byte("{}"))
	// The object is under the prefix in the bucket.
	_, err = srv.Client().HeadObject(ctxT(t), &s3.HeadObjectInput{
		Bucket: aws.String("envbucket"), Key: aws.String("backups/daily/ORDERS/manifest.json"),
	})
	if err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}

	// A store on the bucket's root sees the prefix in its keys.
	root, err := Open(ctxT(t), "s3://envbucket")
	if err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, root, ""); !equal(ks, []string{"backups/daily/ORDERS/manifest.json"}) {
		t.Fatalf("root List = %v", ks)
	}
	if root.String() != "s3://envbucket/" {
		t.Fatalf("root String() = %q", root.String())
	}
}

func TestOpenS3Defaults(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	s, err := NewS3(ctxT(t), "b", "")
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Client().Options(); o.Region != DefaultRegion || o.UsePathStyle {
		t.Fatalf("region %q path-style %v; want %q, virtual-hosted", o.Region, o.UsePathStyle, DefaultRegion)
	}
	s, err = NewS3(ctxT(t), "b", "", WithRegion("eu-west-3"), WithEndpoint("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Client().Options(); o.Region != "eu-west-3" || !o.UsePathStyle || aws.ToString(o.BaseEndpoint) != "http://127.0.0.1:1" {
		t.Fatalf("options not applied: region %q path-style %v endpoint %q", o.Region, o.UsePathStyle, aws.ToString(o.BaseEndpoint))
	}
}

func TestOpenBadURLsAndOptions(t *testing.T) {
	for _, url := range []string{"", "s3://", "s3:///prefix", "gs://bucket/x", "s3://b/a/../x"} {
		if _, err := Open(ctxT(t), url); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("Open(%q): %v, want ErrInvalidURL", url, err)
		}
	}
	if _, err := Open(ctxT(t), "s3://b", WithPartSize(1<<20)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("1 MiB parts: %v, want ErrInvalidOption", err)
	}
	if _, err := Open(ctxT(t), "s3://b", WithConcurrency(0)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("concurrency 0: %v, want ErrInvalidOption", err)
	}
	dir := t.TempDir() + "/sub"
	st, err := Open(ctxT(t), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*Dir); !ok || st.String() != dir {
		t.Fatalf("file URL gave %T %q", st, st.String())
	}
}

// TestAbortStaleUploadsAfterKill kills a process in the middle of a
// multipart upload: the upload stays behind, invisible to List, until
// AbortStaleUploads removes it.
func TestAbortStaleUploadsAfterKill(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "killed")
	s := newTestS3(t, srv, "killed", "p")
	started := time.Now().Add(-time.Minute)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledWriter$", "-test.v")
	cmd.Env = append(os.Environ(), srv.Env()...)
	cmd.Env = append(cmd.Env, "OBJSTORE_HELPER_URL=s3://killed/p", "AWS_CONFIG_FILE="+os.DevNull)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitLine(t, stdout, "WRITING")
	pending := s3Pending(s)
	deadline := time.Now().Add(30 * time.Second)
	for len(pending(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the helper started no multipart upload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("killed upload is listed: %v", ks)
	}
	if n, err := s.AbortStaleUploads(ctxT(t), "", started); err != nil || n != 0 {
		t.Fatalf("AbortStaleUploads(before the upload) = %d, %v; want 0", n, err)
	}
	if n, err := s.AbortStaleUploads(ctxT(t), "other/", time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("AbortStaleUploads(other prefix) = %d, %v; want 0", n, err)
	}
	if len(pending(t)) == 0 {
		t.Fatal("the killed upload is gone before AbortStaleUploads")
	}
	n, err := s.AbortStaleUploads(ctxT(t), "", time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("AbortStaleUploads = %d, %v; want 1", n, err)
	}
	if p := pending(t); len(p) != 0 {
		t.Fatalf("uploads left: %v", p)
	}
}

// TestHelperKilledWriter is the process TestAbortStaleUploadsAfterKill
// kills: it writes three parts and then waits forever.
func TestHelperKilledWriter(t *testing.T) {
	url := os.Getenv("OBJSTORE_HELPER_URL")
	if url == "" {
		t.Skip("run by TestAbortStaleUploadsAfterKill")
	}
	ctx := context.Background()
	st, err := Open(ctx, url, WithPartSize(int64(testPartSize)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Create(ctx, "victim/data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randBytes(3*testPartSize, 7)); err != nil {
		t.Fatal(err)
	}
	fmt.Println("WRITING")
	select {}
}

func waitLine(t *testing.T, r interface{ Read([]byte) (int, error) }, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- true
				for sc.Scan() {
				}
				return
			}
			t.Log("helper: " + sc.Text())
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("helper exited before printing %q", want)
		}
	case <-time.After(time.Minute):
		t.Fatalf("helper did not print %q", want)
	}
}

func TestCheck(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "there")
	if err := newTestS3(t, srv, "there", "").Check(ctxT(t)); err != nil {
		t.Fatalf("Check of an existing bucket: %v", err)
	}
	if err := newTestS3(t, srv, "missing", "").Check(ctxT(t)); err == nil {
		t.Fatal("Check of a missing bucket succeeded")
	}
	bad := *srv
	bad.SecretKey = "wrong"
	if err := newTestS3(t, &bad, "there", "").Check(ctxT(t)); err == nil {
		t.Fatal("Check with a wrong secret succeeded")
	}
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctxT(t)); err != nil {
		t.Fatalf("Check of a directory: %v", err)
	}
	if ks := keys(t, d, ""); len(ks) != 0 {
		t.Fatalf("Check left %v", ks)
	}
}

// TestCancelledCreateLeavesNoUpload: a writer whose context ends while
// CreateMultipartUpload is in flight never learns the upload's id, though
// S3 may have started the upload; the failed writer then aborts every
// upload of its own key, and leaves other keys' uploads alone.
func TestCancelledCreateLeavesNoUpload(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "cut")
	s := newTestS3(t, srv, "cut", "p")
	for _, key := range []string{"p/ORDERS/1/data.zst", "p/OTHER/1/data.zst"} {
		if _, err := srv.Client().CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{
			Bucket: aws.String("cut"), Key: aws.String(key),
		}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.abortFailed(ctx, "ORDERS/1/data.zst", fmt.Errorf("CreateMultipartUpload: %w", context.Canceled)); err != nil {
		t.Fatal(err)
	}
	p := s3Pending(s)(t)
	if len(p) != 1 || !strings.HasPrefix(p[0], "p/OTHER/1/data.zst ") {
		t.Fatalf("uploads left: %v; want only OTHER's", p)
	}
}
