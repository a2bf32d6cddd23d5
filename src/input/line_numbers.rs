//! Line numbers of JSONL batches, worked out off the reader thread.
//!
//! A batch's first line number is one more than the lines of every batch before it. Counting
//! the newlines of each batch where it is cut cost the reader thread 4% of the time zstd takes to
//! decompress it, and a pipelined read of a zstd shard runs exactly as fast as its reader thread.
//! So the framer only links each batch to the one before; whoever needs a line number first
//! (normally the thread parsing the batch, which counts its own lines as it goes) resolves it.
//!
//! Nobody waits for another thread to parse a batch: a batch keeps its bytes until its lines
//! are counted, so any thread can count a predecessor that has not been parsed yet. The most a
//! thread waits for is another thread's count of the same batch (one `memchr` pass), through
//! the `OnceLock`. With more than two threads, the parser of a batch often counts the batch
//! before it itself, as that one is still being parsed. Each link is dropped once resolved, so
//! the chain never holds more than the batches in flight.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::source::Chunk;

/// Where one batch's lines start, and how many it has, once known.
pub(crate) struct BatchLines {
    /// Lines dropped between the previous batch and this one (oversized lines).
    skipped_before: u64,
    /// The previous batch of the shard, until this batch's first line is known.
    prev: Mutex<Option<Arc<BatchLines>>>,
    /// The batch's bytes, until its lines are counted.
    bytes: Mutex<Option<Arc<Chunk>>>,
    count: OnceLock<u64>,
    first: OnceLock<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The lines in `data`: its newlines, plus one for a last line without a terminator.
fn lines_in(data: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', data).count() as u64;
    if data.last().is_some_and(|&b| b != b'\n') {
        n + 1
    } else {
        n
    }
}

impl BatchLines {
    /// The lines of a batch holding `bytes`, following `prev` (the shard's first batch when
    /// `None`) after `skipped_before` dropped lines.
    pub(crate) fn new(
        prev: Option<Arc<BatchLines>>,
        skipped_before: u64,
        bytes: Arc<Chunk>,
    ) -> Arc<BatchLines> {
        Arc::new(BatchLines {
            skipped_before,
            prev: Mutex::new(prev),
            bytes: Mutex::new(Some(bytes)),
            count: OnceLock::new(),
            first: OnceLock::new(),
        })
    }

    /// The number of the batch's first line, from 1.
    pub(crate) fn first_line(self: &Arc<Self>) -> u64 {
        if let Some(&first) = self.first.get() {
            return first;
        }
        // Walk back to the nearest batch whose first line is known (or the shard's first
        // batch), then resolve forward, oldest first. A loop, not recursion: a consumer may
        // hold any number of unparsed batches.
        let mut chain = vec![self.clone()];
        loop {
            let prev = lock(&chain[chain.len() - 1].prev).clone();
            match prev {
                Some(p) if p.first.get().is_none() => chain.push(p),
                _ => break,
            }
        }
        let mut first = 0;
        for node in chain.iter().rev() {
            // A link is only cut after its batch's first line is set, so a missing link here
            // means another thread resolved this batch already and `get_or_init` returns that.
            // Not `match lock(..).clone()`: the guard would live through the count below.
            let prev = lock(&node.prev).clone();
            let start = match prev {
                Some(p) => p.end_line(),
                None => 1,
            };
            first = *node.first.get_or_init(|| start + node.skipped_before);
            *lock(&node.prev) = None;
        }
        first
    }

    /// The number of lines in the batch, counting them if nobody has yet.
    pub(crate) fn count(&self) -> u64 {
        let n = *self.count.get_or_init(|| {
            let bytes = lock(&self.bytes).clone();
            // Bytes are released only after the count is set, so they are here.
            bytes.map_or(0, |b| lines_in(b.as_slice()))
        });
        *lock(&self.bytes) = None;
        n
    }

    /// Records the count found by parsing the batch, sparing anyone a second pass.
    pub(crate) fn set_count(&self, n: u64) {
        let _ = self.count.set(n);
        *lock(&self.bytes) = None;
    }

    /// The number of the line after the batch.
    pub(crate) fn end_line(self: &Arc<Self>) -> u64 {
        self.first_line() + self.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(s: &str) -> Arc<Chunk> {
        let bytes = Arc::new(super::super::source::SharedBytes::Owned(
            s.as_bytes().to_vec(),
        ));
        Arc::new(Chunk::Shared(bytes, 0..s.len()))
    }

    fn chain(batches: &[(&str, u64)]) -> Vec<Arc<BatchLines>> {
        let mut out: Vec<Arc<BatchLines>> = Vec::new();
        for (text, skipped) in batches {
            out.push(BatchLines::new(out.last().cloned(), *skipped, chunk(text)));
        }
        out
    }

    #[test]
    fn counts_lines_with_and_without_a_final_newline() {
        assert_eq!(lines_in(b""), 0);
        assert_eq!(lines_in(b"a"), 1);
        assert_eq!(lines_in(b"a\n"), 1);
        assert_eq!(lines_in(b"a\n\nb"), 3);
    }

    #[test]
    fn resolves_from_the_last_batch_back() {
        let b = chain(&[("a\nb\n", 0), ("c\n", 2), ("d\ne\nf", 0), ("g\n", 1)]);
        // Asking the last batch first resolves every earlier one on the way.
        assert_eq!(b[3].first_line(), 1 + 2 + 2 + 1 + 3 + 1);
        assert_eq!(b[0].first_line(), 1);
        assert_eq!(b[1].first_line(), 5);
        assert_eq!(b[2].first_line(), 6);
        assert_eq!(b[3].end_line(), 11);
        // Every link is cut once resolved.
        assert!(b.iter().all(|n| lock(&n.prev).is_none()));
    }

    #[test]
    fn a_count_from_parsing_is_used_and_frees_the_bytes() {
        let b = chain(&[("a\nb\n", 0), ("c\n", 0)]);
        b[0].set_count(2);
        assert!(lock(&b[0].bytes).is_none());
        assert_eq!(b[1].first_line(), 3);
    }

    #[test]
    fn threads_resolving_in_any_order_agree() {
        let texts: Vec<String> = (0..64).map(|i| "x\n".repeat(i % 7 + 1)).collect();
        // Some batches follow lines the framer dropped.
        let spec: Vec<(&str, u64)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), (i % 5 == 2) as u64 * 3))
            .collect();
        let expected: Vec<u64> = spec
            .iter()
            .scan(1, |line, (t, skipped)| {
                let first = *line + skipped;
                *line = first + lines_in(t.as_bytes());
                Some(first)
            })
            .collect();
        for _ in 0..20 {
            let b = chain(&spec);
            let got: Vec<Vec<(usize, u64)>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4)
                    .map(|t| {
                        let (b, spec) = (&b, &spec);
                        s.spawn(move || {
                            // Each thread visits the batches in a different order; odd threads
                            // act as parsers, recording each batch's count as they go.
                            (0..b.len())
                                .map(|i| (i * (2 * t + 1) + t) % b.len())
                                .map(|i| {
                                    let first = b[i].first_line();
                                    if t % 2 == 1 {
                                        b[i].set_count(lines_in(spec[i].0.as_bytes()));
                                    }
                                    (i, first)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for (i, first) in got.into_iter().flatten() {
                assert_eq!(first, expected[i], "batch {i}");
            }
            let last = b.len() - 1;
            assert_eq!(
                b[last].end_line(),
                expected[last] + lines_in(spec[last].0.as_bytes())
            );
        }
    }
}
