package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIEncryptedBackup: save --key-file with SSE to S3; verify and
// restore without the key, or with another, say so and restore nothing;
// with the key (the flag, or STRATA_BACKUP_KEY) they work.
func TestCLIEncryptedBackup(t *testing.T) {
	e := newEnv(t)
	e.fill(t, "ORDERS", 1000, 256)
	dir := t.TempDir()
	keyFile, otherFile := filepath.Join(dir, "backup.key"), filepath.Join(dir, "other.key")
	key := writeKey(t, keyFile)
	writeKey(t, otherFile)
	out := e.mustRun(t, "save", "ORDERS", "s3://backups/sealed", "--no-progress", "--key-file", keyFile, "--sse", "AES256")
	if !strings.Contains(out, "saved ORDERS") {
		t.Fatalf("save printed %q", out)
	}
	src := "s3://backups/sealed/ORDERS"
	if _, errOut, err := e.run(t, "verify", src); err == nil || !strings.Contains(errOut, "backup is encrypted: its key is required") {
		t.Fatalf("verify without the key: %v\n%s", err, errOut)
	}
	if _, errOut, err := e.run(t, "verify", src, "--key-file", otherFile); err == nil || !strings.Contains(errOut, "wrong key") {
		t.Fatalf("verify with another key: %v\n%s", err, errOut)
	}
	if _, errOut, err := e.run(t, "restore", src, "--as", "COPY", "--no-progress"); err == nil || !strings.Contains(errOut, "key is required") {
		t.Fatalf("restore without the key: %v\n%s", err, errOut)
	}
	if _, err := e.c.StreamInfo(context.Background(), "COPY"); err == nil {
		t.Fatal("a refused restore created the stream")
	}
	e.mustRun(t, "verify", src, "--key-file", keyFile)
	if err := e.c.DeleteStream(context.Background(), "ORDERS"); err != nil {
		t.Fatal(err)
	}
	cmd := e.command("restore", src, "--no-progress")
	cmd.Env = append(cmd.Env, "STRATA_BACKUP_KEY="+key)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "restored ORDERS") {
		t.Fatalf("restore with STRATA_BACKUP_KEY: %v\n%s", err, b)
	}
	info, err := e.c.StreamInfo(context.Background(), "ORDERS")
	if err != nil || info.State.Msgs != 1000 {
		t.Fatalf("restored stream: %+v, %v", info, err)
	}
}

// writeKey writes a random key as hex into path and returns it.
func writeKey(t *testing.T, path string) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	s := hex.EncodeToString(k)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}
