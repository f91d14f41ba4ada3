package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// runCLI runs strata with args against the fake server srv, with stdin
// as its input, and returns what it printed.
func runCLI(t *testing.T, srv *clienttest.Server, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"-s", srv.Addr, "--timeout", "10s"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// mustRun is runCLI that fails the test on an error.
func mustRun(t *testing.T, srv *clienttest.Server, args ...string) string {
	t.Helper()
	out, err := runCLI(t, srv, "", args...)
	if err != nil {
		t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fakeClient connects a client to srv for setting up and checking state.
func fakeClient(t *testing.T, srv *clienttest.Server) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hasLine reports whether out has a line that is want once trimmed.
func hasLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !hasLine(out, l) {
			t.Errorf("output lacks the line %q:\n%s", l, out)
		}
	}
}

// tableRow returns the trimmed cells of the table row whose first cell is first.
func tableRow(out, first string) []string {
	for _, l := range strings.Split(out, "\n") {
		cells := strings.Split(l, "│")
		if len(cells) < 3 {
			continue
		}
		cells = cells[1 : len(cells)-1]
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == first {
			return cells
		}
	}
	return nil
}
