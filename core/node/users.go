package node

import (
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/config"
)

// loadUsers reads the accounts' users; with none, every call is allowed.
func (n *Node) loadUsers() error {
	users := n.cfg.AuthUsers()
	if len(users) == 0 {
		return nil
	}
	u, err := auth.New(users)
	n.users.Store(u)
	return err
}

// ReloadAccounts replaces the accounts' users and permissions with
// cfg's (a node does on SIGHUP, after reading its config file again).
// Calls from then on are checked against them. A config whose accounts
// do not load changes nothing. cluster.token and system_account are read
// at start only.
func (n *Node) ReloadAccounts(cfg *config.Config) error {
	var users *auth.Users
	if list := cfg.AuthUsers(); len(list) > 0 {
		var err error
		if users, err = auth.New(list); err != nil {
			return err
		}
	}
	n.users.Store(users)
	if n.api != nil {
		n.api.SetUsers(users)
	}
	n.logger.Info("reloaded the accounts' users", "users", len(cfg.AuthUsers()))
	return nil
}

// httpAuthorize is the HTTP port's check with http_auth: the basic
// credentials of a system account user. Nil leaves the port open.
func (n *Node) httpAuthorize() func(user, password string) bool {
	if !n.cfg.HTTPAuth {
		return nil
	}
	return func(user, password string) bool {
		users := n.users.Load()
		if users == nil {
			return false
		}
		u, err := users.Authenticate(user, password)
		return err == nil && u.System
	}
}
