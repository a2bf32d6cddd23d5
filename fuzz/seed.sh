#!/usr/bin/env bash
# Lays out the seed corpora in fuzz/corpus/<target>/ (gitignored: never commit them).
# Usage: bash fuzz/seed.sh [SHARED_CORPUS_DIR]   (default /work/shared/corpus)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${1:-/work/shared/corpus}
crawl=$shared/crawl
data=$here/../tests/data
c=$here/corpus
mkdir -p "$c"/{jsonl,warc,csv,tsv,parquet,text,codec,html}

# Decompressed copies: the format targets see the records, not the gzip stream.
zcat "$crawl/olmo-c4-sample.01.json.gz" | head -c 60000 > "$c/jsonl/c4.jsonl"
zstdcat "$data/sample.jsonl.zst" 2>/dev/null | head -c 60000 > "$c/jsonl/sample.jsonl" || true
printf '{"id":"a","text":"x\\u2028y","metadata":{"url":"http://e/","cc_segment":"s"},"created":1}\n{"text":\n' > "$c/jsonl/small.jsonl"
zcat "$crawl/warcio-example.warc.gz" > "$c/warc/warcio-example.warc"
zcat "$crawl/cc-whirlwind-whirlwind.warc.wet.gz" > "$c/warc/whirlwind.wet"
zcat "$crawl/cc-whirlwind-whirlwind.warc.wat.gz" > "$c/warc/whirlwind.wat"
cp "$crawl/warcio-example-iana.org-chunked.warc" "$c/warc/"
cp "$crawl/malformed/iawc-mutliple-headers.warc" "$crawl/malformed/warcio-example-trunc.warc" "$c/warc/"
for f in "$crawl"/malformed/*.gz; do zcat "$f" > "$c/warc/$(basename "${f%.gz}")" 2>/dev/null || true; done
cp "$data"/tabular/*.csv "$c/csv/"
cp "$data"/tabular/*.tsv "$c/tsv/"
printf 'plain text\xef\xbb\xbf with a \xff byte\n' > "$c/text/plain.txt"
printf '\xef\xbb\xbfBOM text\n' > "$c/text/bom.txt"
head -c 3000 "$c/warc/whirlwind.wet" > "$c/text/wet-head.txt"

# The codec target: the first byte is the framing selector (even = as is).
for f in "$crawl/warcio-example.warc.gz" "$crawl/cc-whirlwind-whirlwind.warc.wet.gz" \
         "$crawl/olmo-c4-sample.01.json.gz" "$crawl"/malformed/*.gz "$data/sample.jsonl.zst"; do
  { printf '\x00'; cat "$f"; } > "$c/codec/$(basename "$f")"
done
{ printf '\x00'; cat "$data/tabular/multiline.csv"; } > "$c/codec/multiline.csv"

# HTML: the bodies of the WARC responses.
cp "$c/warc/warcio-example.warc" "$c/html/warcio-example.html"
cp "$crawl/warcio-example-iana.org-chunked.warc" "$c/html/iana.html"
printf '<html><title>T</title><script>if(a<b)x</script><p>a&amp;b&eacute<pre>x\n y</pre><svg><text>no</text></svg><table><tr><td>1<td>2</table>' > "$c/html/small.html"

# A tiny Parquet file (needs pyarrow; skipped without it).
python3 - "$c/parquet" <<'PY' || echo "pyarrow missing: no parquet seed"
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
t = pa.table({"id": ["a", None, "c"], "text": ["the AI refuses", None, "x" * 50],
              "url": ["http://e/1", None, None]})
pq.write_table(t, f"{d}/small.parquet", row_group_size=2)
pq.write_table(t, f"{d}/small-zstd.parquet", compression="zstd", row_group_size=1)
pq.write_table(t.select(["id", "text"]), f"{d}/small-none.parquet", compression="none")
PY
cp "$c"/parquet/small.parquet "$c/codec/" 2>/dev/null && { printf '\x00'; cat "$c/parquet/small.parquet"; } > "$c/codec/small.parquet" || true
find "$c" -type f -size +100k -print -delete
du -sh "$c"/*
