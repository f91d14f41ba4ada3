package pluginsdk_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/pluginsdk"
	storagepb "github.com/stratadb/strata/pluginsdk/proto"
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

// TestStoreLogsMalformed: logs that do not decode are refused as an
// invalid argument, and nothing is stored.
func TestStoreLogsMalformed(t *testing.T) {
	p := &inmemPlugin{}
	cc := storetest.ServeGRPC(t, p)
	if _, err := pluginsdk.NewClient(cc).Configure(t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	rpc := storagepb.NewStorageClient(cc)
	_, err := rpc.StoreLogs(context.Background(), &storagepb.StoreLogsRequest{Group: "g", Logs: []byte{1, 5, 1}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "malformed logs") {
		t.Fatalf("StoreLogs(garbage) = %v, want InvalidArgument: malformed logs", err)
	}
	if last, _ := p.s.LastIndex(); last != 0 {
		t.Fatalf("last index %d after a refused StoreLogs", last)
	}
}
