package client

import (
	"time"

	"github.com/stratadb/strata/client/pb"
)

// StreamConfig is a stream's configuration. Zero limits mean unlimited.
type StreamConfig struct {
	Name     string   `json:"name"`
	Subjects []string `json:"subjects"`
	// Replicas is 1, 3 or 5; 0 means 1.
	Replicas int `json:"replicas"`
	// Storage is "file" (the default) or "memory".
	Storage  string        `json:"storage,omitempty"`
	MaxMsgs  int64         `json:"max_msgs,omitempty"`
	MaxBytes int64         `json:"max_bytes,omitempty"`
	MaxAge   time.Duration `json:"max_age,omitempty"`
	// Discard is "old" (the default) or "new": what happens at a limit.
	Discard string `json:"discard,omitempty"`
	// DupeWindow is how long message ids are remembered; 0 means two minutes.
	DupeWindow time.Duration `json:"duplicate_window,omitempty"`
	// Tags narrow placement to servers carrying every one of them.
	Tags       []string `json:"placement_tags,omitempty"`
	MaxMsgSize int32    `json:"max_msg_size,omitempty"`
	// Retention is "limits" (the default: messages stay until the limits
	// remove them), "workqueue" (a message goes once a consumer acked it)
	// or "interest" (once every consumer that wants it acked it). It
	// cannot change.
	Retention string `json:"retention,omitempty"`
}

// StreamState is what a stream holds.
type StreamState struct {
	Msgs      uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstSeq  uint64    `json:"first_seq"`
	FirstTime time.Time `json:"first_ts"`
	LastSeq   uint64    `json:"last_seq"`
	LastTime  time.Time `json:"last_ts"`
	// Deleted counts messages removed by limits, purges or deletes.
	Deleted uint64 `json:"num_deleted"`
}

// PeerInfo is the state of one follower of a Raft group.
type PeerInfo struct {
	Name string `json:"name"`
	// Current is true when the peer's log is caught up with the leader's.
	Current bool `json:"current"`
	Offline bool `json:"offline,omitempty"`
	// Active is how long ago the leader last heard from the peer.
	Active time.Duration `json:"active"`
	// Lag is how many operations the peer is behind the leader.
	Lag uint64 `json:"lag,omitempty"`
}

// ClusterInfo is the state of a Raft group: a stream's or the meta group.
type ClusterInfo struct {
	Name   string `json:"name,omitempty"`
	Leader string `json:"leader,omitempty"`
	// Replicas are the peers other than the leader.
	Replicas  []PeerInfo `json:"replicas,omitempty"`
	RaftTerm  uint64     `json:"raft_term,omitempty"`
	RaftIndex uint64     `json:"raft_index,omitempty"`
}

// StreamInfo is a stream's configuration, state and Raft group.
type StreamInfo struct {
	Config  StreamConfig `json:"config"`
	State   StreamState  `json:"state"`
	Cluster ClusterInfo  `json:"cluster"`
	Created time.Time    `json:"created"`
	// Peers are the servers placed to hold the stream.
	Peers []string `json:"peers"`
	// Restoring is true while a backup is restored into the stream: it
	// takes no publishes until the restore ends.
	Restoring bool `json:"restoring,omitempty"`
	// Consumers counts the stream's consumers.
	Consumers uint64 `json:"consumers"`
}

// Header is one message header; a key may repeat.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Msg is a stored message.
type Msg struct {
	Subject string   `json:"subject"`
	Seq     uint64   `json:"seq"`
	Header  []Header `json:"headers,omitempty"`
	Data    []byte   `json:"data"`
	// Time is when the stream leader accepted the message.
	Time  time.Time `json:"time"`
	MsgID string    `json:"msg_id,omitempty"`
}

// PubAck acknowledges a stored message.
type PubAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	// Duplicate is true when the message id was seen inside the dupe
	// window: the message was not stored again and Seq is the first one's.
	Duplicate bool `json:"duplicate,omitempty"`
}

func (c StreamConfig) toPB() *pb.StreamConfig {
	return &pb.StreamConfig{
		Name: c.Name, Subjects: c.Subjects, Replicas: int32(c.Replicas), Storage: c.Storage,
		MaxMsgs: c.MaxMsgs, MaxBytes: c.MaxBytes, MaxAgeNs: int64(c.MaxAge),
		Discard: c.Discard, DupeWindowNs: int64(c.DupeWindow), Tags: c.Tags,
		MaxMsgSize: c.MaxMsgSize, Retention: c.Retention,
	}
}

func configFromPB(c *pb.StreamConfig) StreamConfig {
	return StreamConfig{
		Name: c.GetName(), Subjects: c.GetSubjects(), Replicas: int(c.GetReplicas()),
		Storage: c.GetStorage(), MaxMsgs: c.GetMaxMsgs(), MaxBytes: c.GetMaxBytes(),
		MaxAge: time.Duration(c.GetMaxAgeNs()), Discard: c.GetDiscard(),
		DupeWindow: time.Duration(c.GetDupeWindowNs()), Tags: c.GetTags(),
		MaxMsgSize: c.GetMaxMsgSize(), Retention: c.GetRetention(),
	}
}

func stateFromPB(s *pb.StreamState) StreamState {
	return StreamState{
		Msgs: s.GetMessages(), Bytes: s.GetBytes(),
		FirstSeq: s.GetFirstSeq(), FirstTime: unixTime(s.GetFirstTime()),
		LastSeq: s.GetLastSeq(), LastTime: unixTime(s.GetLastTime()),
		Deleted: s.GetDeleted(),
	}
}

func clusterFromPB(c *pb.ClusterInfo) ClusterInfo {
	ci := ClusterInfo{
		Name: c.GetName(), Leader: c.GetLeader(),
		RaftTerm: c.GetRaftTerm(), RaftIndex: c.GetRaftIndex(),
	}
	for _, p := range c.GetReplicas() {
		ci.Replicas = append(ci.Replicas, PeerInfo{
			Name: p.GetName(), Current: p.GetCurrent(), Offline: p.GetOffline(),
			Active: time.Duration(p.GetActiveNs()), Lag: p.GetLag(),
		})
	}
	return ci
}

func streamFromPB(s *pb.Stream) *StreamInfo {
	return &StreamInfo{
		Config: configFromPB(s.GetConfig()), State: stateFromPB(s.GetState()),
		Cluster: clusterFromPB(s.GetCluster()), Created: unixTime(s.GetCreated()),
		Peers: s.GetPeers(), Restoring: s.GetRestoring(), Consumers: s.GetConsumers(),
	}
}

func msgFromPB(m *pb.Msg) *Msg {
	return &Msg{
		Subject: m.GetSubject(), Seq: m.GetSeq(), Header: headersFromPB(m.GetHeaders()),
		Data: m.GetData(), Time: unixTime(m.GetTime()), MsgID: m.GetMsgId(),
	}
}

func ackFromPB(a *pb.PubAck) *PubAck {
	return &PubAck{Stream: a.GetStream(), Seq: a.GetSeq(), Duplicate: a.GetDuplicate()}
}

func headersFromPB(hs []*pb.Header) []Header {
	var out []Header
	for _, h := range hs {
		out = append(out, Header{Key: h.GetKey(), Value: h.GetValue()})
	}
	return out
}

// unixTime is the time of Unix nanoseconds ns, in UTC; 0 is the zero time.
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
