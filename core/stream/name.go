package stream

import (
	"fmt"
	"strings"
)

// accountSep joins an account and a stream name into the name the
// cluster stores: a stream name given by a user cannot hold it.
const accountSep = "."

// Qualify returns the stored name of the stream an account's user calls
// name: "ACCOUNT.NAME". Two accounts' streams of one name are two
// streams. An empty account (a system user, or a node without accounts)
// leaves name as it is.
func Qualify(account, name string) string {
	if account == "" {
		return name
	}
	return account + accountSep + name
}

// SplitName returns the account and the name a stored stream name holds;
// the account is empty for a name that is not qualified.
func SplitName(stored string) (account, name string) {
	if a, n, ok := strings.Cut(stored, accountSep); ok {
		return a, n
	}
	return "", stored
}

// Unqualify returns the name account's users know a stored name by: the
// stored name without the account, when it is account's.
func Unqualify(account, stored string) string {
	if account == "" {
		return stored
	}
	return strings.TrimPrefix(stored, account+accountSep)
}

// ValidStoredName checks a stored stream name: a valid name, after an
// account if it is qualified.
func ValidStoredName(stored string) error {
	account, name := SplitName(stored)
	if account == "" && strings.HasPrefix(stored, accountSep) {
		return fmt.Errorf("%w: stream name %q: an empty account before '.'", ErrBadConfig, stored)
	}
	if strings.ContainsAny(account, " \t\r\n*>/\\") {
		return fmt.Errorf("%w: stream name %q: account %q is not an account name", ErrBadConfig, stored, account)
	}
	return ValidName(name)
}
