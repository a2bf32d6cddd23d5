#!/usr/bin/env python3
"""Single-core scoring throughput of the Python binding: reads shards with
tropescan.read_documents, then times Scanner(threads=N).score_batch over their texts in
batches. Prints documents, text MB and MB/s (text bytes, UTF-8). Used for docs/distributed.md.

    python scripts/py_throughput.py [--threads 1] [--batch 1000] SHARD...
"""

import argparse
import time

import tropescan

ap = argparse.ArgumentParser()
ap.add_argument("shards", nargs="+")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--batch", type=int, default=1000)
ap.add_argument("--rounds", type=int, default=3)
args = ap.parse_args()

texts = [d["text"] for s in args.shards for d in tropescan.read_documents(s)]
mb = sum(len(t.encode()) for t in texts) / 1e6
scanner = tropescan.Scanner(threads=args.threads)
times = []
for _ in range(args.rounds):
    start = time.perf_counter()
    flagged = 0
    for i in range(0, len(texts), args.batch):
        flagged += sum(r["flagged"] for r in scanner.score_batch(texts[i : i + args.batch]))
    times.append(time.perf_counter() - start)
best = sorted(times)[len(times) // 2]
print(f"{len(texts)} documents, {mb:.1f} MB of text, {flagged} flagged: "
      f"median {best:.2f}s = {mb / best:.1f} MB/s, {len(texts) / best:.0f} docs/s "
      f"(threads={args.threads}, batch={args.batch})")
