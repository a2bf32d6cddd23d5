//! `report.html`: one self-contained page (no script, no network: a Content-Security-Policy
//! forbids both) with inline SVG charts: the score histogram, prevalence by label and by
//! threshold with error bars, top domains, top terms, flagged share by year, and example
//! snippets with the matched terms in `<mark>`. Every text from the data is HTML-escaped.

use std::fmt::Write;

use super::model::{GroupRow, Prevalence, Report};
use super::{for_each_span_piece, interval_text, pct};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One horizontal bar: a label, a value in [0, max], an optional interval, the text shown.
struct Bar {
    label: String,
    value: f64,
    interval: Option<(f64, f64)>,
    text: String,
}

const CHART_WIDTH: f64 = 900.0;
const LABEL_WIDTH: f64 = 200.0;
const ROW_HEIGHT: f64 = 22.0;
/// Room right of the longest bar for its value text (`0.0505% [0.0319%, 0.0798%] (18 docs)`).
const VALUE_WIDTH: f64 = 260.0;

/// A horizontal bar chart; error bars (`class="whisker"`) where an interval is given.
fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .map(|b| b.interval.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .fold(0.0f64, f64::max);
    let plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let scale = |v: f64| if max > 0.0 { v / max * plot } else { 0.0 };
    let height = bars.len() as f64 * ROW_HEIGHT + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<figure><figcaption>{}</figcaption><svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{}">"#,
        escape(title),
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 10.0 + i as f64 * ROW_HEIGHT;
        let w = scale(b.value);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="label">{}</text><rect class="bar" x="{LABEL_WIDTH}" y="{:.1}" width="{w:.2}" height="{:.1}"><title>{}</title></rect>"#,
            LABEL_WIDTH - 6.0,
            y + ROW_HEIGHT * 0.65,
            escape(&truncate(&b.label, 30)),
            y + 3.0,
            ROW_HEIGHT - 6.0,
            escape(&format!("{}: {}", b.label, b.text)),
        );
        let mut text_x = LABEL_WIDTH + w + 6.0;
        if let Some((lo, hi)) = b.interval {
            let (x0, x1, yc) = (
                LABEL_WIDTH + scale(lo),
                LABEL_WIDTH + scale(hi),
                y + ROW_HEIGHT / 2.0,
            );
            let _ = write!(
                s,
                r#"<line class="whisker" x1="{x0:.2}" x2="{x1:.2}" y1="{yc:.1}" y2="{yc:.1}"/><line class="whisker" x1="{x0:.2}" x2="{x0:.2}" y1="{:.1}" y2="{:.1}"/><line class="whisker" x1="{x1:.2}" x2="{x1:.2}" y1="{:.1}" y2="{:.1}"/>"#,
                yc - 5.0,
                yc + 5.0,
                yc - 5.0,
                yc + 5.0
            );
            text_x = text_x.max(x1 + 6.0);
        }
        let _ = write!(
            s,
            r#"<text x="{text_x:.1}" y="{:.1}" class="value">{}</text>"#,
            y + ROW_HEIGHT * 0.65,
            escape(&b.text)
        );
    }
    s.push_str("</svg></figure>\n");
    s
}

fn truncate(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The score histogram: one column per bin, heights on a log scale (the zero-score bin holds
/// most documents of any corpus; a linear scale would show nothing else).
fn histogram(r: &Report) -> String {
    let h = &r.score_histogram;
    let (width, height, left, bottom) = (CHART_WIDTH, 260.0, 50.0, 30.0);
    let plot_h = height - bottom - 10.0;
    let bin_w = (width - left - 10.0) / h.documents.len().max(1) as f64;
    let max = h.documents.iter().copied().max().unwrap_or(0);
    let log_max = ((max + 1) as f64).log10().max(1e-9);
    let y_of = |n: u64| plot_h * ((n + 1) as f64).log10() / log_max;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<figure><figcaption>Score histogram (documents per 0.01 of score, log scale; red: flagged; dashed: threshold {})</figcaption><svg id="histogram" class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="score histogram">"#,
        r.config.threshold
    );
    for (i, (&n, &f)) in h.documents.iter().zip(&h.flagged_documents).enumerate() {
        let x = left + i as f64 * bin_w;
        let title = format!(
            "[{:.2}, {:.2}): {n} documents, {f} flagged",
            i as f64 * h.bin_width,
            (i + 1) as f64 * h.bin_width
        );
        if n > 0 {
            let bh = y_of(n);
            let _ = write!(
                s,
                r#"<rect class="bar" x="{x:.2}" y="{:.2}" width="{:.2}" height="{bh:.2}"><title>{}</title></rect>"#,
                10.0 + plot_h - bh,
                bin_w * 0.9,
                escape(&title)
            );
        }
        if f > 0 {
            let fh = y_of(f);
            let _ = write!(
                s,
                r#"<rect class="bar flagged" x="{x:.2}" y="{:.2}" width="{:.2}" height="{fh:.2}"/>"#,
                10.0 + plot_h - fh,
                bin_w * 0.9
            );
        }
    }
    let axis_y = 10.0 + plot_h;
    let _ = write!(
        s,
        r#"<line class="axis" x1="{left}" x2="{:.1}" y1="{axis_y}" y2="{axis_y}"/>"#,
        width - 10.0
    );
    for t in 0..=10 {
        let x = left + t as f64 * 10.0 * bin_w;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="label">{:.1}</text>"#,
            axis_y + 18.0,
            t as f64 / 10.0
        );
    }
    let tx = left + r.config.threshold * 100.0 * bin_w;
    let _ = write!(
        s,
        r#"<line class="threshold" x1="{tx:.1}" x2="{tx:.1}" y1="10" y2="{axis_y}"/><text x="4" y="20" class="label">{max}</text><text x="4" y="{axis_y}" class="label">0</text></svg></figure>"#
    );
    s.push('\n');
    s
}

fn prevalence_bar(label: &str, p: &Prevalence) -> Bar {
    let d = &p.documents;
    Bar {
        label: label.to_string(),
        value: d.share,
        interval: Some((d.low, d.high)),
        text: format!("{} ({} docs)", interval_text(d), d.count),
    }
}

fn group_table(title: &str, first: &str, rows: &[GroupRow]) -> String {
    let mut s = format!(
        "<h3>{}</h3><table><thead><tr><th>{}</th><th>documents</th><th>flagged</th><th>flagged share (95% CI)</th><th>words</th><th>flagged words</th></tr></thead><tbody>",
        escape(title),
        escape(first)
    );
    for r in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(&r.name),
            r.documents,
            r.flagged,
            escape(&interval_text(&r.flagged_share)),
            r.words,
            r.flagged_words
        );
    }
    s.push_str("</tbody></table>\n");
    s
}

fn prevalence_table(rows: &[(String, &Prevalence)]) -> String {
    let mut s = String::from("<table><thead><tr><th></th><th>documents</th><th>share of documents (95% CI)</th><th>words</th><th>share of words (95% CI)</th></tr></thead><tbody>");
    for (name, p) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=n>{}</td><td>{}</td><td class=n>{}</td><td>{}</td></tr>",
            escape(name),
            p.documents.count,
            escape(&interval_text(&p.documents)),
            p.words.count,
            escape(&interval_text(&p.words))
        );
    }
    s.push_str("</tbody></table>\n");
    s
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}\
svg.chart{background:#fafafa;border:1px solid #e3e3e3}\
.bar{fill:#4a78b5}.bar.flagged{fill:#b5462f}.whisker{stroke:#222;stroke-width:1.3}.axis{stroke:#555}\
.threshold{stroke:#b5462f;stroke-dasharray:4 3}.label,.value{font-size:11px;fill:#333}\
blockquote{margin:.4em 0 1em;padding:.4em .8em;border-left:4px solid #b5462f;background:#fbf7f5;white-space:pre-wrap}\
mark{background:#ffd54a;padding:0 1px}.meta{color:#555;font-size:12px}";

/// Renders the report as one HTML page.
pub fn render(r: &Report) -> String {
    let c = &r.config;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>tropescan report</title><style>{STYLE}</style></head><body>\n<h1>tropescan report</h1>\n"
    );
    let _ = writeln!(
        s,
        "<p>{} documents, {} words in {} shards. Flagged: <b>{}</b>. Lexicon <code>{}</code> (blake3 <code>{}</code>), tropescan {}, threshold {}, flag labels {}. {} records skipped, {} broken, {} input errors in the scans; {} errors reading the runs. Intervals are 95% Wilson intervals.</p>",
        r.documents,
        r.words,
        r.inputs.shards,
        escape(&interval_text(&r.flagged.documents)),
        escape(&c.lexicon.name),
        escape(&c.lexicon.hash),
        escape(&c.tropescan_version),
        c.threshold,
        escape(&c.flag_labels.join(", ")),
        r.inputs.skipped,
        r.inputs.broken,
        r.inputs.input_errors,
        r.inputs.report_errors
    );

    s.push_str("<h2>Prevalence</h2>\n");
    let mut bars = vec![prevalence_bar("flagged", &r.flagged)];
    let mut table_rows = vec![("flagged".to_string(), &r.flagged)];
    for (label, p) in &r.labels {
        table_rows.push((label.clone(), p));
        // `none` is most of any corpus: charted, it would squash every other bar.
        if label != "none" {
            bars.push(prevalence_bar(label, p));
        }
    }
    s.push_str(&bar_chart(
        "labels",
        "Share of documents by label, with 95% intervals (label none in the table)",
        &bars,
    ));
    s.push_str(&prevalence_table(&table_rows));
    let bars: Vec<Bar> = r
        .thresholds
        .iter()
        .map(|t| prevalence_bar(&format!("score ≥ {}", t.threshold), &t.prevalence))
        .collect();
    s.push_str(&bar_chart(
        "thresholds",
        "Documents scoring at least a threshold (what --threshold would flag), with 95% intervals",
        &bars,
    ));
    let rows: Vec<(String, &Prevalence)> = r
        .thresholds
        .iter()
        .map(|t| (format!("score ≥ {}", t.threshold), &t.prevalence))
        .collect();
    s.push_str(&prevalence_table(&rows));
    s.push_str("<h3>Lexicon categories (documents with at least one hit)</h3>");
    let rows: Vec<(String, &Prevalence)> = r
        .categories
        .iter()
        .map(|(k, c)| (format!("{k} ({} hits)", c.hits), &c.prevalence))
        .collect();
    s.push_str(&prevalence_table(&rows));

    s.push_str("<h2>Scores</h2>\n");
    s.push_str(&histogram(r));

    s.push_str("<h2>Web domains</h2>\n");
    let d = &r.domains;
    let _ = writeln!(
        s,
        "<p>{} distinct domains; {} documents without a URL.</p>",
        d.distinct, d.unknown
    );
    let bars: Vec<Bar> = d
        .top_by_flagged
        .iter()
        .filter(|g| g.flagged > 0)
        .take(20)
        .map(|g| Bar {
            label: g.name.clone(),
            value: g.flagged as f64,
            interval: None,
            text: format!("{} of {}", g.flagged, g.documents),
        })
        .collect();
    if !bars.is_empty() {
        s.push_str(&bar_chart(
            "domains",
            "Top domains by flagged documents",
            &bars,
        ));
    }
    s.push_str(&group_table(
        &format!("Top {} by flagged documents", d.top_by_flagged.len()),
        "domain",
        &d.top_by_flagged,
    ));
    s.push_str(&group_table(
        &format!(
            "Top {} by flagged share (domains with at least {} documents)",
            d.top_by_rate.len(),
            d.min_documents
        ),
        "domain",
        &d.top_by_rate,
    ));

    s.push_str("<h2>Top matched terms</h2>\n");
    let bars: Vec<Bar> = r
        .terms
        .iter()
        .take(25)
        .map(|t| Bar {
            label: t.term.clone(),
            value: t.flagged_documents as f64,
            interval: None,
            text: format!("{} flagged / {} docs", t.flagged_documents, t.documents),
        })
        .collect();
    if !bars.is_empty() {
        s.push_str(&bar_chart(
            "terms",
            "Top matched terms by flagged documents",
            &bars,
        ));
    }
    s.push_str("<table><thead><tr><th>term</th><th>flagged documents</th><th>documents</th><th>hits</th></tr></thead><tbody>");
    for t in &r.terms {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            escape(&t.term),
            t.flagged_documents,
            t.documents,
            t.hits
        );
    }
    s.push_str("</tbody></table>\n");

    s.push_str("<h2>Time and crawl</h2>\n");
    let bars: Vec<Bar> = r
        .years
        .rows
        .iter()
        .map(|g| Bar {
            label: g.name.clone(),
            value: g.flagged_share.share,
            interval: Some((g.flagged_share.low, g.flagged_share.high)),
            text: format!(
                "{} ({} of {})",
                pct(g.flagged_share.share),
                g.flagged,
                g.documents
            ),
        })
        .collect();
    if !bars.is_empty() {
        s.push_str(&bar_chart(
            "years",
            "Flagged share by year of the document date, with 95% intervals",
            &bars,
        ));
    }
    s.push_str(&group_table(
        &format!("Years ({} documents without a date)", r.years.unknown),
        "year",
        &r.years.rows,
    ));
    s.push_str(&group_table(
        &format!("Crawl dumps ({} documents without a dump)", r.dumps.unknown),
        "dump",
        &r.dumps.rows,
    ));
    s.push_str(&group_table("Shards", "shard", &r.shards));

    s.push_str("<h2>Flagged examples</h2>\n<p class=meta>Drawn at random (by the seed) among flagged documents; matched terms highlighted. Judge precision by eye.</p>\n");
    for e in &r.examples {
        let _ = write!(
            s,
            "<div class=example><p class=meta><b>{}</b> · score {} · {} · {}{}</p>",
            escape(&e.id),
            e.score,
            escape(&e.label),
            escape(&e.source),
            e.url
                .as_deref()
                .map(|u| format!(" · {}", escape(u)))
                .unwrap_or_default()
        );
        if let Some(snip) = &e.snippet {
            s.push_str("<blockquote>");
            for_each_span_piece(&snip.text, &snip.spans, |piece, marked| {
                if marked {
                    s.push_str("<mark>");
                    s.push_str(&escape(piece));
                    s.push_str("</mark>");
                } else {
                    s.push_str(&escape(piece));
                }
            });
            s.push_str("</blockquote>");
        }
        s.push_str("</div>\n");
    }

    if let Some(l) = &r.label_evaluation {
        let _ = write!(
            s,
            "<h2>Precision and recall from hand labels</h2><p>{} labels ({} unmatched, {} ambiguous, {} not labelled yet): {} TP, {} FP, {} FN, {} TN.</p><ul><li>precision: {}</li><li>positives among unflagged: {}</li><li>recall within the labelled documents: {}</li>",
            l.labels,
            l.unmatched,
            l.ambiguous,
            l.unlabelled,
            l.true_positives,
            l.false_positives,
            l.false_negatives,
            l.true_negatives,
            escape(&interval_text(&l.precision)),
            escape(&interval_text(&l.positive_rate_unflagged)),
            escape(&interval_text(&l.recall_in_labelled)),
        );
        if let Some(rc) = &l.recall {
            let _ = write!(
                s,
                "<li>recall over the corpus (strata weighted by size): {} [{}, {}]</li>",
                pct(rc.value),
                pct(rc.low),
                pct(rc.high)
            );
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn bars_scale_to_the_largest_interval() {
        let svg = bar_chart(
            "t",
            "<b>",
            &[
                Bar {
                    label: "a".into(),
                    value: 0.5,
                    interval: Some((0.25, 1.0)),
                    text: "x".into(),
                },
                Bar {
                    label: "b".into(),
                    value: 0.0,
                    interval: None,
                    text: "y".into(),
                },
            ],
        );
        let plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        assert!(
            svg.contains(&format!("width=\"{:.2}\"", plot / 2.0)),
            "{svg}"
        );
        assert!(svg.contains("width=\"0.00\""));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("class=\"whisker\"").count(), 3);
    }
}
