package pluginsdk_test

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// fileSnapshots serves raft's own FileSnapshotStore, which encodes peers
// through the transport it is given at Create.
type fileSnapshots struct{ dir string }

func (p *fileSnapshots) Configure(req pluginsdk.ConfigureRequest) error {
	p.dir = req.DataDir
	return pluginsdk.DecodeConfig(req.Config, &struct{}{})
}

func (p *fileSnapshots) Close() error { return nil }

func (p *fileSnapshots) SnapshotStore(group string) (raft.SnapshotStore, error) {
	return raft.NewFileSnapshotStore(p.dir+"/"+group, 2, io.Discard)
}

func TestRaftFileSnapshotStoreOverGRPC(t *testing.T) {
	storetest.Suite{New: func() pluginsdk.Plugin { return &fileSnapshots{} }, Config: json.RawMessage(`{}`)}.Run(t)
}
