//! Discovery: command-line paths -> the ordered list of shards to read.
//!
//! Files named on the command line are always read; directories are walked recursively in
//! sorted order and only files with a known extension are picked. The order is deterministic,
//! so outputs are too.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{display_path, ErrorKind, Format, InputError};

/// One input shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// The path to open (`-` for standard input).
    pub path: PathBuf,
    /// The path relative to the input root it was found under (the file name for a file
    /// named directly); output files mirror this.
    pub rel: PathBuf,
    /// The path as shown in messages and default ids.
    pub name: Arc<str>,
    /// The format the extension suggests, if any.
    pub format_hint: Option<Format>,
    /// The size on disk in bytes (0 for standard input).
    pub size: u64,
}

impl Shard {
    /// A shard for a single path, without touching the file system for anything but its size.
    pub fn from_path(path: &Path) -> Shard {
        let stdin = path.as_os_str() == "-";
        let rel = if stdin {
            PathBuf::from("stdin")
        } else {
            path.file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| path.to_path_buf())
        };
        Shard {
            path: path.to_path_buf(),
            rel,
            name: display_path(path).into(),
            format_hint: format_from_name(&path.to_string_lossy()),
            size: if stdin {
                0
            } else {
                fs::metadata(path).map(|m| m.len()).unwrap_or(0)
            },
        }
    }

    /// True for standard input.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

/// Strips a trailing compression extension (`.gz`, `.zst`, `.zstd`), case-insensitively.
fn strip_compression(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    for ext in [".gz", ".zst", ".zstd", ".gzip"] {
        if lower.ends_with(ext) {
            return &name[..name.len() - ext.len()];
        }
    }
    name
}

/// The format a file name suggests: `a.jsonl.zst` -> JSONL, `b.warc.wet.gz` -> WARC.
pub fn format_from_name(name: &str) -> Option<Format> {
    let base = strip_compression(name);
    let ext = base.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jsonl" | "json" | "ndjson" => Format::Jsonl,
        "warc" | "wet" | "wat" => Format::Warc,
        "csv" => Format::Csv,
        "tsv" => Format::Tsv,
        "txt" => Format::Text,
        "parquet" => Format::Parquet,
        _ => return None,
    })
}

/// Expands command-line inputs into shards. Paths that do not exist become errors; the rest of
/// the inputs are still returned.
pub fn discover(inputs: &[PathBuf]) -> (Vec<Shard>, Vec<InputError>) {
    let mut shards = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            shards.push(Shard::from_path(input));
            continue;
        }
        match fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk(input, input, &mut shards, &mut errors),
            Ok(_) => shards.push(Shard::from_path(input)),
            Err(e) => errors.push(InputError::new(
                display_path(input),
                ErrorKind::Io(e.to_string()),
            )),
        }
    }
    (shards, errors)
}

fn walk(root: &Path, dir: &Path, shards: &mut Vec<Shard>, errors: &mut Vec<InputError>) {
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(InputError::new(
                display_path(dir),
                ErrorKind::Io(e.to_string()),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // symlink_metadata: never follow a link to a directory, so a cycle cannot loop forever.
        let Ok(lmeta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if lmeta.is_dir() {
            walk(root, &path, shards, errors);
            continue;
        }
        let is_file = if lmeta.file_type().is_symlink() {
            fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false)
        } else {
            lmeta.is_file()
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !is_file || name.starts_with('.') || format_from_name(&name).is_none() {
            continue;
        }
        let mut shard = Shard::from_path(&path);
        shard.rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        shards.push(shard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        let cases = [
            ("a.jsonl", Some(Format::Jsonl)),
            ("a.json.gz", Some(Format::Jsonl)),
            ("a.NDJSON.zst", Some(Format::Jsonl)),
            ("x.warc.gz", Some(Format::Warc)),
            ("x.warc.wet.gz", Some(Format::Warc)),
            ("x.warc.wat.gz", Some(Format::Warc)),
            ("p.csv.gz", Some(Format::Csv)),
            ("p.tsv", Some(Format::Tsv)),
            ("b.txt", Some(Format::Text)),
            ("d.parquet", Some(Format::Parquet)),
            ("x.xml.bz2", None),
            ("noext", None),
            ("x.gz", None),
        ];
        for (name, want) in cases {
            assert_eq!(format_from_name(name), want, "{name}");
        }
    }
}
