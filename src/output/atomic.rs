//! Atomic output files: written under a temporary name in the destination folder, fsynced,
//! then renamed into place, so a reader sees either the whole file or none of it.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::input::Compression;

enum Encoder {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

/// A file that appears at its destination only when [`AtomicFile::commit`] succeeds.
/// Dropping it uncommitted removes the temporary file.
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    encoder: Option<Encoder>,
}

/// The temporary name used for `dest` while it is being written.
pub fn temp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.tropescan-tmp-{}", std::process::id()))
}

impl AtomicFile {
    /// Creates the temporary file (and the destination's parent folders), compressing what is
    /// written with `compression` (gzip and zstd; anything else is written plain).
    pub fn create(dest: &Path, compression: Compression) -> io::Result<AtomicFile> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        let tmp = temp_path(dest);
        // 256 KiB buffer: attribute lines are small; fewer write syscalls.
        let file = BufWriter::with_capacity(256 * 1024, File::create(&tmp)?);
        let encoder = match compression {
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::new(6),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(file, 3)?),
            _ => Encoder::Plain(file),
        };
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp,
            encoder: Some(encoder),
        })
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Finishes compression, fsyncs, and renames the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        let buf = match self.encoder.take() {
            Some(Encoder::Plain(w)) => w,
            Some(Encoder::Gzip(w)) => w.finish()?,
            Some(Encoder::Zstd(w)) => w.finish()?,
            None => return Ok(()),
        };
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.dest)?;
        if let Some(parent) = self.dest.parent() {
            // Persist the rename itself; not all platforms allow opening a directory.
            if let Ok(dir) = File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.encoder.as_mut() {
            Some(Encoder::Plain(w)) => w.write(buf),
            Some(Encoder::Gzip(w)) => w.write(buf),
            Some(Encoder::Zstd(w)) => w.write(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.encoder.as_mut() {
            Some(Encoder::Plain(w)) => w.write_all(buf),
            Some(Encoder::Gzip(w)) => w.write_all(buf),
            Some(Encoder::Zstd(w)) => w.write_all(buf),
            None => Err(io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.encoder.as_mut() {
            Some(Encoder::Plain(w)) => w.flush(),
            Some(Encoder::Gzip(w)) => w.flush(),
            Some(Encoder::Zstd(w)) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.encoder.is_some() {
            self.encoder = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically, uncompressed.
pub fn write_atomically(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest, Compression::None)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn appears_only_on_commit_and_round_trips_each_codec() {
        let dir = tempfile::tempdir().unwrap();
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let dest = dir.path().join(format!("out-{}.jsonl", c.name()));
            let mut f = AtomicFile::create(&dest, c).unwrap();
            f.write_all(b"{\"a\":1}\n").unwrap();
            assert!(!dest.exists(), "visible before commit");
            f.commit().unwrap();
            let raw = fs::read(&dest).unwrap();
            assert_eq!(Compression::detect(&raw), c);
            let mut text = String::new();
            crate::input::codec::decoder(c, &raw[..])
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "{\"a\":1}\n");
        }
    }

    #[test]
    fn dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.jsonl");
        {
            let mut f = AtomicFile::create(&dest, Compression::None).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
