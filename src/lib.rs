//! tropescan: scan LLM pretraining corpora for rogue-AI / AI-villain narratives.
//!
//! Data flows one way: [`input`] turns shard files into documents, [`lexicon`] compiles the
//! terms, [`scan`] turns a document into a verdict, [`output`] writes verdicts to sinks, and
//! [`pipeline`] runs the whole thing over many shards and threads, in input order; [`report`]
//! turns the outputs of scan runs into prevalence figures, tables and charts.
//!
//! Scoring the documents of a shard with the embedded default lexicon:
//!
//! ```
//! use std::path::Path;
//! use tropescan::input::{read_shard, ReadOptions, Shard};
//! use tropescan::lexicon::Lexicon;
//! use tropescan::scan::{ScanConfig, Scanner};
//!
//! let scanner = Scanner::new(&Lexicon::default_english(), ScanConfig::default()).unwrap();
//! let shard = Shard::from_path(Path::new("tests/data/sample.jsonl.zst"));
//! let mut flagged = Vec::new();
//! let stats = read_shard(&shard, &ReadOptions::default(), None, |doc| {
//!     if scanner.score(&doc.text).flagged {
//!         flagged.push(doc.id.to_string());
//!     }
//! });
//! assert_eq!(stats.documents, 20);
//! assert!(stats.errors.is_empty());
//! assert!(flagged.contains(&"s01".to_string()));
//! assert!(!flagged.contains(&"s13".to_string()), "council budget news is not flagged");
//! ```
#![deny(missing_docs)]

pub mod act;
pub mod cli;
pub mod input;
pub mod lexicon;
pub mod output;
pub mod pipeline;
#[cfg(feature = "python")]
mod python;
pub mod report;
pub mod scan;
