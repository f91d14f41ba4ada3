package file

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// unescapeGroupDir inverts groupDirName, to show it loses nothing.
func unescapeGroupDir(t testing.TB, name string) string {
	t.Helper()
	var out []byte
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			out = append(out, name[i])
			continue
		}
		if i+2 >= len(name) {
			t.Fatalf("%q: truncated escape", name)
		}
		b, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		out = append(out, byte(b))
		i += 2
	}
	return string(out)
}

func checkDirName(t testing.TB, group, name string) {
	t.Helper()
	for i := 0; i < len(name); i++ {
		if c := name[i]; !keepInDirName(c) && c != '%' {
			t.Fatalf("group %q: dir name %q has unsafe byte %q", group, name, c)
		}
	}
	if got := unescapeGroupDir(t, name); got != group {
		t.Fatalf("group %q: dir name %q decodes to %q", group, name, got)
	}
}

func TestGroupDirNameOddNames(t *testing.T) {
	groups := []string{
		"meta", "stream/ORDERS", "stream/orders", "stream%2FORDERS", "stream%2fORDERS",
		".", "..", "...", "../etc", "a/../b", `a\b`, "a:b", "CON", "con", "nul",
		" ", "a b", "\x00", "\xff", "ström", "日本", "a.tmp", "%", "%%", "-", "_",
		strings.Repeat("x", 255),
	}
	seen := make(map[string]string)
	for _, g := range groups {
		name, err := groupDirName(g)
		if err != nil {
			t.Fatalf("group %q: %v", g, err)
		}
		checkDirName(t, g, name)
		if other, ok := seen[name]; ok {
			t.Fatalf("groups %q and %q both map to %q", g, other, name)
		}
		seen[name] = g
	}
	if got, _ := groupDirName("stream/ORDERS"); got != "stream%2f%4f%52%44%45%52%53" {
		t.Fatalf("stream/ORDERS -> %q", got)
	}
	if got, _ := groupDirName("meta"); got != "meta" {
		t.Fatalf("meta -> %q", got)
	}
}

func TestGroupDirNameRefuses(t *testing.T) {
	for _, g := range []string{"", strings.Repeat("/", 86)} {
		if _, err := groupDirName(g); !errors.Is(err, ErrBadGroup) {
			t.Fatalf("group %q: got %v, want ErrBadGroup", g, err)
		}
	}
}

func TestGroupDirNameRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		b := make([]byte, 1+r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		name, err := groupDirName(string(b))
		if err != nil {
			t.Fatal(err)
		}
		checkDirName(t, string(b), name)
	}
}

func FuzzGroupDirName(f *testing.F) {
	f.Add("stream/ORDERS")
	f.Add("..")
	f.Fuzz(func(t *testing.T, g string) {
		name, err := groupDirName(g)
		if err != nil {
			if !errors.Is(err, ErrBadGroup) {
				t.Fatal(err)
			}
			return
		}
		checkDirName(t, g, name)
	})
}
