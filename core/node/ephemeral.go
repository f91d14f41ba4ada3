package node

import (
	"context"
	"time"

	"github.com/stratadb/strata/client/pb"
)

// ephemeralDeleteTimeout bounds deleting one inactive ephemeral consumer.
const ephemeralDeleteTimeout = 10 * time.Second

// expireEphemeral deletes, through the meta leader, the ephemeral
// consumers this node leads that have been inactive for their threshold.
// A deletion in flight is not started twice.
func (n *Node) expireEphemeral() {
	now := time.Now()
	for _, c := range n.replicas.Consumers() {
		if !c.Inactive(now) {
			continue
		}
		m := c.Meta()
		key := m.Stream + "/" + m.Config.Name
		n.expiringMu.Lock()
		busy := n.expiring[key]
		n.expiring[key] = true
		n.expiringMu.Unlock()
		if busy {
			continue
		}
		n.logger.Info("deleting inactive ephemeral consumer", "stream", m.Stream, "consumer", m.Config.Name,
			"inactive_threshold", m.Config.InactiveThreshold)
		go n.deleteConsumer(key, m.Stream, m.Config.Name)
	}
}

func (n *Node) deleteConsumer(key, stream, name string) {
	defer func() {
		n.expiringMu.Lock()
		delete(n.expiring, key)
		n.expiringMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), ephemeralDeleteTimeout)
	defer cancel()
	if _, err := n.api.ConsumerDelete(ctx, &pb.ConsumerRequest{Stream: stream, Name: name}); err != nil {
		n.logger.Warn("deleting inactive ephemeral consumer failed; will retry", "stream", stream, "consumer", name, "error", err)
	}
}
