package node

import "github.com/stratadb/strata/core/auth"

// loadUsers reads the accounts' users; with none, every call is allowed.
func (n *Node) loadUsers() error {
	users := n.cfg.AuthUsers()
	if len(users) == 0 {
		return nil
	}
	u, err := auth.New(users)
	n.users = u
	return err
}

// httpAuthorize is the HTTP port's check with http_auth: the basic
// credentials of a system account user. Nil leaves the port open.
func (n *Node) httpAuthorize() func(user, password string) bool {
	if !n.cfg.HTTPAuth || n.users == nil {
		return nil
	}
	return func(user, password string) bool {
		u, err := n.users.Authenticate(user, password)
		return err == nil && u.System
	}
}
