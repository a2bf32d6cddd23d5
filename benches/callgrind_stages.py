#!/usr/bin/env python3
"""Where `tropescan scan -q -j1` spends its instructions, by stage, from a callgrind out file.

    valgrind --tool=callgrind --callgrind-out-file=cg.out \
        target/release/tropescan scan -q -j1 x.jsonl.zst > /dev/null
    python3 benches/callgrind_stages.py cg.out              # the stage table (docs/PERFORMANCE.md)
    python3 benches/callgrind_stages.py cg.out --top 40     # functions by self cost
    python3 benches/callgrind_stages.py cg.out --callees Scanner::verdict

Why not callgrind_annotate alone: it lists a function once per source file its inlined code
came from, and its inclusive costs double-count some recursive and inlined paths. Here the
raw file's records are summed by function name: self cost, and for each call the inclusive
cost callgrind recorded at the call site. The top-level stages partition the whole run.
"""

import argparse
import collections
import re

JSONL = "tropescan::input::jsonl::"
CLOSURE = "tropescan::cli::scan::score_batch::{{closure}}"
SCORE = "std::thread::local::LocalKey<T>::with"
FIND = "tropescan::scan::matcher::Matcher::find"
TOKENS = "tropescan::scan::anchor_tokens::AnchorTokens::scan_avx2"
LOOK = "tropescan::scan::anchor_tokens::AnchorTokens::look"
RAW = "tropescan::scan::matcher::Matcher::raw_matches::{{closure}}"
VERIFY = "tropescan::scan::matcher::Matcher::find::{{closure}}"
ANALYZE = "tropescan::scan::features::analyze"
VERDICT = "tropescan::scan::Scanner::verdict"
FRAMER = "<tropescan::input::jsonl::LineFramer as tropescan::input::batch::Framer>::next_batch"
ZSTD = "<std::io::buffered::bufreader::BufReader<R> as std::io::Read>::read"
DRIVE = "tropescan::cli::drive::Drive::run"


class Profile:
    """Self costs and call costs by function name."""

    def __init__(self, path):
        self.self_cost = collections.Counter()
        self.calls = collections.defaultdict(collections.Counter)
        names = {}

        def name(field):
            m = re.match(r"\((\d+)\)(?: (.*))?", field.strip())
            if not m:
                return field.strip()
            if m.group(2) is not None:
                names[m.group(1)] = m.group(2)
            return names[m.group(1)]

        fn = callee = None
        in_call = False
        with open(path) as f:
            for line in f:
                if line.startswith("fn="):
                    fn = name(line[3:])
                elif line.startswith("cfn="):
                    callee = name(line[4:])
                elif line.startswith("calls="):
                    in_call = True
                elif line[:1].isdigit() or line[:1] in "+-*":
                    parts = line.split()
                    if len(parts) < 2:
                        continue
                    cost = int(parts[1])
                    if in_call:
                        self.calls[fn][callee] += cost
                        in_call = False
                    else:
                        self.self_cost[fn] += cost
        self.total = sum(self.self_cost.values())

    def inclusive(self, fn):
        return self.self_cost[fn] + sum(c for g, c in self.calls[fn].items() if g != fn)

    def call(self, caller, callee):
        return self.calls[caller][callee]

    def calls_matching(self, caller, part):
        return sum(c for g, c in self.calls[caller].items() if part in g)


def stages(p):
    """(name, instructions) rows; the unindented ones sum to the whole run."""
    parse = JSONL + "parse_lines"
    extract = p.call(parse, JSONL + "extract") + p.call(parse, JSONL + "extract_into")
    per_doc = p.call(parse, CLOSURE) + p.call(JSONL + "emit", CLOSURE)
    zstd = p.call(FRAMER, ZSTD)
    score = p.call(CLOSURE, SCORE)
    find = p.call(SCORE, FIND)
    analyze = p.call(SCORE, ANALYZE)
    verdict = p.call(SCORE, VERDICT)
    raw = p.call(LOOK, RAW)
    verify = p.call(RAW, VERIFY)
    positions = p.calls_matching(ANALYZE, "features::positions")
    negation = p.call(ANALYZE, "tropescan::scan::matcher::Matcher::negation_before")
    subject = p.call(ANALYZE, "tropescan::scan::agent::subject_before")
    parts = p.call(VERDICT, "tropescan::scan::score::parts")
    counts = (
        p.call(CLOSURE, "tropescan::output::summary::count_words")
        + p.call(CLOSURE, "tropescan::output::summary::BatchCounts::add")
        + p.self_cost[CLOSURE]
    )
    drops = sum(
        p.call(CLOSURE, g)
        for g in (
            "free",
            "alloc::collections::btree::map::IntoIter<K,V,A>::dying_next",
            "core::ptr::drop_in_place<tropescan::scan::Verdict>",
            "<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop",
        )
    )
    drive = p.inclusive(DRIVE)
    return [
        ("whole run", p.total),
        ("start-up (lexicon, Scanner::new, outside the pipeline)", p.total - drive),
        ("decompress (zstd under LineFramer::next_batch)", zstd),
        ("framing (next_batch minus zstd)", p.inclusive(FRAMER) - zstd),
        ("JSON skim (jsonl::extract / extract_into)", extract),
        ("line loop (parse_lines, emit: newline search, value table)",
         p.inclusive(parse) - extract - per_doc),
        ("scorer (Scanner::score)", score),
        ("  token pass (AnchorTokens::scan_avx2 self)", p.inclusive(TOKENS) - p.call(TOKENS, LOOK)),
        ("  AnchorTokens::look self", p.call(TOKENS, LOOK) - raw),
        ("  verification closure (Matcher::find::{closure})", verify),
        ("  raw_matches closure rest (aho-corasick over chunks, ...)", raw - verify),
        ("  Matcher::find rest (sort, setup)", find - p.inclusive(TOKENS)),
        ("  features: positions", positions),
        ("  features: negation_before", negation),
        ("  features: subject_before", subject),
        ("  features: rest", analyze - positions - negation - subject),
        ("  score::parts", parts),
        ("  verdict assembly (hits map, evidence, counts)", verdict - parts),
        ("  score rest (thread-local, moves)", score - find - analyze - verdict),
        ("summary counts (count_words, BatchCounts::add, closure self)", counts),
        ("stdout line (DocumentLines::write)",
         p.call(CLOSURE, "tropescan::output::record::DocumentLines::write")),
        ("drop of Verdict (frees, map drop)", drops),
        ("rest of the pipeline (queue, delivery)",
         drive - p.inclusive(FRAMER) - p.inclusive(parse)),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="callgrind out file")
    ap.add_argument("--top", type=int, help="list this many functions by self cost")
    ap.add_argument("--callees", help="list what functions whose name contains this call")
    args = ap.parse_args()
    p = Profile(args.out)
    if args.top:
        for fn, c in p.self_cost.most_common(args.top):
            print(f"{c / 1e6:9.1f} M  {fn}")
    elif args.callees:
        for fn in sorted(f for f in set(p.self_cost) | set(p.calls) if args.callees in f):
            print(f"{fn}: inclusive {p.inclusive(fn) / 1e6:.1f} M, self {p.self_cost[fn] / 1e6:.1f} M")
            for g, c in p.calls[fn].most_common(20):
                print(f"    {c / 1e6:9.1f} M  {g}")
    else:
        print("| stage | M instructions | share |\n|---|---|---|")
        for name, c in stages(p):
            print(f"| {name} | {c / 1e6:,.1f} | {100 * c / p.total:.1f}% |")


if __name__ == "__main__":
    main()
