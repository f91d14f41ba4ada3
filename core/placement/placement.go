// Package placement owns choosing which servers hold a stream's replicas.
//
// It is pure: given the candidate servers (name, tags, load, liveness) and a
// request, it returns server names. The meta leader calls it when creating a
// stream (Pick) and when replacing a removed peer (Replace). Replicas are
// spread across zones (the tag starting with the zone prefix, "az:" by
// default) so that no zone holds more replicas than necessary; within that
// constraint the least-loaded servers win, and ties are broken by name so the
// result is deterministic.
package placement

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultZonePrefix is the tag prefix naming a server's zone when
// Request.ZonePrefix is empty.
const DefaultZonePrefix = "az:"

var (
	// ErrBadReplicas is returned when the replica count is not 1, 3 or 5.
	ErrBadReplicas = errors.New("replicas must be 1, 3 or 5")
	// ErrTooFewServers is returned when fewer servers qualify than needed.
	ErrTooFewServers = errors.New("too few servers")
	// ErrNotPeer is returned by Replace when the server to remove is not a
	// current peer.
	ErrNotPeer = errors.New("not a current peer")
)

// Server is a candidate: its name, tags (e.g. "az:a", "ssd"), how many
// replicas it already holds (load), and whether it is online.
type Server struct {
	Name     string
	Tags     []string
	Replicas int
	Offline  bool
}

// Request asks for Replicas servers (1, 3 or 5), each having every tag in
// Tags, none named in Exclude (e.g. current peers when replacing one).
// ZonePrefix is the zone tag prefix; empty means DefaultZonePrefix.
type Request struct {
	Replicas   int
	Tags       []string
	Exclude    []string
	ZonePrefix string
}

// Pick chooses req.Replicas servers, spread across zones, least-loaded first.
func Pick(servers []Server, req Request) ([]string, error) {
	if err := validReplicas(req.Replicas); err != nil {
		return nil, err
	}
	cands := candidates(servers, req, nil)
	if len(cands) < req.Replicas {
		return nil, tooFew(req.Replicas, len(cands), req.Tags)
	}
	return spread(groupByZone(cands, req.zonePrefix()), req.Replicas), nil
}

// Replace chooses one server to take the place of remove among servers not in
// current, preferring a zone not used by the remaining peers, then the least
// loaded, then the name. req.Replicas is ignored.
func Replace(servers []Server, current []string, remove string, req Request) (string, error) {
	if !slices.Contains(current, remove) {
		return "", fmt.Errorf("%w: %q", ErrNotPeer, remove)
	}
	return next(servers, current, remove, req)
}

// Resize returns the peers of a stream going from current to
// req.Replicas replicas. Growing keeps current and adds servers as
// Replace would choose them; shrinking keeps the first req.Replicas of
// current, so a caller lists the peers to keep (the leader) first.
func Resize(servers []Server, current []string, req Request) ([]string, error) {
	if err := validReplicas(req.Replicas); err != nil {
		return nil, err
	}
	if req.Replicas <= len(current) {
		return slices.Clone(current[:req.Replicas]), nil
	}
	out := slices.Clone(current)
	for len(out) < req.Replicas {
		name, err := next(servers, out, "", req)
		if err != nil {
			return nil, tooFew(req.Replicas, len(out), req.Tags)
		}
		out = append(out, name)
	}
	return out, nil
}

// next picks the best server outside current, remove aside.
func next(servers []Server, current []string, remove string, req Request) (string, error) {
	cands := candidates(servers, req, current)
	if len(cands) == 0 {
		return "", tooFew(1, 0, req.Tags)
	}
	used := usedZones(servers, current, remove, req.zonePrefix())
	best := slices.MinFunc(cands, func(a, b Server) int {
		_, aUsed := used[zoneOf(a, req.zonePrefix())]
		_, bUsed := used[zoneOf(b, req.zonePrefix())]
		if aUsed != bUsed {
			return boolCmp(aUsed, bUsed)
		}
		return byLoad(a, b)
	})
	return best.Name, nil
}

func (r Request) zonePrefix() string {
	if r.ZonePrefix == "" {
		return DefaultZonePrefix
	}
	return r.ZonePrefix
}

func validReplicas(n int) error {
	switch n {
	case 1, 3, 5:
		return nil
	}
	return fmt.Errorf("%w, got %d", ErrBadReplicas, n)
}

func tooFew(want, have int, tags []string) error {
	what := "servers"
	if want == 1 {
		what = "server"
	}
	if len(tags) > 0 {
		what += fmt.Sprintf(" with tags [%s]", strings.Join(tags, " "))
	}
	return fmt.Errorf("%w: need %d %s, %d qualify", ErrTooFewServers, want, what, have)
}

// candidates returns the online servers named in neither req.Exclude nor
// extra that carry every requested tag, in input order.
func candidates(servers []Server, req Request, extra []string) []Server {
	var out []Server
	for _, s := range servers {
		if s.Offline || slices.Contains(req.Exclude, s.Name) || slices.Contains(extra, s.Name) {
			continue
		}
		if hasAll(s.Tags, req.Tags) {
			out = append(out, s)
		}
	}
	return out
}

func hasAll(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

// zoneOf returns the server's zone tag, or "" (the "no zone" group).
func zoneOf(s Server, prefix string) string {
	for _, t := range s.Tags {
		if strings.HasPrefix(t, prefix) {
			return t
		}
	}
	return ""
}

// groupByZone splits servers by zone, each zone sorted least-loaded first.
func groupByZone(servers []Server, prefix string) [][]Server {
	idx := map[string]int{}
	var zones [][]Server
	for _, s := range servers {
		z := zoneOf(s, prefix)
		i, ok := idx[z]
		if !ok {
			i = len(zones)
			idx[z] = i
			zones = append(zones, nil)
		}
		zones[i] = append(zones[i], s)
	}
	for _, z := range zones {
		slices.SortFunc(z, byLoad)
	}
	return zones
}

// spread takes n servers round-robin over zones: each round takes the head of
// every non-empty zone, zones ordered by that head's load then name, so no
// zone gets a second replica before every zone has one.
func spread(zones [][]Server, n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		heads := roundHeads(zones)
		for i := 0; i < len(heads) && len(out) < n; i++ {
			out = append(out, heads[i].Name)
		}
	}
	return out
}

// roundHeads pops the first server of every non-empty zone and returns them
// sorted least-loaded first.
func roundHeads(zones [][]Server) []Server {
	var heads []Server
	for i, z := range zones {
		if len(z) > 0 {
			heads = append(heads, z[0])
			zones[i] = z[1:]
		}
	}
	slices.SortFunc(heads, byLoad)
	return heads
}

// usedZones returns the zones of current's peers other than remove.
func usedZones(servers []Server, current []string, remove, prefix string) map[string]struct{} {
	used := map[string]struct{}{}
	for _, s := range servers {
		if s.Name != remove && slices.Contains(current, s.Name) {
			used[zoneOf(s, prefix)] = struct{}{}
		}
	}
	return used
}

func byLoad(a, b Server) int {
	if a.Replicas != b.Replicas {
		return a.Replicas - b.Replicas
	}
	return strings.Compare(a.Name, b.Name)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
