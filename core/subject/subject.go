// Package subject owns NATS-style subjects: the names messages are
// published to, and the filters streams and consumers select them with.
//
// A subject is tokens separated by '.': non-empty, no empty tokens, no
// whitespace. A filter may also hold wildcards, as whole tokens only: '*'
// matches exactly one token, and '>', which must be the last token,
// matches one or more trailing tokens. A publish subject holds no
// wildcards.
package subject

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Subject errors. Every error of ValidSubject and ValidFilter wraps
// ErrBadSubject; an empty one also wraps ErrEmptySubject.
var (
	// ErrEmptySubject is wrapped by the error for an empty subject or
	// filter.
	ErrEmptySubject = errors.New("empty subject")
	// ErrBadSubject is wrapped by the error for every invalid subject or
	// filter, which names it and says what is wrong with it.
	ErrBadSubject = errors.New("invalid subject")
)

const (
	sep = '.'
	pwc = "*" // partial wildcard: one token
	fwc = ">" // full wildcard: one or more trailing tokens
)

// Error says why a subject or filter is invalid. It wraps ErrBadSubject,
// and ErrEmptySubject when the subject is empty.
type Error struct {
	// Filter is set when the subject was checked as a filter.
	Filter  bool
	Subject string
	Reason  string
}

func (e *Error) Error() string {
	what := "subject"
	if e.Filter {
		what = "subject filter"
	}
	if e.Subject == "" {
		return "invalid " + what + ": empty"
	}
	return fmt.Sprintf("invalid %s %q: %s", what, e.Subject, e.Reason)
}

// Unwrap returns the sentinels e wraps.
func (e *Error) Unwrap() []error {
	if e.Subject == "" {
		return []error{ErrBadSubject, ErrEmptySubject}
	}
	return []error{ErrBadSubject}
}

// ValidSubject checks a publish subject: tokens without wildcards.
func ValidSubject(s string) error {
	return valid(s, false)
}

// ValidFilter checks a filter: tokens, '*' tokens, and a final '>' token.
func ValidFilter(s string) error {
	return valid(s, true)
}

func valid(s string, filter bool) error {
	bad := func(reason string) error {
		return &Error{Filter: filter, Subject: s, Reason: reason}
	}
	if s == "" {
		return bad("empty")
	}
	if hasSpace(s) {
		return bad("contains whitespace")
	}
	for rest, more := s, true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, string(sep))
		switch {
		case tok == "":
			return bad("empty token")
		case !filter && (tok == pwc || tok == fwc):
			return bad(fmt.Sprintf("wildcard %q is not allowed in a publish subject", tok))
		case tok == fwc && more:
			return bad(`wildcard ">" must be the last token`)
		case tok == pwc || tok == fwc:
		case strings.ContainsAny(tok, pwc+fwc):
			if !filter {
				return bad(fmt.Sprintf("token %q: '*' and '>' are not allowed in a publish subject", tok))
			}
			return bad(fmt.Sprintf("token %q: wildcards '*' and '>' must be whole tokens", tok))
		}
	}
	return nil
}

// hasSpace reports whether s holds any Unicode whitespace.
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.IndexFunc(s[i:], unicode.IsSpace) >= 0
		}
		if c == ' ' || (c >= '\t' && c <= '\r') {
			return true
		}
	}
	return false
}

// IsLiteral reports whether a filter holds no wildcard token, so that it
// matches exactly one subject: itself.
func IsLiteral(filter string) bool {
	for rest, more := filter, true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, string(sep))
		if tok == pwc || tok == fwc {
			return false
		}
	}
	return true
}

// Match reports whether subject matches filter. Both should be valid (a
// subject with wildcard tokens is matched as if they were literal); Match
// does not check.
func Match(filter, subject string) bool {
	f, s := filter, subject
	for {
		ft, frest, fmore := strings.Cut(f, string(sep))
		if ft == fwc {
			return s != "" // s holds the tokens left: one or more
		}
		st, srest, smore := strings.Cut(s, string(sep))
		if ft != pwc && ft != st {
			return false
		}
		if !fmore || !smore {
			return fmore == smore
		}
		f, s = frest, srest
	}
}

// Overlap reports whether some subject matches both filters a and b.
// Both should be valid filters; Overlap does not check.
func Overlap(a, b string) bool {
	for {
		at, arest, amore := strings.Cut(a, string(sep))
		bt, brest, bmore := strings.Cut(b, string(sep))
		if at == fwc || bt == fwc {
			// The other has a token here, and '>' takes it and any
			// after it.
			return true
		}
		if at != pwc && bt != pwc && at != bt {
			return false
		}
		if !amore || !bmore {
			return amore == bmore
		}
		a, b = arest, brest
	}
}

// Within reports whether every subject that matches filter also matches
// outer: a consumer's filter must lie within its stream's subjects. Both
// should be valid filters; Within does not check.
func Within(filter, outer string) bool {
	for {
		ft, frest, fmore := strings.Cut(filter, string(sep))
		ot, orest, omore := strings.Cut(outer, string(sep))
		switch {
		case ot == fwc:
			return true
		case ft == fwc:
			return false
		case ft == pwc && ot != pwc:
			return false
		case ft != pwc && ot != pwc && ft != ot:
			return false
		}
		if !fmore || !omore {
			return fmore == omore
		}
		filter, outer = frest, orest
	}
}
