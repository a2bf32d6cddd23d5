//! `tropescan explain INPUT... [--id ID]`: a document with its matched spans highlighted, every
//! feature, and how much each moved the score.

use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use clap::Args;

use super::args::{InputArgs, ScoringArgs};
use super::Exit;
use crate::input::{discover, read_shard};
use crate::scan::Evidence;

/// `tropescan explain`.
#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    scoring: ScoringArgs,
    /// Explain only the document(s) with this id (repeatable).
    #[arg(long, value_name = "ID")]
    id: Vec<String>,
    /// Explain at most this many documents.
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
    /// Print the whole text even when it is long (by default, long texts are shown as the
    /// passages around each match).
    #[arg(long)]
    full_text: bool,
    /// Colour: auto (when stdout is a terminal), always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    color: String,
}

/// Texts up to this many bytes are printed whole; longer ones as passages around matches.
const FULL_TEXT_BYTES: usize = 4000;
/// Bytes of context on each side of a match in a passage.
const CONTEXT_BYTES: usize = 160;

pub(crate) fn run(args: ExplainArgs) -> Result<Exit> {
    let read_opts = args.input.read_options()?;
    let lexicon = args.scoring.lexicon()?;
    let scanner = args.scoring.scanner(&lexicon)?;
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => io::stdout().is_terminal(),
    };
    let (shards, errors) = discover(&args.input.inputs);
    for e in &errors {
        eprintln!("tropescan: {e}");
    }
    let mut out = io::stdout().lock();
    let mut shown = 0usize;
    let mut had_errors = !errors.is_empty();
    for shard in &shards {
        if shown >= args.limit {
            break;
        }
        let mut failure = None;
        let stats = read_shard(shard, &read_opts, None, |doc| {
            if shown >= args.limit || failure.is_some() {
                return;
            }
            if !args.id.is_empty() && !args.id.iter().any(|i| *i == doc.id) {
                return;
            }
            shown += 1;
            let ex = scanner.explain(&doc.text);
            let mut block = String::new();
            block.push_str(&format!(
                "== {} {}{}\n",
                shard.name,
                doc.id,
                doc.url
                    .as_ref()
                    .map(|u| format!(" <{u}>"))
                    .unwrap_or_default()
            ));
            block.push_str(&ex.to_string());
            block.push_str("-- text --\n");
            block.push_str(&highlight(&doc.text, ex.spans(), color, args.full_text));
            block.push_str("\n\n");
            if let Err(e) = out.write_all(block.as_bytes()) {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(Exit::Clean);
            }
            return Err(e.into());
        }
        for e in &stats.errors {
            eprintln!("tropescan: {e}");
        }
        had_errors |= !stats.is_clean();
    }
    if shown == 0 {
        eprintln!("tropescan: no document matched");
        return Ok(Exit::Usage);
    }
    Ok(if had_errors {
        Exit::InputErrors
    } else {
        Exit::Clean
    })
}

/// The text with spans marked: ANSI colour, or `[[...]]{category}` without colour. Long texts
/// are cut to the passages around the spans unless `full` is set.
pub(crate) fn highlight(text: &str, spans: &[Evidence], color: bool, full: bool) -> String {
    let mut spans: Vec<&Evidence> = spans
        .iter()
        .filter(|e| e.start < e.end && e.end <= text.len())
        .collect();
    spans.sort_by_key(|e| (e.start, std::cmp::Reverse(e.end)));
    // Drop spans that overlap an earlier one: nested marks do not render.
    let mut kept: Vec<&Evidence> = Vec::new();
    for e in spans {
        if kept.last().map_or(true, |k| e.start >= k.end) {
            kept.push(e);
        }
    }
    let whole = full || text.len() <= FULL_TEXT_BYTES;
    let mut out = String::new();
    let mut pos = 0usize;
    for (i, e) in kept.iter().enumerate() {
        if whole {
            out.push_str(&text[pos..e.start]);
        } else {
            let from = floor_char(text, e.start.saturating_sub(CONTEXT_BYTES).max(pos));
            if (from > pos || i == 0) && (i > 0 || from > 0) {
                out.push_str(" … ");
            }
            out.push_str(&text[from.max(pos)..e.start]);
        }
        let matched = &text[e.start..e.end];
        if color {
            out.push_str(&format!(
                "\x1b[1;31m{matched}\x1b[0m\x1b[2m[{}]\x1b[0m",
                e.category
            ));
        } else {
            out.push_str(&format!("[[{matched}]]{{{}}}", e.category));
        }
        pos = e.end;
        if !whole {
            let next = kept.get(i + 1).map_or(text.len(), |n| n.start);
            let to = ceil_char(text, (pos + CONTEXT_BYTES).min(next));
            out.push_str(&text[pos..to]);
            pos = to;
        }
    }
    if whole {
        out.push_str(&text[pos..]);
    } else if kept.is_empty() {
        out.push_str(&text[..ceil_char(text, FULL_TEXT_BYTES.min(text.len()))]);
        out.push_str(" …");
    } else if pos < text.len() {
        out.push_str(" …");
    }
    out
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(start: usize, end: usize, cat: &str) -> Evidence {
        Evidence {
            start,
            end,
            category: cat.into(),
            term: "".into(),
            weight: 1.0,
        }
    }

    #[test]
    fn marks_spans_without_colour() {
        let t = "the AI seized control";
        let s = highlight(t, &[ev(4, 6, "entity"), ev(7, 21, "action")], false, false);
        assert_eq!(s, "the [[AI]]{entity} [[seized control]]{action}");
    }

    #[test]
    fn long_texts_become_passages_on_char_boundaries() {
        let t = format!("{}é the AI rose up {}", "x".repeat(5000), "y".repeat(5000));
        let start = t.find("AI").unwrap();
        let s = highlight(&t, &[ev(start, start + 2, "entity")], false, false);
        assert!(s.contains("[[AI]]{entity}"));
        assert!(s.len() < 1000, "{}", s.len());
        assert!(s.starts_with(" … "));
    }
}
