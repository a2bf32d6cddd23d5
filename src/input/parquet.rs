//! Parquet rows -> documents. (Being written.)

use std::sync::Arc;

use super::batch::{BatchKind, Framer};
use super::source::SharedBytes;
use super::{InputError, ReadOptions, ShardStats};

pub(crate) struct ParquetFramer {}

impl ParquetFramer {
    pub(crate) fn new(
        _bytes: Arc<SharedBytes>,
        _shard: Arc<str>,
        _opts: &ReadOptions,
    ) -> Result<ParquetFramer, InputError> {
        Ok(ParquetFramer {})
    }
}

impl Framer for ParquetFramer {
    fn next_batch(&mut self, _stats: &mut ShardStats) -> Option<BatchKind> {
        None
    }
}
