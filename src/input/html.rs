//! HTML -> text. (Being written.)
