#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the repository for FUZZTIME each
# (default 5s), one after another; a crash stops the run, and Go writes
# the input that caused it under the package's testdata/fuzz/, where it
# becomes a regression case of `make test`. `make fuzz` runs this.
# -short keeps test mains from building the binaries a cluster needs.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-5s}

grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "== $dir $name ($FUZZTIME)"
		go test -short -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir"
	done
done
