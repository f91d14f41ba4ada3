package api

import (
	"fmt"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// namesFSM holds APP's ORDERS, a shared (no account's) stream SHARED and
// LEGACY, a stream of APP stored under its plain name, as streams were
// before names were qualified.
func namesFSM(t *testing.T) *meta.FSM {
	f := meta.NewFSM()
	for i, st := range []meta.Stream{
		{Config: stream.Config{Name: "APP.ORDERS", Subjects: []string{"orders.>"}}, Account: "APP"},
		{Config: stream.Config{Name: "SHARED", Subjects: []string{"shared.>"}}},
		{Config: stream.Config{Name: "LEGACY", Subjects: []string{"legacy.>"}}, Account: "APP"},
		{Config: stream.Config{Name: "HIDDEN", Subjects: []string{"hidden.>"}}, Account: "OTHER"},
	} {
		st.Peers, st.Group = []string{"n1"}, st.Config.Name+"-g"
		data, err := meta.CreateStream(st)
		if err != nil {
			t.Fatal(err)
		}
		if err, _ := f.Apply(&raft.Log{Index: uint64(i + 1), Data: data}).(error); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestStoredName(t *testing.T) {
	s := &Server{cfg: Config{MetaFSM: namesFSM(t)}}
	app := &auth.User{Name: "app", Account: "APP"}
	for _, c := range []struct {
		name   string
		create bool
		want   string
	}{
		{"ORDERS", false, "APP.ORDERS"},
		{"APP.ORDERS", false, "APP.ORDERS"}, // forwarded: already stored
		{"SHARED", false, "SHARED"},
		{"LEGACY", false, "LEGACY"},
		{"HIDDEN", false, "APP.HIDDEN"}, // another account's: not found as APP's
		{"NEW", false, "APP.NEW"},
		{"NEW", true, "APP.NEW"},
		{"SHARED", true, "APP.SHARED"}, // a create makes the account's own
		{"LEGACY", true, "LEGACY"},     // taken by the account already
		{"OTHER.X", false, "APP.OTHER.X"},
	} {
		if got := s.storedName(app, c.name, c.create); got != c.want {
			t.Errorf("storedName(%q, create %v) = %q, want %q", c.name, c.create, got, c.want)
		}
	}
}

func TestQualifyAndUnqualify(t *testing.T) {
	s := &Server{cfg: Config{MetaFSM: namesFSM(t)}}
	app := &auth.User{Name: "app", Account: "APP"}
	names := renames{}
	req := &pb.FetchRequest{Stream: "ORDERS", Consumer: "C"}
	s.qualify(app, "/strata.Strata/ConsumerFetch", req, names)
	if req.Stream != "APP.ORDERS" || names["APP.ORDERS"] != "ORDERS" {
		t.Fatalf("qualified %q, renames %v", req.Stream, names)
	}
	sys := &auth.User{Name: "admin", Account: "SYS", System: true}
	sysReq := &pb.StreamRequest{Name: "APP.ORDERS"}
	s.qualify(sys, "/strata.Strata/StreamInfo", sysReq, renames{})
	if sysReq.Name != "APP.ORDERS" {
		t.Fatalf("a system user's name became %q", sysReq.Name)
	}

	list := &pb.StreamListResponse{Streams: []*pb.Stream{
		{Config: &pb.StreamConfig{Name: "APP.ORDERS"}}, {Config: &pb.StreamConfig{Name: "SHARED"}}}}
	unqualify(app, list)
	if a, b := list.Streams[0].Config.Name, list.Streams[1].Config.Name; a != "ORDERS" || b != "SHARED" {
		t.Fatalf("unqualified list: %q, %q", a, b)
	}
	ack := &pb.PubAckBatch{Acks: []*pb.PubAck{{Stream: "APP.ORDERS"}}}
	unqualify(app, ack)
	if ack.Acks[0].Stream != "ORDERS" {
		t.Fatalf("unqualified ack: %q", ack.Acks[0].Stream)
	}

	err := names.renameError(toStatus(meta.ErrStreamNotFound))
	if err == nil {
		t.Fatal("renameError lost the error")
	}
	err = names.renameError(toStatus(fmt.Errorf("%w: APP.ORDERS", meta.ErrStreamNotFound)))
	if got := err.Error(); got != "rpc error: code = NotFound desc = stream not found: ORDERS" {
		t.Fatalf("renamed error %q", got)
	}
}
