//! Lexicons: TOML -> compiled term tables. (Placeholder until the lexicon lands.)

use std::path::PathBuf;

/// A loaded lexicon.
#[derive(Clone, Debug, Default)]
pub struct Lexicon {}

/// An error loading a lexicon.
#[derive(Debug, thiserror::Error)]
#[error("lexicon error")]
pub struct LexiconError;

impl Lexicon {
    /// The embedded default lexicon.
    pub fn default_english() -> Lexicon {
        Lexicon {}
    }
    /// Loads lexicon files.
    pub fn from_files(_files: &[PathBuf]) -> Result<Lexicon, LexiconError> {
        Ok(Lexicon {})
    }
    /// This lexicon plus the given files.
    pub fn extended_with(self, _files: &[PathBuf]) -> Result<Lexicon, LexiconError> {
        Ok(self)
    }
    /// The lexicon's name.
    pub fn name(&self) -> &str {
        "placeholder"
    }
    /// The lexicon's content hash.
    pub fn content_hash(&self) -> String {
        "0".into()
    }
}
