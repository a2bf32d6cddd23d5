//! The pipeline: shards -> batches -> results, on many threads, delivered in input order.
//!
//! `threads` threads share the work: readers (one per shard in flight) decompress and cut
//! shards into batches and queue them; the other threads, and readers that may not read ahead
//! any further, run the per-batch work (parse + score) on queued batches, oldest first; the
//! calling thread receives every result in input order (shard by shard, batch by batch)
//! through a callback. Because the per-batch work is a pure function of the batch and results
//! are re-ordered before delivery, the output is byte-identical whatever the thread count.
//!
//! Memory is bounded: each reader may have at most [`BATCHES_IN_FLIGHT_PER_READER`] batches
//! read but not yet delivered, so a slow shard ahead never lets a fast one behind it pile up.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::input::{Batch, Compression, Format, ReadOptions, Shard, ShardReader, ShardStats};

/// Batches one reader may have read and not yet seen delivered. Each batch is about
/// `ReadOptions::batch_bytes` (1 MiB), so this caps memory at a few MiB per reader while
/// keeping every pool thread fed.
pub const BATCHES_IN_FLIGHT_PER_READER: usize = 6;

/// How long a thread with nothing to do polls for work before it sleeps.
///
/// Why: waking a sleeping thread took up to 4 ms on the 2-vCPU virtual machines we measure on
/// (the host deschedules an idle virtual CPU), while a reader cuts a 1 MiB batch of a zstd shard
/// every 1.2 ms. Batches sat queued for milliseconds, and a read pipelined on two threads ran
/// 5-15% slower than its reader alone. Polling longer than a batch takes to cut keeps an idle
/// thread awake between batches. It costs nothing when the work outpaces reading (threads are
/// never idle then); when reading is the bottleneck it keeps one core busy, as only one thread
/// polls at a time and the others sleep.
const POLL_BEFORE_SLEEP: Duration = Duration::from_millis(2);

/// What the pipeline tells the caller, in input order.
pub enum Event<R> {
    /// A shard is about to deliver its batches. `opened` is `None` when it could not be opened.
    ShardStart {
        /// Index into the shard list.
        index: usize,
        /// Format and compression, when the shard could be opened.
        opened: Option<(Format, Compression)>,
    },
    /// One batch's result.
    Batch {
        /// Index into the shard list.
        index: usize,
        /// What the work function returned.
        result: R,
    },
    /// A shard is done: its framing-stage stats (merge the batches' parse stats into them).
    ShardEnd {
        /// Index into the shard list.
        index: usize,
        /// Counters and errors of the framing stage (or the open error).
        stats: ShardStats,
        /// Wall time spent reading the shard.
        elapsed: Duration,
    },
    /// The shard was skipped by the caller's `skip` predicate (e.g. `--resume`).
    ShardSkipped {
        /// Index into the shard list.
        index: usize,
    },
}

/// Tells the pipeline to stop early (e.g. the output pipe was closed).
#[derive(Debug)]
pub struct Stop;

/// Runs `work` over every batch of every shard with `threads` threads, handing results to
/// `deliver` in input order on the calling thread.
pub fn run<R, W, D>(
    shards: &[Shard],
    opts: &ReadOptions,
    threads: usize,
    progress: Option<Arc<AtomicU64>>,
    skip: &(dyn Fn(usize) -> bool + Sync),
    work: W,
    mut deliver: D,
) -> Result<(), Stop>
where
    R: Send,
    W: Fn(usize, &Batch) -> R + Sync,
    D: FnMut(Event<R>) -> Result<(), Stop>,
{
    if threads <= 1 {
        return run_sequential(shards, opts, progress, skip, &work, &mut deliver);
    }
    let readers = threads.min(shards.len()).max(1);
    let queue = JobQueue::new(readers);
    let next_shard = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Message<R>>();
    let work = &work;
    // Every thread runs queued jobs the same way: work, then send the result to the deliverer.
    let job_runner = |tx: mpsc::Sender<Message<R>>| {
        move |job: Job| {
            let result = work(job.index, &job.batch);
            let _ = tx.send(Message::Batch(job.index, job.batch.seq(), result, job.slot));
        }
    };
    let mut outcome = Ok(());
    std::thread::scope(|scope| {
        for slot in 0..readers {
            let tx = tx.clone();
            let run_job = job_runner(tx.clone());
            let (queue, next_shard, stop, progress) =
                (&queue, &next_shard, &stop, progress.clone());
            scope.spawn(move || {
                loop {
                    let index = next_shard.fetch_add(1, Ordering::SeqCst);
                    if index >= shards.len() || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if skip(index) {
                        let _ = tx.send(Message::Skipped(index));
                        continue;
                    }
                    let started = Instant::now();
                    let mut reader = match ShardReader::open(&shards[index], opts, progress.clone())
                    {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = tx.send(Message::Start(index, None));
                            let _ = tx.send(Message::End(
                                index,
                                ShardStats::from_open_error(e),
                                0,
                                started.elapsed(),
                            ));
                            continue;
                        }
                    };
                    let _ = tx.send(Message::Start(
                        index,
                        Some((reader.format(), reader.compression())),
                    ));
                    let mut batches = 0u64;
                    while let Some(batch) = reader.next_batch() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        queue.push_helping(Job { index, batch, slot }, &run_job);
                        batches += 1;
                    }
                    let _ = tx.send(Message::End(
                        index,
                        reader.finish(),
                        batches,
                        started.elapsed(),
                    ));
                }
                // No more shards to read: help with what is queued until every reader is done.
                queue.reader_done();
                while let Some(job) = queue.pop() {
                    run_job(job);
                }
            });
        }
        for _ in readers..threads {
            let run_job = job_runner(tx.clone());
            let queue = &queue;
            scope.spawn(move || {
                while let Some(job) = queue.pop() {
                    run_job(job);
                }
            });
        }
        drop(tx);
        outcome = deliver_in_order(rx, shards.len(), &stop, &queue, &mut deliver);
    });
    outcome
}

fn run_sequential<R>(
    shards: &[Shard],
    opts: &ReadOptions,
    progress: Option<Arc<AtomicU64>>,
    skip: &(dyn Fn(usize) -> bool + Sync),
    work: &(dyn Fn(usize, &Batch) -> R + Sync),
    deliver: &mut dyn FnMut(Event<R>) -> Result<(), Stop>,
) -> Result<(), Stop> {
    for (index, shard) in shards.iter().enumerate() {
        if skip(index) {
            deliver(Event::ShardSkipped { index })?;
            continue;
        }
        let started = Instant::now();
        let mut reader = match ShardReader::open(shard, opts, progress.clone()) {
            Ok(r) => r,
            Err(e) => {
                deliver(Event::ShardStart {
                    index,
                    opened: None,
                })?;
                deliver(Event::ShardEnd {
                    index,
                    stats: ShardStats::from_open_error(e),
                    elapsed: started.elapsed(),
                })?;
                continue;
            }
        };
        deliver(Event::ShardStart {
            index,
            opened: Some((reader.format(), reader.compression())),
        })?;
        while let Some(batch) = reader.next_batch() {
            let result = work(index, &batch);
            deliver(Event::Batch { index, result })?;
        }
        deliver(Event::ShardEnd {
            index,
            stats: reader.finish(),
            elapsed: started.elapsed(),
        })?;
    }
    Ok(())
}

enum Message<R> {
    Start(usize, Option<(Format, Compression)>),
    /// Shard index, batch sequence number, result, and the reader slot that read it.
    Batch(usize, u64, R, usize),
    End(usize, ShardStats, u64, Duration),
    Skipped(usize),
}

#[derive(Default)]
struct Pending<R> {
    started: Option<Option<(Format, Compression)>>,
    start_delivered: bool,
    batches: BTreeMap<u64, (R, usize)>,
    next_seq: u64,
    end: Option<(ShardStats, u64, Duration)>,
    skipped: bool,
}

fn deliver_in_order<R>(
    rx: mpsc::Receiver<Message<R>>,
    shard_count: usize,
    stop: &AtomicBool,
    queue: &JobQueue,
    deliver: &mut dyn FnMut(Event<R>) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut pending: HashMap<usize, Pending<R>> = HashMap::new();
    let mut next_shard = 0usize;
    let mut outcome = Ok(());
    for msg in rx {
        let index = match &msg {
            Message::Start(i, _)
            | Message::Batch(i, ..)
            | Message::End(i, ..)
            | Message::Skipped(i) => *i,
        };
        let entry = pending.entry(index).or_insert_with(|| Pending {
            started: None,
            start_delivered: false,
            batches: BTreeMap::new(),
            next_seq: 0,
            end: None,
            skipped: false,
        });
        match msg {
            Message::Start(_, opened) => entry.started = Some(opened),
            Message::Batch(_, seq, r, slot) => {
                entry.batches.insert(seq, (r, slot));
            }
            Message::End(_, stats, n, elapsed) => entry.end = Some((stats, n, elapsed)),
            Message::Skipped(_) => entry.skipped = true,
        }
        // Deliver everything that is now next in line.
        while next_shard < shard_count {
            let Some(p) = pending.get_mut(&next_shard) else {
                break;
            };
            let mut send = |event: Event<R>| -> bool {
                if outcome.is_ok() {
                    if let Err(e) = deliver(event) {
                        outcome = Err(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                outcome.is_ok()
            };
            if p.skipped {
                send(Event::ShardSkipped { index: next_shard });
                pending.remove(&next_shard);
                next_shard += 1;
                continue;
            }
            if !p.start_delivered {
                let Some(opened) = p.started else {
                    break;
                };
                send(Event::ShardStart {
                    index: next_shard,
                    opened,
                });
                p.start_delivered = true;
            }
            while let Some((r, slot)) = p.batches.remove(&p.next_seq) {
                p.next_seq += 1;
                queue.release(slot);
                send(Event::Batch {
                    index: next_shard,
                    result: r,
                });
            }
            let done = matches!(&p.end, Some((_, n, _)) if *n == p.next_seq);
            if !done {
                break;
            }
            if let Some((stats, _, elapsed)) = p.end.take() {
                send(Event::ShardEnd {
                    index: next_shard,
                    stats,
                    elapsed,
                });
            }
            pending.remove(&next_shard);
            next_shard += 1;
        }
        // After a stop, keep draining so readers blocked on their budget can finish.
        if outcome.is_err() {
            for p in pending.values_mut() {
                for (_, (_, slot)) in std::mem::take(&mut p.batches) {
                    queue.release(slot);
                }
            }
        }
    }
    outcome
}

/// One batch waiting to be worked on.
struct Job {
    index: usize,
    batch: Batch,
    /// The reader slot whose budget the batch counts against.
    slot: usize,
}

/// The batches read and not yet worked on, and each reader's budget of batches in flight.
///
/// Why not a rayon pool: readers are threads too, and a pool of `threads` workers next to them
/// put more busy threads than cores on the machine whenever reading was a large share of the
/// work (a zstd shard decodes about as fast as its JSON parses), so the reader lost its core
/// to a worker and starved the pool. Here a reader whose budget is spent works on queued
/// batches instead of waiting, and only `threads` threads ever run.
struct JobQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
    /// Bumped on every change a waiting thread may care about, so it can poll without the lock.
    generation: AtomicU64,
    /// Whether some thread is polling. One poller at a time: with many idle threads (one
    /// shard, many cores) polling would otherwise burn every idle core, and on an
    /// oversubscribed host take CPU from the reader.
    polling: AtomicBool,
}

struct QueueState {
    jobs: VecDeque<Job>,
    /// Per reader slot: batches it may still read before some are delivered.
    budget: Vec<usize>,
    readers_left: usize,
}

impl JobQueue {
    fn new(readers: usize) -> JobQueue {
        JobQueue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                budget: vec![BATCHES_IN_FLIGHT_PER_READER; readers],
                readers_left: readers,
            }),
            changed: Condvar::new(),
            generation: AtomicU64::new(0),
            polling: AtomicBool::new(false),
        }
    }

    /// Marks a change and wakes the sleepers.
    fn announce(&self, all: bool) {
        self.generation.fetch_add(1, Ordering::Release);
        if all {
            self.changed.notify_all();
        } else {
            self.changed.notify_one();
        }
    }

    /// Waits for a change after the caller found nothing to do in `state`. The first wait of a
    /// spell polls for up to [`POLL_BEFORE_SLEEP`] with the lock released and returns, so the
    /// caller looks again; the next one (or any wait while another thread polls) sleeps on the
    /// condition variable, with `state` checked under the lock as usual, so no wake-up is lost.
    /// `polled` carries the spell; the caller resets it when it finds work.
    fn wait<'a>(
        &'a self,
        state: std::sync::MutexGuard<'a, QueueState>,
        polled: &mut bool,
    ) -> std::sync::MutexGuard<'a, QueueState> {
        let may_poll = !*polled
            && self
                .polling
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        if !may_poll {
            *polled = false;
            return self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        *polled = true;
        let seen = self.generation.load(Ordering::Acquire);
        drop(state);
        let started = Instant::now();
        'poll: while started.elapsed() < POLL_BEFORE_SLEEP {
            for _ in 0..64 {
                if self.generation.load(Ordering::Acquire) != seen {
                    *polled = false;
                    break 'poll;
                }
                std::hint::spin_loop();
            }
        }
        self.polling.store(false, Ordering::Release);
        self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job` as soon as its reader's budget allows; until then runs queued jobs, or
    /// waits for a change when there are none.
    fn push_helping(&self, job: Job, run: &dyn Fn(Job)) {
        let mut state = self.lock();
        let mut polled = false;
        while state.budget[job.slot] == 0 {
            state = match state.jobs.pop_front() {
                Some(other) => {
                    drop(state);
                    run(other);
                    polled = false;
                    self.lock()
                }
                None => self.wait(state, &mut polled),
            };
        }
        state.budget[job.slot] -= 1;
        state.jobs.push_back(job);
        drop(state);
        self.announce(false);
    }

    /// The oldest queued job; waits while readers may still queue more. `None` once every
    /// reader is done and the queue is empty.
    fn pop(&self) -> Option<Job> {
        let mut state = self.lock();
        let mut polled = false;
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.readers_left == 0 {
                return None;
            }
            state = self.wait(state, &mut polled);
        }
    }

    /// A batch read by `slot` was delivered: the reader may read another.
    fn release(&self, slot: usize) {
        self.lock().budget[slot] += 1;
        self.announce(true);
    }

    fn reader_done(&self) {
        self.lock().readers_left -= 1;
        self.announce(true);
    }
}
