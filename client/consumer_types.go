package client

import (
	"time"

	"github.com/stratadb/strata/client/pb"
)

// Deliver policies: where a new consumer starts in its stream.
const (
	// DeliverAllPolicy starts at the stream's first message (the default).
	DeliverAllPolicy = "all"
	// DeliverLastPolicy starts at the last matching message.
	DeliverLastPolicy = "last"
	// DeliverNewPolicy starts after the stream's last message.
	DeliverNewPolicy = "new"
	// DeliverByStartSequencePolicy starts at OptStartSeq.
	DeliverByStartSequencePolicy = "by_start_sequence"
	// DeliverByStartTimePolicy starts at the first message at or after OptStartTime.
	DeliverByStartTimePolicy = "by_start_time"
	// DeliverLastPerSubjectPolicy starts with the last message of every subject.
	DeliverLastPerSubjectPolicy = "last_per_subject"
)

// Ack policies: which acknowledgements a consumer expects.
const (
	// AckExplicitPolicy expects an ack for every message (the default).
	AckExplicitPolicy = "explicit"
	// AckAllPolicy takes an ack of a message as an ack of every earlier one.
	AckAllPolicy = "all"
	// AckNonePolicy expects no ack: a message counts as processed once delivered.
	AckNonePolicy = "none"
)

// Ack kinds, the Kind of an Ack.
const (
	// AckKindAck: the message was processed.
	AckKindAck = "ack"
	// AckKindNak: deliver the message again (after the Ack's Delay).
	AckKindNak = "nak"
	// AckKindProgress: still working on it; the ack wait starts again.
	AckKindProgress = "progress"
	// AckKindTerm: never deliver the message again.
	AckKindTerm = "term"
)

// ConsumerConfig is a consumer's configuration. Zero fields take the
// server's defaults: deliver all, ack explicit, ack wait 30s, max ack
// pending 1000, max waiting 512, the stream's replicas.
type ConsumerConfig struct {
	// Durable names a durable consumer; empty makes an ephemeral one,
	// named by the server and removed after InactiveThreshold without pulls.
	Durable string `json:"durable_name,omitempty"`
	// Name is the consumer's name; for a durable consumer it is Durable.
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// DeliverPolicy is one of the Deliver...Policy constants ("all" by default).
	DeliverPolicy string `json:"deliver_policy,omitempty"`
	// OptStartSeq is the first sequence of DeliverByStartSequencePolicy.
	OptStartSeq uint64 `json:"opt_start_seq,omitempty"`
	// OptStartTime is the start of DeliverByStartTimePolicy.
	OptStartTime time.Time `json:"opt_start_time,omitzero"`
	// AckPolicy is AckExplicitPolicy (the default), AckAllPolicy or AckNonePolicy.
	AckPolicy string `json:"ack_policy,omitempty"`
	// AckWait is how long a delivery waits for its ack before the message
	// is delivered again.
	AckWait time.Duration `json:"ack_wait,omitempty"`
	// MaxDeliver bounds the deliveries of one message; 0 or -1: unlimited.
	MaxDeliver int `json:"max_deliver,omitempty"`
	// Backoff are the ack waits of the first, second, ... delivery; the
	// last repeats. Set, it overrides AckWait.
	Backoff []time.Duration `json:"backoff,omitempty"`
	// MaxAckPending bounds the deliveries awaiting an ack.
	MaxAckPending int `json:"max_ack_pending,omitempty"`
	// FilterSubjects narrow the messages to those on matching subjects.
	FilterSubjects []string `json:"filter_subjects,omitempty"`
	// MaxWaiting bounds the pull requests waiting at once.
	MaxWaiting  int  `json:"max_waiting,omitempty"`
	HeadersOnly bool `json:"headers_only,omitempty"`
	// Replicas of the consumer's Raft group: 0 means the stream's.
	Replicas int `json:"num_replicas,omitempty"`
	// InactiveThreshold is how long an ephemeral consumer lives without
	// a pull request.
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
}

// SequencePair is a position in a consumer and in its stream.
type SequencePair struct {
	Consumer uint64 `json:"consumer_seq"`
	Stream   uint64 `json:"stream_seq"`
}

// ConsumerState is where a consumer is in its stream.
type ConsumerState struct {
	// Delivered is the last message delivered.
	Delivered SequencePair `json:"delivered"`
	// AckFloor is the last message under which everything is acked.
	AckFloor SequencePair `json:"ack_floor"`
	// AckPending counts deliveries awaiting an ack.
	AckPending uint64 `json:"num_ack_pending"`
	// Redelivered counts pending messages delivered more than once.
	Redelivered uint64 `json:"num_redelivered"`
	// Unprocessed counts matching messages not delivered yet.
	Unprocessed uint64 `json:"num_pending"`
	// Waiting counts the pull requests waiting on the leader now.
	Waiting     uint64 `json:"num_waiting"`
	AcksIgnored uint64 `json:"acks_ignored,omitempty"`
}

// ConsumerInfo is a consumer's configuration, state and Raft group.
type ConsumerInfo struct {
	Stream  string         `json:"stream_name"`
	Config  ConsumerConfig `json:"config"`
	State   ConsumerState  `json:"state"`
	Cluster ClusterInfo    `json:"cluster"`
	Created time.Time      `json:"created"`
	// Peers are the servers placed to hold the consumer.
	Peers []string `json:"peers"`
}

// Name is the consumer's name.
func (ci *ConsumerInfo) Name() string {
	if ci.Config.Name != "" {
		return ci.Config.Name
	}
	return ci.Config.Durable
}

// Ack is one acknowledgement of a delivered message, by stream sequence.
type Ack struct {
	Seq uint64 `json:"stream_seq"`
	// Kind is AckKindAck (the default when empty), AckKindNak, AckKindProgress or AckKindTerm.
	Kind string `json:"kind,omitempty"`
	// Delay, for a nak, is how long until the redelivery.
	Delay time.Duration `json:"delay,omitempty"`
}

func (c ConsumerConfig) toPB() *pb.ConsumerConfig {
	out := &pb.ConsumerConfig{
		Durable: c.Durable, Name: c.Name, Description: c.Description,
		DeliverPolicy: c.DeliverPolicy, OptStartSeq: c.OptStartSeq, OptStartTime: unixNanos(c.OptStartTime),
		AckPolicy: c.AckPolicy, AckWaitNs: int64(c.AckWait), MaxDeliver: int64(c.MaxDeliver),
		MaxAckPending: int64(c.MaxAckPending), FilterSubjects: c.FilterSubjects,
		MaxWaiting: int64(c.MaxWaiting), HeadersOnly: c.HeadersOnly, Replicas: int32(c.Replicas),
		InactiveThresholdNs: int64(c.InactiveThreshold),
	}
	for _, d := range c.Backoff {
		out.BackoffNs = append(out.BackoffNs, int64(d))
	}
	return out
}

func consumerConfigFromPB(c *pb.ConsumerConfig) ConsumerConfig {
	out := ConsumerConfig{
		Durable: c.GetDurable(), Name: c.GetName(), Description: c.GetDescription(),
		DeliverPolicy: c.GetDeliverPolicy(), OptStartSeq: c.GetOptStartSeq(), OptStartTime: unixTime(c.GetOptStartTime()),
		AckPolicy: c.GetAckPolicy(), AckWait: time.Duration(c.GetAckWaitNs()), MaxDeliver: int(c.GetMaxDeliver()),
		MaxAckPending: int(c.GetMaxAckPending()), FilterSubjects: c.GetFilterSubjects(),
		MaxWaiting: int(c.GetMaxWaiting()), HeadersOnly: c.GetHeadersOnly(), Replicas: int(c.GetReplicas()),
		InactiveThreshold: time.Duration(c.GetInactiveThresholdNs()),
	}
	for _, d := range c.GetBackoffNs() {
		out.Backoff = append(out.Backoff, time.Duration(d))
	}
	return out
}

func pairFromPB(p *pb.SequencePair) SequencePair {
	return SequencePair{Consumer: p.GetConsumerSeq(), Stream: p.GetStreamSeq()}
}

func consumerStateFromPB(s *pb.ConsumerState) ConsumerState {
	return ConsumerState{
		Delivered: pairFromPB(s.GetDelivered()), AckFloor: pairFromPB(s.GetAckFloor()),
		AckPending: s.GetAckPending(), Redelivered: s.GetRedelivered(), Unprocessed: s.GetUnprocessed(),
		Waiting: s.GetWaiting(), AcksIgnored: s.GetAcksIgnored(),
	}
}

func consumerFromPB(c *pb.Consumer) *ConsumerInfo {
	return &ConsumerInfo{
		Stream: c.GetStream(), Config: consumerConfigFromPB(c.GetConfig()),
		State: consumerStateFromPB(c.GetState()), Cluster: clusterFromPB(c.GetCluster()),
		Created: unixTime(c.GetCreated()), Peers: c.GetPeers(),
	}
}

func acksToPB(acks []Ack) []*pb.Ack {
	out := make([]*pb.Ack, len(acks))
	for i, a := range acks {
		out[i] = &pb.Ack{StreamSeq: a.Seq, Kind: a.Kind, DelayNs: int64(a.Delay)}
	}
	return out
}

// unixNanos is t in Unix nanoseconds; the zero time is 0.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
