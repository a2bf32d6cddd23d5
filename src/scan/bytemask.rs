//! Byte classes of text, 64 bytes at a time: bit `k` of a mask describes byte `k` of a block.
//! The scorer's per-byte passes (the matcher's token prefilter, the word and sentence counts
//! of `features::positions`), the JSONL skim's string scan (`input/json_skim.rs`), the JSON
//! writer's escape check (`output/json.rs`) and the summary's word count work on these masks
//! instead of branching on every byte.
//!
//! SSE2 (part of the x86_64 baseline, so no runtime detection) with a scalar fallback
//! elsewhere; the word mask, which the scorer's token pass takes for every block of every
//! text, also has an AVX2 version for code compiled for AVX2 behind a runtime check
//! ([`avx2_available`]). All give the same bits (tested below).

/// One block of text.
pub(crate) type Block = [u8; 64];

/// The block of `b` starting at `base`; past the end of `b` it is padded with `fill`.
#[inline(always)]
pub(crate) fn block_at(b: &[u8], base: usize, fill: u8) -> std::borrow::Cow<'_, Block> {
    match b.get(base..base + 64) {
        Some(s) => std::borrow::Cow::Borrowed(s.try_into().expect("64 bytes")),
        None => {
            let mut pad = [fill; 64];
            let rest = b.get(base..).unwrap_or_default();
            pad[..rest.len()].copy_from_slice(rest);
            std::borrow::Cow::Owned(pad)
        }
    }
}

/// ASCII word bytes: `[A-Za-z0-9_]`.
pub(crate) static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_';
        i += 1;
    }
    t
};

/// The word separators of `features::positions`: space, tab, CR, LF (not form feed).
/// (On x86_64 only the tests use it: the SSE2 code compares the four bytes itself.)
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Masks for word and sentence counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentenceMasks {
    /// [`is_space`] bytes.
    pub space: u64,
    /// `\n`.
    pub newline: u64,
    /// `.`, `!`, `?`.
    pub punct: u64,
}

/// Bit `k` set when `block[k]` is an ASCII word byte ([`WORD`]).
#[inline(always)]
pub(crate) fn word_mask(block: &Block) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::masks(block, |v| [sse2::word(v)])[0]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_mask(block, |c| WORD[c as usize])
    }
}

/// True when [`word_mask_avx2`] may run, and code compiled for AVX2 with BMI1 and BMI2 (the
/// bit-manipulation sets every AVX2 CPU has): the CPU has all three (x86_64 only).
pub(crate) fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`word_mask`] with two 32-byte AVX2 compares instead of four 16-byte SSE2 ones (and no
/// register copies, as AVX2 instructions take three operands): 22 instructions a block
/// instead of ~50.
///
/// # Safety
/// The CPU must have AVX2 ([`avx2_available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn word_mask_avx2(block: &Block) -> u64 {
    use std::arch::x86_64::*;
    let lane = |at: usize| {
        // SAFETY: the caller's contract gives AVX2; the unaligned load reads 32 bytes at
        // offset 0 or 32 of the 64-byte block.
        unsafe {
            let v = _mm256_loadu_si256(block.as_ptr().add(at).cast());
            // The signed-compare range trick of `sse2::in_range`, 32 bytes at a time.
            let in_range = |v: __m256i, lo: u8, len: u8| {
                _mm256_cmpgt_epi8(
                    _mm256_set1_epi8((-128i16 + i16::from(len)) as i8),
                    _mm256_add_epi8(v, _mm256_set1_epi8(128u8.wrapping_sub(lo) as i8)),
                )
            };
            let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let word = _mm256_or_si256(
                _mm256_or_si256(in_range(lower, b'a', 26), in_range(v, b'0', 10)),
                _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'_' as i8)),
            );
            u64::from(_mm256_movemask_epi8(word) as u32)
        }
    };
    lane(0) | lane(32) << 32
}

/// Bit `k` set when `block[k]` is an [`is_space`] byte.
#[inline(always)]
pub(crate) fn space_mask(block: &Block) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::masks(block, |v| [sse2::space(v)])[0]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_mask(block, is_space)
    }
}

/// Bytes that end a run of plain JSON string content: `"`, `\\`, and the control bytes below
/// 0x20 that JSON forbids inside strings.
#[inline(always)]
pub(crate) fn is_string_stop(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// Bit `k` set when `block[k]` is an [`is_string_stop`] byte.
#[inline(always)]
pub(crate) fn string_stop_mask(block: &Block) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::masks(block, |v| [sse2::string_stop(v)])[0]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_mask(block, is_string_stop)
    }
}

/// Bit `k` set when `block[k]` is at most 0x20 (ASCII control bytes and space): the word
/// separators of the summary's `count_words`.
#[inline(always)]
pub(crate) fn at_most_space_mask(block: &Block) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::masks(block, |v| [sse2::at_most(v, 0x20)])[0]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_mask(block, |c| c <= 0x20)
    }
}

/// True when [`at_most_space_mask_avx2`] may run in code compiled for AVX2 and POPCNT (the
/// summary's word count): the CPU has both (x86_64 only).
pub(crate) fn avx2_popcnt_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`at_most_space_mask`] with two 32-byte AVX2 compares instead of four 16-byte SSE2 ones.
///
/// # Safety
/// The CPU must have AVX2 ([`avx2_popcnt_available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn at_most_space_mask_avx2(block: &Block) -> u64 {
    use std::arch::x86_64::*;
    let lane = |at: usize| {
        // SAFETY: the caller's contract gives AVX2; the unaligned load reads 32 bytes at
        // offset 0 or 32 of the 64-byte block.
        unsafe {
            let v = _mm256_loadu_si256(block.as_ptr().add(at).cast());
            // `min(b, 0x20) == b`, as `sse2::at_most` does 16 bytes at a time.
            let at_most = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x20)), v);
            u64::from(_mm256_movemask_epi8(at_most) as u32)
        }
    };
    lane(0) | lane(32) << 32
}

/// [`string_stop_mask`] of 16 bytes: a cheaper first look for short strings.
#[inline(always)]
pub(crate) fn string_stop_mask16(bytes: &[u8; 16]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is in the x86_64 baseline; the unaligned load reads the 16 bytes.
        unsafe {
            _mm_movemask_epi8(sse2::string_stop(_mm_loadu_si128(bytes.as_ptr().cast()))) as u16
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        bytes
            .iter()
            .enumerate()
            .fold(0u16, |m, (k, &c)| m | u16::from(is_string_stop(c)) << k)
    }
}

/// The first [`is_string_stop`] byte of `b` from `at` on: where a JSON string's plain
/// content ends (`input/json_skim.rs`), or the first byte a JSON writer must escape
/// (`output/json.rs`). Most strings there are short keys, ids and values, so this looks at 16
/// bytes first, then 64 at a time, and at a short tail byte by byte, inline rather than
/// calling `memchr2` (whose setup cost more than the scan for them).
#[inline]
pub(crate) fn find_string_stop(b: &[u8], mut at: usize) -> Option<usize> {
    let mut wide = false;
    loop {
        let rest = b.get(at..)?;
        if wide && rest.len() >= 64 {
            let mask = string_stop_mask(rest[..64].try_into().expect("64 bytes"));
            if mask != 0 {
                return Some(at + mask.trailing_zeros() as usize);
            }
            at += 64;
        } else if rest.len() >= 16 {
            let mask = string_stop_mask16(rest[..16].try_into().expect("16 bytes"));
            if mask != 0 {
                return Some(at + mask.trailing_zeros() as usize);
            }
            at += 16;
            wide = true;
        } else {
            // Under 16 bytes left (short ids and names): a byte loop, no padded block.
            return rest.iter().position(|&c| is_string_stop(c)).map(|i| at + i);
        }
    }
}

/// The three masks sentence counting needs, in one pass over the block.
#[inline(always)]
pub(crate) fn sentence_masks(block: &Block) -> SentenceMasks {
    #[cfg(target_arch = "x86_64")]
    {
        let [space, newline, punct] = sse2::masks(block, |v| {
            let nl = sse2::eq(v, b'\n');
            [sse2::space_with_newline(v, nl), nl, sse2::punct(v)]
        });
        SentenceMasks {
            space,
            newline,
            punct,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        SentenceMasks {
            space: scalar_mask(block, is_space),
            newline: scalar_mask(block, |c| c == b'\n'),
            punct: scalar_mask(block, |c| matches!(c, b'.' | b'!' | b'?')),
        }
    }
}

/// [`sentence_masks`] and, in `space`, [`space_mask`], with 32-byte AVX2 compares.
///
/// # Safety
/// The CPU must have AVX2 ([`avx2_popcnt_available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn sentence_masks_avx2(block: &Block) -> SentenceMasks {
    use std::arch::x86_64::*;
    let lane = |at: usize| {
        // SAFETY: the caller's contract gives AVX2; the unaligned load reads 32 bytes at
        // offset 0 or 32 of the 64-byte block.
        unsafe {
            let v = _mm256_loadu_si256(block.as_ptr().add(at).cast());
            let eq = |b: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b as i8));
            let nl = eq(b'\n');
            let space = _mm256_or_si256(
                _mm256_or_si256(eq(b' '), eq(b'\t')),
                _mm256_or_si256(eq(b'\r'), nl),
            );
            let punct = _mm256_or_si256(_mm256_or_si256(eq(b'.'), eq(b'!')), eq(b'?'));
            let bits = |m: __m256i| u64::from(_mm256_movemask_epi8(m) as u32);
            [bits(space), bits(nl), bits(punct)]
        }
    };
    let (low, high) = (lane(0), lane(32));
    SentenceMasks {
        space: low[0] | high[0] << 32,
        newline: low[1] | high[1] << 32,
        punct: low[2] | high[2] << 32,
    }
}

/// Reference and fallback: one bit per byte from a predicate.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn scalar_mask(block: &Block, f: impl Fn(u8) -> bool) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0u64, |m, (k, &c)| m | u64::from(f(c)) << k)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    //! SSE2 byte comparisons; every function here only uses SSE2, which every x86_64 CPU has.
    use std::arch::x86_64::*;

    /// Applies `f` to the four 16-byte lanes of `block` and gathers each of its `N` byte
    /// masks (0xFF / 0x00 per byte) into one bit per byte.
    #[inline(always)]
    pub(super) fn masks<const N: usize>(
        block: &super::Block,
        f: impl Fn(__m128i) -> [__m128i; N],
    ) -> [u64; N] {
        let mut out = [0u64; N];
        for lane in 0..4 {
            // SAFETY: SSE2 is in the x86_64 baseline; the unaligned load reads 16 bytes at
            // offset 16 * lane < 64 of the 64-byte block.
            let v = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * lane).cast()) };
            for (o, m) in out.iter_mut().zip(f(v)) {
                // SAFETY: SSE2 (baseline).
                let bits = unsafe { _mm_movemask_epi8(m) } as u16;
                *o |= u64::from(bits) << (16 * lane);
            }
        }
        out
    }

    #[inline(always)]
    pub(super) fn eq(v: __m128i, b: u8) -> __m128i {
        // SAFETY: SSE2 (baseline).
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)) }
    }

    #[inline(always)]
    pub(super) fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: SSE2 (baseline).
        unsafe { _mm_or_si128(a, b) }
    }

    /// Bytes in `lo..lo + len` (unsigned), with the signed-compare trick: shift the range to
    /// start at -128.
    #[inline(always)]
    fn in_range(v: __m128i, lo: u8, len: u8) -> __m128i {
        // SAFETY: SSE2 (baseline).
        unsafe {
            _mm_cmplt_epi8(
                _mm_add_epi8(v, _mm_set1_epi8(128u8.wrapping_sub(lo) as i8)),
                _mm_set1_epi8((-128i16 + i16::from(len)) as i8),
            )
        }
    }

    /// Bytes `<= max` (unsigned): `min(b, max) == b`, as SSE2 has no unsigned byte compare.
    #[inline(always)]
    pub(super) fn at_most(v: __m128i, max: u8) -> __m128i {
        // SAFETY: SSE2 (baseline).
        unsafe { _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(max as i8)), v) }
    }

    /// `"`, `\\` or a byte below 0x20.
    #[inline(always)]
    pub(super) fn string_stop(v: __m128i) -> __m128i {
        or(or(eq(v, b'"'), eq(v, b'\\')), at_most(v, 0x1F))
    }

    /// `[A-Za-z0-9_]`.
    #[inline(always)]
    pub(super) fn word(v: __m128i) -> __m128i {
        // SAFETY: SSE2 (baseline).
        let lower = unsafe { _mm_or_si128(v, _mm_set1_epi8(0x20)) };
        or(
            or(in_range(lower, b'a', 26), in_range(v, b'0', 10)),
            eq(v, b'_'),
        )
    }

    /// Space, tab, CR, LF.
    #[inline(always)]
    pub(super) fn space(v: __m128i) -> __m128i {
        space_with_newline(v, eq(v, b'\n'))
    }

    /// [`space`] reusing an already computed LF comparison.
    #[inline(always)]
    pub(super) fn space_with_newline(v: __m128i, nl: __m128i) -> __m128i {
        or(or(eq(v, b' '), eq(v, b'\t')), or(eq(v, b'\r'), nl))
    }

    /// `.`, `!`, `?`.
    #[inline(always)]
    pub(super) fn punct(v: __m128i) -> __m128i {
        or(or(eq(v, b'.'), eq(v, b'!')), eq(v, b'?'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every position of a block.
    fn blocks() -> impl Iterator<Item = Block> {
        (0..256).step_by(64).flat_map(|start| {
            (0..64).map(move |rot| {
                let mut b = [0u8; 64];
                for (k, x) in b.iter_mut().enumerate() {
                    *x = (start + (k + rot) % 64) as u8;
                }
                b
            })
        })
    }

    #[test]
    fn masks_equal_scalar_definitions() {
        for b in blocks() {
            let words = scalar_mask(&b, |c| WORD[c as usize]);
            assert_eq!(word_mask(&b), words);
            #[cfg(target_arch = "x86_64")]
            if avx2_available() {
                // SAFETY: checked just above.
                assert_eq!(unsafe { word_mask_avx2(&b) }, words);
            }
            assert_eq!(space_mask(&b), scalar_mask(&b, is_space));
            let m = sentence_masks(&b);
            assert_eq!(m.space, scalar_mask(&b, is_space));
            assert_eq!(m.newline, scalar_mask(&b, |c| c == b'\n'));
            assert_eq!(m.punct, scalar_mask(&b, |c| b".!?".contains(&c)));
            assert_eq!(at_most_space_mask(&b), scalar_mask(&b, |c| c <= 0x20));
            #[cfg(target_arch = "x86_64")]
            if avx2_popcnt_available() {
                // SAFETY: checked just above.
                assert_eq!(unsafe { sentence_masks_avx2(&b) }, m);
                // SAFETY: checked just above.
                let avx2 = unsafe { at_most_space_mask_avx2(&b) };
                assert_eq!(avx2, scalar_mask(&b, |c| c <= 0x20));
            }
            let stops = scalar_mask(&b, is_string_stop);
            assert_eq!(string_stop_mask(&b), stops);
            let first: &[u8; 16] = b[..16].try_into().unwrap();
            assert_eq!(u64::from(string_stop_mask16(first)), stops & 0xFFFF);
        }
    }

    #[test]
    fn find_string_stop_finds_the_first_quote_backslash_or_control_byte() {
        let mut b = vec![b'a'; 200];
        assert_eq!(find_string_stop(&b, 0), None);
        b[130] = b'\\';
        b[150] = b'"';
        assert_eq!(find_string_stop(&b, 0), Some(130));
        assert_eq!(find_string_stop(&b, 131), Some(150));
        assert_eq!(find_string_stop(&b, 151), None);
        assert_eq!(find_string_stop(&b, 125), Some(130));
        assert_eq!(find_string_stop(&b, 140), Some(150));
        // Padding past the end is a quote, which must not be reported.
        assert_eq!(find_string_stop(b"abc", 1), None);
        assert_eq!(find_string_stop(b"", 0), None);
        assert_eq!(find_string_stop(b"ab\tc\"", 0), Some(2));
    }

    #[test]
    fn block_at_pads_past_the_end() {
        let text = b"abc";
        let b = block_at(text, 0, b' ');
        assert_eq!(&b[..4], b"abc ");
        assert!(matches!(
            block_at(&[7u8; 70], 0, 0),
            std::borrow::Cow::Borrowed(_)
        ));
        let tail = block_at(&[7u8; 70], 64, 0);
        assert_eq!(&tail[..7], &[7, 7, 7, 7, 7, 7, 0]);
        assert_eq!(block_at(text, 64, b'x')[0], b'x');
    }
}
