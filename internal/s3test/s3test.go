// Package s3test runs a real S3 server for tests: a versitygw process
// serving a temporary directory on a free 127.0.0.1 port, stopped when the
// test ends. Its output goes to t.Log (every request too when
// STRATA_S3TEST_VERBOSE is set). Tests that need S3 fail (they never skip)
// when versitygw is not installed; the failure says how to install it.
package s3test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratadb/strata/internal/testnet"
)

// Install is the command that installs the versitygw version the tests use.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// VerboseEnv, when set to anything, makes the server log every request.
const VerboseEnv = "STRATA_S3TEST_VERBOSE"

// Region is the region the server and its clients use.
const Region = "us-east-1"

const (
	binaryName   = "versitygw"
	startTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	startTries   = 3
)

// Server is a running versitygw process.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // the directory it serves: one subdirectory per bucket

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, set before done is closed
}

// Binary returns the path of the versitygw executable: from PATH, else from
// $(go env GOPATH)/bin, where `go install` puts it.
func Binary() (string, error) {
	if p, err := exec.LookPath(binaryName); err == nil {
		return p, nil
	}
	for _, dir := range gopaths() {
		p := filepath.Join(dir, "bin", binaryName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("s3test: %s not found on PATH or in $(go env GOPATH)/bin; install it with: %s", binaryName, Install)
}

// gopaths lists the GOPATH entries: `go env GOPATH`, else $GOPATH, else ~/go.
func gopaths() []string {
	var list string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		list = strings.TrimSpace(string(out))
	}
	if list == "" {
		list = os.Getenv("GOPATH")
	}
	if list == "" {
		if home, err := os.UserHomeDir(); err == nil {
			list = filepath.Join(home, "go")
		}
	}
	return filepath.SplitList(list)
}

// Start starts versitygw serving a t.TempDir() on a free 127.0.0.1 port,
// waits until it answers and stops it when the test ends. It fails the
// test when versitygw is not installed or does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for try := 1; ; try++ {
		s := newServer(t, dir)
		err := s.start(t, bin)
		if err == nil {
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		s.stop(t)
		if try == startTries {
			t.Fatalf("s3test: start versitygw: %v", err)
		}
		t.Logf("s3test: start versitygw (try %d): %v; retrying on another port", try, err)
	}
}

func newServer(t testing.TB, dir string) *Server {
	addr := testnet.FreeAddr(t)
	return &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "strata-test",
		SecretKey: randomSecret(),
		Region:    Region,
		Dir:       dir,
		done:      make(chan struct{}),
	}
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start runs the process and waits until it answers HTTP or exits.
func (s *Server) start(t testing.TB, bin string) error {
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	args := []string{"--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region}
	if os.Getenv(VerboseEnv) == "" {
		args = append(args, "--quiet")
	}
	s.cmd = exec.Command(bin, append(args, "posix", s.Dir)...)
	out := newLineLogger(t, "versitygw: ")
	s.cmd.Stdout = out
	s.cmd.Stderr = out
	if err := s.cmd.Start(); err != nil {
		close(s.done)
		return err
	}
	go func() {
		s.err = s.cmd.Wait()
		out.stop()
		close(s.done)
	}()
	return s.waitReady()
}

// waitReady polls the endpoint until any HTTP response comes back (an
// unsigned request gets 403: the server is up).
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("versitygw exited: %v", s.err)
		default:
		}
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within %v", s.Endpoint, startTimeout)
}

// stop terminates the process (SIGTERM, then SIGKILL) and waits for it.
func (s *Server) stop(t testing.TB) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Logf("s3test: versitygw did not stop on SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop stops the server before the test ends (to test S3 outages); the
// test's cleanup does nothing more.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop(t)
}

// Client returns an S3 client for the server (path-style addressing, the
// server's credentials), for setting up and checking a test's state.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Bucket creates the bucket name and returns its URL, "s3://name".
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %q: %v", name, err)
	}
	return "s3://" + name
}

// Env returns the AWS environment variables (KEY=VALUE) that point an
// AWS SDK client, in this process or a child, at the server.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env's variables in this process for the rest of the test
// (with t.Setenv, so not in parallel tests).
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Running reports whether the process is still running.
func (s *Server) Running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// errStopped is returned by lineLogger writes after the test ended.
var errStopped = errors.New("s3test: log closed")

// lineLogger passes a process's output to t.Log line by line until stop
// (t.Log after the test ends would panic).
type lineLogger struct {
	mu      sync.Mutex
	t       testing.TB
	prefix  string
	pw      *io.PipeWriter
	stopped bool
	wg      sync.WaitGroup
}

func newLineLogger(t testing.TB, prefix string) *lineLogger {
	pr, pw := io.Pipe()
	l := &lineLogger{t: t, prefix: prefix, pw: pw}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			l.log(sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return l
}

func (l *lineLogger) log(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped && strings.TrimSpace(line) != "" {
		l.t.Log(l.prefix + line)
	}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	n, err := l.pw.Write(p)
	if err != nil {
		return n, errStopped
	}
	return n, nil
}

// stop flushes what was written and logs nothing more.
func (l *lineLogger) stop() {
	_ = l.pw.Close()
	l.wg.Wait()
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}
