package file

import (
	"fmt"
)

// maxDirName is the longest file name most file systems accept.
const maxDirName = 255

// groupDirName maps a Raft group name to a directory name. Group names are
// arbitrary strings ("meta", "stream/ORDERS"), so the mapping must be
// injective and yield a name that is safe everywhere: lower-case ASCII
// letters, digits, '-' and '_' are kept, and every other byte, '%' itself
// included, becomes %xx (lower-case hex). The result never contains a
// separator or a dot (so never "." or ".."), and it has no upper-case
// letters, so two groups cannot collide on a case-insensitive file system.
func groupDirName(group string) (string, error) {
	if group == "" {
		return "", fmt.Errorf("%w: empty", ErrBadGroup)
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(group))
	for i := 0; i < len(group); i++ {
		c := group[i]
		if keepInDirName(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&0xf])
	}
	if len(out) > maxDirName {
		return "", fmt.Errorf("%w: %q escapes to %d bytes, more than %d",
			ErrBadGroup, group, len(out), maxDirName)
	}
	return string(out), nil
}

func keepInDirName(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
