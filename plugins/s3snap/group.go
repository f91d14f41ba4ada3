package s3snap

import (
	"fmt"
)

// maxGroupKey bounds an escaped group name, a key segment.
const maxGroupKey = 255

// groupKey maps a Raft group name to a key segment, as the file plugin maps
// it to a directory name: lower-case ASCII letters, digits, '-' and '_'
// are kept and every other byte, '%' included, becomes %xx (lower-case
// hex). The mapping is injective and the result has no '/' and no dot, so
// one group's keys never fall under another's prefix.
func groupKey(group string) (string, error) {
	if group == "" {
		return "", fmt.Errorf("%w: empty", ErrBadGroup)
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(group))
	for i := 0; i < len(group); i++ {
		c := group[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&0xf])
	}
	if len(out) > maxGroupKey {
		return "", fmt.Errorf("%w: %q escapes to %d bytes, more than %d", ErrBadGroup, group, len(out), maxGroupKey)
	}
	return string(out), nil
}
