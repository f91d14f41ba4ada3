package client

import (
	"context"
	"time"

	"github.com/stratadb/strata/client/pb"
)

// ServerInfo is one server of the cluster as the meta group records it.
type ServerInfo struct {
	Name        string   `json:"name"`
	ClusterAddr string   `json:"cluster_addr"`
	ClientAddr  string   `json:"client_addr"`
	HTTPAddr    string   `json:"http_addr,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// ServerList is the cluster's name and servers.
type ServerList struct {
	Cluster string       `json:"cluster"`
	Servers []ServerInfo `json:"servers"`
}

// ServerStats are one server's statistics.
type ServerStats struct {
	Name    string `json:"name"`
	Cluster string `json:"cluster"`
	// Streams and Consumers count the replicas the server holds.
	Streams     int    `json:"streams"`
	Consumers   int    `json:"consumers"`
	Messages    uint64 `json:"messages"`
	Bytes       uint64 `json:"bytes"`
	MemoryBytes uint64 `json:"memory"`
	FileBytes   uint64 `json:"storage"`
	APIRequests uint64 `json:"api_requests"`
	APIErrors   uint64 `json:"api_errors"`
	// Leaders counts the stream groups the server leads.
	Leaders int           `json:"leaders"`
	Uptime  time.Duration `json:"uptime"`
	Offline bool          `json:"offline,omitempty"`
	Version string        `json:"version,omitempty"`
	// Fault says why the server's storage cannot serve (a plugin down,
	// a corrupt Raft log or stream replica); empty when it can.
	Fault string `json:"fault,omitempty"`
}

// ServerReport is every server's statistics and the meta group's state.
type ServerReport struct {
	Cluster string        `json:"cluster"`
	Servers []ServerStats `json:"servers"`
	Meta    ClusterInfo   `json:"meta"`
}

// Servers lists the servers of the cluster.
func (c *Client) Servers(ctx context.Context) (*ServerList, error) {
	var resp *pb.ServerListResponse
	err := c.call(ctx, true, nil, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		resp, err = api.ServerList(ctx, &pb.Empty{})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ServerList{Cluster: resp.GetCluster()}
	for _, s := range resp.GetServers() {
		out.Servers = append(out.Servers, ServerInfo{
			Name: s.GetName(), ClusterAddr: s.GetClusterAddr(), ClientAddr: s.GetClientAddr(),
			HTTPAddr: s.GetHttpAddr(), Tags: s.GetTags(),
		})
	}
	return out, nil
}

// ServerReport gathers every server's statistics and the meta group's state.
func (c *Client) ServerReport(ctx context.Context) (*ServerReport, error) {
	var resp *pb.ServerReportResponse
	err := c.call(ctx, true, nil, func(ctx context.Context, api pb.StrataClient) error {
		var err error
		resp, err = api.ServerReport(ctx, &pb.Empty{})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ServerReport{Cluster: resp.GetCluster(), Meta: clusterFromPB(resp.GetMeta())}
	for _, s := range resp.GetServers() {
		out.Servers = append(out.Servers, statsFromPB(s))
	}
	return out, nil
}

func statsFromPB(s *pb.ServerStats) ServerStats {
	return ServerStats{
		Name: s.GetName(), Cluster: s.GetCluster(),
		Streams: int(s.GetStreams()), Consumers: int(s.GetConsumers()),
		Messages: s.GetMessages(), Bytes: s.GetBytes(),
		MemoryBytes: s.GetMemoryBytes(), FileBytes: s.GetFileBytes(),
		APIRequests: s.GetApiRequests(), APIErrors: s.GetApiErrors(),
		Leaders: int(s.GetLeaders()), Uptime: time.Duration(s.GetUptimeNs()),
		Offline: s.GetOffline(), Version: s.GetVersion(), Fault: s.GetFault(),
	}
}
