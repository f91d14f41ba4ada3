// Package stream owns a stream on one node: its configuration and
// limits, the message store that holds its messages (Store, on Badger or
// in memory), and the Raft FSM that applies batches of publishes to it
// with sequences, deduplication and limits.
package stream
