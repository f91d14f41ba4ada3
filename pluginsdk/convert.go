package pluginsdk

import (
	"fmt"

	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

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
