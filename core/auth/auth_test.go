package auth

import (
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func testUsers(t *testing.T) *Users {
	t.Helper()
	u, err := New([]*User{
		{Name: "app", Account: "APP", Hash: hash(t, "s3cret"), Permissions: Permissions{
			Publish: []string{"ORDERS.>"}, Subscribe: []string{"ORDERS.>"}, Admin: []string{"ORDERS"}}},
		{Name: "reader", Account: "APP", Hash: hash(t, "r"), Permissions: Permissions{Subscribe: []string{"ORDERS.eu.*"}}},
		{Name: "admin", Account: "SYS", Hash: hash(t, "root"), System: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAuthenticate: the right password passes, again from the cache; a
// wrong one, an unknown user and an empty password fail alike.
func TestAuthenticate(t *testing.T) {
	u := testUsers(t)
	for range 2 {
		if user, err := u.Authenticate("app", "s3cret"); err != nil || user.Account != "APP" {
			t.Fatalf("app: %+v, %v", user, err)
		}
	}
	for _, c := range [][2]string{{"app", "s3cret!"}, {"app", ""}, {"nobody", "s3cret"}, {"", ""}} {
		if _, err := u.Authenticate(c[0], c[1]); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%q/%q: %v, want ErrUnauthenticated", c[0], c[1], err)
		}
	}
}

// TestPermissions: publish by subject, read by the stream's subjects,
// admin by stream name; the system user may do everything.
func TestPermissions(t *testing.T) {
	u := testUsers(t)
	app, reader, admin := u.byName["app"], u.byName["reader"], u.byName["admin"]
	checks := []struct {
		name string
		err  error
		ok   bool
	}{
		{"app publishes ORDERS.new", app.CanPublish("ORDERS.new"), true},
		{"app publishes BILLING.x", app.CanPublish("BILLING.x"), false},
		{"app reads ORDERS", app.CanRead("ORDERS", []string{"ORDERS.>"}), true},
		{"app reads MIXED", app.CanRead("MIXED", []string{"ORDERS.x", "BILLING.x"}), false},
		{"reader reads EU", reader.CanRead("EU", []string{"ORDERS.eu.*"}), true},
		{"reader reads ORDERS", reader.CanRead("ORDERS", []string{"ORDERS.>"}), false},
		{"reader publishes", reader.CanPublish("ORDERS.eu.x"), false},
		{"app admins ORDERS", app.CanAdmin("ORDERS"), true},
		{"app admins BILLING", app.CanAdmin("BILLING"), false},
		{"app runs a server command", app.CanSystem("server report"), false},
		{"admin runs a server command", admin.CanSystem("server report"), true},
		{"admin publishes anywhere", admin.CanPublish("X.y"), true},
	}
	for _, c := range checks {
		if (c.err == nil) != c.ok || (!c.ok && !errors.Is(c.err, ErrDenied)) {
			t.Errorf("%s: %v, want allowed=%t", c.name, c.err, c.ok)
		}
	}
}

// TestNewRefusesBadUsers: a plain-text password, a duplicate name and a
// bad permission filter are refused with the user named.
func TestNewRefusesBadUsers(t *testing.T) {
	for name, users := range map[string][]*User{
		"plain":     {{Name: "a", Hash: "hunter2"}},
		"duplicate": {{Name: "a", Hash: hash(t, "x")}, {Name: "a", Account: "B", Hash: hash(t, "y")}},
		"filter":    {{Name: "a", Hash: hash(t, "x"), Permissions: Permissions{Publish: []string{"a..b"}}}},
	} {
		if _, err := New(users); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v, want ErrBadConfig", name, err)
		}
	}
}

// TestTokens: a user signs in with its token, not with its hash or
// another string; a token user has no password; a token that is not a
// hash, or two users with one token, are refused.
func TestTokens(t *testing.T) {
	token, h, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 40 || h != TokenHash(token) || len(h) != 64 {
		t.Fatalf("NewToken = %q, %q", token, h)
	}
	u, err := New([]*User{
		{Name: "ci", Account: "APP", TokenHash: h, Permissions: Permissions{Publish: []string{"CI.>"}}},
		{Name: "app", Account: "APP", Hash: hash(t, "s3cret")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if user, err := u.AuthenticateToken(token); err != nil || user.Name != "ci" {
		t.Fatalf("token: %+v, %v", user, err)
	}
	for _, bad := range []string{"", h, token + "x", "s3cret"} {
		if _, err := u.AuthenticateToken(bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("token %q: %v, want ErrUnauthenticated", bad, err)
		}
	}
	if _, err := u.Authenticate("ci", token); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a token user's name and token as a password: %v, want ErrUnauthenticated", err)
	}
	for name, users := range map[string][]*User{
		"plain token": {{Name: "a", TokenHash: token}},
		"none":        {{Name: "a"}},
		"same token":  {{Name: "a", TokenHash: h}, {Name: "b", TokenHash: h}},
	} {
		if _, err := New(users); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v, want ErrBadConfig", name, err)
		}
	}
}
