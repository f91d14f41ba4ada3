package subject

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValidSubject(t *testing.T) {
	cases := []struct {
		s       string
		wantErr string // "" for valid
	}{
		{"a", ""},
		{"ORDERS.new", ""},
		{"ORDERS.eu-west.new_1", ""},
		{"a.b.c.d.e.f", ""},
		{"ü.ß", ""},
		{"", `invalid subject: empty`},
		{"a..b", `invalid subject "a..b": empty token`},
		{".a", `invalid subject ".a": empty token`},
		{"a.", `invalid subject "a.": empty token`},
		{".", `invalid subject ".": empty token`},
		{"a b", `invalid subject "a b": contains whitespace`},
		{"a\tb", `invalid subject "a\tb": contains whitespace`},
		{"a.b\n", `invalid subject "a.b\n": contains whitespace`},
		{"a\u00a0b", `invalid subject "a\u00a0b": contains whitespace`},
		{"a.*", `invalid subject "a.*": wildcard "*" is not allowed in a publish subject`},
		{">", `invalid subject ">": wildcard ">" is not allowed in a publish subject`},
		{"a.>.b", `invalid subject "a.>.b": wildcard ">" is not allowed in a publish subject`},
		{"a*b", `invalid subject "a*b": token "a*b": '*' and '>' are not allowed in a publish subject`},
		{"a.b>", `invalid subject "a.b>": token "b>": '*' and '>' are not allowed in a publish subject`},
	}
	for _, c := range cases {
		err := ValidSubject(c.s)
		checkErr(t, "ValidSubject", c.s, err, c.wantErr)
	}
}

func TestValidFilter(t *testing.T) {
	cases := []struct {
		s       string
		wantErr string
	}{
		{"a", ""},
		{"*", ""},
		{">", ""},
		{"ORDERS.>", ""},
		{"ORDERS.*.x", ""},
		{"*.*.>", ""},
		{"", `invalid subject filter: empty`},
		{"a..b", `invalid subject filter "a..b": empty token`},
		{"a.>.b", `invalid subject filter "a.>.b": wildcard ">" must be the last token`},
		{">.>", `invalid subject filter ">.>": wildcard ">" must be the last token`},
		{"a.b*", `invalid subject filter "a.b*": token "b*": wildcards '*' and '>' must be whole tokens`},
		{">a", `invalid subject filter ">a": token ">a": wildcards '*' and '>' must be whole tokens`},
		{"a. *", `invalid subject filter "a. *": contains whitespace`},
		{"*.", `invalid subject filter "*.": empty token`},
	}
	for _, c := range cases {
		err := ValidFilter(c.s)
		checkErr(t, "ValidFilter", c.s, err, c.wantErr)
	}
}

func checkErr(t *testing.T, fn, s string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s(%q) = %v, want nil", fn, s, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s(%q) = nil, want %q", fn, s, want)
		return
	}
	if err.Error() != want {
		t.Errorf("%s(%q) = %q, want %q", fn, s, err, want)
	}
	if !errors.Is(err, ErrBadSubject) {
		t.Errorf("%s(%q): %v does not wrap ErrBadSubject", fn, s, err)
	}
	if errors.Is(err, ErrEmptySubject) != (s == "") {
		t.Errorf("%s(%q): errors.Is(ErrEmptySubject) = %v", fn, s, !(s == ""))
	}
	var e *Error
	if !errors.As(err, &e) || e.Subject != s {
		t.Errorf("%s(%q): error %#v does not carry the subject", fn, s, err)
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		filter, subject string
		want            bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{"a.b", "a", false},
		{"a.b", "a.b", true},
		{"ab", "a", false},
		{"a", "ab", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a", false},
		{"a.*", "a.b.c", false},
		{"*.b", "a.b", true},
		{"*.b", "a.c", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "b.c", false},
		{"ORDERS.*.x", "ORDERS.eu.x", true},
		{"ORDERS.*.x", "ORDERS.eu.y", false},
		{"*.*.>", "a.b", false},
		{"*.*.>", "a.b.c", true},
	}
	for _, c := range cases {
		if got := Match(c.filter, c.subject); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.filter, c.subject, got, c.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"ORDERS.>", "ORDERS.new", true},
		{"ORDERS.*", "ORDERS.*.x", false},
		{"a.>", "*.b", true},
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{">", "a", true},
		{">", ">", true},
		{"*", "a.b", false},
		{"*", ">", true},
		{"a.*", "*.b", true},
		{"a.*", "b.*", false},
		{"a.>", "b.>", false},
		{"a.b.>", "a.>", true},
		{"a.>", "a", false},
		{"*.*", "a.>", true},
		{"*.*", "*.*.*", false},
	}
	for _, c := range cases {
		if got := Overlap(c.a, c.b); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Overlap(c.b, c.a); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestIsLiteral(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "a.b": true, "*": false, "a.>": false, "a.*.b": false} {
		if got := IsLiteral(s); got != want {
			t.Errorf("IsLiteral(%q) = %v, want %v", s, got, want)
		}
	}
}

// joinAll returns every string of 1 to maxLen tokens from toks.
func joinAll(toks []string, maxLen int) []string {
	var out []string
	level := []string{""}
	for range maxLen {
		var next []string
		for _, p := range level {
			for _, t := range toks {
				if p == "" {
					next = append(next, t)
				} else {
					next = append(next, p+"."+t)
				}
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// Filter tokens a and b, subject tokens a, b and c: c stands for any
// token no filter names. A witness of an overlap is never longer than the
// longer filter, so subjects of up to maxLen tokens decide every pair.
func bruteOverlap(a, b string, subjects []string) (string, bool) {
	for _, s := range subjects {
		if Match(a, s) && Match(b, s) {
			return s, true
		}
	}
	return "", false
}

func validFilters(t *testing.T, all []string) []string {
	var fs []string
	for _, f := range all {
		if ValidFilter(f) == nil {
			fs = append(fs, f)
		} else if !strings.Contains(f, ">.") {
			t.Fatalf("ValidFilter(%q) = %v", f, ValidFilter(f))
		}
	}
	return fs
}

func TestOverlapExhaustive(t *testing.T) {
	const maxLen = 3
	filters := validFilters(t, joinAll([]string{"a", "b", "*", ">"}, maxLen))
	subjects := joinAll([]string{"a", "b", "c"}, maxLen+1)
	for _, a := range filters {
		for _, b := range filters {
			witness, want := bruteOverlap(a, b, subjects)
			if got := Overlap(a, b); got != want {
				t.Fatalf("Overlap(%q, %q) = %v, brute force says %v (witness %q)", a, b, got, want, witness)
			}
		}
	}
}

// TestOverlapRandom checks longer filters than the exhaustive test can,
// against a random sample of subjects (so only one direction: a subject
// matching both proves an overlap) plus a constructed witness.
func TestOverlapRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	filterToks := []string{"a", "b", "*", "*", ">"}
	subjectToks := []string{"a", "b", "c"}
	randomFilter := func() string {
		n := 1 + rng.IntN(6)
		toks := make([]string, n)
		for i := range toks {
			toks[i] = filterToks[rng.IntN(len(filterToks)-1)]
		}
		if rng.IntN(3) == 0 {
			toks[n-1] = ">"
		}
		return strings.Join(toks, ".")
	}
	randomSubject := func() string {
		toks := make([]string, 1+rng.IntN(7))
		for i := range toks {
			toks[i] = subjectToks[rng.IntN(len(subjectToks))]
		}
		return strings.Join(toks, ".")
	}
	for range 3000 {
		a, b := randomFilter(), randomFilter()
		if err := ValidFilter(a); err != nil {
			t.Fatal(err)
		}
		got := Overlap(a, b)
		if got != Overlap(b, a) {
			t.Fatalf("Overlap(%q, %q) is not symmetric", a, b)
		}
		for range 50 {
			s := randomSubject()
			if Match(a, s) && Match(b, s) && !got {
				t.Fatalf("Overlap(%q, %q) = false, but %q matches both", a, b, s)
			}
		}
		if w, ok := witness(a, b); ok != got {
			t.Fatalf("Overlap(%q, %q) = %v, constructed witness %q ok=%v", a, b, got, w, ok)
		} else if ok && !(Match(a, w) && Match(b, w)) {
			t.Fatalf("witness %q of %q and %q does not match both", w, a, b)
		}
	}
}

// witness builds the subject that matches both filters if any does:
// literal tokens where either filter has one, c where both have
// wildcards, as long as the longer filter.
func witness(a, b string) (string, bool) {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	var out []string
	for i := 0; i < max(len(at), len(bt)); i++ {
		x, y := "*", "*" // past a trailing '>'
		if i < len(at) {
			x = at[i]
		} else if at[len(at)-1] != ">" {
			return "", false
		}
		if i < len(bt) {
			y = bt[i]
		} else if bt[len(bt)-1] != ">" {
			return "", false
		}
		switch {
		case x == "*" || x == ">":
			x = y
		case y == "*" || y == ">":
		case x != y:
			return "", false
		}
		if x == "*" || x == ">" {
			x = "c"
		}
		out = append(out, x)
	}
	s := strings.Join(out, ".")
	return s, Match(a, s) && Match(b, s)
}

// FuzzSubject checks that validation never panics, that valid subjects
// match themselves and '>' and that valid filters overlap themselves.
func FuzzSubject(f *testing.F) {
	for _, s := range []string{"a", "a.b", "a.*", "a.>", "a..b", " ", ">", "*.>", "a.b*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidSubject(s) == nil {
			if ValidFilter(s) != nil {
				t.Fatalf("subject %q is not a valid filter", s)
			}
			if !Match(s, s) || !Match(">", s) || !IsLiteral(s) {
				t.Fatalf("subject %q does not match itself or '>'", s)
			}
		}
		if ValidFilter(s) == nil && !Overlap(s, s) {
			t.Fatalf("filter %q does not overlap itself", s)
		}
	})
}

// TestWithinExhaustive checks Within against brute force: filter lies
// within outer when no subject matches filter but not outer.
func TestWithinExhaustive(t *testing.T) {
	const maxLen = 3
	filters := validFilters(t, joinAll([]string{"a", "b", "*", ">"}, maxLen))
	subjects := joinAll([]string{"a", "b", "c"}, maxLen+1)
	for _, f := range filters {
		for _, o := range filters {
			want, witness := true, ""
			for _, s := range subjects {
				if Match(f, s) && !Match(o, s) {
					want, witness = false, s
					break
				}
			}
			if got := Within(f, o); got != want {
				t.Fatalf("Within(%q, %q) = %v, brute force says %v (witness %q)", f, o, got, want, witness)
			}
		}
	}
}
