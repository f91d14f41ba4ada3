package objstore

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stratadb/strata/internal/s3test"
)

// TestSSEOnEveryUpload writes a small and a multipart object through a
// store with SSE-KMS to versitygw, behind a proxy that records the
// requests: every request that starts an object (PutObject,
// CreateMultipartUpload) carries the encryption and key id headers, and
// the objects read back.
func TestSSEOnEveryUpload(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "sse")
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	starts := map[string]string{} // request -> its encryption headers
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, multipart := r.URL.Query()["uploads"]
		_, part := r.URL.Query()["partNumber"]
		if r.Method == http.MethodPut && !part || r.Method == http.MethodPost && multipart {
			mu.Lock()
			starts[r.Method+" "+r.URL.Path] = r.Header.Get("X-Amz-Server-Side-Encryption") + "|" +
				r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	srv.Setenv(t)
	st, err := Open(ctxT(t), "s3://sse/b", WithEndpoint(front.URL), WithPartSize(5<<20),
		WithSSE(SSE{Mode: SSEKMS, KMSKeyID: "arn:aws:kms:us-east-1:1:key/k1"}))
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, "small", []byte("x"))
	big := []byte(strings.Repeat("y", 11<<20))
	put(t, st, "big", big)
	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 2 {
		t.Fatalf("uploads seen: %v", starts)
	}
	for req, h := range starts {
		if h != "aws:kms|arn:aws:kms:us-east-1:1:key/k1" {
			t.Errorf("%s: encryption headers %q", req, h)
		}
	}
	if got := get(t, st, "big"); len(got) != len(big) {
		t.Fatalf("big read back %d bytes", len(got))
	}
}

// TestSSEValidate: an unknown mode, and a KMS key without SSE-KMS, are
// refused before any store is made.
func TestSSEValidate(t *testing.T) {
	for _, s := range []SSE{{Mode: "rot13"}, {Mode: SSES3, KMSKeyID: "k"}, {KMSKeyID: "k"}} {
		if _, err := Open(ctxT(t), "s3://b/p", WithSSE(s)); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%+v: %v, want ErrInvalidOption", s, err)
		}
	}
}
