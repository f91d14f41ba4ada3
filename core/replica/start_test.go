package replica

import (
	"fmt"
	"testing"
)

func TestPreferredLeaderSpreadsOverPeers(t *testing.T) {
	peers := []string{"n1", "n2", "n3"}
	counts := map[string]int{}
	for i := range 300 {
		id := fmt.Sprintf("ORDERS%d-%08x", i, i*2654435761)
		p := preferredLeader(id, peers)
		if again := preferredLeader(id, []string{"n1", "n2", "n3"}); again != p {
			t.Fatalf("group %s: preferred %s then %s", id, p, again)
		}
		counts[p]++
	}
	for _, p := range peers {
		if counts[p] < 60 {
			t.Fatalf("preferred leaders %v: %s has too few of 300", counts, p)
		}
	}
	if p := preferredLeader("g", nil); p != "" {
		t.Fatalf("no peers: preferred %q, want none", p)
	}
}
