package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratadb/strata/internal/s3test"
)

// testPartSize keeps multipart tests small: S3's minimum part size.
const testPartSize = int(manager.MinUploadPartSize)

// harness is one store under test and a way to see its unfinished writes.
type harness struct {
	store Store
	// pending lists what unfinished writes left behind: S3 multipart
	// uploads, or a directory's partial files.
	pending func(t *testing.T) []string
	// parts returns how many parts the object under key was uploaded in
	// (0 when the store has no parts).
	parts func(t *testing.T, key string) int
}

// kinds returns, for each kind of store, a setup run once per kind that
// returns a constructor of fresh, empty stores (the S3 ones share one
// versitygw, one bucket per store).
func kinds() map[string]func(t *testing.T) func(t *testing.T) harness {
	return map[string]func(t *testing.T) func(t *testing.T) harness{
		"dir": func(*testing.T) func(t *testing.T) harness {
			return func(t *testing.T) harness {
				d, err := NewDir(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				return harness{store: d, pending: dirPending(d), parts: func(*testing.T, string) int { return 0 }}
			}
		},
		"s3": func(t *testing.T) func(t *testing.T) harness {
			srv := s3test.Start(t)
			var buckets atomic.Int64
			return func(t *testing.T) harness {
				bucket := fmt.Sprintf("store-%d", buckets.Add(1))
				srv.Bucket(t, bucket)
				s := newTestS3(t, srv, bucket, "root/dir")
				return harness{store: s, pending: s3Pending(s), parts: s3Parts(s)}
			}
		},
	}
}

func newTestS3(t testing.TB, srv *s3test.Server, bucket, prefix string, opts ...Option) *S3 {
	t.Helper()
	o, err := newOptions(append([]Option{WithPartSize(int64(testPartSize))}, opts...))
	if err != nil {
		t.Fatal(err)
	}
	root := ""
	if prefix != "" {
		root = prefix + "/"
	}
	return newS3Client(srv.Client(), bucket, root, o)
}

func dirPending(d *Dir) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		var partial []string
		err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, PartialSuffix) {
				partial = append(partial, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return partial
	}
}

func s3Pending(s *S3) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		out, err := s.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
		if err != nil {
			t.Fatal(err)
		}
		var ups []string
		for _, u := range out.Uploads {
			ups = append(ups, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
		}
		return ups
	}
}

// s3Parts reads the part count from the multipart ETag ("md5-N").
func s3Parts(s *S3) func(t *testing.T, key string) int {
	return func(t *testing.T, key string) int {
		out, err := s.client.HeadObject(context.Background(), &s3.HeadObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.key(key)),
		})
		if err != nil {
			t.Fatal(err)
		}
		etag := strings.Trim(aws.ToString(out.ETag), `"`)
		_, n, ok := strings.Cut(etag, "-")
		if !ok {
			return 1
		}
		var parts int
		fmt.Sscan(n, &parts)
		return parts
	}
}

func TestStores(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, h harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"EmptyObject", testEmptyObject},
		{"ListSortedRecursive", testListSortedRecursive},
		{"NotVisibleBeforeClose", testNotVisibleBeforeClose},
		{"AbortLeavesNothing", testAbortLeavesNothing},
		{"AbortKeepsOldObject", testAbortKeepsOldObject},
		{"CancelLeavesNothing", testCancelLeavesNothing},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"Multipart", testMultipart},
		{"InvalidKeys", testInvalidKeys},
		{"CloseTwice", testCloseTwice},
	}
	for kind, setup := range kinds() {
		t.Run(kind, func(t *testing.T) {
			newStore := setup(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
			}
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	w, err := s.Create(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s Store, key string) []byte {
	t.Helper()
	r, err := s.Open(ctxT(t), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func keys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	objs, err := s.List(ctxT(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func testRoundTrip(t *testing.T, h harness) {
	w, err := h.store.Create(ctxT(t), "a/b/obj")
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range 100 {
		line := fmt.Appendf(nil, "line %d\n", i)
		want = append(want, line...)
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := get(t, h.store, "a/b/obj"); !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(want))
	}
	objs, err := h.store.List(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Key != "a/b/obj" || objs[0].Size != int64(len(want)) {
		t.Fatalf("List = %+v", objs)
	}
	if age := time.Since(objs[0].Modified); age < -time.Minute || age > time.Hour {
		t.Fatalf("Modified = %v, not about now", objs[0].Modified)
	}
}

func testOverwrite(t *testing.T, h harness) {
	put(t, h.store, "k", []byte("one"))
	put(t, h.store, "k", []byte("two"))
	if got := get(t, h.store, "k"); string(got) != "two" {
		t.Fatalf("got %q after overwrite", got)
	}
	if ks := keys(t, h.store, ""); len(ks) != 1 {
		t.Fatalf("List = %v", ks)
	}
}

func testEmptyObject(t *testing.T, h harness) {
	put(t, h.store, "empty", nil)
	if got := get(t, h.store, "empty"); len(got) != 0 {
		t.Fatalf("got %d bytes", len(got))
	}
	objs, err := h.store.List(ctxT(t), "")
	if err != nil || len(objs) != 1 || objs[0].Size != 0 {
		t.Fatalf("List = %+v, %v", objs, err)
	}
}

func testListSortedRecursive(t *testing.T, h harness) {
	// Insertion order differs from key order, and "a-x" sorts before
	// "a/..." by bytes but a directory walk would visit it after.
	for i, k := range []string{"b", "a/c", "a/b/d", "a-x", "a/b/c", "ab"} {
		put(t, h.store, k, bytes.Repeat([]byte{'x'}, i+1))
	}
	cases := map[string][]string{
		"":     {"a-x", "a/b/c", "a/b/d", "a/c", "ab", "b"},
		"a/":   {"a/b/c", "a/b/d", "a/c"},
		"a/b":  {"a/b/c", "a/b/d"},
		"a/b/": {"a/b/c", "a/b/d"},
		"a":    {"a-x", "a/b/c", "a/b/d", "a/c", "ab"},
		"zzz":  nil,
		"q/r/": nil,
	}
	for prefix, want := range cases {
		if got := keys(t, h.store, prefix); !equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", prefix, got, want)
		}
	}
	objs, err := h.store.List(ctxT(t), "a/b/c")
	if err != nil || len(objs) != 1 || objs[0].Size != 5 {
		t.Fatalf("List(a/b/c) = %+v, %v", objs, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testNotVisibleBeforeClose(t *testing.T, h harness) {
	w, err := h.store.Create(ctxT(t), "x/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(randBytes(testPartSize+1000, 1)); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, h.store, ""); len(ks) != 0 {
		t.Fatalf("List before Close = %v", ks)
	}
	if _, err := h.store.Open(ctxT(t), "x/obj"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open before Close: %v, want ErrNotFound", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, h.store, ""); !equal(ks, []string{"x/obj"}) {
		t.Fatalf("List after Close = %v", ks)
	}
}

func testAbortLeavesNothing(t *testing.T, h harness) {
	for _, size := range []int{0, 100, 2*testPartSize + 100} {
		w, err := h.store.Create(ctxT(t), "gone")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randBytes(size, 2)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort after %d bytes: %v", size, err)
		}
		if _, err := w.Write([]byte("more")); err == nil {
			t.Fatal("Write after Abort succeeded")
		}
		if err := w.Close(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Close after Abort: %v, want ErrClosed", err)
		}
		if ks := keys(t, h.store, ""); len(ks) != 0 {
			t.Fatalf("List after Abort of %d bytes = %v", size, ks)
		}
		if _, err := h.store.Open(ctxT(t), "gone"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Open after Abort: %v", err)
		}
		if p := h.pending(t); len(p) != 0 {
			t.Fatalf("Abort of %d bytes left %v", size, p)
		}
	}
}

func testAbortKeepsOldObject(t *testing.T, h harness) {
	put(t, h.store, "k", []byte("old"))
	w, err := h.store.Create(ctxT(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randBytes(testPartSize+5, 3)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := get(t, h.store, "k"); string(got) != "old" {
		t.Fatalf("got %d bytes after an aborted overwrite", len(got))
	}
}

// testCancelLeavesNothing cancels the writer's context after a multipart
// upload has started: the write fails and nothing is left behind.
func testCancelLeavesNothing(t *testing.T, h harness) {
	ctx, cancel := context.WithCancel(ctxT(t))
	w, err := h.store.Create(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randBytes(2*testPartSize, 4)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, werr := w.Write(randBytes(testPartSize, 5))
	if cerr := w.Close(); werr == nil && cerr == nil {
		t.Fatal("write with a cancelled context succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, h.store, ""); len(ks) != 0 {
		t.Fatalf("List = %v", ks)
	}
	if p := h.pending(t); len(p) != 0 {
		t.Fatalf("cancelled write left %v", p)
	}
}

func testNotFound(t *testing.T, h harness) {
	put(t, h.store, "dir/obj", []byte("x"))
	for _, k := range []string{"missing", "dir/missing", "dir", "dir/obj/deeper"} {
		if _, err := h.store.Open(ctxT(t), k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q): %v, want ErrNotFound", k, err)
		}
	}
}

func testDelete(t *testing.T, h harness) {
	put(t, h.store, "d/1", []byte("1"))
	put(t, h.store, "d/2", []byte("2"))
	if err := h.store.Delete(ctxT(t), "d/1"); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, h.store, ""); !equal(ks, []string{"d/2"}) {
		t.Fatalf("List after Delete = %v", ks)
	}
	for _, k := range []string{"d/1", "never", "d"} {
		if err := h.store.Delete(ctxT(t), k); err != nil {
			t.Fatalf("Delete(%q) of a missing object: %v", k, err)
		}
	}
	if ks := keys(t, h.store, ""); !equal(ks, []string{"d/2"}) {
		t.Fatalf("List = %v", ks)
	}
}

// testMultipart writes more than two parts in uneven writes.
func testMultipart(t *testing.T, h harness) {
	data := randBytes(2*testPartSize+testPartSize/2+7, 6)
	w, err := h.store.Create(ctxT(t), "big")
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1<<20+3)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := get(t, h.store, "big")
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
	if n := h.parts(t, "big"); n != 0 && n != 3 {
		t.Fatalf("uploaded in %d parts, want 3", n)
	}
	if p := h.pending(t); len(p) != 0 {
		t.Fatalf("left %v", p)
	}
}

func testInvalidKeys(t *testing.T, h harness) {
	for _, k := range []string{"", "/a", "a/", "a//b", "../x", "a/./b", "a/..", "x" + PartialSuffix, "a\\b"} {
		if _, err := h.store.Create(ctxT(t), k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Create(%q): %v, want ErrInvalidKey", k, err)
		}
		if _, err := h.store.Open(ctxT(t), k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q): %v, want ErrInvalidKey", k, err)
		}
		if err := h.store.Delete(ctxT(t), k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q): %v, want ErrInvalidKey", k, err)
		}
	}
	if _, err := h.store.List(ctxT(t), "../"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("List(../): %v, want ErrInvalidKey", err)
	}
}

func testCloseTwice(t *testing.T, h harness) {
	w, err := h.store.Create(ctxT(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Close: %v", err)
	}
	if got := get(t, h.store, "k"); string(got) != "v" {
		t.Fatalf("Abort after Close changed the object: %q", got)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}
