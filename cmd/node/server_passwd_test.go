package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func runPasswd(stdin string) (string, string, error) {
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs([]string{"server", "passwd"})
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestServerPasswd: a password on standard input gives one line, its
// bcrypt hash at cost 11, and nothing else; an empty one is an error.
func TestServerPasswd(t *testing.T) {
	out, errOut, err := runPasswd("s3cret pass\n")
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSuffix(out, "\n")
	if strings.Contains(hash, "\n") || bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret pass")) != nil {
		t.Fatalf("output %q is not one bcrypt hash of the password", out)
	}
	if cost, _ := bcrypt.Cost([]byte(hash)); cost != 11 {
		t.Fatalf("cost %d, want 11", cost)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Fatal("the password was printed")
	}
	if _, _, err := runPasswd("\n"); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("empty password: %v", err)
	}
}
