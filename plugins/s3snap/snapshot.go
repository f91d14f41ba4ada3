package s3snap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/internal/objstore"
	"github.com/stratadb/strata/pluginsdk"
)

const (
	stateObject = "state.zst"
	metaObject  = "meta.json"
	// compression names the state's encoding in meta.json.
	compression = "zstd"
	// maxMetaSize bounds meta.json as it is read back.
	maxMetaSize = 4 << 20
	// opTimeout bounds one small request (list, meta, delete).
	opTimeout = time.Minute
)

var (
	_ raft.SnapshotStore = (*SnapshotStore)(nil)
	_ raft.SnapshotSink  = (*snapshotSink)(nil)
)

// SnapshotStore keeps one Raft group's snapshots under a key prefix of an
// object store: per snapshot a zstd-compressed state object, streamed up
// as raft writes it, and a meta object written after it. Only snapshots
// with both, of the recorded size, are listed.
type SnapshotStore struct {
	ctx    context.Context // the plugin's: ends at plugin Close
	store  objstore.Store
	prefix string // "<escaped group>/"
	retain int
	level  zstd.EncoderLevel
	logger hclog.Logger

	// mu serialises choosing IDs, listing and reaping, and guards the
	// fields below.
	mu       sync.Mutex
	lastMsec int64
	active   map[string]bool          // IDs of sinks not yet closed
	metas    map[string]*snapshotMeta // meta.json of complete snapshots, by ID
}

// snapshotMeta is meta.json.
type snapshotMeta struct {
	raft.SnapshotMeta
	// SHA256 is the hex SHA-256 of the uncompressed state (Size bytes).
	SHA256 string
	// Compression is how state.zst is encoded: "zstd".
	Compression string
	// StoredSize is the size of state.zst.
	StoredSize int64
}

func newSnapshotStore(ctx context.Context, store objstore.Store, group string, retain int,
	level zstd.EncoderLevel, logger hclog.Logger) *SnapshotStore {
	return &SnapshotStore{
		ctx: ctx, store: store, prefix: group + "/", retain: retain, level: level, logger: logger,
		active: make(map[string]bool), metas: make(map[string]*snapshotMeta),
	}
}

func (s *SnapshotStore) key(id, object string) string { return s.prefix + id + "/" + object }

func (s *SnapshotStore) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, opTimeout)
}

// Create starts a new snapshot: its state streams, compressed, into an
// upload that becomes visible only when Close has also written its meta.
func (s *SnapshotStore) Create(version raft.SnapshotVersion, index, term uint64,
	configuration raft.Configuration, configurationIndex uint64, _ raft.Transport) (raft.SnapshotSink, error) {
	if version < raft.SnapshotVersionMin || version > raft.SnapshotVersionMax {
		return nil, fmt.Errorf("unsupported snapshot version %d", version)
	}
	id := s.newID(term, index)
	w, err := s.store.Create(s.ctx, s.key(id, stateObject))
	if err != nil {
		s.finished(id)
		return nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	sink := &snapshotSink{
		store:  s,
		upload: w,
		stored: &countingWriter{w: w},
		hash:   sha256.New(),
		meta: snapshotMeta{SnapshotMeta: raft.SnapshotMeta{
			Version:            version,
			ID:                 id,
			Index:              index,
			Term:               term,
			Configuration:      configuration,
			ConfigurationIndex: configurationIndex,
		}, Compression: compression},
	}
	sink.enc, err = zstd.NewWriter(sink.stored, zstd.WithEncoderLevel(s.level), zstd.WithEncoderConcurrency(1))
	if err != nil {
		_ = w.Abort()
		s.finished(id)
		return nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	s.logger.Info("creating snapshot", "id", id)
	return sink, nil
}

// newID picks an ID like raft's, term-index-msec, not used by a snapshot
// this store knows, and marks it active.
func (s *SnapshotStore) newID(term, index uint64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msec := max(time.Now().UnixMilli(), s.lastMsec+1)
	s.lastMsec = msec
	id := fmt.Sprintf("%d-%d-%d", term, index, msec)
	s.active[id] = true
	return id
}

// finished forgets an ID as being written.
func (s *SnapshotStore) finished(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.active, id)
}

// List returns the complete snapshots, newest first (by term, index, then
// ID, as raft does).
func (s *SnapshotStore) List() ([]*raft.SnapshotMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, _, err := s.scan()
	if err != nil {
		return nil, err
	}
	out := make([]*raft.SnapshotMeta, len(metas))
	for i, m := range metas {
		sm := m.SnapshotMeta
		out[i] = &sm
	}
	return out, nil
}

// scan lists the group's objects and returns the complete snapshots,
// newest first, and the IDs of incomplete ones not being written (state
// without meta: an upload that was interrupted). s.mu must be held.
func (s *SnapshotStore) scan() ([]*snapshotMeta, []string, error) {
	ctx, cancel := s.opContext()
	defer cancel()
	objs, err := s.store.List(ctx, s.prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot store: %w", err)
	}
	type parts struct {
		stored   int64
		hasState bool
		hasMeta  bool
	}
	ids := make(map[string]*parts)
	for _, o := range objs {
		id, name, ok := strings.Cut(strings.TrimPrefix(o.Key, s.prefix), "/")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		p := ids[id]
		if p == nil {
			p = &parts{}
			ids[id] = p
		}
		switch name {
		case stateObject:
			p.hasState, p.stored = true, o.Size
		case metaObject:
			p.hasMeta = true
		}
	}
	var metas []*snapshotMeta
	var orphans []string
	for id, p := range ids {
		if !p.hasMeta {
			if !s.active[id] {
				orphans = append(orphans, id)
			}
			continue
		}
		m, err := s.readMeta(ctx, id)
		if err == nil && (!p.hasState || p.stored != m.StoredSize) {
			err = fmt.Errorf("%w: %s is missing or not of the %d bytes recorded", ErrSnapshotCorrupt, stateObject, m.StoredSize)
		}
		if unusable(err) {
			s.logger.Error("skipping unusable snapshot", "id", id, "error", err)
			continue
		}
		if err != nil {
			// Not the snapshot's fault (S3 unreachable): listing fewer
			// snapshots than there are could pass for an empty store.
			return nil, nil, fmt.Errorf("snapshot store: snapshot %s: %w", id, err)
		}
		metas = append(metas, m)
	}
	sort.Slice(metas, func(i, j int) bool { return newer(metas[i], metas[j]) })
	sort.Strings(orphans)
	return metas, orphans, nil
}

// unusable reports whether err says a snapshot cannot be used (as opposed
// to the store not answering).
func unusable(err error) bool {
	return errors.Is(err, ErrSnapshotCorrupt) || errors.Is(err, ErrSnapshotNotFound) || errors.Is(err, ErrUnsupportedSnapshot)
}

func newer(a, b *snapshotMeta) bool {
	if a.Term != b.Term {
		return a.Term > b.Term
	}
	if a.Index != b.Index {
		return a.Index > b.Index
	}
	return a.ID > b.ID
}

// readMeta returns snapshot id's checked meta.json, from the cache or the
// store (meta objects never change).
func (s *SnapshotStore) readMeta(ctx context.Context, id string) (*snapshotMeta, error) {
	if m, ok := s.metas[id]; ok {
		return m, nil
	}
	rc, err := s.store.Open(ctx, s.key(id, metaObject))
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrSnapshotNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxMetaSize+1))
	if err != nil {
		return nil, err
	}
	m := &snapshotMeta{}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%w: bad %s: %v", ErrSnapshotCorrupt, metaObject, err)
	}
	if err := checkMeta(m, id); err != nil {
		return nil, err
	}
	s.metas[id] = m
	return m, nil
}

func checkMeta(m *snapshotMeta, id string) error {
	switch {
	case m.ID != id:
		return fmt.Errorf("%w: %s names snapshot %q", ErrSnapshotCorrupt, metaObject, m.ID)
	case m.Version < raft.SnapshotVersionMin || m.Version > raft.SnapshotVersionMax:
		return fmt.Errorf("%w: version %d", ErrUnsupportedSnapshot, m.Version)
	case m.Compression != compression:
		return fmt.Errorf("%w: compression %q", ErrUnsupportedSnapshot, m.Compression)
	case len(m.SHA256) != 2*sha256.Size:
		return fmt.Errorf("%w: %s has no SHA256", ErrSnapshotCorrupt, metaObject)
	case m.Size < 0 || m.StoredSize < 0:
		return fmt.Errorf("%w: negative size in %s", ErrSnapshotCorrupt, metaObject)
	}
	return nil
}

// Open returns a snapshot's meta and a reader of its state, decompressed.
// The reader checks the size and SHA-256 as it goes: at the end of a
// corrupt state it returns an error wrapping ErrSnapshotCorrupt instead of
// io.EOF.
func (s *SnapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	if !validID(id) {
		return nil, nil, fmt.Errorf("%w: %q", ErrBadSnapshotID, id)
	}
	s.mu.Lock()
	ctx, cancel := s.opContext()
	m, err := s.readMeta(ctx, id)
	cancel()
	s.mu.Unlock()
	if err != nil {
		s.logger.Error("cannot open snapshot", "id", id, "error", err)
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	want, err := hex.DecodeString(m.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w: bad SHA256 in %s", id, ErrSnapshotCorrupt, metaObject)
	}
	body, err := s.store.Open(s.ctx, s.key(id, stateObject))
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	eb := &errReader{r: body}
	dec, err := zstd.NewReader(eb, zstd.WithDecoderConcurrency(1))
	if err != nil {
		body.Close()
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	state := &stateReader{id: id, body: eb, dec: dec}
	r := pluginsdk.NewCheckedReader(state, &m.SnapshotMeta, want, s.logger)
	meta := m.SnapshotMeta
	return &meta, r, nil
}

// validID refuses IDs that cannot be a key segment of ours, so an ID from
// the network cannot reach outside the group's prefix.
func validID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\\\x00")
}

// reap removes complete snapshots beyond the retain count, oldest first
// (meta first, so a half-removed snapshot is not listed), and the objects
// of interrupted snapshots.
func (s *SnapshotStore) reap() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, orphans, err := s.scan()
	if err != nil {
		return err
	}
	var errs []error
	for i := s.retain; i < len(metas); i++ {
		s.logger.Info("removing old snapshot", "id", metas[i].ID)
		errs = append(errs, s.remove(metas[i].ID))
	}
	for _, id := range orphans {
		s.logger.Warn("removing incomplete snapshot", "id", id)
		errs = append(errs, s.remove(id))
	}
	return errors.Join(errs...)
}

// remove deletes a snapshot's objects, meta first. s.mu must be held.
func (s *SnapshotStore) remove(id string) error {
	ctx, cancel := s.opContext()
	defer cancel()
	delete(s.metas, id)
	for _, obj := range []string{metaObject, stateObject} {
		if err := s.store.Delete(ctx, s.key(id, obj)); err != nil {
			return fmt.Errorf("snapshot %s: removing: %w", id, err)
		}
	}
	return nil
}

// removeUnfinished removes what an earlier process of this node left
// under the group's prefix: multipart uploads (a kill -9 mid-snapshot)
// and state objects without meta. It runs when the group is first
// opened, before this process writes any snapshot of it, so every upload
// under the prefix is a dead one. Failures are logged: they only leave
// garbage.
func (s *SnapshotStore) removeUnfinished() {
	ctx, cancel := s.opContext()
	defer cancel()
	if c, ok := s.store.(objstore.UploadCleaner); ok {
		n, err := c.AbortStaleUploads(ctx, s.prefix, time.Now().Add(24*time.Hour))
		if err != nil {
			s.logger.Warn("cannot abort unfinished snapshot uploads", "error", err)
		} else if n > 0 {
			s.logger.Warn("aborted unfinished snapshot uploads", "count", n)
		}
	}
	if err := s.reapOrphans(); err != nil {
		s.logger.Warn("cannot remove incomplete snapshots", "error", err)
	}
}

func (s *SnapshotStore) reapOrphans() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, orphans, err := s.scan()
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range orphans {
		s.logger.Warn("removing incomplete snapshot", "id", id)
		errs = append(errs, s.remove(id))
	}
	return errors.Join(errs...)
}

// snapshotSink compresses a snapshot into its state upload.
type snapshotSink struct {
	store  *SnapshotStore
	upload objstore.Writer
	stored *countingWriter // the compressed bytes, into upload
	enc    *zstd.Encoder
	hash   hash.Hash
	meta   snapshotMeta
	done   bool
}

func (k *snapshotSink) ID() string { return k.meta.ID }

func (k *snapshotSink) Write(p []byte) (int, error) {
	if k.done {
		return 0, fmt.Errorf("snapshot %s: %w", k.meta.ID, ErrSinkClosed)
	}
	n, err := k.enc.Write(p)
	k.hash.Write(p[:n])
	k.meta.Size += int64(n)
	if err != nil {
		return n, fmt.Errorf("snapshot %s: %w", k.meta.ID, err)
	}
	return n, nil
}

// Close completes the state upload, then writes the meta that makes the
// snapshot visible, then removes snapshots beyond the retain count. On
// failure nothing is left behind.
func (k *snapshotSink) Close() error {
	if k.done {
		return nil
	}
	k.done = true
	s := k.store
	defer s.finished(k.meta.ID)
	if err := k.commit(); err != nil {
		s.logger.Error("failed to write snapshot", "id", k.meta.ID, "error", err)
		return fmt.Errorf("snapshot %s: %w", k.meta.ID, err)
	}
	s.logger.Info("snapshot complete", "id", k.meta.ID, "size", k.meta.Size, "stored", k.meta.StoredSize)
	// The snapshot is complete and durable whatever reaping does.
	if err := s.reap(); err != nil {
		s.logger.Warn("cannot remove old snapshots", "error", err)
	}
	return nil
}

// commit finishes the state object and writes meta.json.
func (k *snapshotSink) commit() error {
	if err := k.enc.Close(); err != nil {
		_ = k.upload.Abort()
		return err
	}
	if err := k.upload.Close(); err != nil {
		return err
	}
	k.meta.StoredSize = k.stored.n
	k.meta.SHA256 = hex.EncodeToString(k.hash.Sum(nil))
	if err := k.writeMeta(); err != nil {
		k.removeState()
		return err
	}
	k.store.mu.Lock()
	m := k.meta
	k.store.metas[m.ID] = &m
	k.store.mu.Unlock()
	return nil
}

func (k *snapshotSink) writeMeta() error {
	raw, err := json.Marshal(&k.meta)
	if err != nil {
		return err
	}
	s := k.store
	ctx, cancel := s.opContext()
	defer cancel()
	w, err := s.store.Create(ctx, s.key(k.meta.ID, metaObject))
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

// removeState deletes the state object of a snapshot whose meta could not
// be written (if that fails too, the next reap removes it).
func (k *snapshotSink) removeState() {
	s := k.store
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), opTimeout)
	defer cancel()
	if err := s.store.Delete(ctx, s.key(k.meta.ID, stateObject)); err != nil {
		s.logger.Warn("cannot remove state of failed snapshot", "id", k.meta.ID, "error", err)
	}
}

// Cancel abandons the snapshot and aborts its upload.
func (k *snapshotSink) Cancel() error {
	if k.done {
		return nil
	}
	k.done = true
	defer k.store.finished(k.meta.ID)
	k.store.logger.Info("snapshot cancelled", "id", k.meta.ID)
	if err := k.upload.Abort(); err != nil {
		return fmt.Errorf("snapshot %s: %w", k.meta.ID, err)
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// stateReader decompresses a state object. An error reading the object
// is returned naming it; an error of zstd's own (it refused the data)
// wraps ErrSnapshotCorrupt, for the CheckedReader over it to report.
type stateReader struct {
	id   string
	body *errReader
	dec  *zstd.Decoder
}

func (r *stateReader) Read(p []byte) (int, error) {
	n, err := r.dec.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case r.body.err != nil && r.body.err != io.EOF:
		err = fmt.Errorf("snapshot %s: reading %s: %w", r.id, stateObject, r.body.err)
	default:
		err = fmt.Errorf("%w: %v", ErrSnapshotCorrupt, err)
	}
	return n, err
}

func (r *stateReader) Close() error {
	r.dec.Close()
	return r.body.r.Close()
}

// errReader keeps the last error of the object being read, to tell an I/O
// error from zstd refusing the data.
type errReader struct {
	r   io.ReadCloser
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
