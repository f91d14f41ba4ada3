package consumer

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	// tickInterval is how often the leader loop looks for work when
	// nothing wakes it: max deliver drops, and leadership changes.
	tickInterval = 100 * time.Millisecond
	// applyTimeout bounds enqueuing one entry in raft.
	applyTimeout = 10 * time.Second
)

// LeaderConfig configures NewLeader.
type LeaderConfig struct {
	Raft   *raft.Raft
	FSM    *FSM
	Source Source
	Logger hclog.Logger
	// OnAcked, if set, is called after an entry commits with the stream
	// sequences it made processed (acked, ack-all ranges, termed, dropped
	// after max deliver, delivered with ack policy none), from the
	// leader's goroutines.
	OnAcked func(seqs []uint64)
	// Restore, if set, is the state a new consumer starts from instead
	// of its deliver policy (a restored backup; see State.CheckRestore).
	Restore *State
}

// Leader is a consumer's leader side: while its replica leads the group,
// it resolves the start position, hands out messages of the local stream
// replica (Fetch), takes acks in batches (Ack), and proposes the entries
// that follow the stream's removals. On a follower its calls return
// ErrNotLeader.
type Leader struct {
	raft    *raft.Raft
	fsm     *FSM
	src     Source
	logger  hclog.Logger
	onAcked func([]uint64)
	restore *State

	// mu serializes choosing and proposing deliveries with the loop's
	// proposals, and guards cursor and term.
	mu sync.Mutex
	// cursor: the stream messages through it were looked at as new
	// deliveries in term term (delivered, or not wanted).
	cursor uint64
	term   uint64
	// scanned is when upkeep last scanned the pending messages, Unix ns.
	scanned int64

	waiting    atomic.Int64
	lastActive atomic.Int64
	acks       *acker

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// NewLeader returns a consumer's leader and starts its goroutines.
func NewLeader(cfg LeaderConfig) *Leader {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	l := &Leader{
		raft: cfg.Raft, fsm: cfg.FSM, src: cfg.Source, logger: cfg.Logger, onAcked: cfg.OnAcked,
		restore: cfg.Restore, stop: make(chan struct{}),
	}
	l.touch()
	l.acks = newAcker(l)
	l.wg.Add(1)
	go l.run()
	return l
}

// Close stops the leader's goroutines; waiting fetches and queued acks
// fail with ErrClosed.
func (l *Leader) Close() {
	l.closeOnce.Do(func() { close(l.stop) })
	l.acks.close()
	l.wg.Wait()
}

// Waiting returns the fetches in progress; 0 on a follower.
func (l *Leader) Waiting() int {
	if !l.isLeader() {
		return 0
	}
	return int(l.waiting.Load())
}

// LastActive returns the time of the last fetch or ack (or of NewLeader).
func (l *Leader) LastActive() time.Time { return time.Unix(0, l.lastActive.Load()) }

func (l *Leader) touch() { l.lastActive.Store(time.Now().UnixNano()) }

func (l *Leader) isLeader() bool { return l.raft.State() == raft.Leader }

func (l *Leader) closed() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// run does the leader's upkeep every tick, and whenever the stream or
// the consumer's state changes.
func (l *Leader) run() {
	defer l.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		appended, changed := l.src.Appended(), l.fsm.Changed()
		if l.isLeader() {
			l.maintain()
		}
		select {
		case <-l.stop:
			return
		case <-t.C:
		case <-appended:
		case <-changed:
		}
	}
}

// maintain proposes what the leader owes the log: the start position,
// skips past what the stream removed, drops of pending messages removed
// from its interior, drops after max deliver.
func (l *Leader) maintain() {
	processed, err := l.upkeep(time.Now().UnixNano())
	if err != nil {
		l.logger.Debug("consumer upkeep failed; will retry", "consumer", l.fsm.Config().Name, "error", err)
	}
	l.acked(processed)
}

func (l *Leader) upkeep(now int64) ([]uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.ensureStarted(); err != nil {
		return nil, err
	}
	if err := l.skipRemoved(); err != nil {
		return nil, err
	}
	// The scans of pending messages run once a tick at most: a busy
	// stream wakes the loop at every publish.
	if now-l.scanned < int64(tickInterval) {
		return nil, nil
	}
	l.scanned = now
	if err := l.dropRemoved(now); err != nil {
		return nil, err
	}
	return l.dropMaxDelivered(now)
}

// ensureStarted proposes the start position if none is recorded yet.
// Called with mu held.
func (l *Leader) ensureStarted() error {
	var (
		started bool
		cfg     Config
	)
	l.fsm.view(func(c Config, st *State) { started, cfg = st.Started, c })
	if started {
		return nil
	}
	if l.restore != nil {
		return l.proposeRestore(cfg.Name)
	}
	e, err := resolveStart(cfg, l.src)
	if err != nil {
		return fmt.Errorf("resolve start: %w", err)
	}
	_, err = l.propose(encodeStart(e))
	if err == nil {
		l.logger.Debug("consumer start resolved", "consumer", cfg.Name, "policy", cfg.DeliverPolicy,
			"after", e.startSeq, "initial", len(e.initial))
	}
	return err
}

// skipRemoved proposes an opSkip once the stream removed messages at or
// above the ack floor. Called with mu held.
func (l *Leader) skipRemoved() error {
	var (
		started bool
		floor   uint64
	)
	l.fsm.view(func(_ Config, st *State) { started, floor = st.Started, st.AckFloor.Stream })
	first := l.src.State().FirstSeq
	if !started || first == 0 || first-1 <= floor {
		return nil
	}
	_, err := l.propose(encodeSkip(first - 1))
	return err
}

// dropRemoved proposes an opDrop of the messages removed from the
// stream's interior among the pending ones due for redelivery and the
// head of Initial. Called with mu held.
func (l *Leader) dropRemoved(now int64) error {
	var seqs []uint64
	l.fsm.view(func(_ Config, st *State) {
		for seq, p := range st.Pending {
			if p.Deadline <= now {
				seqs = append(seqs, seq)
			}
		}
		if len(st.Initial) > 0 {
			seqs = append(seqs, st.Initial[0])
		}
	})
	var gone []uint64
	for _, seq := range seqs {
		_, ok, err := get(l.src, seq)
		if errors.Is(err, errNotYet) {
			continue
		}
		if err != nil {
			return err
		}
		if !ok {
			gone = append(gone, seq)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err := l.propose(encodeDrop(dropRemoved, gone))
	return err
}

// dropMaxDelivered proposes an opDrop of the pending messages delivered
// max deliver times whose ack wait ran out. Called with mu held.
func (l *Leader) dropMaxDelivered(now int64) ([]uint64, error) {
	var seqs []uint64
	l.fsm.view(func(cfg Config, st *State) {
		if cfg.MaxDeliver == 0 {
			return
		}
		for seq, p := range st.Pending {
			if p.Count >= uint64(cfg.MaxDeliver) && p.Deadline <= now {
				seqs = append(seqs, seq)
			}
		}
	})
	if len(seqs) == 0 {
		return nil, nil
	}
	res, err := l.propose(encodeDrop(dropMaxDeliver, seqs))
	if err != nil {
		return nil, err
	}
	d, _ := res.(dropResult)
	return d.processed, nil
}

// propose applies one entry and waits for it to commit; it returns the
// FSM's answer, or the answer's error.
func (l *Leader) propose(data []byte) (any, error) {
	f := l.raft.Apply(data, applyTimeout)
	if err := f.Error(); err != nil {
		return nil, leadershipError(err)
	}
	res := f.Response()
	if err, ok := res.(error); ok {
		return nil, err
	}
	return res, nil
}

// acked reports processed sequences to OnAcked.
func (l *Leader) acked(seqs []uint64) {
	if l.onAcked != nil && len(seqs) > 0 {
		l.onAcked(seqs)
	}
}
