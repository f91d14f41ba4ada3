# Server n3 of the local 3-node cluster started by `make run`
# (examples/cluster/run.sh). data_dir is relative to the directory the
# server runs in: the repository root under `make run`. The built-in
# plugins are the binaries beside bin/strata, so no plugin blocks are needed.
server_name = "n3"
listen      = "127.0.0.1:4224"
http        = "127.0.0.1:8224"
data_dir    = "./data/n3"
tags        = ["az:c"]

cluster {
  name             = "strata-local"
  listen           = "127.0.0.1:6224"
  # One seed is enough: the others are learned from it.
  routes           = ["127.0.0.1:6222"]
  # The meta group forms once three servers know each other.
  bootstrap_expect = 3
}

# The file plugin (raft-wal) keeps the Raft logs: on this project's
# machine R3 async publishing runs 15-25% faster on it than on the Badger
# plugin, sync latency is about the same (docs/benchmarks.md). Badger is
# the default without this block; either is a config choice.
storage {
  log      = "file"
  stable   = "file"
  snapshot = "file"
}
