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
	// next is the sequence after the last one proposed: a batch that
	// follows a sequence before it may go; 0 means unknown (take the
	// store's: after a start, a failure or a new term).
	next uint64
	// moved is closed, and replaced, whenever next changes.
	moved chan struct{}
}

// Restore stores messages from a backup, on the leader, and returns the
// stream's last sequence. start is the backup's first sequence, where an
// empty stream starts; after is the sequence the batch follows (0: the
// first batch), the sequences between being holes; a batch without
// messages makes holes through holesThrough. A batch ahead of the
// next one to propose waits (up to opTimeout) for the batches before it.
func (r *Replica) Restore(ctx context.Context, start, after, holesThrough uint64, msgs []stream.Message) (uint64, error) {
	if !r.IsLeader() {
		return 0, ErrNotLeader
	}
	if len(msgs) == 0 && holesThrough <= after {
		return r.fsm.State().LastSeq, nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	f, err := r.proposeInOrder(ctx, start, after, holesThrough, msgs)
	if err != nil {
		return 0, err
	}
	last, err := stream.RestoreResultOf(f)
	if err != nil {
		r.order.reset()
	}
	return last, err
}

// proposeInOrder waits for the batch's turn and proposes it.
func (r *Replica) proposeInOrder(ctx context.Context, start, after, holesThrough uint64, msgs []stream.Message) (raft.ApplyFuture, error) {
	o := &r.order
	prev, last := after, holesThrough
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Seq
		if after == 0 {
			prev = msgs[0].Seq - 1
		}
	}
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
		if prev < o.next { // its turn, or a retry of a proposed batch
			f, err := stream.ProposeRestore(r.group.Raft(), after, holesThrough, msgs, opTimeout)
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
			return nil, fmt.Errorf("restore batch after sequence %d: the batches before it did not arrive: %w", prev, ctx.Err())
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
