// Package crypt owns the client-side encryption of a backup's data
// object: AES-256-GCM over segments of 64 KiB, each sealed with a nonce
// of the object's random prefix and the segment's number, and a flag
// for the last segment in its associated data, so that a reordered,
// dropped, truncated or altered segment fails to open (the STREAM
// construction of Hoang, Reyhanitabar, Rogaway and Vizár). Keys are 32
// bytes, read from a file or an environment variable as 64 hex digits
// or base64; KeyID names a key without revealing it, so that a manifest
// can say which key a backup needs.
package crypt

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Cipher names the encryption in a manifest.
const Cipher = "AES-256-GCM-STREAM-64K"

// Errors of keys and of reading an encrypted object.
var (
	// ErrBadKey is a key that is not 32 bytes of hex or base64.
	ErrBadKey = errors.New("crypt: key must be 32 bytes, as 64 hex digits or base64")
	// ErrCorrupt is an object that does not open with the key: altered,
	// truncated, or sealed with another key.
	ErrCorrupt = errors.New("crypt: the data does not decrypt (wrong key, or altered or truncated data)")
)

const (
	segment   = 64 << 10 // plaintext bytes of a segment but the last
	prefixLen = 8
	magic     = "STRENC1\n"
)

// ParseKey reads a key: 64 hex digits or the base64 of 32 bytes, with
// surrounding space ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, ErrBadKey
}

// KeyFile reads a key from a file.
func KeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return k, nil
}

// KeyID names key: the first 8 bytes of an HMAC-SHA256 of a fixed label,
// in hex. It tells keys apart and reveals nothing of them.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("strata backup key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, ErrBadKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(prefix []byte, n uint32) []byte {
	b := make([]byte, 12)
	copy(b, prefix)
	binary.BigEndian.PutUint32(b[prefixLen:], n)
	return b
}

func aad(last bool) []byte {
	if last {
		return []byte{1}
	}
	return []byte{0}
}

// Writer encrypts what is written to it into w; Close seals the last
// segment and must be called.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	prefix []byte
	buf    []byte
	n      uint32
	closed bool
}

// NewWriter writes the object's header to w and returns a writer that
// encrypts into it with key.
func NewWriter(w io.Writer, key []byte) (*Writer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	prefix := make([]byte, prefixLen)
	if _, err := rand.Read(prefix); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, magic); err != nil {
		return nil, err
	}
	if _, err := w.Write(prefix); err != nil {
		return nil, err
	}
	return &Writer{w: w, aead: aead, prefix: prefix, buf: make([]byte, 0, segment)}, nil
}

// Write buffers p and seals every full segment. A segment is sealed only
// once more data follows it, so that the last one is known at Close.
func (e *Writer) Write(p []byte) (int, error) {
	if e.closed {
		return 0, errors.New("crypt: write after close")
	}
	n := len(p)
	for len(p) > 0 {
		if len(e.buf) == segment {
			if err := e.seal(false); err != nil {
				return 0, err
			}
		}
		k := min(segment-len(e.buf), len(p))
		e.buf = append(e.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// Close seals the last segment (possibly empty).
func (e *Writer) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	return e.seal(true)
}

func (e *Writer) seal(last bool) error {
	ct := e.aead.Seal(nil, nonce(e.prefix, e.n), e.buf, aad(last))
	var hdr [5]byte
	hdr[0] = aad(last)[0]
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(ct)))
	if _, err := e.w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := e.w.Write(ct); err != nil {
		return err
	}
	e.n++
	e.buf = e.buf[:0]
	return nil
}

// Reader decrypts an object Writer wrote.
type Reader struct {
	r      *bufio.Reader
	aead   cipher.AEAD
	prefix []byte
	n      uint32
	plain  []byte
	done   bool
}

// NewReader reads the object's header from r and returns a reader that
// decrypts it with key.
func NewReader(r io.Reader, key []byte) (*Reader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, segment+64)
	hdr := make([]byte, len(magic)+prefixLen)
	if _, err := io.ReadFull(br, hdr); err != nil || string(hdr[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: no encryption header", ErrCorrupt)
	}
	return &Reader{r: br, aead: aead, prefix: hdr[len(magic):]}, nil
}

// Read returns decrypted bytes; an object that ends before its last
// segment, or a segment that does not open, is ErrCorrupt.
func (d *Reader) Read(p []byte) (int, error) {
	for len(d.plain) == 0 {
		if d.done {
			return 0, io.EOF
		}
		if err := d.open(); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.plain)
	d.plain = d.plain[n:]
	return n, nil
}

func (d *Reader) open() error {
	var hdr [5]byte
	if _, err := io.ReadFull(d.r, hdr[:]); err != nil {
		return fmt.Errorf("%w: it ends before its last segment", ErrCorrupt)
	}
	last, size := hdr[0] == 1, binary.BigEndian.Uint32(hdr[1:])
	if hdr[0] > 1 || size > segment+uint32(d.aead.Overhead()) {
		return fmt.Errorf("%w: segment %d has a bad header", ErrCorrupt, d.n)
	}
	ct := make([]byte, size)
	if _, err := io.ReadFull(d.r, ct); err != nil {
		return fmt.Errorf("%w: segment %d is cut short", ErrCorrupt, d.n)
	}
	plain, err := d.aead.Open(ct[:0], nonce(d.prefix, d.n), ct, aad(last))
	if err != nil {
		return fmt.Errorf("%w: segment %d", ErrCorrupt, d.n)
	}
	if last {
		if _, err := d.r.Peek(1); err != io.EOF {
			return fmt.Errorf("%w: data after the last segment", ErrCorrupt)
		}
	}
	d.n++
	d.plain, d.done = plain, last
	return nil
}
