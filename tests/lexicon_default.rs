//! The built-in lexicon loads, lints clean of errors, passes its own examples, and is big enough.

use tropescan::lexicon::{self, Lexicon, Severity};

#[test]
fn default_lexicon_examples_pass() {
    let lex = Lexicon::default_english();
    let report = lexicon::run_examples(&lex);
    println!("{report}");
    assert!(report.ok(), "{report}");
}

#[test]
fn default_lexicon_has_no_check_errors() {
    let lex = Lexicon::default_english();
    let diags = lex.check();
    for d in &diags {
        println!("{d}");
    }
    assert!(diags.iter().all(|d| d.severity != Severity::Error));
    assert!(diags.is_empty(), "the built-in lexicon should lint clean");
}

#[test]
fn default_lexicon_is_large_enough() {
    let stats = lexicon::stats(&Lexicon::default_english());
    println!("{stats}");
    assert!(stats.patterns >= 400, "{} patterns", stats.patterns);
}
