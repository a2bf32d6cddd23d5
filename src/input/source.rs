//! Sources: the raw bytes of a shard, memory-mapped where possible, streamed otherwise.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;

/// Bytes that several batches can share without copying.
pub(crate) enum SharedBytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl SharedBytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            SharedBytes::Mapped(m) => m,
            SharedBytes::Owned(v) => v,
        }
    }
}

/// A slice of shared bytes, or an owned buffer: the payload of a batch.
pub(crate) enum Chunk {
    Shared(Arc<SharedBytes>, Range<usize>),
    Owned(PooledBuf),
}

impl Chunk {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Chunk::Shared(b, r) => &b.as_slice()[r.clone()],
            Chunk::Owned(v) => v.bytes(),
        }
    }
}

/// Batch buffers a reader hands out and gets back when their batch is dropped.
///
/// Why: batches are parsed and dropped on other threads. Freed there, each 1 MiB buffer went
/// back to another thread's malloc arena, so the reader kept asking the kernel for fresh,
/// zeroed pages and malloc kept returning them (a sixth of a pipelined read's CPU time was
/// system time). Reused buffers are warm and already big enough, so no page faults and no
/// regrowing. Holds at most `limit` idle buffers, so memory stays bounded by the batches in
/// flight.
#[derive(Clone)]
pub(crate) struct BufferPool {
    idle: Arc<Mutex<Vec<Vec<u8>>>>,
    limit: usize,
}

impl BufferPool {
    pub(crate) fn new(limit: usize) -> BufferPool {
        BufferPool {
            idle: Arc::new(Mutex::new(Vec::new())),
            limit,
        }
    }

    /// A buffer holding no data yet. A reused one keeps its old bytes in `data` (so writing
    /// into it needs no zeroing) and its room for `capacity` bytes.
    pub(crate) fn take(&self, capacity: usize) -> PooledBuf {
        let reused = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut data = reused.unwrap_or_default();
        data.reserve(capacity.saturating_sub(data.len()));
        PooledBuf {
            data,
            len: 0,
            home: self.clone(),
        }
    }

    fn give_back(&self, data: Vec<u8>) {
        if data.capacity() == 0 {
            // The empty shell of a buffer whose bytes were moved out: nothing to reuse.
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.limit {
            idle.push(data);
        }
    }
}

/// A buffer that returns to its [`BufferPool`] when dropped. Its data is `data[..len]`;
/// bytes after `len` are initialised leftovers kept so that refilling need not zero them.
pub(crate) struct PooledBuf {
    pub(crate) data: Vec<u8>,
    pub(crate) len: usize,
    home: BufferPool,
}

impl PooledBuf {
    /// The buffer's data.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        self.home.give_back(std::mem::take(&mut self.data));
    }
}

/// A shard's raw bytes.
pub(crate) enum Source {
    /// The whole file, mapped into memory.
    Bytes(Arc<SharedBytes>),
    /// A stream: standard input, or a file that could not be mapped.
    Stream(Box<dyn Read + Send>),
}

impl Source {
    /// Opens a file, mapping it when possible.
    pub(crate) fn open(path: &Path) -> io::Result<Source> {
        if path.as_os_str() == "-" {
            return Ok(Source::Stream(Box::new(io::stdin())));
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        if meta.len() == 0 || !meta.is_file() {
            // Empty files cannot be mapped; pipes and devices must be streamed.
            return Ok(Source::Stream(Box::new(file)));
        }
        // SAFETY: the map is read-only. If another process truncates or rewrites the file while
        // we read it, reads may see changed bytes or fault (SIGBUS); shards are immutable inputs
        // in every pipeline we serve, and ripgrep makes the same trade. When mapping fails
        // (special files, some network filesystems) we fall back to plain reads.
        match unsafe { Mmap::map(&file) } {
            Ok(map) => {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                Ok(Source::Bytes(Arc::new(SharedBytes::Mapped(map))))
            }
            Err(_) => Ok(Source::Stream(Box::new(file))),
        }
    }
}

/// Reads a [`SharedBytes`] from a position, owning a handle to it, so decoders can be `'static`.
pub(crate) struct SharedReader {
    bytes: Arc<SharedBytes>,
    pos: usize,
}

impl SharedReader {
    pub(crate) fn new(bytes: Arc<SharedBytes>) -> SharedReader {
        SharedReader { bytes, pos: 0 }
    }
}

impl Read for SharedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for SharedReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(&self.bytes.as_slice()[self.pos..])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.bytes.as_slice().len());
    }
}

/// Counts the bytes read through it, into a local total and an optional shared progress counter.
pub(crate) struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
    progress: Option<Arc<AtomicU64>>,
}

impl<R> CountingReader<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>, progress: Option<Arc<AtomicU64>>) -> Self {
        CountingReader {
            inner,
            count,
            progress,
        }
    }

    fn add(&self, n: usize) {
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.add(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.add(amt);
        self.inner.consume(amt)
    }
}

/// Buffers a stream so its first bytes can be inspected before choosing a decoder.
pub(crate) fn buffered(r: Box<dyn Read + Send>) -> BufReader<Box<dyn Read + Send>> {
    // 256 KiB: fewer syscalls on pipes than the 8 KiB default; measured no gain above this.
    BufReader::with_capacity(256 * 1024, r)
}
