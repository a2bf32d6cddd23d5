//! tropescan: scan pretraining corpora for rogue-AI narratives.
pub mod input;
