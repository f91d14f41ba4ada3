// Package auth owns who a caller of the client API is and what it may
// do: the users of the configured accounts with their bcrypt password
// hashes, the system account whose users run server and recovery
// commands, and each user's permissions (subjects to publish to, subjects
// to read, streams to administer). Checking a password costs a bcrypt
// comparison once; later calls with the same password are checked
// against a SHA-256 of it kept in memory.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/core/subject"
)

// Errors of authentication and authorization.
var (
	// ErrUnauthenticated is a call without credentials, with an unknown
	// user or a wrong password (the error does not say which).
	ErrUnauthenticated = errors.New("authentication failed")
	// ErrDenied is a call the caller's permissions do not allow; the
	// wrapping error names the permission.
	ErrDenied = errors.New("permission denied")
	// ErrBadConfig is an account or user config that cannot be used.
	ErrBadConfig = errors.New("auth: bad config")
)

// Permissions say what a user of an account that is not the system
// account may do. Empty lists allow nothing.
type Permissions struct {
	// Publish are the subject filters the user may publish to.
	Publish []string
	// Subscribe are the subject filters the user may read: a stream is
	// readable (messages, consumers' deliveries) when every one of its
	// subjects lies within one of them.
	Subscribe []string
	// Admin are the stream names (or "*": every stream) whose streams and
	// consumers the user may create, change, delete, back up and restore.
	Admin []string
}

// User is one user of an account.
type User struct {
	Name    string
	Account string
	// Hash is the password's bcrypt hash; empty for a user that signs in
	// with a token only.
	Hash string
	// TokenHash is the SHA-256 (hex) of the user's token (TokenHash);
	// empty for a user without one.
	TokenHash   string
	Permissions Permissions
	// System is set for users of the system account: they may do
	// everything, server and recovery commands included.
	System bool
}

// Users authenticates callers by name and password.
type Users struct {
	byName  map[string]*User
	byToken map[[32]byte]*User

	mu       sync.Mutex
	verified map[string][32]byte // user -> SHA-256 of the password bcrypt accepted
}

// New checks users and returns them ready to authenticate.
func New(users []*User) (*Users, error) {
	u := &Users{byName: map[string]*User{}, byToken: map[[32]byte]*User{}, verified: map[string][32]byte{}}
	for _, user := range users {
		if err := user.validate(); err != nil {
			return nil, err
		}
		if _, dup := u.byName[user.Name]; dup {
			return nil, fmt.Errorf("%w: user %q is declared twice (user names are unique across accounts)", ErrBadConfig, user.Name)
		}
		u.byName[user.Name] = user
		if err := u.addToken(user); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *Users) addToken(user *User) error {
	if user.TokenHash == "" {
		return nil
	}
	sum, err := parseTokenHash(user.Name, user.TokenHash)
	if err != nil {
		return err
	}
	if other, dup := u.byToken[sum]; dup {
		return fmt.Errorf("%w: users %q and %q have the same token", ErrBadConfig, other.Name, user.Name)
	}
	u.byToken[sum] = user
	return nil
}

func (u *User) validate() error {
	if u.Name == "" {
		return fmt.Errorf("%w: account %q: a user without a name", ErrBadConfig, u.Account)
	}
	if u.Hash == "" && u.TokenHash == "" {
		return fmt.Errorf("%w: user %q: needs a password or a token", ErrBadConfig, u.Name)
	}
	if _, err := bcrypt.Cost([]byte(u.Hash)); u.Hash != "" && err != nil {
		return fmt.Errorf("%w: user %q: password is not a bcrypt hash (strata server passwd makes one): %v",
			ErrBadConfig, u.Name, err)
	}
	for _, f := range append(append([]string{}, u.Permissions.Publish...), u.Permissions.Subscribe...) {
		if err := subject.ValidFilter(f); err != nil {
			return fmt.Errorf("%w: user %q: permission %q: %v", ErrBadConfig, u.Name, f, err)
		}
	}
	return nil
}

// Authenticate returns the user whose name and password these are.
func (u *Users) Authenticate(name, password string) (*User, error) {
	user, ok := u.byName[name]
	if !ok || password == "" || user.Hash == "" {
		return nil, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(password))
	u.mu.Lock()
	known, cached := u.verified[name]
	u.mu.Unlock()
	if cached && subtle.ConstantTimeCompare(known[:], sum[:]) == 1 {
		return user, nil
	}
	if bcrypt.CompareHashAndPassword([]byte(user.Hash), []byte(password)) != nil {
		return nil, ErrUnauthenticated
	}
	u.mu.Lock()
	u.verified[name] = sum
	u.mu.Unlock()
	return user, nil
}

// Hash returns the bcrypt hash of password at cost 11, as `strata server
// passwd` prints it.
func Hash(password string) (string, error) {
	if password == "" {
		return "", errors.New("auth: an empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), 11)
	return string(h), err
}

// CanPublish returns nil if u may publish to subj.
func (u *User) CanPublish(subj string) error {
	if u.System || anyMatch(u.Permissions.Publish, func(f string) bool { return subject.Match(f, subj) }) {
		return nil
	}
	return fmt.Errorf("%w: user %q may not publish to %q", ErrDenied, u.Name, subj)
}

// CanRead returns nil if u may read the stream named stream, whose
// subjects are subjects.
func (u *User) CanRead(stream string, subjects []string) error {
	if u.System || u.admins(stream) {
		return nil
	}
	for _, s := range subjects {
		if !anyMatch(u.Permissions.Subscribe, func(f string) bool { return subject.Within(s, f) }) {
			return fmt.Errorf("%w: user %q may not read stream %q (its subject %q is not within its subscribe permissions)",
				ErrDenied, u.Name, stream, s)
		}
	}
	if len(subjects) == 0 {
		return fmt.Errorf("%w: user %q may not read stream %q", ErrDenied, u.Name, stream)
	}
	return nil
}

// CanAdmin returns nil if u may administer the stream named stream.
func (u *User) CanAdmin(stream string) error {
	if u.System || u.admins(stream) {
		return nil
	}
	return fmt.Errorf("%w: user %q may not administer stream %q", ErrDenied, u.Name, stream)
}

// CanSystem returns nil if u is a system account user; what names the
// command.
func (u *User) CanSystem(what string) error {
	if u.System {
		return nil
	}
	return fmt.Errorf("%w: %s needs a system account user, and %q is in account %q", ErrDenied, what, u.Name, u.Account)
}

func (u *User) admins(stream string) bool {
	return anyMatch(u.Permissions.Admin, func(n string) bool { return n == "*" || n == stream })
}

func anyMatch(list []string, ok func(string) bool) bool {
	for _, v := range list {
		if ok(v) {
			return true
		}
	}
	return false
}
