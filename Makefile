# Strata. `make run` starts a local cluster; `make test` runs the tests.
GO        ?= go
BIN       := bin
PLUGINS   := strata-plugin-badger strata-plugin-file strata-plugin-s3snap strata-plugin-bolt
TESTFLAGS ?= -count=1 -timeout 25m

.PHONY: all build test test-faults fuzz bench bench-streams bench-consume bench-compare bench-breakdown bench-backup proto run clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/strata ./cmd/node
	$(GO) build -o $(BIN)/strata-backup ./cmd/backup
	$(GO) build -o $(BIN)/strata-plugin-badger ./plugins/badger/cmd/strata-plugin-badger
	$(GO) build -o $(BIN)/strata-plugin-file ./plugins/file/cmd/strata-plugin-file
	$(GO) build -o $(BIN)/strata-plugin-s3snap ./plugins/s3snap/cmd/strata-plugin-s3snap
	$(GO) build -o $(BIN)/strata-plugin-bolt ./examples/plugin-bolt

# The backup and S3 snapshot tests run a real S3 server, versitygw,
# installed into $(go env GOPATH)/bin when missing.
VERSITYGW := $(shell $(GO) env GOPATH)/bin/versitygw

$(VERSITYGW):
	$(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

test: $(VERSITYGW)
	$(GO) test $(TESTFLAGS) ./...

# The fault-injection suite: scenarios on real server processes under
# publish/read load, checked for loss, duplicates and linearizability
# (docs/reliability.md records its summary table).
test-faults:
	$(GO) test -tags faults -count=1 -timeout 15m -v -run 'TestFaults|TestConsumerFaults|TestStreamModelRejects|TestPowerLoss|TestFullDisk' ./cmd/node/

# Every fuzz target (config loader, subjects, plugin log codec, backup
# records, Raft mux header, stream entries) for FUZZTIME each (default 5s).
fuzz:
	./scripts/fuzz.sh

# Benchmarks of the stores (in process and over gRPC) and of 3-node Raft
# groups; docs/benchmarks.md records the figures with this command.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s -timeout 30m ./pluginsdk/... ./plugins/... ./core/...

# Stream publish benchmarks on the local 3-node cluster (needs the ports of
# `make run` free); docs/benchmarks.md records the figures.
bench-streams: build
	./examples/cluster/bench.sh

# Consumer benchmarks on Strata and JetStream side by side (3 nodes each, R3,
# file storage); installs nats-server and natscli into a temporary GOBIN.
bench-consume: build
	./examples/cluster/bench-consume.sh

# Strata beside JetStream (defaults, and sync_interval: always) on this
# machine in one run, every row of docs/benchmarks.md's comparison table;
# installs nats-server and natscli into a temporary GOBIN.
bench-compare: build
	./examples/cluster/bench-compare.sh

# Where one synchronous R3 publish spends its time, stage by stage, from
# the nodes' /metrics (docs/benchmarks.md).
bench-breakdown: build
	./examples/cluster/breakdown.sh

# Backup and restore throughput with strata-backup on a 1 GiB stream of
# JSON-like messages, to a directory and to versitygw (docs/benchmarks.md).
bench-backup: $(VERSITYGW)
	STRATA_BACKUP_BENCH_MIB=1024 $(GO) test -run '^$$' -bench SaveRestore -benchtime 1x -timeout 30m ./cmd/backup/

# Regenerates the plugin protocol's Go code (needs protoc, protoc-gen-go
# and protoc-gen-go-grpc on PATH).
proto:
	protoc -I pluginsdk/proto \
	  --go_out=paths=source_relative:pluginsdk/proto \
	  --go-grpc_out=paths=source_relative:pluginsdk/proto \
	  pluginsdk/proto/storage.proto
	protoc -I client/pb \
	  --go_out=paths=source_relative:client/pb \
	  --go-grpc_out=paths=source_relative:client/pb \
	  client/pb/strata.proto

# Runs a local 3-node cluster (examples/cluster, data and logs in data/);
# Ctrl-C stops it.
run: build
	./examples/cluster/run.sh

clean:
	rm -rf $(BIN)
