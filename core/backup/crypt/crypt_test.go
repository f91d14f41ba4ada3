package crypt

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t *testing.T, k, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, k)
	if err != nil {
		t.Fatal(err)
	}
	for p := plain; len(p) > 0; { // odd-sized writes
		n := min(len(p), 10007)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(k, sealed []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(sealed), k)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestRoundTrip: every size, around the segment size too, comes back.
func TestRoundTrip(t *testing.T) {
	k := key(t)
	for _, n := range []int{0, 1, segment - 1, segment, segment + 1, 3*segment + 5} {
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		got, err := open(k, seal(t, k, plain))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
}

// TestTamperingFails: another key, a flipped bit, a dropped last segment,
// trailing bytes and swapped segments are all ErrCorrupt.
func TestTamperingFails(t *testing.T) {
	k := key(t)
	plain := make([]byte, 2*segment+100)
	sealed := seal(t, k, plain)
	frame := 5 + segment + 16 // one full segment on the wire
	head := len(magic) + prefixLen
	flipped := bytes.Clone(sealed)
	flipped[head+frame+10] ^= 1
	swapped := bytes.Clone(sealed)
	copy(swapped[head:], sealed[head+frame:head+2*frame])
	copy(swapped[head+frame:], sealed[head:head+frame])
	cases := map[string]struct {
		key, data []byte
	}{
		"other key": {key(t), sealed},
		"flipped":   {k, flipped},
		"truncated": {k, sealed[:head+2*frame]},
		"trailing":  {k, append(bytes.Clone(sealed), 0)},
		"swapped":   {k, swapped},
		"no header": {k, sealed[:3]},
	}
	for name, c := range cases {
		if _, err := open(c.key, c.data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestParseKey: hex and base64 of 32 bytes; anything else is ErrBadKey.
// KeyID tells keys apart.
func TestParseKey(t *testing.T) {
	k := key(t)
	for _, s := range []string{hex.EncodeToString(k), " " + base64.StdEncoding.EncodeToString(k) + "\n"} {
		if got, err := ParseKey(s); err != nil || !bytes.Equal(got, k) {
			t.Fatalf("%q: %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", hex.EncodeToString(k[:16])} {
		if _, err := ParseKey(s); !errors.Is(err, ErrBadKey) {
			t.Errorf("%q: %v, want ErrBadKey", s, err)
		}
	}
	if KeyID(k) == KeyID(key(t)) || len(KeyID(k)) != 16 {
		t.Fatalf("key ids %s", KeyID(k))
	}
}
