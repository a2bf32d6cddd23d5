//! Report: scan runs -> numbers and pictures.
//!
//! `tropescan report` reads the `summary.json` and `documents/` records of one or more
//! `scan -o` runs ([`read`]), counts them into mergeable counters ([`aggregate`]; runs made on
//! many machines merge exactly, in any order), computes prevalence with Wilson intervals
//! ([`interval`], [`model`]) and renders `report.json`, `report.md` ([`markdown`]) and
//! `report.html` ([`html`]). It also draws a reproducible sample for hand labelling
//! ([`sample`]) and turns hand labels into precision and recall ([`labels`]).

pub mod aggregate;
pub mod html;
pub mod interval;
pub mod labels;
pub mod markdown;
pub mod model;
pub mod read;
pub mod sample;

pub use aggregate::{Aggregate, AggregateOptions};
pub use interval::{wilson, Estimate};
pub use model::{Report, ReportOptions};

/// A share as a percentage with enough digits for small prevalences.
pub(crate) fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p == 0.0 {
        "0%".to_string()
    } else if p >= 10.0 {
        format!("{p:.1}%")
    } else if p >= 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.4}%")
    }
}

/// `1.23% [1.10%, 1.40%]`.
pub(crate) fn interval_text(e: &Estimate) -> String {
    format!("{} [{}, {}]", pct(e.share), pct(e.low), pct(e.high))
}

/// Calls `f` on the pieces of `text` in order, with whether each lies in one of `spans`
/// (code-point offsets; overlapping and unsorted spans are fine, out-of-range ends are cut).
pub(crate) fn for_each_span_piece(
    text: &str,
    spans: &[(usize, usize)],
    mut f: impl FnMut(&str, bool),
) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |c: usize| chars.get(c).map_or(text.len(), |&(b, _)| b);
    let mut marked = vec![false; chars.len()];
    for &(s, e) in spans {
        for m in marked.iter_mut().take(e.min(chars.len())).skip(s) {
            *m = true;
        }
    }
    let mut start = 0;
    while start < chars.len() {
        let state = marked[start];
        let mut end = start;
        while end < chars.len() && marked[end] == state {
            end += 1;
        }
        f(&text[byte_at(start)..byte_at(end)], state);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_pieces_cover_the_text_once() {
        let mut pieces = Vec::new();
        for_each_span_piece(
            "héllo Skynet wörld",
            &[(6, 12), (8, 10), (16, 99)],
            |p, m| pieces.push((p.to_string(), m)),
        );
        assert_eq!(
            pieces,
            [
                ("héllo ".to_string(), false),
                ("Skynet".to_string(), true),
                (" wör".to_string(), false),
                ("ld".to_string(), true)
            ]
        );
    }

    proptest::proptest! {
        /// The pieces always put the text back together, whatever the spans.
        #[test]
        fn span_pieces_rebuild_the_text(
            text in "\\PC{0,40}",
            spans in proptest::collection::vec((0usize..50, 0usize..50), 0..6),
        ) {
            let mut rebuilt = String::new();
            for_each_span_piece(&text, &spans, |p, _| rebuilt.push_str(p));
            proptest::prop_assert_eq!(rebuilt, text);
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(0.5), "50.0%");
        assert_eq!(pct(0.0123), "1.23%");
        assert_eq!(pct(0.000012), "0.0012%");
    }
}
