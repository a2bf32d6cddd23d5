//! The command line: raw flags (clap) -> checked configuration -> a command.
//!
//! `main.rs` only calls [`run`] and maps the outcome to an exit code.

mod args;
mod balance;
mod drive;
// The Python binding's `explain` prints the same highlighted text.
pub(crate) mod explain;
mod filter;
mod lexicon;
mod report;
mod scan;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit codes, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every input was read cleanly.
    Clean = 0,
    /// The run finished but some inputs had errors.
    InputErrors = 1,
    /// Usage error, or nothing could be read.
    Usage = 2,
    /// `--fail-on-flagged` and something was flagged.
    Flagged = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Parses the process arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Clean.into()
            };
        }
    };
    match args::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("tropescan: error: {e:#}");
            Exit::Usage.into()
        }
    }
}

/// `1 shard`, `2 shards`: counts in messages.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
