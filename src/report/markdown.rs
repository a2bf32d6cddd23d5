//! `report.md`: the report's numbers as Markdown tables.

use std::fmt::Write;

use super::interval::Estimate;
use super::model::{GroupRow, Prevalence, Report};
use super::{interval_text, pct};

/// Keeps a table cell on one line and its pipes literal.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

fn prevalence_row(out: &mut String, name: &str, p: &Prevalence) {
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        cell(name),
        p.documents.count,
        interval_text(&p.documents),
        p.words.count,
        interval_text(&p.words)
    );
}

const PREVALENCE_HEAD: &str = "| | documents | share of documents (95% CI) | words | share of words (95% CI) |\n|---|---:|---|---:|---|\n";

fn group_table(out: &mut String, first: &str, rows: &[GroupRow]) {
    let _ = writeln!(
        out,
        "| {first} | documents | flagged | flagged share (95% CI) | words | flagged words |\n|---|---:|---:|---|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&r.name),
            r.documents,
            r.flagged,
            interval_text(&r.flagged_share),
            r.words,
            r.flagged_words
        );
    }
    out.push('\n');
}

fn estimate_line(out: &mut String, what: &str, e: &Estimate) {
    let _ = writeln!(
        out,
        "- {what}: {} of {} = {}",
        e.count,
        e.total,
        interval_text(e)
    );
}

/// Renders the report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.config;
    let _ = writeln!(out, "# tropescan report\n");
    let _ = writeln!(
        out,
        "Lexicon `{}` (blake3 `{}`), tropescan {}, threshold {}, flag labels {}.\n",
        c.lexicon.name,
        c.lexicon.hash,
        c.tropescan_version,
        c.threshold,
        c.flag_labels.join(", ")
    );
    let _ = writeln!(
        out,
        "{} documents, {} words in {} shards ({} records skipped, {} broken, {} input errors in the scans; {} errors reading the runs). Intervals are 95% Wilson intervals (for words: on the effective number of documents; see docs/report.md).\n",
        r.documents, r.words, r.inputs.shards, r.inputs.skipped, r.inputs.broken, r.inputs.input_errors, r.inputs.report_errors
    );

    out.push_str("## Prevalence\n\n");
    out.push_str(PREVALENCE_HEAD);
    prevalence_row(&mut out, "**flagged**", &r.flagged);
    for (label, p) in &r.labels {
        prevalence_row(&mut out, label, p);
    }
    out.push_str("\n### At score thresholds (documents scoring at least the threshold: what `--threshold` would flag)\n\n");
    out.push_str(PREVALENCE_HEAD);
    for t in &r.thresholds {
        prevalence_row(
            &mut out,
            &format!("score >= {}", t.threshold),
            &t.prevalence,
        );
    }
    out.push_str("\n### Lexicon categories (documents with at least one hit)\n\n");
    out.push_str("| category | documents | share of documents (95% CI) | words | share of words (95% CI) | hits |\n|---|---:|---|---:|---|---:|\n");
    for (name, row) in &r.categories {
        let p = &row.prevalence;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(name),
            p.documents.count,
            interval_text(&p.documents),
            p.words.count,
            interval_text(&p.words),
            row.hits
        );
    }

    out.push_str("\n## Score histogram\n\n| score | documents | flagged |\n|---|---:|---:|\n");
    let h = &r.score_histogram;
    for (i, chunk) in h.documents.chunks(10).enumerate() {
        let flagged: u64 = h.flagged_documents[i * 10..(i + 1) * 10].iter().sum();
        let close = if i == 9 { "]" } else { ")" };
        let _ = writeln!(
            out,
            "| [{:.1}, {:.1}{close} | {} | {} |",
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0,
            chunk.iter().sum::<u64>(),
            flagged
        );
    }

    out.push_str("\n## Shards\n\n");
    group_table(&mut out, "shard", &r.shards);
    let d = &r.domains;
    let _ = writeln!(
        out,
        "## Web domains\n\n{} distinct domains; {} documents without a URL.\n\n### Top {} by flagged documents\n",
        d.distinct,
        d.unknown,
        d.top_by_flagged.len()
    );
    group_table(&mut out, "domain", &d.top_by_flagged);
    let _ = writeln!(
        out,
        "### Top {} by flagged share (domains with at least {} documents)\n",
        d.top_by_rate.len(),
        d.min_documents
    );
    group_table(&mut out, "domain", &d.top_by_rate);
    let _ = writeln!(
        out,
        "## Crawl dumps\n\n{} documents without a dump.\n",
        r.dumps.unknown
    );
    group_table(&mut out, "dump", &r.dumps.rows);
    let _ = writeln!(
        out,
        "## Years\n\n{} documents without a date.\n",
        r.years.unknown
    );
    group_table(&mut out, "year", &r.years.rows);

    out.push_str("## Top matched terms\n\n| term | flagged documents | documents | hits |\n|---|---:|---:|---:|\n");
    for t in &r.terms {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&t.term),
            t.flagged_documents,
            t.documents,
            t.hits
        );
    }

    out.push_str("\n## Flagged examples (random, by the seed)\n\n");
    for e in &r.examples {
        let _ = writeln!(
            out,
            "- **{}** `{}` score {} ({}){}",
            cell(&e.id),
            cell(&e.source),
            e.score,
            e.label,
            e.url
                .as_deref()
                .map(|u| format!(" <{}>", cell(u)))
                .unwrap_or_default()
        );
        if let Some(s) = &e.snippet {
            let _ = writeln!(out, "  > {}", cell(&bold_spans(&s.text, &s.spans)));
        }
    }

    if let Some(s) = &r.sample {
        let _ = writeln!(
            out,
            "\n## Sample for hand labelling\n\n`sample.jsonl`: {} flagged and {} unflagged documents (seed {}, {} asked per stratum).",
            s.flagged, s.unflagged, s.seed, s.requested
        );
    }
    if let Some(l) = &r.label_evaluation {
        let _ = writeln!(
            out,
            "\n## Precision and recall from hand labels\n\n{} labels ({} unmatched, {} ambiguous, {} lines not labelled yet): {} true positives, {} false positives, {} false negatives, {} true negatives.\n",
            l.labels, l.unmatched, l.ambiguous, l.unlabelled, l.true_positives, l.false_positives, l.false_negatives, l.true_negatives
        );
        estimate_line(&mut out, "precision", &l.precision);
        estimate_line(
            &mut out,
            "positives among unflagged",
            &l.positive_rate_unflagged,
        );
        estimate_line(
            &mut out,
            "recall within the labelled documents",
            &l.recall_in_labelled,
        );
        if let Some(rc) = &l.recall {
            let _ = writeln!(
                out,
                "- recall over the corpus (strata weighted by size): {} [{}, {}]",
                pct(rc.value),
                pct(rc.low),
                pct(rc.high)
            );
        }
    }
    out
}

/// `**term**` around each span (code-point offsets), the rest as it is.
fn bold_spans(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::new();
    super::for_each_span_piece(text, spans, |piece, marked| {
        if marked {
            out.push_str("**");
            out.push_str(piece);
            out.push_str("**");
        } else {
            out.push_str(piece);
        }
    });
    out
}
