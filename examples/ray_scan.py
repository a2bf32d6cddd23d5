#!/usr/bin/env python3
"""Scan a folder of JSONL shards on a Ray cluster; write the kept documents (and, with
--removed, the flagged ones) as JSONL.

    python examples/ray_scan.py SHARDS_DIR OUT_DIR [--address auto] [--actors 8] [--removed DIR]

SHARDS_DIR may be any path ray.data.read_json reads (local, s3://, gs://); .jsonl, .json.gz and
.jsonl.zst shards are read as lines. Each actor builds one tropescan Scanner and scores its
batches on one core; run as many actors as the cluster has cores to spare.
"""

import argparse

import ray

import tropescan.ray as tray


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shards")
    ap.add_argument("out")
    ap.add_argument("--address", default=None, help="Ray cluster address (default: start a local one)")
    ap.add_argument("--actors", type=int, default=None, help="scoring actors (default: autoscale)")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--lexicon", action="append", default=None, help="lexicon TOML (repeatable)")
    ap.add_argument("--removed", default=None, help="also write the flagged documents here")
    args = ap.parse_args()

    ray.init(address=args.address)
    ds = ray.data.read_json(args.shards, lines=True)
    scored = tray.score(
        ds,
        text_column=args.text_column,
        actors=args.actors,
        threads=1,
        lexicon=args.lexicon,
        threshold=args.threshold,
    )
    if args.removed:
        # Scored once, split twice.
        scored = scored.materialize()
        tray.removed(scored).write_json(args.removed)
    tray.kept(scored).write_json(args.out)
    print(f"kept documents written to {args.out}")


if __name__ == "__main__":
    main()
