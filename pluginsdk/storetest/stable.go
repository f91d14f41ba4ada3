package storetest

import (
	"bytes"
	"math"
	"testing"

	"github.com/hashicorp/raft"
)

// notFound is the error text raft accepts for a missing stable key: it
// checks err.Error() != "not found" (raft.go, api.go).
const notFound = "not found"

// The keys raft itself keeps in a StableStore.
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

// TestStableStore runs the raft.StableStore cases as subtests.
func TestStableStore(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"GetMissing", testStableGetMissing},
		{"GetUint64Missing", testStableGetUint64Missing},
		{"SetGet", testStableSetGet},
		{"Overwrite", testStableOverwrite},
		{"EmptyValue", testStableEmptyValue},
		{"Uint64", testStableUint64},
		{"DistinctKeys", testStableDistinctKeys},
		{"GroupIsolation", testStableIsolation},
		{"Reopen", testStableReopen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// testStableGetMissing: a key never set reads as empty, with either no
// error or an error whose text is exactly "not found".
func testStableGetMissing(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-missing"))
	checkGetMissing(t, s, keyLastVoteCand)
	checkGetMissing(t, s, []byte("never-set"))
}

// testStableGetUint64Missing: a uint64 key never set reads as 0, with
// either no error or an error whose text is exactly "not found".
func testStableGetUint64Missing(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-missing-u64"))
	checkUint64Missing(t, s, keyCurrentTerm)
	checkUint64Missing(t, s, keyLastVoteTerm)
}

// testStableSetGet: a value reads back byte for byte, binary included.
func testStableSetGet(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-setget"))
	set(t, s, keyLastVoteCand, []byte("127.0.0.1:7001"))
	checkGet(t, s, keyLastVoteCand, []byte("127.0.0.1:7001"))

	bin := []byte{0, 1, 2, 0xfe, 0xff, 0}
	set(t, s, []byte{0, 'k', 0xff}, bin)
	checkGet(t, s, []byte{0, 'k', 0xff}, bin)
	checkGet(t, s, keyLastVoteCand, []byte("127.0.0.1:7001"))
}

// testStableOverwrite: the last Set wins, a shorter value included.
func testStableOverwrite(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-overwrite"))
	set(t, s, keyLastVoteCand, []byte("node-with-a-long-address:7001"))
	set(t, s, keyLastVoteCand, []byte("n2:7002"))
	checkGet(t, s, keyLastVoteCand, []byte("n2:7002"))
}

// testStableEmptyValue: Set of an empty value succeeds and reads back as
// empty. Raft never stores one, so reading it as missing ("not found") is
// accepted too.
func testStableEmptyValue(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-empty"))
	set(t, s, []byte("empty"), []byte{})
	got, err := s.Get([]byte("empty"))
	if err != nil && err.Error() != notFound {
		t.Fatalf("Get of an empty value: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("Get of an empty value = %q, want empty", got)
	}
	set(t, s, []byte("empty"), []byte("now-set"))
	checkGet(t, s, []byte("empty"), []byte("now-set"))
}

// testStableUint64: SetUint64 round-trips 0, 1, max uint64 and overwrites.
func testStableUint64(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-u64"))
	for _, v := range []uint64{1, 0, math.MaxUint64, 1 << 32, 42} {
		setUint64(t, s, keyCurrentTerm, v)
		checkGetUint64(t, s, keyCurrentTerm, v)
	}
	setUint64(t, s, keyLastVoteTerm, math.MaxUint64)
	checkGetUint64(t, s, keyLastVoteTerm, math.MaxUint64)
	checkGetUint64(t, s, keyCurrentTerm, 42)
}

// testStableDistinctKeys: keys that share a prefix, or differ only after a
// zero byte, are distinct keys.
func testStableDistinctKeys(t *testing.T, open Opener) {
	s := openStable(t, open, newGroup("stable-keys"))
	vals := map[string]string{
		"k":      "v-k",
		"k1":     "v-k1",
		"k\x00":  "v-k0",
		"k\x001": "v-k01",
		"kk":     "v-kk",
	}
	for k, v := range vals {
		set(t, s, []byte(k), []byte(v))
	}
	setUint64(t, s, keyCurrentTerm, 7)
	setUint64(t, s, keyLastVoteTerm, 6)
	for k, v := range vals {
		checkGet(t, s, []byte(k), []byte(v))
	}
	checkGetUint64(t, s, keyCurrentTerm, 7)
	checkGetUint64(t, s, keyLastVoteTerm, 6)
	checkGetMissing(t, s, []byte("k2"))
	checkGetMissing(t, s, []byte("K"))
}

// testStableIsolation: two groups, one named as a prefix of the other, do
// not see each other's keys even where group+key would concatenate to the
// same bytes.
func testStableIsolation(t *testing.T, open Opener) {
	base := newGroup("stable-iso")
	a := openStable(t, open, base)
	b := openStable(t, open, base+"x")

	set(t, a, []byte("xkey"), []byte("from-a"))
	setUint64(t, a, keyCurrentTerm, 5)
	checkGetMissing(t, b, []byte("key"))
	checkGetMissing(t, b, []byte("xkey"))
	checkUint64Missing(t, b, keyCurrentTerm)

	set(t, b, []byte("key"), []byte("from-b"))
	setUint64(t, b, keyCurrentTerm, 9)
	checkGet(t, a, []byte("xkey"), []byte("from-a"))
	checkGetMissing(t, a, []byte("key"))
	checkGetUint64(t, a, keyCurrentTerm, 5)
	checkGet(t, b, []byte("key"), []byte("from-b"))
	checkGetUint64(t, b, keyCurrentTerm, 9)
}

// testStableReopen: values are still there when the group is opened again.
func testStableReopen(t *testing.T, open Opener) {
	group := newGroup("stable-reopen")
	s := openStable(t, open, group)
	setUint64(t, s, keyCurrentTerm, 12)
	setUint64(t, s, keyLastVoteTerm, 11)
	set(t, s, keyLastVoteCand, []byte("n3:7003"))

	s = openStable(t, open, group)
	checkGetUint64(t, s, keyCurrentTerm, 12)
	checkGetUint64(t, s, keyLastVoteTerm, 11)
	checkGet(t, s, keyLastVoteCand, []byte("n3:7003"))
	checkGetMissing(t, s, []byte("never-set"))
}

func set(t testing.TB, s raft.StableStore, key, val []byte) {
	t.Helper()
	if err := s.Set(key, val); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func setUint64(t testing.TB, s raft.StableStore, key []byte, val uint64) {
	t.Helper()
	if err := s.SetUint64(key, val); err != nil {
		t.Fatalf("SetUint64(%q, %d): %v", key, val, err)
	}
}

func checkGet(t testing.TB, s raft.StableStore, key, want []byte) {
	t.Helper()
	got, err := s.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Get(%q) = %q, want %q", key, got, want)
	}
}

func checkGetUint64(t testing.TB, s raft.StableStore, key []byte, want uint64) {
	t.Helper()
	got, err := s.GetUint64(key)
	if err != nil {
		t.Fatalf("GetUint64(%q): %v", key, err)
	}
	if got != want {
		t.Errorf("GetUint64(%q) = %d, want %d", key, got, want)
	}
}

// checkGetMissing checks what raft needs of a missing key: no value, and no
// error other than one whose text is "not found".
func checkGetMissing(t testing.TB, s raft.StableStore, key []byte) {
	t.Helper()
	got, err := s.Get(key)
	if err != nil && err.Error() != notFound {
		t.Errorf("Get(%q) of a missing key: error %q, want nil or an error whose text is exactly %q", key, err, notFound)
	}
	if len(got) != 0 {
		t.Errorf("Get(%q) of a missing key = %q, want empty", key, got)
	}
}

// checkUint64Missing checks what raft needs of a missing uint64 key: 0, and
// no error other than one whose text is "not found" (raft uses the value
// even then).
func checkUint64Missing(t testing.TB, s raft.StableStore, key []byte) {
	t.Helper()
	got, err := s.GetUint64(key)
	if err != nil && err.Error() != notFound {
		t.Errorf("GetUint64(%q) of a missing key: error %q, want nil or an error whose text is exactly %q", key, err, notFound)
	}
	if got != 0 {
		t.Errorf("GetUint64(%q) of a missing key = %d, want 0", key, got)
	}
}
