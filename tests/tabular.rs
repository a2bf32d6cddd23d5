//! Integration tests of the CSV/TSV and Parquet readers through the public input API: document
//! counts and texts on the real plot datasets of the shared corpus, and small hand-made fixtures
//! for every fault the readers must survive (short rows, invalid UTF-8, truncated gzip, null
//! texts, truncated or mangled Parquet).

mod util;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use proptest::prelude::*;
use tropescan::input::{
    read_shard, ErrorKind, FieldPath, Format, OwnedDocument, ReadOptions, Shard, ShardStats,
};
use util::corpus;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tabular")
        .join(name)
}

fn opts(text: &str) -> ReadOptions {
    ReadOptions {
        text_field: FieldPath::new(text),
        ..ReadOptions::default()
    }
}

fn read_with(path: &Path, opts: &ReadOptions) -> (Vec<OwnedDocument>, ShardStats) {
    let mut docs = Vec::new();
    let stats = read_shard(&Shard::from_path(path), opts, None, |d| {
        docs.push(d.to_owned_document())
    });
    (docs, stats)
}

fn read(path: &Path, text: &str) -> (Vec<OwnedDocument>, ShardStats) {
    read_with(path, &opts(text))
}

/// The CSV and Parquet lines of COUNTS.tsv: path, expected count, text field.
fn tabular_counts(corpus: &Path) -> Vec<(String, u64, String)> {
    let counts = std::fs::read_to_string(corpus.join("COUNTS.tsv")).expect("COUNTS.tsv");
    counts
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let path = cols.next()?.to_string();
            let n = cols.next()?.trim().parse().ok()?;
            let field = cols
                .next()
                .and_then(|f| f.trim().strip_prefix("--text-field "))
                .unwrap_or("text")
                .trim()
                .to_string();
            let tabular =
                path.contains(".csv") || path.contains(".tsv") || path.ends_with(".parquet");
            tabular.then_some((path, n, field))
        })
        .collect()
}

#[test]
fn corpus_counts_match() {
    let Some(corpus) = corpus() else { return };
    let files = tabular_counts(&corpus);
    assert!(
        files.len() >= 9,
        "COUNTS.tsv lists {} tabular files",
        files.len()
    );
    for (path, expected, field) in files {
        let (docs, stats) = read(&corpus.join(&path), &field);
        assert_eq!(docs.len() as u64, expected, "{path}: {stats:?}");
        assert_eq!(stats.documents, expected, "{path}");
        assert!(stats.is_clean(), "{path}: {:?}", stats.errors);
        assert!(docs.iter().any(|d| !d.text.is_empty()), "{path}");
    }
}

fn find<'a>(docs: &'a [OwnedDocument], needle: &str) -> &'a OwnedDocument {
    docs.iter()
        .find(|d| d.text.contains(needle))
        .unwrap_or_else(|| panic!("no document contains {needle:?}"))
}

#[test]
fn corpus_known_texts() {
    let Some(corpus) = corpus() else { return };
    let plots = corpus.join("plots");

    let (docs, _) = read(&plots.join("imdb_top_1000.csv"), "Overview");
    assert_eq!(
        docs[0].text,
        "Two imprisoned men bond over a number of years, finding solace and eventual \
         redemption through acts of common decency."
    );
    assert_eq!(docs[0].position.line, 2);

    // Header ` show_id`, column asked for in a different case.
    let (docs, _) = read(&plots.join("netflix_titles.csv.gz"), "DESCRIPTION");
    assert_eq!(docs.len(), 7787);

    // tmdb has an `id` column: ids come from it.
    let (docs, _) = read(&plots.join("tmdb_5000_movies.csv.gz"), "overview");
    let ex = find(&docs, "the world's first true artificial intelligence");
    assert_eq!(ex.id, "264660");
    assert!(ex.text.starts_with("Caleb, a 26 year old coder"));
    assert!(ex
        .text
        .ends_with("housed in the body of a beautiful robot girl."));

    // A multi-paragraph wiki plot with embedded newlines, intact.
    let (docs, _) = read(&plots.join("wiki_movie_plots_2015_2017.csv"), "Plot");
    let morgan = find(&docs, "Lee Weathers is a \"risk-management specialist\"");
    assert_eq!(morgan.text.chars().count(), 3595);
    assert_eq!(morgan.text.matches('\n').count(), 6);
    assert!(morgan
        .text
        .ends_with("when Shapiro had asked her how she had felt about injuring Grieff."));
    assert!(morgan.id.contains("wiki_movie_plots_2015_2017.csv:"));

    let (docs, _) = read(&plots.join("plots_subset.parquet"), "text");
    let ex = find(&docs, "the world's first true artificial intelligence");
    assert!(ex.text.starts_with("Caleb, a 26 year old coder"));
    assert!(!ex.id.is_empty());
    assert_eq!(docs[0].position.offset, 0);
    assert_eq!(docs[7357].position.offset, 7357);
}

#[test]
fn goodreads_header_quirk_reads_descriptions() {
    let Some(corpus) = corpus() else { return };
    for (file, n) in [
        ("goodreads_scifi_books.csv.gz", 1805),
        ("goodreads_fantasy_books.csv.gz", 2103),
    ] {
        let (docs, stats) = read(&corpus.join("plots").join(file), "book_desc");
        assert_eq!(docs.len(), n, "{file}: {:?}", stats.errors.first());
        assert!(stats.is_clean(), "{file}");
    }
    let (docs, _) = read(
        &corpus.join("plots/goodreads_scifi_books.csv.gz"),
        "book_desc",
    );
    assert!(docs[0]
        .text
        .starts_with("Among the seminal texts of the 20th century, Nineteen Eighty-Four"));
    let (docs, stats) = read(
        &corpus.join("plots/goodreads_best_books_partial.csv.gz"),
        "Description",
    );
    assert_eq!(docs.len(), 3268);
    assert!(stats.is_clean());
    assert!(docs[0]
        .url
        .as_deref()
        .is_some_and(|u| u.contains("goodreads")));
}

#[test]
fn missing_text_column_lists_columns() {
    let Some(corpus) = corpus() else { return };
    let plots = corpus.join("plots");
    for (file, real) in [
        ("disney_plus_titles.csv", "description"),
        ("tmdb_5000_movies.csv.gz", "overview"),
        ("plots_subset.parquet", "title"),
    ] {
        let (docs, stats) = read(&plots.join(file), "no_such_column");
        assert!(docs.is_empty());
        assert!(stats.incomplete);
        let e = &stats.errors[0];
        let ErrorKind::MissingColumn { column, columns } = e.kind() else {
            panic!("{file}: {e}");
        };
        assert_eq!(column, "no_such_column");
        assert!(columns.iter().any(|c| c == real), "{file}: {columns:?}");
        assert!(e.to_string().contains(&format!("{real:?}")), "{e}");
    }
}

#[test]
fn tsv_fixture() {
    let (docs, stats) = read(&fixture("films.tsv"), "overview");
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[1].id, "2");
    assert_eq!(
        docs[1].text,
        "An AI built to run the nuclear arsenal takes control."
    );
    // An empty cell is an empty document, not an error.
    assert_eq!(docs[2].text, "");
    assert_eq!(docs[2].position.line, 4);
}

#[test]
fn semicolon_delimited_csv_is_detected_from_its_header() {
    // Spreadsheets in locales with a decimal comma export `;`-separated .csv files.
    let path = fixture("semicolon.csv");
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("semicolon.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for p in [path, gz] {
        let (docs, stats) = read(&p, "text");
        assert!(stats.is_clean(), "{}: {:?}", p.display(), stats.errors);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].id, "1");
        // Commas inside a field stay in it.
        assert!(docs[0]
            .text
            .starts_with("A defence computer links with its Soviet twin, and,"));
        assert_eq!(docs[1].text, "A small robot cleans up an abandoned Earth.");
    }
}

#[test]
fn multiline_quoted_fixture() {
    let path = fixture("multiline.csv");
    let (docs, stats) = read(&path, "plot");
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 2);
    assert_eq!(
        docs[0].text,
        "Line one of the plot.\nLine two, with a \"quote\".\n\nLine four after a blank line."
    );
    assert_eq!(docs[0].url.as_deref(), Some("https://example.org/morgan"));
    assert_eq!(docs[0].id, format!("{}:2", path.display()));
    // The second record starts after the four lines of the first.
    assert_eq!(docs[1].position.line, 6);
    assert_eq!(docs[1].id, format!("{}:6", path.display()));
    assert_eq!(docs[1].url, None);
    let offset = std::fs::read_to_string(&path)
        .unwrap()
        .find("Tron")
        .unwrap();
    assert_eq!(docs[1].position.offset, offset as u64);
}

#[test]
fn short_row_is_broken_with_line() {
    let (docs, stats) = read(&fixture("ragged.csv"), "plot");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].text, "The extra field is ignored.");
    assert_eq!(stats.broken, 1);
    assert!(!stats.incomplete);
    assert_eq!(stats.errors.len(), 1);
    assert_eq!(stats.errors[0].line(), Some(3));
    assert!(matches!(stats.errors[0].kind(), ErrorKind::Csv(_)));
}

#[test]
fn invalid_utf8_is_repaired_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, b"id,text\na,caf\xe9 robot\nb,fine\n").unwrap();
    let (docs, stats) = read(&path, "text");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].text, "caf\u{fffd} robot");
    assert_eq!(stats.broken, 0);
    assert_eq!(stats.errors.len(), 1);
    assert_eq!(stats.errors[0].kind(), &ErrorKind::InvalidUtf8);
    assert_eq!(stats.errors[0].line(), Some(2));
}

#[test]
fn oversized_cell_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    std::fs::write(&path, format!("text\nsmall\n{}\nafter\n", "x".repeat(100))).unwrap();
    let o = ReadOptions {
        max_doc_bytes: 50,
        ..opts("text")
    };
    let (docs, stats) = read_with(&path, &o);
    assert_eq!(docs.len(), 2);
    assert_eq!(stats.skipped.get("oversized"), Some(&1));
}

#[test]
fn small_batches_keep_order_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.csv");
    let mut body = String::from("text\n");
    for i in 0..1000 {
        body.push_str(&format!("row {i}\n"));
    }
    std::fs::write(&path, body).unwrap();
    let o = ReadOptions {
        batch_bytes: 100,
        ..opts("text")
    };
    let (docs, stats) = read_with(&path, &o);
    assert_eq!(docs.len(), 1000);
    assert!(stats.is_clean());
    assert!(docs
        .iter()
        .enumerate()
        .all(|(i, d)| d.text == format!("row {i}")));
    assert_eq!(
        stats.decompressed_bytes,
        std::fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn truncated_csv_gz_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.csv.gz");
    let mut body = String::from("id,text\n");
    for i in 0..5000 {
        body.push_str(&format!("{i},\"the machine woke up, number {i}\"\n"));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let full = gz.finish().unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();

    let (docs, stats) = read(&path, "text");
    assert!(stats.incomplete);
    assert!(!docs.is_empty() && docs.len() < 5000, "{}", docs.len());
    let e = stats.errors.last().unwrap();
    assert!(
        matches!(e.kind(), ErrorKind::Decompress(_) | ErrorKind::Csv(_)),
        "{e}"
    );
    assert!(e.line().is_some());
    // Everything delivered is whole and in order.
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d.id, i.to_string());
        assert_eq!(d.text, format!("the machine woke up, number {i}"));
    }
}

/// A Parquet file of three row groups: string ids in the first two, then an integer-id file
/// is written separately; row 5 (1-based) has a null text.
fn write_parquet(path: &Path, int_ids: bool) -> Vec<u8> {
    let id_type = if int_ids {
        DataType::Int64
    } else {
        DataType::Utf8
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("Text", DataType::Utf8, true),
        Field::new("url", DataType::Utf8, true),
    ]));
    let mut w = ArrowWriter::try_new(Vec::new(), schema.clone(), None).unwrap();
    for group in 0..3i64 {
        let rows: Vec<i64> = (group * 3..group * 3 + 3).collect();
        let ids: ArrayRef = if int_ids {
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r * 10).collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| (r != &1).then(|| format!("doc-{r}")))
                    .collect::<Vec<_>>(),
            ))
        };
        let texts: ArrayRef = Arc::new(StringArray::from(
            rows.iter()
                .map(|r| (*r != 4).then(|| format!("row {r}: the AI refuses to shut down")))
                .collect::<Vec<_>>(),
        ));
        let sources: ArrayRef = Arc::new(StringArray::from(vec!["s"; 3]));
        let urls: ArrayRef = Arc::new(StringArray::from(
            rows.iter()
                .map(|r| (r % 2 == 0).then(|| format!("https://example.org/{r}")))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema.clone(), vec![ids, sources, texts, urls]).unwrap();
        w.write(&batch).unwrap();
        w.flush().unwrap();
    }
    let bytes = w.into_inner().unwrap();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn parquet_fixture_string_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    write_parquet(&path, false);
    let (docs, stats) = read(&path, "text");
    assert_eq!(docs.len(), 8);
    assert_eq!(stats.broken, 1);
    assert!(!stats.incomplete);
    assert_eq!(stats.errors.len(), 1);
    assert!(
        stats.errors[0].to_string().contains("row 5"),
        "{}",
        stats.errors[0]
    );
    assert_eq!(docs[0].id, "doc-0");
    assert_eq!(docs[0].url.as_deref(), Some("https://example.org/0"));
    // A null id falls back to `<shard>:<row>`.
    assert_eq!(docs[1].id, format!("{}:2", path.display()));
    assert_eq!(docs[1].url, None);
    assert_eq!(docs[4].text, "row 5: the AI refuses to shut down");
    assert_eq!(docs[4].position.offset, 5);
    assert_eq!(docs[4].position.line, 0);
    assert_eq!(docs[7].id, "doc-8");
}

#[test]
fn parquet_fixture_int_ids_and_no_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    write_parquet(&path, true);
    let (docs, _) = read(&path, "Text");
    assert_eq!(docs.len(), 8);
    assert_eq!(docs[2].id, "20");

    let o = ReadOptions {
        id_field: FieldPath::new("nope"),
        batch_bytes: 1,
        ..opts("text")
    };
    let (docs, stats) = read_with(&path, &o);
    assert_eq!(docs.len(), 8);
    assert_eq!(stats.documents, 8);
    assert_eq!(docs[0].id, format!("{}:1", path.display()));
    assert_eq!(docs[7].id, format!("{}:9", path.display()));
}

#[test]
fn parquet_non_string_text_column_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    write_parquet(&path, true);
    let (docs, stats) = read(&path, "id");
    assert!(docs.is_empty());
    let e = &stats.errors[0];
    assert!(matches!(e.kind(), ErrorKind::Parquet(_)), "{e}");
    assert!(e.to_string().contains("string"), "{e}");
}

#[test]
fn truncated_and_fake_parquet_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    let bytes = write_parquet(&good, false);
    for cut in [bytes.len() - 1, bytes.len() / 2, 100, 4, 0] {
        let path = dir.path().join(format!("cut{cut}.parquet"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (docs, stats) = read(&path, "text");
        assert!(docs.is_empty(), "cut at {cut}");
        assert!(stats.incomplete, "cut at {cut}");
        assert!(!stats.errors.is_empty(), "cut at {cut}");
    }
    let path = dir.path().join("fake.parquet");
    std::fs::write(&path, "id,text\n1,not parquet at all\n").unwrap();
    let (_, stats) = read(&path, "text");
    let e = &stats.errors[0];
    assert!(matches!(e.kind(), ErrorKind::Parquet(_)), "{e}");
    assert!(e.to_string().contains("not a Parquet file"), "{e}");

    // A CSV file forced to Parquet.
    let path = dir.path().join("forced.csv");
    std::fs::write(&path, "id,text\n1,not parquet at all\n").unwrap();
    let o = ReadOptions {
        format: Some(Format::Parquet),
        ..opts("text")
    };
    let (_, stats) = read_with(&path, &o);
    assert!(matches!(stats.errors[0].kind(), ErrorKind::Parquet(_)));
}

fn valid_parquet() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("p.parquet"), false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        for (name, format) in [("a.csv", Format::Csv), ("a.tsv", Format::Tsv), ("a.parquet", Format::Parquet)] {
            let path = dir.path().join(name);
            std::fs::write(&path, &data).unwrap();
            let o = ReadOptions { format: Some(format), batch_bytes: 64, ..opts("text") };
            let (docs, stats) = read_with(&path, &o);
            prop_assert_eq!(docs.len() as u64, stats.documents);
        }
        // Also behind a valid header, so rows are actually parsed.
        let path = dir.path().join("h.csv");
        let mut with_header = b"text,id,url\n".to_vec();
        with_header.extend_from_slice(&data);
        std::fs::write(&path, &with_header).unwrap();
        let (docs, stats) = read(&path, "text");
        prop_assert_eq!(docs.len() as u64, stats.documents);
    }

    #[test]
    fn mangled_parquet_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
    ) {
        let mut bytes = valid_parquet();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        std::fs::write(&path, &bytes).unwrap();
        let (docs, stats) = read(&path, "text");
        prop_assert!(docs.len() <= 9);
        prop_assert_eq!(docs.len() as u64, stats.documents);
    }
}

#[test]
fn crlf_positions_and_fields() {
    let path = fixture("crlf.csv");
    let (docs, stats) = read(&path, "text");
    assert!(stats.is_clean(), "{:?}", stats.errors);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].text, "quoted\r\nmulti");
    assert_eq!(
        docs[0].position,
        tropescan::input::Position {
            line: 2,
            offset: 12
        }
    );
    assert_eq!(docs[1].text, "last");
    assert_eq!(docs[1].position.line, 5);
}

#[test]
fn single_column_empty_quoted_cell_is_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.csv");
    std::fs::write(&path, "text\nfirst\n\"\"\n\nlast\n").unwrap();
    let (docs, stats) = read(&path, "text");
    assert!(stats.is_clean());
    let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(texts, ["first", "", "last"]);
}
