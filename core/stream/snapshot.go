package stream

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// catchupBatch is how many fetched messages go into one store update.
const catchupBatch = 512

// snapHeader is a stream snapshot's first JSON value. A file stream's
// snapshot is only this: its messages are already in every replica's
// store, so a snapshot costs the same whatever the stream's size, and a
// replica that lacks messages fetches them (Catchup) when it installs
// one. A memory stream's messages follow the header (Inline), one JSON
// value each: memory streams are small and have no store to survive in.
type snapHeader struct {
	Config  Config `json:"config"`
	State   State  `json:"state"`
	Applied uint64 `json:"applied"`
	Inline  bool   `json:"inline"`
}

// Snapshot makes the store durable through the last applied entry and
// captures the stream's header (and, for memory streams, its messages).
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := snapHeader{Config: f.cfg, State: f.store.State(), Applied: f.applied, Inline: f.cfg.Storage == MemoryStorage}
	if !h.Inline {
		if f.applied > f.store.Applied() {
			f.update(Update{Applied: f.applied})
		}
		if err := f.store.Sync(); err != nil {
			return nil, fmt.Errorf("stream %s: snapshot: sync store: %w", f.cfg.Name, err)
		}
		return &snapshot{header: h}, nil
	}
	msgs := make([]Message, 0, h.State.Msgs)
	for s := h.State.FirstSeq; s <= h.State.LastSeq; s++ {
		if m, err := f.store.Get(s); err == nil {
			msgs = append(msgs, m)
		}
	}
	return &snapshot{header: h, msgs: msgs}, nil
}

type snapshot struct {
	header snapHeader
	msgs   []Message
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	enc := json.NewEncoder(w)
	err := enc.Encode(s.header)
	for i := 0; err == nil && i < len(s.msgs); i++ {
		err = enc.Encode(s.msgs[i])
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("stream: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}

// Restore brings the store to the snapshot's state: a memory stream from
// the messages inline; a file stream by fetching from a current replica
// the messages its store lacks.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	dec := json.NewDecoder(bufio.NewReader(rc))
	var h snapHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("stream: restore: header: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = h.Config
	var err error
	switch {
	case h.Inline:
		err = f.restoreInline(h, dec)
	case f.store.Applied() >= h.Applied:
		f.logger.Debug("store already holds the snapshot", "stream", h.Config.Name, "applied", f.store.Applied())
	default:
		err = f.restoreByCatchup(h)
	}
	if err != nil {
		return err
	}
	// A store ahead of the snapshot (raft restores its latest one when
	// the node starts) already holds the entries raft replays after it.
	f.applied = max(h.Applied, f.store.Applied())
	f.skip = f.applied
	f.seen.Store(f.applied)
	f.dupes = rebuildDedupe(f.store, int64(f.cfg.DupeWindow))
	f.notifyAppended()
	return nil
}

func (f *FSM) restoreInline(h snapHeader, dec *json.Decoder) error {
	st := f.store.State()
	f.update(Update{RemoveThrough: max(st.LastSeq, h.State.FirstSeq-1)})
	if st := f.store.State(); st.LastSeq > h.State.FirstSeq-1 {
		// The snapshot starts before what this store already removed:
		// a fresh store is needed. Memory stores are only dropped.
		if err := f.resetStore(h.State.FirstSeq - 1); err != nil {
			return err
		}
	}
	a := appender{f: f}
	for i := uint64(0); i < h.State.Msgs; i++ {
		var m Message
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("stream %s: restore: message: %w", f.cfg.Name, err)
		}
		a.add(m)
	}
	// The snapshot's last messages may be removed (a purge, or one by
	// one): its sequences go on past what it holds.
	a.gapTo(h.State.LastSeq)
	a.flush()
	f.update(Update{Applied: h.Applied})
	return nil
}

// resetStore replaces a memory store with an empty one starting after seq.
func (f *FSM) resetStore(seq uint64) error {
	if err := f.store.Delete(); err != nil {
		return err
	}
	f.storeMu.Lock()
	f.store = NewMemStore()
	f.storeMu.Unlock()
	f.update(Update{RemoveThrough: seq})
	return nil
}

func (f *FSM) restoreByCatchup(h snapHeader) error {
	if f.catchup == nil {
		return fmt.Errorf("stream %s: restore: store is behind the snapshot and no catchup source is set", f.cfg.Name)
	}
	st := f.store.State()
	if st.LastSeq+1 < h.State.FirstSeq {
		f.update(Update{RemoveThrough: h.State.FirstSeq - 1})
		st = f.store.State()
	}
	a := appender{f: f}
	from := st.LastSeq + 1
	if from <= h.State.LastSeq {
		ctx, cancel := context.WithTimeout(context.Background(), f.ctimeout)
		defer cancel()
		err := f.catchup(ctx, from, h.State.LastSeq, a.fromSource)
		a.flush()
		if err != nil {
			return fmt.Errorf("stream %s: restore: catch up %d..%d: %w", f.cfg.Name, from, h.State.LastSeq, err)
		}
	}
	f.update(Update{RemoveThrough: h.State.FirstSeq - 1})
	if from <= h.State.LastSeq && !a.begun {
		// The source holds nothing through the snapshot's last message.
		f.update(Update{RemoveThrough: h.State.LastSeq})
	}
	a.gapTo(h.State.LastSeq) // the source's last messages may be removed
	a.flush()
	f.update(Update{Applied: h.Applied})
	f.logger.Info("caught up from snapshot", "stream", f.cfg.Name, "last_seq", h.State.LastSeq, "applied", h.Applied)
	return f.store.Sync()
}

// appender stores restored messages in batches. A sequence the source
// does not hold becomes a hole: a placeholder appended and removed in the
// same update (the source removed it one by one, or by limits after its
// snapshot was taken); into an empty store, the sequences are skipped.
type appender struct {
	f      *FSM
	batch  []Message
	remove []uint64
	begun  bool // fromSource had the source's first message
}

// fromSource takes the messages of a catchup: the first is the source's
// first message (its replica sends it even when it lies before the
// range asked for), so what this store holds before it is gone.
func (a *appender) fromSource(m Message) error {
	if !a.begun {
		a.begun = true
		if m.Seq > a.f.store.State().FirstSeq {
			a.flush()
			a.f.update(Update{RemoveThrough: m.Seq - 1})
		}
	}
	a.add(m)
	return nil
}

func (a *appender) add(m Message) {
	last := a.last()
	if m.Seq <= last {
		return
	}
	a.gapTo(m.Seq - 1)
	a.batch = append(a.batch, m)
	if len(a.batch) >= catchupBatch {
		a.flush()
	}
}

// last is the sequence of the last message stored or batched.
func (a *appender) last() uint64 {
	if n := len(a.batch); n > 0 {
		return a.batch[n-1].Seq
	}
	return a.f.store.State().LastSeq
}

// gapTo makes the sequences after the last one through seq holes.
func (a *appender) gapTo(seq uint64) {
	last := a.last()
	if seq <= last {
		return
	}
	if len(a.batch) == 0 && a.f.store.State().Msgs == 0 {
		a.f.update(Update{RemoveThrough: seq})
		return
	}
	t := a.f.store.State().LastTime
	if n := len(a.batch); n > 0 {
		t = a.batch[n-1].Time
	}
	for s := last + 1; s <= seq; s++ {
		a.batch = append(a.batch, Message{Seq: s, Time: t})
		a.remove = append(a.remove, s)
		if len(a.remove) == MaxRemove {
			a.flush()
		}
	}
}

func (a *appender) flush() {
	if len(a.batch) > 0 {
		a.f.update(Update{Append: a.batch, Remove: a.remove})
		a.batch, a.remove = nil, nil
	}
}
