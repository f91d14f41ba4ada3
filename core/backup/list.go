package backup

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/stratadb/strata/internal/objstore"
)

// ErrNoBackup is returned by Find when no complete backup is there.
var ErrNoBackup = errors.New("no complete backup found")

// List returns the complete backups in store (those with a manifest),
// by stream, oldest first. A manifest that does not read is an error;
// one deleted between the listing and its read (retention pruning the
// backup meanwhile) is left out.
func List(ctx context.Context, store objstore.Store) ([]Backup, error) {
	return listUnder(ctx, store, "")
}

// listUnder lists the complete backups whose keys start with prefix.
func listUnder(ctx context.Context, store objstore.Store, prefix string) ([]Backup, error) {
	objs, err := store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []Backup
	for _, o := range objs {
		if path.Base(o.Key) != manifestObject {
			continue
		}
		dir := path.Dir(o.Key)
		if dir == "." {
			dir = ""
		}
		m, err := readManifest(ctx, store, dir)
		if errors.Is(err, objstore.ErrNotFound) {
			continue // pruned since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Backup{Dir: dir, Manifest: m})
	}
	slices.SortFunc(out, func(a, b Backup) int {
		if c := strings.Compare(a.Manifest.Stream, b.Manifest.Stream); c != 0 {
			return c
		}
		return a.Manifest.Started.Compare(b.Manifest.Started)
	})
	return out, nil
}

// Find returns the backup store's root holds, or else the newest one in
// store, which must all be of one stream: SOURCE of a restore or verify
// names a backup or a stream's folder.
func Find(ctx context.Context, store objstore.Store) (Backup, error) {
	if m, err := readManifest(ctx, store, ""); err == nil {
		return Backup{Manifest: m}, nil
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return Backup{}, err
	}
	all, err := List(ctx, store)
	if err != nil {
		return Backup{}, err
	}
	if len(all) == 0 {
		return Backup{}, fmt.Errorf("%w in %s", ErrNoBackup, store)
	}
	if first, last := all[0].Manifest.Stream, all[len(all)-1].Manifest.Stream; first != last {
		return Backup{}, fmt.Errorf("%s holds backups of several streams (%s ... %s): name one stream's folder", store, first, last)
	}
	return all[len(all)-1], nil
}

// Newest returns the newest complete backup of every stream in store,
// by stream name.
func Newest(ctx context.Context, store objstore.Store) ([]Backup, error) {
	all, err := List(ctx, store)
	if err != nil {
		return nil, err
	}
	var out []Backup
	for i, b := range all {
		if i+1 == len(all) || all[i+1].Manifest.Stream != b.Manifest.Stream {
			out = append(out, b)
		}
	}
	return out, nil
}

// Delete removes a backup: its manifest first, so that it stops being
// complete before its data goes.
func Delete(ctx context.Context, store objstore.Store, b Backup) error {
	if err := store.Delete(ctx, path.Join(b.Dir, manifestObject)); err != nil {
		return err
	}
	return store.Delete(ctx, path.Join(b.Dir, b.Manifest.Data))
}

// Retention says which backups of a stream to keep.
type Retention struct {
	// Count keeps the newest Count backups (0: no limit by count).
	Count int
	// MaxAge removes backups older than MaxAge (0: no limit by age).
	MaxAge time.Duration
}

// Prune deletes the backups of stream that retention does not keep. The
// newest complete backup is always kept, so pruning never leaves a
// stream without one.
func Prune(ctx context.Context, store objstore.Store, stream string, r Retention, now time.Time) ([]Backup, error) {
	all, err := listUnder(ctx, store, stream+"/")
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(b Backup) bool { return b.Manifest.Stream != stream })
	var pruned []Backup
	for i, b := range all {
		newer := len(all) - 1 - i
		tooMany := r.Count > 0 && newer >= r.Count
		tooOld := r.MaxAge > 0 && now.Sub(b.Manifest.Finished) > r.MaxAge
		if newer == 0 || !tooMany && !tooOld {
			continue
		}
		if err := Delete(ctx, store, b); err != nil {
			return pruned, fmt.Errorf("prune %s: %w", b.Dir, err)
		}
		pruned = append(pruned, b)
	}
	return pruned, nil
}
