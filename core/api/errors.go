package api

import (
	"context"
	"errors"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/placement"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/core/stream"
	"github.com/stratadb/strata/core/subject"
)

// API errors that have no home in a lower package.
var (
	// ErrNoStreamForSubject refuses a publish no stream takes.
	ErrNoStreamForSubject = errors.New("no stream matches subject")
	// ErrNoLeader is returned when a group has no leader in time.
	ErrNoLeader = errors.New("no leader")
	// ErrTooManyHops stops a call forwarded between nodes that disagree.
	ErrTooManyHops = errors.New("forwarded too many times")
	// ErrRestoring refuses a publish to a stream being restored.
	ErrRestoring = errors.New("stream is being restored")
	// ErrNotRestoring refuses restored messages for a stream that is not
	// being restored.
	ErrNotRestoring = errors.New("stream is not being restored")
	// ErrPeersUnknown defers a server peer-remove while the meta leader
	// has not yet heard from enough servers to tell whether the rest keep
	// a quorum; the call is worth retrying.
	ErrPeersUnknown = errors.New("the meta leader has not heard from these servers yet")
	// ErrLimit refuses a publish beyond one of the node's Limits.
	ErrLimit = errors.New("limit exceeded")
	// ErrResourceLimit refuses a call beyond the connections, or the
	// fetches on one connection, a node's Limits allow.
	ErrResourceLimit = errors.New("resource limit reached")
)

// toStatus maps an error to the gRPC status the client API promises.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codeOf(err), err.Error())
}

// toStatusValue is toStatus as a *status.Status.
func toStatusValue(err error) *status.Status {
	st, _ := status.FromError(toStatus(err))
	return st
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, meta.ErrStreamNotFound), errors.Is(err, stream.ErrMsgNotFound),
		errors.Is(err, ErrNoStreamForSubject), errors.Is(err, meta.ErrConsumerNotFound):
		return codes.NotFound
	case errors.Is(err, meta.ErrStreamExists), errors.Is(err, meta.ErrConsumerExists):
		return codes.AlreadyExists
	case errors.Is(err, stream.ErrBadConfig), errors.Is(err, subject.ErrBadSubject),
		errors.Is(err, subject.ErrEmptySubject), errors.Is(err, placement.ErrBadReplicas),
		errors.Is(err, placement.ErrTooFewServers), errors.Is(err, meta.ErrSubjectsOverlap),
		errors.Is(err, errInvalid), errors.Is(err, consumer.ErrBadConfig), errors.Is(err, ErrLimit),
		errors.Is(err, meta.ErrWorkQueueOverlap), errors.Is(err, meta.ErrRetentionReplicas):
		return codes.InvalidArgument
	case errors.Is(err, stream.ErrMaxMsgs), errors.Is(err, stream.ErrMaxBytes),
		errors.Is(err, stream.ErrMsgTooLarge), errors.Is(err, errWrongStream),
		errors.Is(err, ErrRestoring), errors.Is(err, ErrNotRestoring), errors.Is(err, stream.ErrRestoreSequence):
		return codes.FailedPrecondition
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, replica.ErrNotLeader),
		errors.Is(err, ErrNoLeader), errors.Is(err, ErrPeersUnknown), errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrEnqueueTimeout),
		errors.Is(err, stream.ErrProposerClosed), errors.Is(err, ErrTooManyHops),
		errors.Is(err, replica.ErrNotConsumerLeader), errors.Is(err, consumer.ErrNotLeader):
		return codes.Unavailable
	case errors.Is(err, auth.ErrUnauthenticated):
		return codes.Unauthenticated
	case errors.Is(err, auth.ErrDenied):
		return codes.PermissionDenied
	case errors.Is(err, consumer.ErrMaxWaiting), errors.Is(err, ErrResourceLimit):
		return codes.ResourceExhausted
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Internal
}

var (
	errInvalid     = errors.New("invalid request")
	errWrongStream = errors.New("expected stream does not match")
)
