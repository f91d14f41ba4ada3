package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/objstore"
)

// writeTestBackup writes a backup of msgs first..last of stream S and
// its consumers into a directory store the way Save does, and returns it.
func writeTestBackup(t *testing.T, first, last uint64, consumers ...Consumer) (objstore.Store, Backup) {
	t.Helper()
	dir := t.TempDir()
	store, err := objstore.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	enc, _ := zstd.NewWriter(&data)
	rw, err := newRecordWriter(enc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.StreamConfig{Name: "S", Subjects: []string{"S.>"}, Replicas: 1}
	m := Manifest{FormatVersion: FormatVersion, Stream: "S", Config: cfg, FirstSeq: first, LastSeq: last, Data: dataObject}
	if err := rw.config(cfg); err != nil {
		t.Fatal(err)
	}
	for seq := first; seq <= last; seq++ {
		msg := client.Msg{Seq: seq, Subject: "S.x", Data: fmt.Appendf(nil, "m%d", seq), Time: time.Unix(0, int64(seq)),
			Header: []client.Header{{Key: "k", Value: "v"}}}
		if err := rw.message(msg); err != nil {
			t.Fatal(err)
		}
		m.Messages++
	}
	for _, c := range consumers {
		if err := rw.consumer(c); err != nil {
			t.Fatal(err)
		}
		m.Consumers++
	}
	if err := rw.end(m.Messages, last); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data.Bytes())
	m.Bytes, m.Compressed, m.SHA256 = rw.bytes, int64(data.Len()), hex.EncodeToString(sum[:])
	b := Backup{Dir: "S/test", Manifest: m}
	if err := os.MkdirAll(filepath.Join(dir, "S", "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "S", "test", dataObject), data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(context.Background(), store, "S/test/"+manifestObject, m); err != nil {
		t.Fatal(err)
	}
	return store, b
}

func TestVerify(t *testing.T) {
	store, b := writeTestBackup(t, 11, 2000)
	st, err := Verify(context.Background(), store, b, VerifyOptions{})
	if err != nil || st.Messages != 1990 {
		t.Fatalf("Verify = %+v, %v", st, err)
	}
	found, err := Find(context.Background(), store)
	if err != nil || found.Dir != "S/test" || found.Manifest.Messages != 1990 {
		t.Fatalf("Find = %+v, %v", found, err)
	}
}

// TestVerifyRefuses: a flipped byte, a truncated object and a manifest
// whose counts disagree are all ErrCorrupt.
func TestVerifyRefuses(t *testing.T) {
	cases := map[string]func(t *testing.T, dir string, b *Backup){
		"flipped byte": func(t *testing.T, dir string, b *Backup) {
			editData(t, dir, func(d []byte) []byte { d[len(d)/2] ^= 1; return d })
		},
		"truncated": func(t *testing.T, dir string, b *Backup) {
			editData(t, dir, func(d []byte) []byte { return d[:len(d)-10] })
		},
		"manifest counts": func(t *testing.T, dir string, b *Backup) { b.Manifest.Messages++ },
		"manifest last":   func(t *testing.T, dir string, b *Backup) { b.Manifest.LastSeq-- },
		"manifest bytes":  func(t *testing.T, dir string, b *Backup) { b.Manifest.Bytes++ },
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			store, b := writeTestBackup(t, 1, 500)
			corrupt(t, store.String(), &b)
			if _, err := Verify(context.Background(), store, b, VerifyOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify = %v, want ErrCorrupt", err)
			}
		})
	}
}

func editData(t *testing.T, dir string, edit func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(dir, "S", "test", dataObject)
	d, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(d), 0o644); err != nil {
		t.Fatal(err)
	}
}
