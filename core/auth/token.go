package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// A token is a random secret a user presents instead of its name and
// password (a service, a CI job). The config holds the token's SHA-256,
// never the token: a token is 32 random bytes, so a fast hash is as safe
// for it as bcrypt is for a password a person chose, and checking one
// costs a hash on every call.

// tokenBytes is the randomness of a token NewToken makes.
const tokenBytes = 32

// NewToken returns a new random token and the hash the config holds, as
// `strata server token` prints them.
func NewToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash returns the hash of token the config holds: its SHA-256 in
// lowercase hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// parseTokenHash reads a configured token hash.
func parseTokenHash(user, h string) ([32]byte, error) {
	var sum [32]byte
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(sum) {
		return sum, fmt.Errorf("%w: user %q: token is not a SHA-256 in hex (strata server token makes one; "+
			"the config holds the hash, never the token)", ErrBadConfig, user)
	}
	copy(sum[:], b)
	return sum, nil
}

// AuthenticateToken returns the user whose token this is.
func (u *Users) AuthenticateToken(token string) (*User, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	user, ok := u.byToken[sha256.Sum256([]byte(token))]
	if !ok {
		return nil, ErrUnauthenticated
	}
	return user, nil
}
