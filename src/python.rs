//! The Python extension module `tropescan._native` (cargo feature `python`, built by maturin):
//! a [`Scanner`] that scores texts one at a time or in batches spread over cores with the GIL
//! released, and a reader that turns any shard tropescan reads into Python dicts.
//!
//! Every value handed to Python is the one the CLI writes for the same text: the verdict fields
//! of the stdout line ([`crate::output::record`]), the explanation `tropescan explain` prints.
//! The Python package in `python/tropescan/` wraps this module and adds the datatrove and Ray
//! steps.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyList};
use rayon::prelude::*;

use crate::cli::explain::highlight;
use crate::input::{FieldPath, Format, OwnedDocument, ReadOptions, Shard, ShardReader, ShardStats};
use crate::lexicon::Lexicon;
use crate::output::record::{evidence_spans, round5};
use crate::scan::{Label, ScanConfig, Scanner, Verdict};

/// The arguments a Python `Scanner` was built from, kept so it can be pickled (Ray and
/// datatrove ship pipeline steps to worker processes).
#[derive(Clone)]
struct ScannerArgs {
    lexicon: Vec<PathBuf>,
    add_lexicon: Vec<PathBuf>,
    threshold: Option<f64>,
    flag_labels: Option<Vec<String>>,
    threads: Option<usize>,
}

/// A compiled lexicon and flag settings; scores texts as `tropescan scan` does.
#[pyclass(module = "tropescan._native", name = "Scanner", frozen)]
struct PyScanner {
    scanner: Scanner,
    /// A pool of `threads` threads, or `None` for rayon's global pool (one thread per core).
    pool: Option<rayon::ThreadPool>,
    args: ScannerArgs,
}

/// One path or a list of paths (str or os.PathLike).
fn paths(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<PathBuf>> {
    match obj {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) => match o.extract::<PathBuf>() {
            Ok(p) => Ok(vec![p]),
            Err(_) => o.extract::<Vec<PathBuf>>(),
        },
    }
}

/// Builds the library scanner from the Python arguments, with the CLI's defaults.
fn build_scanner(args: &ScannerArgs) -> PyResult<Scanner> {
    let value_error = |e: &dyn std::fmt::Display| PyValueError::new_err(e.to_string());
    let lexicon = Lexicon::load(&args.lexicon, &args.add_lexicon).map_err(|e| value_error(&e))?;
    let mut config = ScanConfig {
        threshold: args.threshold,
        ..ScanConfig::default()
    };
    if let Some(names) = &args.flag_labels {
        config.flag_labels = Label::parse_list(names).map_err(|e| value_error(&e))?;
    }
    Scanner::new(&lexicon, config).map_err(|e| value_error(&e))
}

/// The dict of one verdict: the fields of the CLI's stdout line (`score` rounded to 5 decimals
/// as written there), plus `evidence` when asked.
fn verdict_dict<'py>(
    py: Python<'py>,
    text: &str,
    v: &Verdict,
    evidence: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("score", round5(v.score))?;
    d.set_item("label", v.label.name())?;
    d.set_item("flagged", v.flagged)?;
    d.set_item("hits", &v.hits)?;
    if evidence {
        d.set_item("evidence", spans_list(py, text, v)?)?;
    }
    Ok(d)
}

fn spans_list<'py>(py: Python<'py>, text: &str, v: &Verdict) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for s in evidence_spans(text, v) {
        let d = PyDict::new(py);
        d.set_item("start", s.start)?;
        d.set_item("end", s.end)?;
        d.set_item("char_start", s.char_start)?;
        d.set_item("char_end", s.char_end)?;
        d.set_item("category", s.category)?;
        d.set_item("term", s.term)?;
        d.set_item("weight", s.weight)?;
        list.append(d)?;
    }
    Ok(list)
}

/// A JSON value as plain Python objects (for serde-derived structs such as the features).
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

#[pymethods]
impl PyScanner {
    /// `Scanner(lexicon=None, threshold=None, flag_labels=None, add_lexicon=None, threads=None)`
    #[new]
    #[pyo3(signature = (lexicon=None, threshold=None, flag_labels=None, add_lexicon=None, threads=None))]
    fn new(
        lexicon: Option<&Bound<'_, PyAny>>,
        threshold: Option<f64>,
        flag_labels: Option<Vec<String>>,
        add_lexicon: Option<&Bound<'_, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let args = ScannerArgs {
            lexicon: paths(lexicon)?,
            add_lexicon: paths(add_lexicon)?,
            threshold,
            flag_labels,
            threads,
        };
        let scanner = build_scanner(&args)?;
        let pool = match threads {
            Some(0) => return Err(PyValueError::new_err("threads must be at least 1")),
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| PyOSError::new_err(e.to_string()))?,
            ),
            None => None,
        };
        Ok(PyScanner {
            scanner,
            pool,
            args,
        })
    }

    /// Scores one text: `{"score", "label", "flagged", "hits"}` (+ `"evidence"`).
    #[pyo3(signature = (text, evidence=false))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        evidence: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let verdict = self.scanner.score(text);
        verdict_dict(py, text, &verdict, evidence)
    }

    /// Scores a list of texts on all the scanner's threads with the GIL released; one dict per
    /// text, in order.
    #[pyo3(signature = (texts, evidence=false))]
    fn score_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        evidence: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let scanner = &self.scanner;
        let verdicts: Vec<Verdict> = py.detach(|| {
            let run = || texts.par_iter().map(|t| scanner.score(t)).collect();
            match &self.pool {
                Some(pool) => pool.install(run),
                None => run(),
            }
        });
        let list = PyList::empty(py);
        for (text, v) in texts.iter().zip(&verdicts) {
            list.append(verdict_dict(py, text, v, evidence)?)?;
        }
        Ok(list)
    }

    /// Explains the score of one text as `tropescan explain` does: every feature, each part's
    /// contribution, the co-occurring pairs, all spans, and `report`, the text the CLI prints.
    #[pyo3(signature = (text, full_text=false))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        full_text: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let ex = self.scanner.explain(text);
        let v = &ex.verdict;
        let d = verdict_dict(py, text, v, true)?;
        d.set_item("raw", ex.raw)?;
        d.set_item("threshold", ex.threshold)?;
        let features =
            serde_json::to_value(&v.features).map_err(|e| PyValueError::new_err(e.to_string()))?;
        d.set_item("features", json_to_py(py, &features)?)?;
        let parts = PyList::empty(py);
        for c in &ex.contributions {
            let p = PyDict::new(py);
            p.set_item("name", c.name)?;
            p.set_item("value", c.value)?;
            p.set_item("raw_delta", c.raw_delta)?;
            p.set_item("score_delta", c.score_delta)?;
            parts.append(p)?;
        }
        d.set_item("contributions", parts)?;
        let pair = |e: &crate::scan::Evidence| {
            (e.start, e.end, e.category.to_string(), e.term.to_string())
        };
        let pairs: Vec<_> = ex.pairs.iter().map(|(g, t)| (pair(g), pair(t))).collect();
        d.set_item("pairs", pairs)?;
        let negated: Vec<_> = ex.negated.iter().map(pair).collect();
        d.set_item("negated", negated)?;
        let report = format!(
            "{ex}-- text --\n{}\n",
            highlight(text, ex.spans(), false, full_text)
        );
        d.set_item("report", report)?;
        Ok(d)
    }

    /// The flag threshold in effect.
    #[getter]
    fn threshold(&self) -> f64 {
        self.scanner.threshold()
    }

    /// Labels that can be flagged.
    #[getter]
    fn flag_labels(&self) -> Vec<&'static str> {
        self.scanner
            .flag_labels()
            .iter()
            .map(|l| l.name())
            .collect()
    }

    /// The lexicon's name.
    #[getter]
    fn lexicon_name(&self) -> &str {
        self.scanner.lexicon_name()
    }

    /// blake3 of the lexicon sources.
    #[getter]
    fn lexicon_hash(&self) -> &str {
        self.scanner.lexicon_hash()
    }

    /// Pickles as its constructor arguments (lexicon files are read again on unpickling).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let a = &slf.get().args;
        let args = (
            a.lexicon.clone(),
            a.threshold,
            a.flag_labels.clone(),
            a.add_lexicon.clone(),
            a.threads,
        );
        (slf.get_type(), args)
            .into_pyobject(py)
            .map(|t| t.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "Scanner(lexicon={:?}, threshold={}, flag_labels={:?})",
            self.scanner.lexicon_name(),
            self.scanner.threshold(),
            self.flag_labels()
        )
    }
}

/// Iterates over the documents of one shard as `{"id", "url", "text", "line"}` dicts, read exactly as
/// `tropescan scan` reads them. Input errors never raise: they are collected in `errors`.
#[pyclass(module = "tropescan._native", name = "DocumentReader", frozen)]
struct PyDocumentReader {
    // A Python object may be touched from any thread: the mutex makes the reader `Sync`.
    state: Mutex<ReaderState>,
}

struct ReaderState {
    reader: Option<ShardReader>,
    opts: ReadOptions,
    pending: VecDeque<OwnedDocument>,
    parsed: ShardStats,
    stats: Option<ShardStats>,
}

impl PyDocumentReader {
    fn state(&self) -> std::sync::MutexGuard<'_, ReaderState> {
        // A panic while reading cannot leave the state half-updated in a way that matters
        // (at worst a batch is lost, and pyo3 already turned the panic into an exception).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ReaderState {
    /// Reads batches until one yields documents or the shard ends.
    fn fill(&mut self) {
        while self.pending.is_empty() {
            let Some(reader) = self.reader.as_mut() else {
                return;
            };
            match reader.next_batch() {
                Some(batch) => {
                    let pending = &mut self.pending;
                    let s = batch.parse(&self.opts, &mut |d| {
                        pending.push_back(d.to_owned_document())
                    });
                    self.parsed.merge(s);
                }
                None => {
                    if let Some(r) = self.reader.take() {
                        let mut stats = r.finish();
                        stats.merge(std::mem::take(&mut self.parsed));
                        stats.sort_errors();
                        self.stats = Some(stats);
                    }
                }
            }
        }
    }
}

#[pymethods]
impl PyDocumentReader {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let mut guard = self.state();
        let state = &mut *guard;
        if state.pending.is_empty() {
            py.detach(|| state.fill());
        }
        let Some(doc) = state.pending.pop_front() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("id", doc.id)?;
        d.set_item("url", doc.url)?;
        d.set_item("text", doc.text)?;
        // 1-based line (record) number: what the labelled set's `#N` ids refer to.
        d.set_item("line", doc.position.line)?;
        Ok(Some(d))
    }

    /// Every input error met so far, as `path:line: message` strings.
    #[getter]
    fn errors(&self) -> Vec<String> {
        let state = self.state();
        let stats = state.stats.as_ref().unwrap_or(&state.parsed);
        stats.errors.iter().map(|e| e.to_string()).collect()
    }

    /// `{"documents", "skipped", "broken"}` once the shard is read to its end, else `None`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let state = self.state();
        let Some(s) = &state.stats else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("documents", s.documents)?;
        d.set_item("skipped", s.skipped_total())?;
        d.set_item("broken", s.broken)?;
        Ok(Some(d))
    }
}

/// `read_documents(path, format=None, text_field="text", id_field="id", url_field=None,
/// max_doc_bytes=16 MiB)`: the documents of one shard in any format tropescan reads.
#[pyfunction]
#[pyo3(signature = (path, format=None, text_field="text", id_field="id", url_field=None, max_doc_bytes=crate::input::DEFAULT_MAX_DOC_BYTES))]
fn read_documents(
    path: PathBuf,
    format: Option<&str>,
    text_field: &str,
    id_field: &str,
    url_field: Option<&str>,
    max_doc_bytes: usize,
) -> PyResult<PyDocumentReader> {
    let format = match format {
        Some(name) => Some(Format::from_name(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown format {name:?}; expected jsonl, warc, wet, wat, csv, tsv, parquet or text"
            ))
        })?),
        None => None,
    };
    let opts = ReadOptions {
        format,
        text_field: FieldPath::new(text_field),
        id_field: FieldPath::new(id_field),
        url_field: url_field.map(FieldPath::new),
        max_doc_bytes: max_doc_bytes.max(1),
        ..ReadOptions::default()
    };
    let reader = ShardReader::open(&Shard::from_path(&path), &opts, None)
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
    Ok(PyDocumentReader {
        state: Mutex::new(ReaderState {
            reader: Some(reader),
            opts,
            pending: VecDeque::new(),
            parsed: ShardStats::default(),
            stats: None,
        }),
    })
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyScanner>()?;
    m.add_class::<PyDocumentReader>()?;
    m.add_function(wrap_pyfunction!(read_documents, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
