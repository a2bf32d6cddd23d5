#!/usr/bin/env bash
# Runs one fuzz target for DURATION seconds (default 600), single job, logs to LOGDIR.
# -malloc_limit_mb=2200: zstd allocates its window (up to 2 GiB, see src/input/codec.rs) when a
# frame header asks for it; that is address space, not memory, and stays allowed. RSS is still
# capped at 1 GiB.
# Usage: bash fuzz/run.sh TARGET [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
t=$1; d=${2:-600}; logs=${LOGDIR:-/tmp/fuzz-logs}
mkdir -p "$logs" "fuzz/corpus/$t" "fuzz/artifacts/$t"
RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "fuzz/corpus/$t" -- \
  -max_len=65536 -rss_limit_mb=1024 -malloc_limit_mb=2200 -timeout=10 -max_total_time="$d" -print_final_stats=1 \
  > "$logs/$t.log" 2>&1
