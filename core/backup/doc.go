// Package backup owns Strata's stream backups: their format (a zstd
// stream of records and a manifest written last), saving a stream's
// point-in-time view into an object store, verifying a backup end to end,
// restoring it onto a cluster, and finding and pruning backups under a
// prefix. cmd/backup (strata-backup) is its command line.
//
// # Layout
//
// A backup of stream ORDERS taken at 2026-11-26T20:01:02.123Z under a
// target prefix is two objects:
//
//	ORDERS/20261126T200102.123Z/data.zst       the records, zstd-compressed
//	ORDERS/20261126T200102.123Z/manifest.json  written last: the backup is complete
//
// A save of every stream also writes index-<id>.json at the prefix,
// naming each stream's backup. Without its manifest a backup does not
// exist for ls, verify, restore or retention: an interrupted save leaves
// at most a data object nobody lists.
//
// # Format (version 1)
//
// data.zst decompresses to the magic "STRATABK", a version byte, then
// records, each a type byte, a uvarint length and a payload:
//
//	1 config    JSON of the stream's client.StreamConfig
//	2 message   uvarint seq, varint time (Unix ns), subject, msg id,
//	            uvarint header count, (key, value)..., data
//	            (strings and data as uvarint length + bytes)
//	3 consumer  JSON {"config": client.ConsumerConfig, "state":
//	            core/consumer.State} of one durable consumer
//	4 end       uvarint message count, uvarint last sequence
//
// Messages come in increasing sequence order, from the stream's first;
// a sequence missing between them (or between the last and the end
// record's last sequence) is a message removed one by one before the
// backup (a work-queue or interest stream's hole), and restore leaves it
// a hole. Then the consumer records. A consumer's state is exported before the view is
// read and cut at its last sequence: it never runs ahead of the
// messages, and restore checks that it can start from it
// (consumer.State.CheckRestore). The
// manifest holds the SHA-256 of the data object as stored (compressed),
// its size, and the counts of what it decompresses to (messages and
// consumers); verify and restore check all of them before anything is
// created.
package backup
