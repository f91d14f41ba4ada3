package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/placement"
	"github.com/stratadb/strata/core/stream"
	"github.com/stratadb/strata/core/subject"
)

// TestStatusCodes pins the gRPC code of every error the API returns: the
// client package maps these codes back to its sentinel errors.
func TestStatusCodes(t *testing.T) {
	cases := map[codes.Code][]error{
		codes.NotFound:           {meta.ErrStreamNotFound, stream.ErrMsgNotFound, ErrNoStreamForSubject},
		codes.AlreadyExists:      {meta.ErrStreamExists},
		codes.InvalidArgument:    {stream.ErrBadConfig, subject.ValidSubject("a..b"), placement.ErrBadReplicas, placement.ErrTooFewServers, meta.ErrSubjectsOverlap},
		codes.FailedPrecondition: {stream.ErrMaxMsgs, stream.ErrMaxBytes, stream.ErrMsgTooLarge, errWrongStream},
		codes.Unavailable:        {raft.ErrNotLeader, raft.ErrLeadershipLost, ErrNoLeader, ErrTooManyHops, stream.ErrProposerClosed},
		codes.DeadlineExceeded:   {context.DeadlineExceeded},
		codes.Internal:           {errors.New("disk on fire")},
	}
	for want, errs := range cases {
		for _, err := range errs {
			wrapped := fmt.Errorf("stream ORDERS: %w", err)
			st, _ := status.FromError(toStatus(wrapped))
			if st.Code() != want || st.Message() != wrapped.Error() {
				t.Errorf("%v: %s %q; want %s with the error's text", err, st.Code(), st.Message(), want)
			}
		}
	}
	if toStatus(nil) != nil {
		t.Fatal("nil error became a status")
	}
	already := status.Error(codes.Aborted, "kept")
	if toStatus(already) != already {
		t.Fatal("a status was rewritten")
	}
}
