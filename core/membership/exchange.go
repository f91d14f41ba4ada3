package membership

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// maxMessageSize bounds one message, far above any real member list.
const maxMessageSize = 4 << 20

// message is both the request and the response of an exchange: one JSON
// object each way per connection.
type message struct {
	From    Member   `json:"from"`
	Members []Member `json:"members,omitempty"`
	// Error is set when the receiver refuses the sender.
	Error string `json:"error,omitempty"`
}

func (m *Membership) acceptLoop() {
	defer m.wg.Done()
	for {
		conn, err := m.cfg.Layer.Accept()
		if err != nil {
			if m.ctx.Err() == nil {
				m.logger.Error("member stream closed", "error", err)
			}
			return
		}
		m.wg.Add(1)
		go m.serve(conn)
	}
}

// serve answers one exchange: it reads the peer's message, merges it and
// replies with the full member list, or with the refusal.
func (m *Membership) serve(conn net.Conn) {
	defer m.wg.Done()
	defer m.closeOnStop(conn)()
	_ = conn.SetDeadline(time.Now().Add(m.cfg.IOTimeout))
	var req message
	if err := json.NewDecoder(io.LimitReader(conn, maxMessageSize)).Decode(&req); err != nil {
		m.logger.Debug("bad member request", "remote", conn.RemoteAddr(), "error", err)
		return
	}
	resp := message{From: m.Self()}
	if err := m.merge(req); err != nil {
		resp.Error = err.Error()
	} else {
		resp.Members = m.Members()
	}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		m.logger.Debug("member response failed", "remote", conn.RemoteAddr(), "error", err)
	}
}

// closeOnStop closes conn when the Membership stops or when the returned
// function is called, whichever is first.
func (m *Membership) closeOnStop(conn net.Conn) func() {
	stop := context.AfterFunc(m.ctx, func() { _ = conn.Close() })
	return func() {
		stop()
		_ = conn.Close()
	}
}

func (m *Membership) gossipLoop() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		m.round()
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// round exchanges member lists with every route and member at once.
func (m *Membership) round() {
	var wg sync.WaitGroup
	for _, addr := range m.targets() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.exchange(addr); err != nil && m.ctx.Err() == nil {
				m.logger.Debug("member exchange failed", "peer", addr, "error", err)
			}
		}()
	}
	wg.Wait()
}

// targets are the routes and the members' addresses, without this node's.
func (m *Membership) targets() []string {
	set := map[string]bool{}
	for _, r := range m.cfg.Routes {
		set[r] = true
	}
	for _, mem := range m.Members() {
		set[mem.Cluster] = true
	}
	delete(set, m.cfg.Self.Cluster)
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// exchange sends this node's list to addr and merges the reply.
func (m *Membership) exchange(addr string) error {
	conn, err := m.cfg.Layer.Dial(raft.ServerAddress(addr), m.cfg.DialTimeout)
	if err != nil {
		return err
	}
	defer m.closeOnStop(conn)()
	_ = conn.SetDeadline(time.Now().Add(m.cfg.IOTimeout))
	if err := json.NewEncoder(conn).Encode(message{From: m.Self(), Members: m.Members()}); err != nil {
		return err
	}
	var resp message
	if err := json.NewDecoder(io.LimitReader(conn, maxMessageSize)).Decode(&resp); err != nil {
		return err
	}
	if resp.Error != "" {
		err := fmt.Errorf("%s: %s", addr, resp.Error)
		m.logRefusal("by:"+addr+":"+resp.Error, "refused by peer", err)
		return err
	}
	return m.merge(resp)
}
