package file

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

const (
	stateFile = "state.bin"
	metaFile  = "meta.json"
	tmpSuffix = ".tmp"
)

var (
	_ raft.SnapshotStore = (*SnapshotStore)(nil)
	_ raft.SnapshotSink  = (*snapshotSink)(nil)
)

// SnapshotStore keeps a Raft group's snapshots in a directory, one
// subdirectory per snapshot holding state.bin and meta.json. It is modelled
// on raft.FileSnapshotStore, but stricter:
//
//   - A snapshot is written to <id>.tmp/ and renamed to <id>/ only after
//     its data, its meta and the directory are fsync'd, so a partial
//     snapshot is never listed. Leftover .tmp directories are removed when
//     the store is opened.
//   - The state's SHA-256 is kept in meta.json and checked as the snapshot
//     is read back: a reader that reaches EOF on corrupt data gets an error
//     naming the snapshot instead of io.EOF.
//   - A snapshot whose meta.json does not parse, or whose state.bin is
//     missing or of the wrong size, is logged and left out of List.
type SnapshotStore struct {
	dir    string
	retain int
	logger hclog.Logger
	noSync bool // only for tests and benchmarks

	// mu serialises choosing new snapshot IDs, listing and reaping.
	mu sync.Mutex
}

// snapshotMeta is meta.json.
type snapshotMeta struct {
	raft.SnapshotMeta
	// SHA256 is the hex SHA-256 of state.bin.
	SHA256 string
}

// NewSnapshotStore opens (creating it if needed) a snapshot store in dir
// that keeps the newest retain snapshots. Partial snapshots left by a crash
// are removed.
func NewSnapshotStore(dir string, retain int, logger hclog.Logger) (*SnapshotStore, error) {
	if retain < 1 {
		return nil, fmt.Errorf("snapshot store: must retain at least one snapshot, got %d", retain)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	s := &SnapshotStore{dir: dir, retain: retain, logger: logger}
	if err := s.removeTemporary(); err != nil {
		return nil, err
	}
	return s, nil
}

// removeTemporary deletes snapshots whose writing never finished.
func (s *SnapshotStore) removeTemporary() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("snapshot store: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), tmpSuffix) {
			continue
		}
		s.logger.Warn("removing partial snapshot", "name", e.Name())
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			return fmt.Errorf("snapshot store: removing partial snapshot: %w", err)
		}
	}
	return nil
}

// Create starts a new snapshot. Nothing is visible to List or Open until
// the sink's Close succeeds.
func (s *SnapshotStore) Create(version raft.SnapshotVersion, index, term uint64,
	configuration raft.Configuration, configurationIndex uint64, _ raft.Transport) (raft.SnapshotSink, error) {
	if version < raft.SnapshotVersionMin || version > raft.SnapshotVersionMax {
		return nil, fmt.Errorf("unsupported snapshot version %d", version)
	}
	id, err := s.newTempDir(term, index)
	if err != nil {
		return nil, err
	}
	tmpDir := filepath.Join(s.dir, id+tmpSuffix)
	f, err := os.OpenFile(filepath.Join(tmpDir, stateFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		_ = os.RemoveAll(tmpDir)
		return nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	s.logger.Info("creating snapshot", "id", id)
	sink := &snapshotSink{
		store: s,
		dir:   tmpDir,
		file:  f,
		hash:  sha256.New(),
		meta: snapshotMeta{SnapshotMeta: raft.SnapshotMeta{
			Version:            version,
			ID:                 id,
			Index:              index,
			Term:               term,
			Configuration:      configuration,
			ConfigurationIndex: configurationIndex,
		}},
	}
	sink.buf = bufio.NewWriterSize(io.MultiWriter(f, sink.hash), 256*1024)
	return sink, nil
}

// newTempDir picks an ID like raft's, term-index-msec, and creates its
// temporary directory. If the ID is taken (two snapshots of the same
// term and index in one millisecond) the millisecond is bumped.
func (s *SnapshotStore) newTempDir(term, index uint64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msec := time.Now().UnixMilli()
	for {
		id := fmt.Sprintf("%d-%d-%d", term, index, msec)
		if _, err := os.Lstat(filepath.Join(s.dir, id)); err == nil {
			msec++
			continue
		}
		err := os.Mkdir(filepath.Join(s.dir, id+tmpSuffix), 0o755)
		if errors.Is(err, os.ErrExist) {
			msec++
			continue
		}
		if err != nil {
			return "", fmt.Errorf("snapshot %s: %w", id, err)
		}
		return id, nil
	}
}

// List returns the complete snapshots, newest first (by term, index, then
// ID, as raft does).
func (s *SnapshotStore) List() ([]*raft.SnapshotMeta, error) {
	s.mu.Lock() // not while reap removes snapshots
	metas, err := s.complete()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]*raft.SnapshotMeta, len(metas))
	for i, m := range metas {
		out[i] = &m.SnapshotMeta
	}
	return out, nil
}

// complete reads every finished snapshot's meta, newest first. Snapshots
// that cannot be used are logged and skipped.
func (s *SnapshotStore) complete() ([]*snapshotMeta, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	var metas []*snapshotMeta
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), tmpSuffix) {
			continue
		}
		m, err := s.readMeta(e.Name())
		if err != nil {
			s.logger.Error("skipping unusable snapshot", "id", e.Name(), "error", err)
			continue
		}
		metas = append(metas, m)
	}
	sort.Slice(metas, func(i, j int) bool { return newer(metas[i], metas[j]) })
	return metas, nil
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

// readMeta reads and checks snapshot id's meta.json, and checks that its
// state.bin has the recorded size.
func (s *SnapshotStore) readMeta(id string) (*snapshotMeta, error) {
	raw, err := os.ReadFile(filepath.Join(s.dir, id, metaFile))
	if err != nil {
		return nil, err
	}
	m := &snapshotMeta{}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%w: bad %s: %v", ErrSnapshotCorrupt, metaFile, err)
	}
	switch {
	case m.ID != id:
		return nil, fmt.Errorf("%w: %s names snapshot %q", ErrSnapshotCorrupt, metaFile, m.ID)
	case m.Version < raft.SnapshotVersionMin || m.Version > raft.SnapshotVersionMax:
		return nil, fmt.Errorf("unsupported snapshot version %d", m.Version)
	case len(m.SHA256) != 2*sha256.Size:
		return nil, fmt.Errorf("%w: %s has no SHA256", ErrSnapshotCorrupt, metaFile)
	}
	fi, err := os.Stat(filepath.Join(s.dir, id, stateFile))
	if err != nil {
		return nil, err
	}
	if fi.Size() != m.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, meta says %d", ErrSnapshotCorrupt, stateFile, fi.Size(), m.Size)
	}
	return m, nil
}

// Open returns a snapshot's meta and a reader of its state. The reader
// checks the SHA-256 as it goes: at the end of a corrupt state it returns
// an error wrapping ErrSnapshotCorrupt instead of io.EOF.
func (s *SnapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	if !validID(id) {
		return nil, nil, fmt.Errorf("%w: %q", ErrBadSnapshotID, id)
	}
	m, err := s.readMeta(id)
	if err != nil {
		s.logger.Error("cannot open snapshot", "id", id, "error", err)
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	want, err := hex.DecodeString(m.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w: bad SHA256 in %s", id, ErrSnapshotCorrupt, metaFile)
	}
	f, err := os.Open(filepath.Join(s.dir, id, stateFile))
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	state := struct {
		io.Reader
		io.Closer
	}{bufio.NewReaderSize(f, 256*1024), f}
	r := pluginsdk.NewCheckedReader(state, &m.SnapshotMeta, want, s.logger)
	meta := m.SnapshotMeta
	return &meta, r, nil
}

// validID refuses IDs that are not a plain directory name of ours, so an
// ID from the network cannot reach outside the store.
func validID(id string) bool {
	return id != "" && id != "." && id != ".." &&
		!strings.ContainsAny(id, `/\`) && !strings.HasSuffix(id, tmpSuffix)
}

// reap removes complete snapshots beyond the retain count, oldest first.
func (s *SnapshotStore) reap() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, err := s.complete()
	if err != nil {
		return err
	}
	for i := s.retain; i < len(metas); i++ {
		s.logger.Info("removing old snapshot", "id", metas[i].ID)
		if err := os.RemoveAll(filepath.Join(s.dir, metas[i].ID)); err != nil {
			return fmt.Errorf("snapshot %s: removing: %w", metas[i].ID, err)
		}
	}
	return nil
}

// syncDir fsyncs a directory so that entries created or renamed in it
// survive a crash. Windows cannot, and does not need to.
func (s *SnapshotStore) syncDir(dir string) error {
	if s.noSync || runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// snapshotSink writes one snapshot into its temporary directory.
type snapshotSink struct {
	store *SnapshotStore
	dir   string // <id>.tmp
	file  *os.File
	buf   *bufio.Writer
	hash  hash.Hash
	meta  snapshotMeta
	done  bool
}

func (k *snapshotSink) ID() string { return k.meta.ID }

func (k *snapshotSink) Write(p []byte) (int, error) {
	if k.done {
		return 0, fmt.Errorf("snapshot %s: %w", k.meta.ID, ErrSinkClosed)
	}
	n, err := k.buf.Write(p)
	k.meta.Size += int64(n)
	return n, err
}

// Close makes the snapshot durable and visible, then removes snapshots
// beyond the retain count. On failure nothing is left behind.
func (k *snapshotSink) Close() error {
	if k.done {
		return nil
	}
	k.done = true
	if err := k.commit(); err != nil {
		k.store.logger.Error("failed to write snapshot", "id", k.meta.ID, "error", err)
		_ = os.RemoveAll(k.dir)
		return fmt.Errorf("snapshot %s: %w", k.meta.ID, err)
	}
	final := filepath.Join(k.store.dir, k.meta.ID)
	if err := k.store.syncDir(k.store.dir); err != nil {
		// Whether the rename survives a crash is unknown: withdraw it.
		_ = os.RemoveAll(final)
		return fmt.Errorf("snapshot %s: %w", k.meta.ID, err)
	}
	k.store.logger.Info("snapshot complete", "id", k.meta.ID, "size", k.meta.Size)
	return k.store.reap()
}

// commit writes state.bin and meta.json durably, then renames the
// temporary directory into place.
func (k *snapshotSink) commit() error {
	if err := k.closeFile(); err != nil {
		return err
	}
	k.meta.SHA256 = hex.EncodeToString(k.hash.Sum(nil))
	if err := k.writeMeta(); err != nil {
		return err
	}
	if err := k.store.syncDir(k.dir); err != nil {
		return err
	}
	return os.Rename(k.dir, filepath.Join(k.store.dir, k.meta.ID))
}

func (k *snapshotSink) closeFile() error {
	err := k.buf.Flush()
	if err == nil && !k.store.noSync {
		err = k.file.Sync()
	}
	return errors.Join(err, k.file.Close())
}

func (k *snapshotSink) writeMeta() error {
	raw, err := json.Marshal(&k.meta)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(k.dir, metaFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(raw)
	if err == nil && !k.store.noSync {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// Cancel abandons the snapshot and removes its temporary directory.
func (k *snapshotSink) Cancel() error {
	if k.done {
		return nil
	}
	k.done = true
	k.store.logger.Info("snapshot cancelled", "id", k.meta.ID)
	_ = k.file.Close()
	return os.RemoveAll(k.dir)
}
