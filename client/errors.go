package client

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors a call can return; test for them with errors.Is. The error a call
// returns keeps the server's own message in Error().
var (
	// ErrStreamNotFound: no stream has that name.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrMsgNotFound: the stream holds no message with that sequence.
	ErrMsgNotFound = errors.New("message not found")
	// ErrStreamExists: a stream with that name already exists.
	ErrStreamExists = errors.New("stream already exists")
	// ErrConsumerNotFound: the stream has no consumer with that name.
	ErrConsumerNotFound = errors.New("consumer not found")
	// ErrConsumerExists: a consumer with that name but another config
	// already exists (the same config again is accepted).
	ErrConsumerExists = errors.New("consumer already exists")
	// ErrNoStreamForSubject: no stream's subjects match the published subject.
	ErrNoStreamForSubject = errors.New("no stream matches subject")
	// ErrInvalid: the server or the client rejected the input.
	ErrInvalid = errors.New("invalid argument")
	// ErrRefused: a limit or an expectation refused the write, e.g.
	// "maximum messages exceeded" on a stream with discard new.
	ErrRefused = errors.New("refused")
	// ErrUnavailable: no server could serve the call (no leader yet, or no
	// server reachable).
	ErrUnavailable = errors.New("unavailable")
	// ErrClosed: the client or the publisher was closed.
	ErrClosed = errors.New("closed")
	// ErrUnauthenticated: the server has accounts and the call's user and
	// password were missing or wrong.
	ErrUnauthenticated = errors.New("authentication failed")
	// ErrPermissionDenied: the user's permissions do not allow the call;
	// the message names the permission.
	ErrPermissionDenied = errors.New("permission denied")
)

// Error is an error returned by a Strata server. It matches one of the
// package's sentinel errors with errors.Is and keeps the gRPC status.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the server's message.
	Message string
	kind    error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.kind.Error()
	}
	return e.Message
}

// Unwrap returns the sentinel error e matches.
func (e *Error) Unwrap() error { return e.kind }

// GRPCStatus returns the status the server sent.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// mapError turns a gRPC error into an *Error. notFound is the sentinel a
// NotFound status means when its message does not say (for example
// ErrMsgNotFound for GetMsg). Errors that are not gRPC statuses (context
// errors) are returned unchanged.
func mapError(err error, notFound error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return statusError(st.Code(), st.Message(), notFound)
}

// statusError is the *Error for a gRPC code and message.
func statusError(code codes.Code, msg string, notFound error) error {
	var kind error
	switch code {
	case codes.NotFound:
		kind = notFoundKind(msg, notFound)
	case codes.AlreadyExists:
		kind = ErrStreamExists
		if strings.Contains(strings.ToLower(msg), "consumer already exists") {
			kind = ErrConsumerExists
		}
	case codes.InvalidArgument, codes.OutOfRange:
		kind = ErrInvalid
	case codes.FailedPrecondition, codes.ResourceExhausted, codes.Aborted:
		kind = ErrRefused
	case codes.Unavailable:
		kind = ErrUnavailable
	case codes.Unauthenticated:
		kind = ErrUnauthenticated
	case codes.PermissionDenied:
		kind = ErrPermissionDenied
	case codes.Canceled:
		kind = context.Canceled
	case codes.DeadlineExceeded:
		kind = context.DeadlineExceeded
	default:
		kind = errors.New(strings.ToLower(code.String()))
	}
	return &Error{Code: code, Message: msg, kind: kind}
}

// notFoundKind tells from the server's message which thing was not found.
func notFoundKind(msg string, def error) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "consumer not found"):
		return ErrConsumerNotFound
	case strings.Contains(m, "message not found"):
		return ErrMsgNotFound
	case strings.Contains(m, "stream not found"):
		return ErrStreamNotFound
	case strings.Contains(m, "subject"):
		return ErrNoStreamForSubject
	case def != nil:
		return def
	}
	return ErrStreamNotFound
}
