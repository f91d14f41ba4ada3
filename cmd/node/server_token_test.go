package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/stratadb/strata/core/auth"
)

// TestServerToken: two lines, a token and its hash; two runs give two
// tokens.
func TestServerToken(t *testing.T) {
	lines := regexp.MustCompile(`^token: ([A-Za-z0-9_-]{43})\nhash:  ([0-9a-f]{64})\n$`)
	seen := map[string]bool{}
	for range 2 {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"server", "token"})
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		m := lines.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("output %q: want a token line and a hash line", out.String())
		}
		if auth.TokenHash(m[1]) != m[2] {
			t.Fatalf("hash %s is not the token's", m[2])
		}
		if seen[m[1]] {
			t.Fatal("the same token twice")
		}
		seen[m[1]] = true
	}
}
