#!/usr/bin/env bash
# Runs every comparative benchmark (Bedrock beside each anchor library) and
# prints a benchstat table headed by the machine, Go version and date.
#
#   bash benchmarks/run.sh                 # everything, 6 runs each
#   COUNT=10 BENCH=RateLimit bash benchmarks/run.sh
#
# Needs Redis on 127.0.0.1:6379 for the Redis-backed comparisons.
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

COUNT="${COUNT:-6}"
BENCH="${BENCH:-.}"
BENCHTIME="${BENCHTIME:-500ms}"
out="$(mktemp -t bedrock-bench.XXXXXX)"
trap 'rm -f "$out"' EXIT

benchstat="$(go env GOPATH)/bin/benchstat"
[ -x "$benchstat" ] || go install golang.org/x/perf/cmd/benchstat@latest

go test -run='^$' -bench="$BENCH" -benchmem -count="$COUNT" -benchtime="$BENCHTIME" ./... | tee "$out" >&2

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "go:      $(go version)"
echo "date:    $(date -u +%Y-%m-%d)"
echo
"$benchstat" "$out"
