package consumer

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

var (
	// ErrBadConfig is wrapped by every Validate and CheckUpdate error, and
	// by a config entry the FSM refuses.
	ErrBadConfig = errors.New("invalid consumer config")
	// ErrNotLeader is returned by Fetch and Ack on a replica that does
	// not lead the consumer's group, or that lost leadership meanwhile.
	// It wraps raft.ErrNotLeader.
	ErrNotLeader = fmt.Errorf("consumer: %w", raft.ErrNotLeader)
	// ErrClosed is returned by Fetch and Ack once the leader is closed;
	// it wraps ErrNotLeader.
	ErrClosed = fmt.Errorf("consumer leader closed: %w", ErrNotLeader)
	// ErrMaxWaiting refuses a fetch while Config.MaxWaiting others wait.
	ErrMaxWaiting = errors.New("exceeded max waiting pull requests")
	// ErrBadAck refuses an ack of an unknown kind or with a negative delay.
	ErrBadAck = errors.New("consumer: bad ack")
	// ErrBadEntry is returned by Apply for an entry it cannot decode.
	ErrBadEntry = errors.New("consumer: bad raft entry")
)

// leadershipError tells raft's leadership errors apart: they become
// ErrNotLeader, so that callers retry on the new leader.
func leadershipError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotLeader):
		return err
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	return err
}
