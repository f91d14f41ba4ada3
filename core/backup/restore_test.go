package backup_test

import (
	"context"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/clustertest"
)

// TestRestoreRightAfterDeleteOnAnotherServer deletes a stream through
// one server and at once restores its backup through another, whose
// meta state may not have applied the delete yet: the meta leader,
// which decides whether the name is taken, accepts the restore.
func TestRestoreRightAfterDeleteOnAnotherServer(t *testing.T) {
	needCluster(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir})
	addrs := cluster.Addrs()
	ctx := context.Background()
	clients := make([]*client.Client, len(addrs))
	for i, a := range addrs {
		c, err := client.Connect(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		clients[i] = c
	}
	addStream(t, clients[0], "ORDERS", 3)
	mustPublish(t, clients[0], 0, 20)
	dir := t.TempDir()
	if _, err := backup.Save(ctx, clients[0], mustOpen(t, "file://"+dir), backup.SaveOptions{Stream: "ORDERS"}); err != nil {
		t.Fatal(err)
	}
	store := mustOpen(t, "file://"+dir+"/ORDERS")
	b, err := backup.Find(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 * len(clients) {
		del, res := clients[round%len(clients)], clients[(round+1)%len(clients)]
		if err := del.DeleteStream(ctx, "ORDERS"); err != nil {
			t.Fatalf("round %d: delete: %v", round, err)
		}
		info, err := backup.Restore(ctx, res, store, b, backup.RestoreOptions{})
		if err != nil {
			t.Fatalf("round %d: restore through %s right after the delete through %s: %v",
				round, addrs[(round+1)%len(addrs)], addrs[round%len(addrs)], err)
		}
		if info.State.Msgs != 20 {
			t.Fatalf("round %d: restored %d messages, want 20", round, info.State.Msgs)
		}
	}
}
