package api

import (
	"time"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/stream"
)

func configFromPB(c *pb.StreamConfig) stream.Config {
	return stream.Config{
		Name: c.GetName(), Subjects: c.GetSubjects(), Replicas: int(c.GetReplicas()),
		Storage: stream.Storage(c.GetStorage()), MaxMsgs: c.GetMaxMsgs(), MaxBytes: c.GetMaxBytes(),
		MaxAge: time.Duration(c.GetMaxAgeNs()), MaxMsgSize: c.GetMaxMsgSize(),
		Discard: stream.Discard(c.GetDiscard()), DupeWindow: time.Duration(c.GetDupeWindowNs()), Tags: c.GetTags(),
		Retention: stream.Retention(c.GetRetention()),
	}
}

func configToPB(c stream.Config) *pb.StreamConfig {
	return &pb.StreamConfig{
		Name: c.Name, Subjects: c.Subjects, Replicas: int32(c.Replicas), Storage: string(c.Storage),
		MaxMsgs: c.MaxMsgs, MaxBytes: c.MaxBytes, MaxAgeNs: int64(c.MaxAge), MaxMsgSize: c.MaxMsgSize,
		Discard: string(c.Discard), DupeWindowNs: int64(c.DupeWindow), Tags: c.Tags,
		Retention: string(c.Retention),
	}
}

func stateToPB(s stream.State) *pb.StreamState {
	return &pb.StreamState{
		Messages: s.Msgs, Bytes: s.Bytes, FirstSeq: s.FirstSeq, FirstTime: s.FirstTime,
		LastSeq: s.LastSeq, LastTime: s.LastTime, Deleted: s.Deleted,
	}
}
