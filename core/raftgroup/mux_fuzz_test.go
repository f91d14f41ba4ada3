package raftgroup

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzMuxHeader feeds arbitrary bytes to the header every connection to
// the cluster port starts with: parsing never panics, reads no more than
// the header (the Raft stream after it stays intact), and a header
// encodeHeader wrote parses back to its group.
func FuzzMuxHeader(f *testing.F) {
	f.Add([]byte("stream:ORDERS-0c9f3db61ac4"), []byte("n1"), []byte{})
	f.Add([]byte("meta"), []byte{}, []byte("raft bytes"))
	f.Add([]byte{}, []byte{}, []byte{muxMagic, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, group, sender, raw []byte) {
		r := bytes.NewReader(raw)
		if g, err := parseHeader(r); err == nil {
			if len(g) == 0 || len(g) > MaxGroupIDLen {
				t.Fatalf("accepted group of %d bytes", len(g))
			}
		} else if !errors.Is(err, ErrBadHeader) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("error %v is neither ErrBadHeader nor a short read", err)
		}
		if len(group) == 0 || len(group) > MaxGroupIDLen || len(sender) > 0xffff {
			return
		}
		tail := []byte("raft")
		r = bytes.NewReader(append(encodeHeader(string(group), string(sender)), tail...))
		g, err := parseHeader(r)
		if err != nil || g != string(group) {
			t.Fatalf("parseHeader(encodeHeader(%q, %q)) = %q, %v", group, sender, g, err)
		}
		if rest, _ := io.ReadAll(r); !bytes.Equal(rest, tail) {
			t.Fatalf("after the header %q is left, want %q", rest, tail)
		}
	})
}
