package api

import (
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
)

// TestLiveVotersRightAfterElection: a meta leader elected a moment ago
// has no record of the other voters yet; they are unknown, not down, so
// a server peer-remove is deferred (Unavailable: the client retries)
// rather than refused for want of a quorum, as the fault suite's "a
// follower dies for good" scenario saw when the dead server had led the
// meta group.
func TestLiveVotersRightAfterElection(t *testing.T) {
	voters := []raft.Server{{ID: "n1", Suffrage: raft.Voter}, {ID: "n2", Suffrage: raft.Voter},
		{ID: "n3", Suffrage: raft.Voter}, {ID: "n4", Suffrage: raft.Voter}, {ID: "n5", Suffrage: raft.Nonvoter}}
	now := time.Now()
	alive, unknown := liveVoters(voters, map[raft.ServerID]time.Time{}, "n2", "n1", now)
	if alive != 1 || !slices.Equal(unknown, []string{"n3", "n4"}) {
		t.Fatalf("no records: alive %d, unknown %v; want 1 and [n3 n4]", alive, unknown)
	}
	seen := map[raft.ServerID]time.Time{"n3": now.Add(-time.Second), "n4": now.Add(-time.Minute)}
	alive, unknown = liveVoters(voters, seen, "n2", "n1", now)
	if alive != 2 || len(unknown) != 0 {
		t.Fatalf("n3 heard from, n4 silent for a minute: alive %d, unknown %v; want 2 and none", alive, unknown)
	}
	if codeOf(ErrPeersUnknown) != codes.Unavailable {
		t.Fatalf("ErrPeersUnknown maps to %v, want Unavailable", codeOf(ErrPeersUnknown))
	}
}
