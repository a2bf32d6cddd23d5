//! tropescan: scan pretraining corpora for rogue-AI narratives.
pub mod input;
pub mod lexicon;
pub mod scan;
