package pluginsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"sync"
	"time"

	"google.golang.org/grpc"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// DefaultCallTimeout bounds every unary call to a plugin, so a hung plugin
// fails an operation instead of hanging a Raft group.
const DefaultCallTimeout = 30 * time.Second

// MaxMessageSize is the largest message either side sends: a StoreLogs
// batch of large entries may pass gRPC's default 4 MiB.
const MaxMessageSize = 256 << 20

// Capabilities are the store kinds a plugin serves.
type Capabilities struct {
	Log, Stable, Snapshot bool
}

// Client is the host side of a storage plugin. Its stores implement the
// raft interfaces; every call names the store's group.
type Client struct {
	rpc         storagepb.StorageClient
	callTimeout time.Duration

	mu   sync.Mutex
	logs map[string]*LogStore // one per group: it holds the read-ahead
}

// NewClient returns a Client on a gRPC connection to a plugin.
func NewClient(cc grpc.ClientConnInterface) *Client {
	return &Client{rpc: storagepb.NewStorageClient(cc), callTimeout: DefaultCallTimeout,
		logs: map[string]*LogStore{}}
}

// SetCallTimeout changes the bound on unary calls (zero: no bound).
func (c *Client) SetCallTimeout(d time.Duration) { c.callTimeout = d }

// Configure sends the plugin its config once and returns what it serves.
func (c *Client) Configure(dataDir string, config json.RawMessage) (Capabilities, error) {
	ctx, cancel := c.callContext()
	defer cancel()
	resp, err := c.rpc.Configure(ctx, &storagepb.ConfigureRequest{DataDir: dataDir, ConfigJson: config})
	if err != nil {
		return Capabilities{}, remoteError("configure", err)
	}
	return Capabilities{Log: resp.GetLogStore(), Stable: resp.GetStableStore(), Snapshot: resp.GetSnapshotStore()}, nil
}

// LogStore returns the raft.LogStore of group.
func (c *Client) LogStore(group string) *LogStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.logs[group]
	if !ok {
		s = &LogStore{c: c, group: group}
		c.logs[group] = s
	}
	return s
}

// StableStore returns the raft.StableStore of group.
func (c *Client) StableStore(group string) *StableStore { return &StableStore{c: c, group: group} }

// SnapshotStore returns the raft.SnapshotStore of group.
func (c *Client) SnapshotStore(group string) *SnapshotStore {
	return &SnapshotStore{c: c, group: group}
}

func (c *Client) callContext() (context.Context, context.CancelFunc) {
	if c.callTimeout <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), c.callTimeout)
}

// remoteError names the operation and keeps the gRPC status reachable
// (status.Code works through the wrap) so callers can tell a dead plugin
// from a store's refusal.
func remoteError(op string, err error) error {
	return fmt.Errorf("storage plugin: %s: %w", op, err)
}

// DropGroup deletes everything the plugin keeps for group. A plugin that
// cannot answers ErrNoSuchCapability.
func (c *Client) DropGroup(group string) error {
	c.mu.Lock()
	delete(c.logs, group)
	c.mu.Unlock()
	ctx, cancel := c.callContext()
	defer cancel()
	_, err := c.rpc.DropGroup(ctx, &storagepb.GroupRequest{Group: group})
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("storage plugin: drop group: %w", ErrNoSuchCapability)
	}
	if err != nil {
		return remoteError("drop group", err)
	}
	return nil
}
