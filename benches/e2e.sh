#!/usr/bin/env bash
# End-to-end benchmark: tropescan scan against the physical limit (zstd -dc / gzip -dc of the
# same files) and against ripgrep on the same terms, in one run, alternating A B A B, medians of
# ROUNDS runs, peak RSS from /usr/bin/time. Results go to bench-data/results.md.
#
#   benches/e2e.sh [ROUNDS]        (default 5; needs zstd, gzip, /usr/bin/time; installs ripgrep)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
CORPUS=${TROPESCAN_CORPUS:-../shared/corpus}
DATA=bench-data/corpus
command -v rg >/dev/null || { apt-get install -y -q ripgrep >/dev/null 2>&1 || true; }
cargo build --release -q
BIN=target/release/tropescan
[ -f "$DATA/part-00.jsonl.zst" ] || python3 benches/make_corpus.py "$CORPUS" "$DATA" 520 8
$BIN lexicon terms > bench-data/terms.txt
ZST=("$DATA"/part-*.jsonl.zst)
GZ=("$DATA"/part-*.jsonl.gz)
RAW_MB=$(zstd -dc "${ZST[@]}" | wc -c | awk '{printf "%.1f", $1/1e6}')
DOCS=$(zstd -dc "${ZST[@]}" | wc -l)

declare -A CMDS=(
  [zstd_dc]="zstd -dc ${ZST[*]}"
  [scan_zst_j1]="$BIN scan -q -j1 ${ZST[*]}"
  [scan_zst_j2]="$BIN scan -q -j2 ${ZST[*]}"
  [rg_zst]="rg -z -c -i -F -f bench-data/terms.txt ${ZST[*]}"
  [gzip_dc]="gzip -dc ${GZ[*]}"
  [scan_gz_j1]="$BIN scan -q -j1 ${GZ[*]}"
  [scan_gz_j2]="$BIN scan -q -j2 ${GZ[*]}"
  [rg_gz]="rg -z -c -i -F -f bench-data/terms.txt ${GZ[*]}"
)
ORDER=(zstd_dc scan_zst_j1 scan_zst_j2 rg_zst gzip_dc scan_gz_j1 scan_gz_j2 rg_gz)
command -v rg >/dev/null || ORDER=(zstd_dc scan_zst_j1 scan_zst_j2 gzip_dc scan_gz_j1 scan_gz_j2)

# Correctness first: the scan must see every document.
n=$($BIN scan -q -j2 "${ZST[@]}" | wc -l)
[ "$n" -eq "$DOCS" ] || { echo "scan printed $n lines for $DOCS documents" >&2; exit 1; }

LOG=bench-data/timings.tsv
: > "$LOG"
for r in $(seq "$ROUNDS"); do
  for name in "${ORDER[@]}"; do
    /usr/bin/time -f "$name\t%e\t%M" -a -o "$LOG" bash -c "${CMDS[$name]} > /dev/null"
  done
done

python3 - "$LOG" "$RAW_MB" "$DOCS" <<'PY' | tee bench-data/results.md
import statistics, sys, collections
log, raw_mb, docs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t, m = collections.defaultdict(list), collections.defaultdict(list)
for line in open(log):
    name, secs, kb = line.rstrip("\n").split("\t")
    t[name].append(float(secs)); m[name].append(int(kb))
base = {"zst": statistics.median(t["zstd_dc"]), "gz": statistics.median(t["gzip_dc"])}
print(f"corpus: {raw_mb} MB decompressed JSONL, {docs} documents, {len(t['zstd_dc'])} rounds\n")
print("| command | median s | MB/s | x decompress | peak RSS MB |")
print("|---|---|---|---|---|")
for name in t:
    med = statistics.median(t[name])
    codec = "gz" if "gz" in name else "zst"
    print(f"| {name} | {med:.2f} | {raw_mb/med:.0f} | {med/base[codec]:.2f} | {max(m[name])/1024:.0f} |")
PY
