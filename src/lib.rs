//! tropescan: scan LLM pretraining corpora for rogue-AI / AI-villain narratives.
//!
//! Data flows one way: [`input`] turns shard files into documents, [`lexicon`] compiles the
//! terms, [`scan`] turns a document into a verdict, [`output`] writes verdicts to sinks, and
//! [`pipeline`] runs the whole thing over many shards and threads, in input order.
#![deny(missing_docs)]

pub mod cli;
pub mod input;
pub mod lexicon;
pub mod output;
pub mod pipeline;
pub mod scan;
