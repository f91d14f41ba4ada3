package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/stratadb/strata/core/auth"
)

// Account is one account of the `accounts {}` block:
//
//	accounts {
//	  APP {
//	    users = [{ user = "app", password = "$2a$11$...",
//	               permissions = { publish = ["ORDERS.>"], subscribe = ["ORDERS.>"], admin = ["ORDERS"] } }]
//	  }
//	  SYS { users = [{ user = "admin", password = "$2a$11$..." }] }
//	}
//	system_account = "SYS"
//
// Passwords are bcrypt hashes (`strata server passwd` prints one); a
// plain-text password is refused. A user may have, beside or instead of a
// password, a token: `token = "<sha256 hex>"` (`strata server token`).
type Account struct {
	Name  string
	Users []AccountUser
}

// AccountUser is one entry of an account's users list.
type AccountUser struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Token is the SHA-256 (hex) of a token the user signs in with
	// instead of its password (`strata server token` prints both).
	Token       string          `json:"token"`
	Permissions UserPermissions `json:"permissions"`
}

// UserPermissions is a user's permissions object.
type UserPermissions struct {
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
	Admin     []string `json:"admin"`
}

type accountsBody struct {
	Body hcl.Body `hcl:",remain"`
}

// decodeAccounts reads the accounts block: one block per account, named
// by its type, holding a users list.
func decodeAccounts(b *accountsBody, src []byte) ([]*Account, error) {
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("config: accounts: not HCL native syntax")
	}
	if len(body.Attributes) > 0 {
		for name, a := range body.Attributes {
			return nil, fmt.Errorf("config: %s:%d: accounts: %q is not an account block (write %s { users = [...] })",
				a.SrcRange.Filename, a.SrcRange.Start.Line, name, name)
		}
	}
	var out []*Account
	for _, blk := range body.Blocks {
		acc, err := decodeAccount(blk, src)
		if err != nil {
			return nil, err
		}
		out = append(out, acc)
	}
	return out, nil
}

func decodeAccount(blk *hclsyntax.Block, src []byte) (*Account, error) {
	at := func(r hcl.Range) string {
		return fmt.Sprintf("config: %s:%d: accounts.%s", r.Filename, r.Start.Line, blk.Type)
	}
	if len(blk.Labels) > 0 || len(blk.Body.Blocks) > 0 {
		return nil, fmt.Errorf("%s: an account block holds only users = [...]", at(blk.TypeRange))
	}
	acc := &Account{Name: blk.Type}
	for name, attr := range blk.Body.Attributes {
		if name != "users" {
			return nil, fmt.Errorf("%s: unknown key %q (an account has users)", at(attr.SrcRange), name)
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diagError(diags, src)
		}
		js, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return nil, fmt.Errorf("%s: users: %v", at(attr.SrcRange), err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&acc.Users); err != nil {
			return nil, fmt.Errorf("%s: users: a list of { user, password or token, permissions = { publish, subscribe, admin } }: %v",
				at(attr.SrcRange), err)
		}
	}
	return acc, nil
}

// AuthUsers returns the accounts' users as the auth package takes them,
// or nil when no account is configured (every call is then allowed).
func (c *Config) AuthUsers() []*auth.User {
	var out []*auth.User
	for _, a := range c.Accounts {
		for _, u := range a.Users {
			out = append(out, &auth.User{
				Name: u.User, Account: a.Name, Hash: u.Password, TokenHash: u.Token, System: a.Name == c.SystemAccount,
				Permissions: auth.Permissions{Publish: u.Permissions.Publish, Subscribe: u.Permissions.Subscribe,
					Admin: u.Permissions.Admin},
			})
		}
	}
	return out
}

// minTokenLen is the shortest cluster token accepted.
const minTokenLen = 16

func (c *Config) validateAccounts() error {
	if len(c.Accounts) == 0 {
		if c.HTTPAuth {
			return fmt.Errorf("http_auth: needs accounts (a system account user signs in)")
		}
		if c.SystemAccount != "" {
			return fmt.Errorf("system_account: %q names no account (no accounts block)", c.SystemAccount)
		}
		return nil
	}
	found := false
	for _, a := range c.Accounts {
		found = found || a.Name == c.SystemAccount
		if len(a.Users) == 0 {
			return fmt.Errorf("accounts.%s: no users", a.Name)
		}
	}
	if c.SystemAccount == "" || !found {
		return fmt.Errorf("system_account: required with accounts, naming one of them (got %q)", c.SystemAccount)
	}
	if len(c.Cluster.Token) < minTokenLen {
		return fmt.Errorf("cluster.token: required with accounts, at least %d characters: "+
			"servers authenticate their calls to each other with it", minTokenLen)
	}
	if _, err := auth.New(c.AuthUsers()); err != nil {
		return err
	}
	return nil
}
