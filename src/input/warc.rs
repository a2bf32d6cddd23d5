//! WARC, WET and WAT records -> documents. (Being written.)

use std::sync::Arc;

use super::batch::{BatchKind, Framer, Stream};
use super::{Document, ReadOptions, ShardStats};

pub(crate) struct RecordBatch {}

pub(crate) struct WarcFramer {}

impl WarcFramer {
    pub(crate) fn new(_stream: Stream, _shard: Arc<str>, _opts: &ReadOptions) -> WarcFramer {
        WarcFramer {}
    }
}

impl Framer for WarcFramer {
    fn next_batch(&mut self, _stats: &mut ShardStats) -> Option<BatchKind> {
        None
    }
}

pub(crate) fn parse_records(
    _batch: &RecordBatch,
    _shard: &str,
    _opts: &ReadOptions,
    _sink: &mut dyn FnMut(&Document<'_>),
    _stats: &mut ShardStats,
) {
}
