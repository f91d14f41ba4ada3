package client

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/stratadb/strata/client/pb"
)

// PubOpt is an option of one publish.
type PubOpt func(*pb.PubRequest)

// WithMsgID sets the message id: a second publish with the same id inside
// the stream's dupe window is acked with the first one's sequence and not
// stored again. It also makes Publish retry on Unavailable.
func WithMsgID(id string) PubOpt {
	return func(r *pb.PubRequest) { r.MsgId = id }
}

// WithHeader adds a header; a key may repeat.
func WithHeader(key, value string) PubOpt {
	return func(r *pb.PubRequest) { r.Headers = append(r.Headers, &pb.Header{Key: key, Value: value}) }
}

// WithExpectStream refuses the publish unless the subject belongs to stream.
func WithExpectStream(stream string) PubOpt {
	return func(r *pb.PubRequest) { r.ExpectedStream = stream }
}

// pubRequest builds a publish request; it rejects an empty subject.
func pubRequest(subject string, data []byte, opts []PubOpt) (*pb.PubRequest, error) {
	if subject == "" {
		return nil, fmt.Errorf("%w: empty subject", ErrInvalid)
	}
	r := &pb.PubRequest{Subject: subject, Data: data}
	for _, o := range opts {
		o(r)
	}
	// Protobuf strings must be UTF-8: refuse here what could not be sent.
	if !utf8.ValidString(r.Subject) || !utf8.ValidString(r.MsgId) || !utf8.ValidString(r.ExpectedStream) {
		return nil, fmt.Errorf("%w: subject, message id and stream must be UTF-8", ErrInvalid)
	}
	for _, h := range r.Headers {
		if !utf8.ValidString(h.Key) || !utf8.ValidString(h.Value) {
			return nil, fmt.Errorf("%w: header %q is not UTF-8", ErrInvalid, h.Key)
		}
	}
	return r, nil
}

// Publish stores data under subject in the stream whose subjects match it
// and returns once a quorum of the stream's replicas has it.
//
// A publish without a message id is never retried: after an Unavailable
// answer the message may or may not be stored, and a retry could store it
// twice. With WithMsgID, Publish retries on Unavailable like other calls,
// since the dedupe window acks a repeat with the first sequence.
func (c *Client) Publish(ctx context.Context, subject string, data []byte, opts ...PubOpt) (*PubAck, error) {
	req, err := pubRequest(subject, data, opts)
	if err != nil {
		return nil, err
	}
	var ack *pb.PubAck
	err = c.call(ctx, req.MsgId != "", ErrNoStreamForSubject, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		ack, err = api.Publish(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ackFromPB(ack), nil
}
