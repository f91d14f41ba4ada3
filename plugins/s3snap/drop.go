package s3snap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stratadb/strata/internal/objstore"
)

// DropGroup deletes every object of the group (meta objects first, so no
// snapshot is listed half-deleted) and aborts its unfinished uploads.
func (p *Plugin) DropGroup(group string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return ErrClosed
	case p.store == nil:
		return ErrNotConfigured
	}
	key, err := groupKey(group)
	if err != nil {
		return err
	}
	delete(p.snaps, group)
	ctx, cancel := context.WithTimeout(p.ctx, opTimeout)
	defer cancel()
	prefix := key + "/"
	if c, ok := p.store.(objstore.UploadCleaner); ok {
		if _, err := c.AbortStaleUploads(ctx, prefix, time.Now().Add(24*time.Hour)); err != nil {
			return fmt.Errorf("group %q: %w", group, err)
		}
	}
	objs, err := p.store.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("group %q: %w", group, err)
	}
	// Meta objects first.
	sort.SliceStable(objs, func(i, j int) bool {
		return strings.HasSuffix(objs[i].Key, "/"+metaObject) && !strings.HasSuffix(objs[j].Key, "/"+metaObject)
	})
	var errs []error
	for _, o := range objs {
		if err := p.store.Delete(ctx, o.Key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("group %q: %w", group, err)
	}
	p.logger.Info("dropped group", "group", group, "objects", len(objs))
	return nil
}
