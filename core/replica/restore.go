package replica

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/stream"
)

// restoreOrder proposes restore batches in sequence order, without
// waiting for each to commit: a client keeps several in flight, which may
// arrive out of order, and raft then replicates them together.
type restoreOrder struct {
	mu sync.Mutex
	// next is the first sequence of the next batch to propose; 0 means
	// unknown (take the store's: after a start, a failure or a new term).
	next uint64
	// moved is closed, and replaced, whenever next changes.
	moved chan struct{}
}

// Restore stores consecutive messages from a backup, on the leader, and
// returns the stream's last sequence. start is the backup's first
// sequence, where an empty stream starts. A batch ahead of the next one
// to propose waits (up to opTimeout) for the batches before it.
func (r *Replica) Restore(ctx context.Context, start uint64, msgs []stream.Message) (uint64, error) {
	if !r.IsLeader() {
		return 0, ErrNotLeader
	}
	if len(msgs) == 0 {
		return r.fsm.State().LastSeq, nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	f, err := r.proposeInOrder(ctx, start, msgs)
	if err != nil {
		return 0, err
	}
	last, err := stream.RestoreResultOf(f)
	if err != nil {
		r.order.reset()
	}
	return last, err
}

// proposeInOrder waits for msgs' turn and proposes them.
func (r *Replica) proposeInOrder(ctx context.Context, start uint64, msgs []stream.Message) (raft.ApplyFuture, error) {
	o := &r.order
	first, last := msgs[0].Seq, msgs[len(msgs)-1].Seq
	for {
		o.mu.Lock()
		if o.moved == nil {
			o.moved = make(chan struct{})
		}
		if o.next == 0 {
			st := r.fsm.State()
			o.next = st.LastSeq + 1
			if st.Msgs == 0 && start > o.next {
				o.next = start // an empty stream starts where the backup does
			}
		}
		if first <= o.next { // its turn, or a retry of a proposed batch
			f, err := stream.ProposeRestore(r.group.Raft(), msgs, opTimeout)
			if err == nil && last+1 > o.next {
				o.advance(last + 1)
			}
			o.mu.Unlock()
			return f, err
		}
		moved := o.moved
		o.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return nil, fmt.Errorf("restore batch from sequence %d: the batches before it did not arrive: %w", first, ctx.Err())
		case <-time.After(time.Second):
			o.reset() // a batch before it may have failed: look at the store again
		}
	}
}

// advance sets next; o.mu is held.
func (o *restoreOrder) advance(next uint64) {
	o.next = next
	close(o.moved)
	o.moved = make(chan struct{})
}

func (o *restoreOrder) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.moved == nil {
		o.moved = make(chan struct{})
	}
	o.advance(0)
}
