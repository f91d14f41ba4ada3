package backup

import (
	"context"
	"testing"

	"github.com/stratadb/strata/internal/objstore"
)

// prunedStore lists a manifest that is gone by the time it is read, as
// when retention deletes a backup while it is being listed.
type prunedStore struct{ objstore.Store }

func (s prunedStore) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	objs, err := s.Store.List(ctx, prefix)
	return append(objs, objstore.Object{Key: "S/pruned/" + manifestObject}), err
}

// TestListSkipsPrunedBackup: a backup deleted between listing and
// reading its manifest is not listed, and is not an error.
func TestListSkipsPrunedBackup(t *testing.T) {
	store, _ := writeTestBackup(t, 1, 10)
	all, err := List(context.Background(), prunedStore{store})
	if err != nil || len(all) != 1 || all[0].Dir != "S/test" {
		t.Fatalf("List = %+v, %v; want S/test alone", all, err)
	}
}
