package api

import (
	"fmt"
	"time"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
)

func consumerConfigFromPB(c *pb.ConsumerConfig) consumer.Config {
	out := consumer.Config{
		Durable: c.GetDurable(), Name: c.GetName(), Description: c.GetDescription(),
		DeliverPolicy: consumer.DeliverPolicy(c.GetDeliverPolicy()), OptStartSeq: c.GetOptStartSeq(),
		OptStartTime: c.GetOptStartTime(), AckPolicy: consumer.AckPolicy(c.GetAckPolicy()),
		AckWait: time.Duration(c.GetAckWaitNs()), MaxDeliver: int(c.GetMaxDeliver()),
		MaxAckPending: int(c.GetMaxAckPending()), FilterSubjects: c.GetFilterSubjects(),
		MaxWaiting: int(c.GetMaxWaiting()), HeadersOnly: c.GetHeadersOnly(), Replicas: int(c.GetReplicas()),
		InactiveThreshold: time.Duration(c.GetInactiveThresholdNs()),
	}
	for _, d := range c.GetBackoffNs() {
		out.Backoff = append(out.Backoff, time.Duration(d))
	}
	return out
}

func consumerConfigToPB(c consumer.Config) *pb.ConsumerConfig {
	out := &pb.ConsumerConfig{
		Durable: c.Durable, Name: c.Name, Description: c.Description, DeliverPolicy: string(c.DeliverPolicy),
		OptStartSeq: c.OptStartSeq, OptStartTime: c.OptStartTime, AckPolicy: string(c.AckPolicy),
		AckWaitNs: int64(c.AckWait), MaxDeliver: int64(c.MaxDeliver), MaxAckPending: int64(c.MaxAckPending),
		FilterSubjects: c.FilterSubjects, MaxWaiting: int64(c.MaxWaiting), HeadersOnly: c.HeadersOnly,
		Replicas: int32(c.Replicas), InactiveThresholdNs: int64(c.InactiveThreshold),
	}
	for _, d := range c.Backoff {
		out.BackoffNs = append(out.BackoffNs, int64(d))
	}
	return out
}

func consumerStateToPB(i consumer.Info) *pb.ConsumerState {
	return &pb.ConsumerState{
		Delivered:  &pb.SequencePair{ConsumerSeq: i.Delivered.Consumer, StreamSeq: i.Delivered.Stream},
		AckFloor:   &pb.SequencePair{ConsumerSeq: i.AckFloor.Consumer, StreamSeq: i.AckFloor.Stream},
		AckPending: uint64(i.AckPending), Redelivered: i.Redelivered, Unprocessed: i.Unprocessed,
		Waiting: uint64(i.Waiting), AcksIgnored: i.AcksIgnored,
	}
}

// consumerMetaToPB is a consumer's info from the meta state alone: its
// config and peers, no state.
func consumerMetaToPB(m meta.Consumer, cluster string) *pb.Consumer {
	return &pb.Consumer{
		Stream: m.Stream, Config: consumerConfigToPB(m.Config), State: &pb.ConsumerState{},
		Cluster: &pb.ClusterInfo{Name: cluster}, Created: m.Created, Peers: m.Peers,
	}
}

func deliveriesToPB(ds []consumer.Delivery) []*pb.ConsumerMsg {
	out := make([]*pb.ConsumerMsg, len(ds))
	for i, d := range ds {
		out[i] = &pb.ConsumerMsg{Msg: toMsg(d.Msg), ConsumerSeq: d.ConsumerSeq, Delivered: d.Count, Pending: d.Pending}
	}
	return out
}

func acksFromPB(acks []*pb.Ack) ([]consumer.Ack, error) {
	out := make([]consumer.Ack, len(acks))
	for i, a := range acks {
		kind, err := ackKind(a.GetKind())
		if err != nil {
			return nil, err
		}
		out[i] = consumer.Ack{Seq: a.GetStreamSeq(), Kind: kind, Delay: time.Duration(a.GetDelayNs())}
	}
	return out, nil
}

func ackKind(s string) (consumer.AckKind, error) {
	switch s {
	case "", "ack":
		return consumer.AckAck, nil
	case "nak":
		return consumer.AckNak, nil
	case "progress":
		return consumer.AckProgress, nil
	case "term":
		return consumer.AckTerm, nil
	}
	return 0, fmt.Errorf("%w: ack kind %q: want ack, nak, progress or term", errInvalid, s)
}
