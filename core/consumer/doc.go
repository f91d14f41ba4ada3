// Package consumer owns durable and ephemeral consumers of a stream: their
// config and its checks, the replicated consumer state (delivered, ack
// floor, pending deliveries and their redelivery counts) kept by each
// consumer's Raft group, and the leader's side that hands out messages
// from the local stream replica and takes acks in batches.
package consumer
