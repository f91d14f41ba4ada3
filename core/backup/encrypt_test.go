package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/objstore"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEncryptedBackup saves a stream encrypted with a key: the data
// object is ciphertext and the manifest names the key; verify and restore
// refuse without the key and with another one, change nothing then, and
// work with it.
func TestEncryptedBackup(t *testing.T) {
	needCluster(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir, Servers: 1})
	c := cluster.Connect(t)
	ctx := context.Background()
	addStream(t, c, "ORDERS", 1)
	seqs := mustPublish(t, c, 0, 2000)
	dir := t.TempDir()
	store, err := objstore.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	b, err := backup.Save(ctx, c, store, backup.SaveOptions{Stream: "ORDERS", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if e := b.Manifest.Encryption; e == nil || e.KeyID == "" || e.Cipher == "" {
		t.Fatalf("manifest encryption = %+v", e)
	}
	data, err := os.ReadFile(filepath.Join(dir, b.Dir, b.Manifest.Data))
	if err != nil {
		t.Fatal(err)
	}
	if zstdMagic := []byte{0x28, 0xb5, 0x2f, 0xfd}; bytes.Contains(data[:64], zstdMagic) {
		t.Fatal("the data object starts as zstd: not encrypted")
	}

	_, err = backup.Verify(ctx, store, b, backup.VerifyOptions{})
	if !errors.Is(err, backup.ErrKeyRequired) {
		t.Fatalf("verify without the key: %v, want ErrKeyRequired", err)
	}
	if _, err := backup.Verify(ctx, store, b, backup.VerifyOptions{Key: newKey(t)}); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("verify with another key: %v, want ErrWrongKey", err)
	}
	if st, err := backup.Verify(ctx, store, b, backup.VerifyOptions{Key: key}); err != nil || st.Messages != 2000 {
		t.Fatalf("verify with the key: %+v, %v", st, err)
	}
	if err := c.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string][]byte{"no key": nil, "another key": newKey(t)} {
		_, err := backup.Restore(ctx, c, store, b, backup.RestoreOptions{Key: k})
		if !errors.Is(err, backup.ErrKeyRequired) && !errors.Is(err, backup.ErrWrongKey) {
			t.Fatalf("restore with %s: %v; want the key refused", name, err)
		}
		if _, err := c.StreamInfo(ctx, "ORDERS"); !errors.Is(err, client.ErrStreamNotFound) {
			t.Fatalf("after the refused restore with %s: %v; want no stream ORDERS", name, err)
		}
	}
	info, err := backup.Restore(ctx, c, store, b, backup.RestoreOptions{Key: key})
	if err != nil || info.State.Msgs != 2000 {
		t.Fatalf("restore with the key: %+v, %v", info, err)
	}
	_, got := readAll(t, c, "ORDERS")
	for _, m := range got {
		checkMsg(t, m, seqs[m.Seq])
	}
}
