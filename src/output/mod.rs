//! Output: verdicts -> sinks.
//!
//! This module owns every byte tropescan writes: the per-document JSON lines on stdout, the
//! dolma-compatible attribute files, the per-document record sidecar, the run summary, and the
//! atomic-file machinery that makes sure a killed run never leaves a half-written file behind.

pub mod atomic;
pub mod document_record;
mod json;
pub mod paths;
pub mod record;
pub mod summary;

pub use atomic::AtomicFile;
pub use document_record::DocumentRecord;
pub use paths::{safe_output_path, PathError};
pub use record::{write_attribute_line, DocumentLineOptions, DocumentLines};
pub use summary::{DocCounts, ShardRow, Summary};
