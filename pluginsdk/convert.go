package pluginsdk

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

func logToProto(l *raft.Log) *storagepb.Log {
	pl := &storagepb.Log{
		Index:      l.Index,
		Term:       l.Term,
		Type:       uint32(l.Type),
		Data:       l.Data,
		Extensions: l.Extensions,
	}
	if !l.AppendedAt.IsZero() {
		pl.AppendedAtUnixNano = l.AppendedAt.UnixNano()
	}
	return pl
}

func logFromProto(pl *storagepb.Log, l *raft.Log) {
	*l = raft.Log{
		Index:      pl.GetIndex(),
		Term:       pl.GetTerm(),
		Type:       raft.LogType(pl.GetType()),
		Data:       pl.GetData(),
		Extensions: pl.GetExtensions(),
	}
	if ns := pl.GetAppendedAtUnixNano(); ns != 0 {
		l.AppendedAt = time.Unix(0, ns)
	}
}

func metaToProto(m *raft.SnapshotMeta) *storagepb.SnapshotMeta {
	return &storagepb.SnapshotMeta{
		Version:            int32(m.Version),
		Id:                 m.ID,
		Index:              m.Index,
		Term:               m.Term,
		Configuration:      raft.EncodeConfiguration(m.Configuration),
		ConfigurationIndex: m.ConfigurationIndex,
		Size:               m.Size,
	}
}

// metaFromProto decodes a snapshot meta. raft.DecodeConfiguration panics
// on bad input; a bad configuration from the other side is an error here.
func metaFromProto(pm *storagepb.SnapshotMeta) (m *raft.SnapshotMeta, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("snapshot %q: bad configuration: %v", pm.GetId(), r)
		}
	}()
	m = &raft.SnapshotMeta{
		Version:            raft.SnapshotVersion(pm.GetVersion()),
		ID:                 pm.GetId(),
		Index:              pm.GetIndex(),
		Term:               pm.GetTerm(),
		ConfigurationIndex: pm.GetConfigurationIndex(),
		Size:               pm.GetSize(),
	}
	if len(pm.GetConfiguration()) > 0 {
		m.Configuration = raft.DecodeConfiguration(pm.GetConfiguration())
	}
	return m, nil
}
