package s3test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestServerRoundTrip(t *testing.T) {
	srv := Start(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on 127.0.0.1", srv.Endpoint)
	}
	if got := srv.Bucket(t, "roundtrip"); got != "s3://roundtrip" {
		t.Fatalf("Bucket returned %q", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := srv.Client()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("roundtrip"), Key: aws.String("a/b"), Body: strings.NewReader("hello"),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("roundtrip"), Key: aws.String("a/b")})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || string(body) != "hello" {
		t.Fatalf("got %q, %v", body, err)
	}
	// The posix backend keeps the object as a file in the served directory.
	if _, err := os.Stat(filepath.Join(srv.Dir, "roundtrip", "a", "b")); err != nil {
		t.Fatalf("object not in the served directory: %v", err)
	}
}

func TestServerWrongSecretRefused(t *testing.T) {
	srv := Start(t)
	srv.Bucket(t, "bucket")
	bad := *srv
	bad.SecretKey = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bad.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket")}); err == nil {
		t.Fatal("a request signed with the wrong secret succeeded")
	}
}

func TestServerStop(t *testing.T) {
	srv := Start(t)
	if !srv.Running() {
		t.Fatal("not running after Start")
	}
	srv.Stop(t)
	if srv.Running() {
		t.Fatal("still running after Stop")
	}
}

func TestEnv(t *testing.T) {
	srv := &Server{Endpoint: "http://127.0.0.1:1", AccessKey: "k", SecretKey: "s", Region: Region}
	want := map[string]string{
		"AWS_ACCESS_KEY_ID":     "k",
		"AWS_SECRET_ACCESS_KEY": "s",
		"AWS_REGION":            Region,
		"AWS_ENDPOINT_URL_S3":   "http://127.0.0.1:1",
	}
	got := map[string]string{}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestBinaryNotFoundSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	_, err := Binary()
	if err == nil {
		t.Fatal("found versitygw with an empty PATH and GOPATH")
	}
	if !strings.Contains(err.Error(), Install) {
		t.Fatalf("error %q does not say how to install versitygw", err)
	}
}

func TestBinaryFoundInGOPATH(t *testing.T) {
	gopath := t.TempDir()
	bin := filepath.Join(gopath, "bin", "versitygw")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", gopath)
	got, err := Binary()
	if err != nil || got != bin {
		t.Fatalf("Binary() = %q, %v; want %q", got, err, bin)
	}
}
