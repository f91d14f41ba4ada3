package client

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMapError(t *testing.T) {
	cases := []struct {
		code     codes.Code
		msg      string
		notFound error
		want     error
	}{
		{codes.NotFound, "stream not found: ORDERS", ErrMsgNotFound, ErrStreamNotFound},
		{codes.NotFound, "message not found", ErrStreamNotFound, ErrMsgNotFound},
		{codes.NotFound, "no stream matches subject a.b", nil, ErrNoStreamForSubject},
		{codes.NotFound, "", ErrMsgNotFound, ErrMsgNotFound},
		{codes.AlreadyExists, "stream name already in use", nil, ErrStreamExists},
		{codes.NotFound, "consumer not found: C on stream ORDERS", ErrStreamNotFound, ErrConsumerNotFound},
		{codes.NotFound, "stream not found: ORDERS", ErrConsumerNotFound, ErrStreamNotFound},
		{codes.NotFound, "", ErrConsumerNotFound, ErrConsumerNotFound},
		{codes.AlreadyExists, "consumer already exists with a different config: C on stream ORDERS", nil, ErrConsumerExists},
		{codes.InvalidArgument, "bad subjects", nil, ErrInvalid},
		{codes.FailedPrecondition, "maximum messages exceeded", nil, ErrRefused},
		{codes.Unavailable, "no leader", nil, ErrUnavailable},
		{codes.DeadlineExceeded, "deadline", nil, context.DeadlineExceeded},
		{codes.Canceled, "canceled", nil, context.Canceled},
	}
	for _, tc := range cases {
		err := mapError(status.Error(tc.code, tc.msg), tc.notFound)
		if !errors.Is(err, tc.want) {
			t.Errorf("%v %q: got %v, want %v", tc.code, tc.msg, err, tc.want)
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("%v: Error() = %q, want the server's %q", tc.code, err.Error(), tc.msg)
		}
		if status.Code(err) != tc.code {
			t.Errorf("%v: status.Code = %v", tc.code, status.Code(err))
		}
	}
	if err := mapError(context.Canceled, nil); err != context.Canceled {
		t.Errorf("a non-status error changed: %v", err)
	}
	if mapError(nil, nil) != nil {
		t.Error("nil mapped to an error")
	}
}
