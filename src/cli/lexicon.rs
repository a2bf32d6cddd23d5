//! `tropescan lexicon test|stats|check|terms`: inspect and validate lexicon files.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Exit;
use crate::lexicon::{self, Lexicon, Severity};

/// `tropescan lexicon`.
#[derive(Args, Debug)]
pub(crate) struct LexiconArgs {
    #[command(subcommand)]
    command: LexiconCommand,
}

#[derive(Subcommand, Debug)]
enum LexiconCommand {
    /// Run every category's must-match / must-not-match sentences and the document examples.
    Test {
        /// Lexicon files [default: the embedded English lexicon].
        files: Vec<PathBuf>,
    },
    /// Print categories, terms and expanded pattern counts.
    Stats {
        /// Lexicon files [default: the embedded English lexicon].
        files: Vec<PathBuf>,
    },
    /// Report syntax errors, duplicates, shadowed terms and empty categories as file:line.
    Check {
        /// Lexicon files [default: the embedded English lexicon].
        files: Vec<PathBuf>,
    },
    /// Print every expanded pattern, one per line (e.g. for `rg -i -F -f`).
    Terms {
        /// Lexicon files [default: the embedded English lexicon].
        files: Vec<PathBuf>,
    },
}

fn load(files: &[PathBuf]) -> Result<Lexicon> {
    Ok(if files.is_empty() {
        Lexicon::default_english()
    } else {
        Lexicon::from_files(files)?
    })
}

pub(crate) fn run(args: LexiconArgs) -> Result<Exit> {
    let mut out = io::stdout().lock();
    match args.command {
        LexiconCommand::Test { files } => {
            let report = lexicon::run_examples(&load(&files)?);
            write!(out, "{report}")?;
            Ok(if report.ok() {
                Exit::Clean
            } else {
                Exit::InputErrors
            })
        }
        LexiconCommand::Stats { files } => {
            write!(out, "{}", lexicon::stats(&load(&files)?))?;
            Ok(Exit::Clean)
        }
        LexiconCommand::Check { files } => {
            let diagnostics = if files.is_empty() {
                Lexicon::default_english().check()
            } else {
                lexicon::check_files(&files)
            };
            for d in &diagnostics {
                writeln!(out, "{d}")?;
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            writeln!(
                out,
                "{} error(s), {} warning(s)",
                errors,
                diagnostics.len() - errors
            )?;
            Ok(if errors > 0 {
                Exit::InputErrors
            } else {
                Exit::Clean
            })
        }
        LexiconCommand::Terms { files } => {
            let lex = load(&files)?;
            let mut seen = std::collections::BTreeSet::new();
            for cat in lex.categories() {
                for term in &cat.terms {
                    for p in &term.patterns {
                        if seen.insert(p.to_lowercase()) {
                            writeln!(out, "{p}")?;
                        }
                    }
                }
            }
            Ok(Exit::Clean)
        }
    }
}
