# Server n1 of the local 3-node cluster started by `make run`
# (examples/cluster/run.sh). data_dir is relative to the directory the
# server runs in: the repository root under `make run`. The built-in
# plugins are the binaries beside bin/strata, so no plugin blocks are needed.
server_name = "n1"
listen      = "127.0.0.1:4222"
http        = "127.0.0.1:8222"
data_dir    = "./data/n1"
tags        = ["az:a"]

cluster {
  name             = "strata-local"
  listen           = "127.0.0.1:6222"
  # n2 and n3 seed n1; n1 seeds n2 so that n1 restarted on its own finds
  # the running cluster again. One seed is enough: the rest is learned.
  routes           = ["127.0.0.1:6223"]
  # The meta group forms once three servers know each other.
  bootstrap_expect = 3
  # Raft timings of every group on this node; unset keys keep hashicorp/raft's
  # defaults (1s heartbeat and election, 500ms lease, 50ms commit).
  # raft {
  #   heartbeat_timeout  = "1s"
  #   election_timeout   = "1s"
  #   snapshot_threshold = 8192
  # }
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
