//! DC-only JPEG decoding: a 1/8-scale RGB image read straight from the DCT DC
//! coefficients, for thumbnails and import validation. Pure Rust, `std` only,
//! no `unsafe`.
//!
//! # Why the DC coefficient is enough
//! With the JPEG forward DCT normalisation, the DC coefficient of an 8×8 block
//! is `F(0,0) = (1/8) · Σ f(x,y)` over the 64 level-shifted samples, i.e. eight
//! times the block mean. So the mean of a block is `DC·Q0/8 + 128`, where `Q0`
//! is the DC entry of the block's quantisation table. One block → one pixel is
//! exactly a box-filtered 1/8 downscale, the same thing libjpeg's
//! `scale_denom = 8` (`jpeg_idct_1x1`) computes. We never need AC values, only
//! their *lengths*, so that we can find where the next block's DC starts.
//!
//! # Where the time goes, and the fused AC table
//! In a camera file ~95% of the entropy-coded bits are AC coefficients.
//! Decoding them normally costs, per coefficient: a Huffman lookup, then
//! extracting and sign-extending `s` magnitude bits. We only need to skip them,
//! so each AC table gets a precomputed "skip table" indexed by the next
//! [`FAST_BITS`] bits of the stream. An entry says how many bits to drop and how
//! far the coefficient index `k` moves, covering *several* whole symbols
//! (code + magnitude bits) when they fit in the lookup window, with a
//! single-symbol fallback for when the multi-symbol run would cross the end of
//! the block. Codes longer than the window use the canonical slow path. See
//! `build_ac_skip` for the exact encoding. DC tables get the same treatment
//! with the decoded difference stored in the entry (`fuse_dc`). The hot loop
//! is then one table load and one shift per step; it is bound by that
//! load → shift → load latency chain.
//!
//! Built tables are kept in a small per-thread cache keyed by the table bytes
//! (camera files nearly all share a few tables), so small files do not pay
//! for table building; see [`clear_table_cache`].
//!
//! # What is supported
//! * Baseline and extended sequential Huffman (SOF0/SOF1), 8-bit, 1 component
//!   (grey) or 3 components (YCbCr; JFIF, Adobe transform=1 or no marker).
//!   Any sampling factors 1..=4 where each component's factor divides the
//!   maximum (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 4:1:0, ...), interleaved or
//!   non-interleaved scans, restart intervals, byte stuffing, fill bytes,
//!   DHT/DQT anywhere before the scan that uses them, 8- or 16-bit DQT.
//! * Progressive Huffman (SOF2), 8-bit: the DC-first and DC-refinement scans
//!   are decoded; AC scans are skipped by walking to the next marker, without
//!   Huffman-decoding them.
//! * A component that never gets DC data (a multi-scan file missing a scan)
//!   comes out mid-grey, as in libjpeg; a file with no DC data at all is
//!   `Unsupported`.
//! * Everything else → [`DcError::Unsupported`] (the caller falls back to a full
//!   decoder): arithmetic coding, lossless, hierarchical, 12/16-bit, CMYK/YCCK,
//!   Adobe transform=0 or 'R','G','B' component ids (RGB JPEG), 2 or >4
//!   components, sampling factors that do not divide the maximum.
//!
//! # Validation semantics
//! * `Truncated`: the data ends (or reaches EOI) before all MCUs of a scan are
//!   decoded, the file never reaches EOI (except a sequential image whose every
//!   block was decoded: only its EOI is missing, and, as libjpeg does, it is
//!   accepted), a marker segment runs past the end of the file, or a scan has
//!   fewer bits left in the file than it has blocks (a header claiming a huge
//!   image over a small file).
//! * `Corrupt`: not a JPEG, bad or unknown markers, bad segment lengths,
//!   impossible Huffman tables, invalid Huffman codes, scan data running into
//!   a marker, a wrong restart marker, zero width or height, component ids
//!   that do not match the frame, missing tables, more than 1024 bytes of
//!   unused entropy data after a scan.
//! * `TooLarge`: `width*height > max_pixels`, checked before any allocation.
//! * Allocation is O(number of 8×8 blocks) and each scan's block count is
//!   checked against the bytes left in the file before its planes are
//!   allocated, so a small file cannot make us allocate a huge image: the
//!   output has at most 128 pixels per file byte.
//! * Work is O(file size + blocks): every Huffman lookup consumes ≥ 1 bit and
//!   advances the coefficient index, and decoding stops at the first MCU that
//!   runs past the end of the real scan data.
//!
//! # Output
//! `dc_width × dc_height = ceil(w/8) × ceil(h/8)`, RGB, 3 bytes per pixel.
//! Each sample is `clamp(round(DC·Q0/8) + 128)`, libjpeg's `jpeg_idct_1x1`.
//! Subsampled chroma is upsampled to the luma block grid with centred linear
//! (triangle) interpolation for factor 2 (libjpeg's "fancy" upsampling: 3/4,
//! 1/4 weights) and replication for larger factors, as libjpeg does; then
//! JFIF (full-range BT.601) YCbCr→RGB with libjpeg's 16-bit fixed-point
//! constants. For 4:4:4 and greyscale files the output is bit-identical to
//! `djpeg -scale 1/8`. For subsampled files libjpeg-turbo's 1/8 decode runs
//! the chroma IDCT at 2/8 or 4/8 scale (using chroma AC) and so has slightly
//! sharper colour edges; the difference is invisible at thumbnail size.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// A 1/8-scale image made from the DC coefficients.
#[derive(Debug, Clone)]
pub struct DcImage {
    /// Full image width from the SOF header.
    pub width: u32,
    /// Full image height from the SOF header.
    pub height: u32,
    /// `ceil(width / 8)`
    pub dc_width: u32,
    /// `ceil(height / 8)`
    pub dc_height: u32,
    /// `dc_width * dc_height * 3` bytes, RGB, row-major.
    pub rgb: Vec<u8>,
    /// The file is progressive (SOF2).
    pub progressive: bool,
}

/// Why a file could not be decoded.
#[derive(Debug)]
pub enum DcError {
    /// A valid JPEG feature this decoder does not handle: fall back to a full decoder.
    Unsupported(&'static str),
    /// The data ends before the image is complete (or before EOI).
    Truncated(String),
    /// The data is not a valid JPEG stream.
    Corrupt(String),
    /// `width * height` is above the caller's `max_pixels`.
    TooLarge { width: u32, height: u32 },
}

impl fmt::Display for DcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DcError::Unsupported(what) => write!(f, "unsupported JPEG: {what}"),
            DcError::Truncated(why) => write!(f, "truncated JPEG: {why}"),
            DcError::Corrupt(why) => write!(f, "corrupt JPEG: {why}"),
            DcError::TooLarge { width, height } => {
                write!(f, "JPEG too large: {width}x{height}")
            }
        }
    }
}

impl std::error::Error for DcError {}

type Result<T> = std::result::Result<T, DcError>;

fn corrupt<T>(why: impl Into<String>) -> Result<T> {
    Err(DcError::Corrupt(why.into()))
}

/// The one truncation that can follow a complete image (see `sequential_image_complete`).
const NO_EOI: &str = "no EOI marker";

fn truncated<T>(why: impl Into<String>) -> Result<T> {
    Err(DcError::Truncated(why.into()))
}

/// Reads the frame size and whether the file is progressive, parsing markers
/// only up to the first SOF. Cheap: it does not touch entropy-coded data.
///
/// Any SOF type is reported (so a caller can size-check files it will hand to a
/// full decoder); `progressive` is true for SOF2/6/10/14. Zero width or height
/// is `Corrupt`. A successful `read_header` does not promise that
/// [`decode_dc`] supports the file.
pub fn read_header(data: &[u8]) -> Result<(u32, u32, bool)> {
    check_soi(data)?;
    let mut pos = 2;
    loop {
        let (marker, after) = next_marker(data, pos)?;
        pos = after;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let body = segment(data, pos)?;
                if body.len() < 6 {
                    return corrupt("SOF segment too short");
                }
                let height = u16::from_be_bytes([body[1], body[2]]) as u32;
                let width = u16::from_be_bytes([body[3], body[4]]) as u32;
                if width == 0 || height == 0 {
                    return corrupt(format!("zero image dimension {width}x{height}"));
                }
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                return Ok((width, height, progressive));
            }
            0xDA => return corrupt("SOS before SOF"),
            0xD9 => return corrupt("EOI before SOF"),
            0xD8 => return corrupt("duplicate SOI"),
            0xD0..=0xD7 | 0x01 => {}
            0x02..=0xBF => return corrupt(format!("unknown marker FF{marker:02X}")),
            _ => pos += segment(data, pos)?.len() + 2,
        }
    }
}

/// Decodes the DC coefficients of a JPEG into a 1/8-scale RGB image.
///
/// `max_pixels` bounds `width * height` of the full image (checked right after
/// the SOF header, before allocating anything).
pub fn decode_dc(data: &[u8], max_pixels: u64) -> Result<DcImage> {
    Decoder::new(data, max_pixels).run()
}

// ---------------------------------------------------------------------------
// Marker-level helpers
// ---------------------------------------------------------------------------

fn check_soi(data: &[u8]) -> Result<()> {
    match data {
        [0xFF, 0xD8, ..] => Ok(()),
        [] | [0xFF] => truncated("file shorter than the SOI marker"),
        _ => corrupt("not a JPEG (no SOI marker)"),
    }
}

/// Finds the next marker at or after `pos`, skipping fill bytes (FF FF ...)
/// and, like libjpeg, stray non-marker bytes. Returns the marker code and the
/// position just after it.
fn next_marker(data: &[u8], mut pos: usize) -> Result<(u8, usize)> {
    loop {
        match data.get(pos..) {
            Some(rest) => match rest.iter().position(|&b| b == 0xFF) {
                Some(i) => pos += i,
                None => return truncated(NO_EOI),
            },
            None => return truncated(NO_EOI),
        }
        // data[pos] == 0xFF; skip fill bytes.
        let mut p = pos + 1;
        while p < data.len() && data[p] == 0xFF {
            p += 1;
        }
        match data.get(p) {
            None => return truncated(NO_EOI),
            Some(0x00) => pos = p + 1, // stuffed byte outside a scan: garbage, skip
            Some(&m) => return Ok((m, p + 1)),
        }
    }
}

/// The body of the marker segment whose length field starts at `pos`.
fn segment(data: &[u8], pos: usize) -> Result<&[u8]> {
    let Some(len_bytes) = data.get(pos..pos + 2) else {
        return truncated("file ends inside a marker segment");
    };
    let len = u16::from_be_bytes([len_bytes[0], len_bytes[1]]) as usize;
    if len < 2 {
        return corrupt(format!("marker segment length {len} < 2"));
    }
    match data.get(pos + 2..pos + len) {
        Some(body) => Ok(body),
        None => truncated("file ends inside a marker segment"),
    }
}

/// True if any byte of `w` is 0xFF (SWAR "has zero byte" on `!w`).
#[inline(always)]
fn has_ff_byte(w: u64) -> bool {
    let x = !w;
    (x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080) != 0
}

/// Index of the 0xFF that starts the next marker at or after `pos` inside
/// entropy-coded data (skipping stuffed FF00, fill FFs and, if `skip_rst`,
/// RSTn markers), or `data.len()` if there is none.
fn find_marker(data: &[u8], mut pos: usize, skip_rst: bool) -> usize {
    loop {
        // Skip 8 bytes at a time while there is no 0xFF in them.
        while let Some(chunk) = data.get(pos..pos + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap());
            if has_ff_byte(w) {
                break;
            }
            pos += 8;
        }
        let Some(i) = data.get(pos..).and_then(|r| r.iter().position(|&b| b == 0xFF)) else {
            return data.len();
        };
        pos += i;
        let mut p = pos + 1;
        while p < data.len() && data[p] == 0xFF {
            p += 1;
        }
        match data.get(p) {
            None => return data.len(),
            Some(0x00) => pos = p + 1,
            Some(0xD0..=0xD7) if skip_rst => pos = p + 1,
            Some(_) => return p - 1,
        }
    }
}

// ---------------------------------------------------------------------------
// Bit reader
// ---------------------------------------------------------------------------

/// MSB-first bit reader over entropy-coded data with a 64-bit buffer.
///
/// `bits` holds `nbits` valid bits left-aligned. Bits below those may hold
/// "stale" copies of the next stream bits from the 8-byte fast refill; they
/// are always the true stream bits for those positions, so OR-ing the same
/// bytes in again later is harmless. When the data reaches a marker or the end
/// of the file, zero bytes are appended (like libjpeg) and counted in `pad`;
/// `pad > nbits` means decoding has consumed bits that do not exist.
#[derive(Clone, Copy)]
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    bits: u64,
    nbits: u32,
    pad: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader { data, pos, bits: 0, nbits: 0, pad: 0 }
    }

    /// Ensures at least 32 valid (or padding) bits are buffered.
    ///
    /// The common case is branch-free on the bit count: when the next 8 bytes
    /// hold no 0xFF (no stuffing, no marker) we top the buffer up to 56..63
    /// bits unconditionally, which avoids a poorly predicted "is the buffer
    /// low?" branch per lookup.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let w = u64::from_be_bytes(chunk.try_into().unwrap());
            if !has_ff_byte(w) {
                self.bits |= w >> self.nbits;
                self.pos += ((63 - self.nbits) >> 3) as usize;
                self.nbits |= 56;
                return;
            }
        }
        if self.nbits < 32 {
            self.refill_slow();
        }
    }

    /// Byte-at-a-time refill near 0xFF bytes and the end of the data.
    /// Inlined: an out-of-line call taking `&mut self` would force the
    /// reader out of registers in the hot loop.
    #[inline(always)]
    fn refill_slow(&mut self) {
        // Leaves 56..=63 bits: below 64 so that the fast path's `w >> nbits`
        // stays in range even if two refills happen back to back.
        while self.nbits < 56 {
            let byte = if self.pad > 0 {
                self.pad += 8;
                0
            } else {
                match self.data.get(self.pos) {
                    None => {
                        self.pad += 8;
                        0
                    }
                    Some(&0xFF) => match self.data.get(self.pos + 1) {
                        Some(0x00) => {
                            self.pos += 2;
                            0xFF
                        }
                        Some(0xFF) => {
                            // Fill byte before a marker.
                            self.pos += 1;
                            continue;
                        }
                        // A marker (pos stays on its FF), or a final lone FF.
                        _ => {
                            self.pad += 8;
                            0
                        }
                    },
                    Some(&b) => {
                        self.pos += 1;
                        b
                    }
                }
            };
            self.bits |= (byte as u64) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    #[inline(always)]
    fn peek_fast(&self) -> usize {
        (self.bits >> (64 - FAST_BITS)) as usize
    }

    /// Drops `n` bits; the caller has ensured `n <= nbits` (n <= 31 after refill).
    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.bits <<= n;
        self.nbits -= n;
    }

    /// Drops the number of bits in the low 6 bits of `e` (<= 31 by
    /// construction). `wrapping_shl` masks the count to 6 bits, which is what
    /// the x86 shift instruction does anyway, so no masking op is emitted.
    #[inline(always)]
    fn consume_low6(&mut self, e: u32) {
        self.bits = self.bits.wrapping_shl(e);
        self.nbits -= e & 63;
    }

    /// Takes `n` bits, 1 <= n <= 31, after a refill.
    #[inline(always)]
    fn take(&mut self, n: u32) -> u32 {
        let v = (self.bits >> (64 - n)) as u32;
        self.consume(n);
        v
    }

    /// True if decoding has used bits past the end of the real scan data.
    #[inline(always)]
    fn overran(&self) -> bool {
        self.pad > self.nbits
    }

    #[cold]
    #[inline(never)]
    fn overrun_error(self) -> DcError {
        let marker = self.marker_at(self.pos);
        match marker {
            None => DcError::Truncated("file ends inside scan data".into()),
            Some(0xD9) => DcError::Truncated("EOI before all MCUs were decoded".into()),
            Some(m) => DcError::Corrupt(format!("scan data runs into marker FF{m:02X}")),
        }
    }

    fn marker_at(&self, p: usize) -> Option<u8> {
        match self.data.get(p..p + 2) {
            Some([0xFF, m]) => Some(*m),
            _ => None,
        }
    }

    /// Handles a restart marker: discards the partial byte, checks that the
    /// next marker is RST`expected`, and returns a reader positioned after it.
    #[inline(never)]
    fn restart(mut self, expected: u8) -> Result<Self> {
        let mpos = if self.pad > 0 { self.pos } else { find_marker(self.data, self.pos, false) };
        match self.marker_at(mpos) {
            Some(m) if m == 0xD0 + expected => {
                self.pos = mpos + 2;
                self.bits = 0;
                self.nbits = 0;
                self.pad = 0;
                Ok(self)
            }
            Some(0xD9) => truncated("EOI before all MCUs were decoded"),
            Some(m) => corrupt(format!("expected RST{expected}, found marker FF{m:02X}")),
            None => truncated("file ends inside scan data"),
        }
    }

    /// Called after the last MCU: returns the position of the marker that
    /// follows the scan.
    fn finish_scan(self) -> Result<usize> {
        if self.pad > 0 {
            return if self.pos + 1 < self.data.len() { Ok(self.pos) } else { truncated(NO_EOI) };
        }
        let mpos = find_marker(self.data, self.pos, true);
        if mpos >= self.data.len() {
            return truncated(NO_EOI);
        }
        // A well-formed scan ends within the byte holding its last bit. A few
        // stray bytes are tolerated (libjpeg warns); a lot means the entropy
        // data did not describe this image.
        let unused = mpos - self.pos;
        if unused > MAX_UNUSED_SCAN_BYTES {
            return corrupt(format!("{unused} bytes of unused entropy data after scan"));
        }
        Ok(mpos)
    }
}

const MAX_UNUSED_SCAN_BYTES: usize = 1024;

// ---------------------------------------------------------------------------
// Huffman tables
// ---------------------------------------------------------------------------

/// Lookup window of the fast tables, in bits. Measured on the ISIC set:
/// 10 bits is ~15% slower; 12 bits is ~2.5% faster on high-bit-rate files
/// but doubles the tables (4 × 16 KiB no longer fits a 32 KiB L1) and their
/// build time; 13 is slower.
pub const FAST_BITS: u32 = 11;
const FAST_SIZE: usize = 1 << FAST_BITS;

// Layout of one AC skip-table entry (u32). The multi-symbol bit count sits
// in the low 6 bits so that `bits.wrapping_shl(entry)` consumes it directly
// (x86 shifts mask the count to 6 bits), keeping the lookup → shift →
// lookup dependency chain as short as possible.
//   bits  0..=5   multi: bits to drop for all whole symbols that fit (<= 26)
//   bits  6..=12  multi: how far k advances (+1 for a final EOB); 127 = unusable
//   bit  13       multi: the run ends with EOB (shifted down 7 it becomes 64)
//   bits 16..=20  single: bits to drop for the first symbol (code + magnitude); 0 = slow path
//   bits 21..=27  single: how far k advances (r+1, 16 for ZRL, 64 for EOB)
const M_ADV_SHIFT: u32 = 6;
const M_EOB: u32 = 1 << 13;
const S_BITS_SHIFT: u32 = 16;
const S_ADV_SHIFT: u32 = 21;
const SLOW_ENTRY: u32 = 127 << M_ADV_SHIFT;

// DC table entries: 0 = slow path; DC_FUSED set: bits 0..=5 total bits
// (code + magnitude), bits 16..=31 the difference value as i16; otherwise
// bits 0..=4 code length, bits 8..=11 magnitude category.
const DC_FUSED: u32 = 1 << 7;

struct HuffTable {
    /// Symbols in code order.
    vals: [u8; 256],
    /// `maxcode[l]`: largest code of length `l`, or -1 (libjpeg's canonical decode).
    maxcode: [i32; 17],
    /// `valoff[l]`: index into `vals` of code `c` of length `l` is `c + valoff[l]`.
    valoff: [i32; 17],
    /// (code, length) for each symbol index, for building fast tables.
    codes: Vec<(u16, u8)>,
    /// DC entries or AC skip entries (see above). Built lazily the first
    /// time a scan uses the table, and shared through a per-thread cache.
    fast: Arc<[u32; FAST_SIZE]>,
    fast_built: bool,
    is_ac: bool,
    /// Class, counts and symbols: the cache key.
    key: Vec<u8>,
}

/// How many built fast tables each thread keeps. Camera and encoder-library
/// files nearly all use the same few tables (often the Annex K examples), so
/// a small cache removes table building from the per-file cost, which
/// dominates for small images (a 200×150 file decodes in ~15 µs; building two
/// AC skip tables costs about as much again).
const TABLE_CACHE_SIZE: usize = 16;

/// (cache key, built table) pairs, oldest first.
type TableCache = Vec<(Vec<u8>, Arc<[u32; FAST_SIZE]>)>;

thread_local! {
    static TABLE_CACHE: std::cell::RefCell<TableCache> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Empties this thread's cache of built Huffman fast tables (at most
/// `TABLE_CACHE_SIZE` × 8 KiB). Only needed to measure cold-cache speed or to
/// give the memory back.
pub fn clear_table_cache() {
    TABLE_CACHE.with(|c| c.borrow_mut().clear());
}

fn slow_only_table() -> Arc<[u32; FAST_SIZE]> {
    static T: OnceLock<Arc<[u32; FAST_SIZE]>> = OnceLock::new();
    T.get_or_init(|| Arc::new([SLOW_ENTRY; FAST_SIZE])).clone()
}

impl HuffTable {
    /// Parses one table from a DHT segment. Returns the table and the bytes used.
    fn parse(body: &[u8], is_ac: bool) -> Result<(HuffTable, usize)> {
        if body.len() < 16 {
            return corrupt("DHT segment too short");
        }
        let counts = &body[..16];
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total > 256 {
            return corrupt(format!("DHT with {total} codes (> 256)"));
        }
        let Some(syms) = body.get(16..16 + total) else {
            return corrupt("DHT segment shorter than its code counts");
        };
        let mut t = HuffTable {
            vals: [0; 256],
            maxcode: [-1; 17],
            valoff: [0; 17],
            codes: Vec::with_capacity(total),
            fast: slow_only_table(),
            fast_built: false,
            is_ac,
            key: Vec::with_capacity(17 + total),
        };
        t.key.push(is_ac as u8);
        t.key.extend_from_slice(&body[..16 + total]);
        t.vals[..total].copy_from_slice(syms);
        if !is_ac && let Some(&s) = syms.iter().find(|&&s| s > 15) {
            return corrupt(format!("DC Huffman symbol {s} > 15"));
        }
        // Canonical code assignment; like libjpeg, the all-ones code of any
        // length is not allowed, which also rules out over-full code spaces.
        let mut code: u32 = 0;
        let mut k: usize = 0;
        for l in 1..=16usize {
            let n = counts[l - 1] as usize;
            if n > 0 {
                t.valoff[l] = k as i32 - code as i32;
                for _ in 0..n {
                    t.codes.push((code as u16, l as u8));
                    code += 1;
                }
                k += n;
                t.maxcode[l] = code as i32 - 1;
            }
            if code >= 1 << l {
                return corrupt("impossible Huffman code counts in DHT");
            }
            code <<= 1;
        }
        Ok((t, 16 + total))
    }

    /// Canonical (slow) decode from the top 16 bits of `bits`: (length, symbol).
    #[inline(never)]
    fn decode_slow(&self, bits: u64) -> Option<(u32, u8)> {
        let w = (bits >> 48) as i32;
        for l in 1..=16usize {
            let code = w >> (16 - l);
            if code <= self.maxcode[l] {
                let i = (code + self.valoff[l]) as usize;
                return Some((l as u32, self.vals[i & 0xFF]));
            }
        }
        None
    }

    fn ensure_fast(&mut self) {
        if self.fast_built {
            return;
        }
        let cached = TABLE_CACHE.with(|c| c.borrow().iter().find(|(k, _)| *k == self.key).map(|(_, t)| t.clone()));
        if let Some(t) = cached {
            self.fast = t;
            self.fast_built = true;
            return;
        }
        let mut table = Arc::new([0u32; FAST_SIZE]);
        self.build_fast(Arc::make_mut(&mut table));
        TABLE_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= TABLE_CACHE_SIZE {
                c.remove(0);
            }
            c.push((self.key.clone(), table.clone()));
        });
        self.fast = table;
        self.fast_built = true;
    }

    fn build_fast(&self, first: &mut [u32; FAST_SIZE]) {
        // First-symbol table: len | sym << 8, 0 where no code of <= FAST_BITS matches.
        for (i, &(code, len)) in self.codes.iter().enumerate() {
            let len = len as u32;
            if len <= FAST_BITS {
                let base = (code as usize) << (FAST_BITS - len);
                let entry = len | (self.vals[i] as u32) << 8;
                first[base..base + (1 << (FAST_BITS - len))].fill(entry);
            }
        }
        if self.is_ac {
            build_ac_skip(first);
        } else {
            fuse_dc(first);
        }
    }
}

/// Turns a first-symbol table (`len | rs << 8`) into the fused AC skip table.
///
/// For each `FAST_BITS`-bit window value:
/// * single: the first symbol's code length plus its magnitude bits, and its
///   effect on `k` (r+1 for a coefficient, 16 for ZRL, 64 for EOB). The
///   magnitude bits may extend past the window: we drop them unread.
/// * multi: as many consecutive whole symbols as can be identified inside the
///   window (each symbol's code must lie inside the window; the last one's
///   magnitude bits may extend past it), stopping after an EOB. The hot loop
///   uses it only when `k + advance <= 64`, so a run never crosses the end of
///   the block (for a final EOB the advance includes +1, so the EOB is known
///   to sit at a coefficient index <= 63 and not to be the next block's DC).
///
/// A symbol with s = 0 and r != 15 is treated as EOB, as libjpeg does.
fn build_ac_skip(table: &mut [u32; FAST_SIZE]) {
    let first: Vec<u32> = table.to_vec();
    let mask = FAST_SIZE - 1;
    for (idx, out) in table.iter_mut().enumerate() {
        let f = first[idx];
        if f == 0 {
            *out = SLOW_ENTRY;
            continue;
        }
        let sym = |e: u32| -> (u32, u32, u32) { (e & 0xFF, (e >> 12) & 15, (e >> 8) & 15) }; // (len, r, s)
        let (len, r, s) = sym(f);
        let single = if s == 0 && r != 15 {
            len << S_BITS_SHIFT | 64 << S_ADV_SHIFT
        } else {
            (len + s) << S_BITS_SHIFT | (if s == 0 { 16 } else { r + 1 }) << S_ADV_SHIFT
        };
        let mut pos = 0u32; // bits used so far
        let mut adv = 0u32;
        let mut eob = false;
        loop {
            let e = first[(idx << pos) & mask];
            let (len, r, s) = sym(e);
            if e == 0 || pos + len > FAST_BITS {
                break; // next code not (fully) inside the window
            }
            if s == 0 && r != 15 {
                pos += len;
                adv += 1;
                eob = true;
                break;
            }
            pos += len + s;
            adv += if s == 0 { 16 } else { r + 1 };
            if pos >= FAST_BITS || adv >= 64 {
                break;
            }
        }
        // pos <= FAST_BITS - 1 + 16 + 15 < 32 and adv < 64 + 16 < 127.
        *out = single | pos | adv << M_ADV_SHIFT | if eob { M_EOB } else { 0 };
    }
}

/// Turns a first-symbol DC table (`len | s << 8`) into DC entries: where the
/// code and its `s` magnitude bits both fit in the window, the entry holds the
/// total bit count and the decoded difference, so the common DC needs one
/// lookup and one shift.
fn fuse_dc(table: &mut [u32; FAST_SIZE]) {
    for (idx, e) in table.iter_mut().enumerate() {
        let (len, s) = (*e & 0xFF, (*e >> 8) & 0xFF);
        if *e == 0 || len + s > FAST_BITS {
            continue;
        }
        let v = if s == 0 {
            0
        } else {
            let raw = ((idx as u32) >> (FAST_BITS - len - s)) & ((1 << s) - 1);
            extend(raw, s)
        };
        *e = (len + s) | DC_FUSED | (v as u16 as u32) << 16;
    }
}

/// JPEG's sign extension of an `s`-bit magnitude (F.2.2.1), 1 <= s <= 15.
#[inline(always)]
fn extend(v: u32, s: u32) -> i32 {
    let v = v as i32;
    if v < 1 << (s - 1) { v - (1 << s) + 1 } else { v }
}

/// Decodes one DC difference (Huffman category + magnitude bits).
#[inline(always)]
fn decode_dc_diff(rd: &mut BitReader<'_>, t: &HuffTable) -> Result<i32> {
    rd.refill();
    let e = t.fast[rd.peek_fast()];
    if e & DC_FUSED != 0 {
        rd.consume(e & 63);
        return Ok((e >> 16) as u16 as i16 as i32);
    }
    let (len, s) = if e != 0 {
        (e & 0xFF, e >> 8)
    } else {
        match t.decode_slow(rd.bits) {
            Some((len, sym)) => (len, sym as u32),
            None => return corrupt("invalid Huffman code"),
        }
    };
    rd.consume(len);
    if s == 0 {
        return Ok(0);
    }
    // s <= 15 (checked when the DC table was parsed), len <= 16: <= 31 bits.
    Ok(extend(rd.take(s), s))
}

/// Skips the 63 AC coefficients of one block using the fused skip table.
#[inline(always)]
fn skip_ac(rd: &mut BitReader<'_>, t: &HuffTable) -> Result<()> {
    let fast: &[u32; FAST_SIZE] = &t.fast;
    let mut k: u32 = 1;
    loop {
        rd.refill();
        let e = fast[rd.peek_fast()];
        let madv = (e >> M_ADV_SHIFT) & 0x7F;
        if k + madv <= 64 {
            // Common case: one or more whole symbols, all inside this block.
            rd.consume_low6(e);
            // A final EOB sets bit 6 (64), ending the block.
            k = (k + madv) | ((e >> 7) & 64);
            if k >= 64 {
                return Ok(());
            }
            continue;
        }
        let sbits = (e >> S_BITS_SHIFT) & 31;
        if sbits != 0 {
            rd.consume(sbits);
            k += (e >> S_ADV_SHIFT) & 0x7F;
            if k >= 64 {
                return Ok(());
            }
            continue;
        }
        // Code longer than the window (or invalid): canonical decode.
        let Some((len, rs)) = t.decode_slow(rd.bits) else {
            return corrupt("invalid Huffman code");
        };
        let (r, s) = ((rs >> 4) as u32, (rs & 15) as u32);
        rd.consume(len + s); // <= 16 + 15
        if s == 0 {
            if r != 15 {
                return Ok(());
            }
            k += 16;
        } else {
            k += r + 1;
        }
        if k >= 64 {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------
// Frame, scans
// ---------------------------------------------------------------------------

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// DC quantiser, latched at the component's first scan (as libjpeg does).
    q0: Option<u16>,
    /// Blocks covering the component's own (subsampled) size.
    bw: usize,
    bh: usize,
    /// DC values, `stride` blocks per row, padded to whole MCUs. Empty until
    /// the first scan that codes this component's DC.
    plane: Vec<i32>,
    stride: usize,
    rows: usize,
}

struct Frame {
    width: u32,
    height: u32,
    progressive: bool,
    comps: Vec<Component>,
    hmax: usize,
    vmax: usize,
    mcus_x: usize,
    mcus_y: usize,
}

/// What a scan does per block.
#[derive(Clone, Copy, PartialEq)]
enum ScanKind {
    /// Sequential: DC diff + skip 63 AC.
    Sequential,
    /// Progressive DC first scan: DC diff, stored shifted left by Al.
    DcFirst { al: u32 },
    /// Progressive DC refinement: one bit per block at position Al.
    DcRefine { al: u32 },
}

#[derive(Clone, Copy)]
struct ScanComp {
    ci: usize,
    td: usize,
    ta: usize,
}

struct Decoder<'a> {
    data: &'a [u8],
    max_pixels: u64,
    frame: Option<Frame>,
    /// DC entry of each quantisation table.
    qt: [Option<u16>; 4],
    dc_tables: [Option<HuffTable>; 4],
    ac_tables: [Option<HuffTable>; 4],
    restart_interval: usize,
    jfif: bool,
    adobe_transform: Option<u8>,
    scans: usize,
    /// Components whose sequential scan was decoded to its last MCU (bit i = component i).
    complete: u32,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], max_pixels: u64) -> Self {
        Decoder {
            data,
            max_pixels,
            frame: None,
            qt: [None; 4],
            dc_tables: [None, None, None, None],
            ac_tables: [None, None, None, None],
            restart_interval: 0,
            jfif: false,
            adobe_transform: None,
            complete: 0,
            scans: 0,
        }
    }

    fn run(mut self) -> Result<DcImage> {
        let data = self.data;
        check_soi(data)?;
        let mut pos = 2;
        loop {
            let (marker, after) = match next_marker(data, pos) {
                Ok(m) => m,
                // Every block of a sequential image was decoded and only the EOI marker is
                // missing (a writer that stopped two bytes short): libjpeg shows such a file
                // with a warning, and so do we: the photo is whole.
                Err(DcError::Truncated(why)) if why == NO_EOI && self.sequential_image_complete() => break,
                Err(e) => return Err(e),
            };
            pos = after;
            match marker {
                0xC0..=0xC2 => {
                    let body = segment(data, pos)?;
                    self.parse_sof(body, marker == 0xC2)?;
                    pos += body.len() + 2;
                }
                0xC3 | 0xC7 | 0xCB | 0xCF => return Err(DcError::Unsupported("lossless JPEG")),
                0xC5 | 0xC6 | 0xCD | 0xCE | 0xDE | 0xDF => return Err(DcError::Unsupported("hierarchical JPEG")),
                0xC9 | 0xCA | 0xCC => return Err(DcError::Unsupported("arithmetic coding")),
                0xC4 => {
                    let body = segment(data, pos)?;
                    self.parse_dht(body)?;
                    pos += body.len() + 2;
                }
                0xDB => {
                    let body = segment(data, pos)?;
                    self.parse_dqt(body)?;
                    pos += body.len() + 2;
                }
                0xDD => {
                    let body = segment(data, pos)?;
                    if body.len() != 2 {
                        return corrupt("bad DRI length");
                    }
                    self.restart_interval = u16::from_be_bytes([body[0], body[1]]) as usize;
                    pos += body.len() + 2;
                }
                0xDA => {
                    let body = segment(data, pos)?;
                    pos = match self.scan(body, pos + body.len() + 2) {
                        Ok(p) => p,
                        Err(DcError::Truncated(why)) if why == NO_EOI && self.sequential_image_complete() => break,
                        Err(e) => return Err(e),
                    };
                }
                0xD9 => break,
                0xD8 => return corrupt("duplicate SOI"),
                0xD0..=0xD7 | 0x01 => {}
                0xE0 => {
                    let body = segment(data, pos)?;
                    if body.starts_with(b"JFIF\0") {
                        self.jfif = true;
                    }
                    pos += body.len() + 2;
                }
                0xEE => {
                    let body = segment(data, pos)?;
                    if body.len() >= 12 && body.starts_with(b"Adobe") {
                        self.adobe_transform = Some(body[11]);
                    }
                    pos += body.len() + 2;
                }
                0x02..=0xBF => return corrupt(format!("unknown marker FF{marker:02X}")),
                // APPn, COM, DNL, JPG, JPGn: skip.
                _ => pos += segment(data, pos)?.len() + 2,
            }
        }
        self.finish()
    }

    fn parse_sof(&mut self, body: &[u8], progressive: bool) -> Result<()> {
        if self.frame.is_some() {
            return corrupt("more than one SOF");
        }
        if body.len() < 6 {
            return corrupt("SOF segment too short");
        }
        match body[0] {
            8 => {}
            12 | 16 => return Err(DcError::Unsupported("12/16-bit JPEG")),
            p => return corrupt(format!("sample precision {p}")),
        }
        let height = u16::from_be_bytes([body[1], body[2]]) as u32;
        let width = u16::from_be_bytes([body[3], body[4]]) as u32;
        let nf = body[5] as usize;
        if width == 0 || height == 0 {
            return corrupt(format!("zero image dimension {width}x{height}"));
        }
        match nf {
            0 => return corrupt("SOF with no components"),
            1 | 3 => {}
            4 => return Err(DcError::Unsupported("4-component (CMYK/YCCK) JPEG")),
            _ => return Err(DcError::Unsupported("JPEG with 2 or more than 4 components")),
        }
        if body.len() != 6 + 3 * nf {
            return corrupt("SOF length does not match component count");
        }
        if width as u64 * height as u64 > self.max_pixels {
            return Err(DcError::TooLarge { width, height });
        }
        let mut comps = Vec::with_capacity(nf);
        for c in body[6..].chunks_exact(3) {
            let (id, h, v, tq) = (c[0], (c[1] >> 4) as usize, (c[1] & 15) as usize, c[2] as usize);
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                return corrupt(format!("sampling factors {h}x{v}"));
            }
            if tq > 3 {
                return corrupt(format!("quantisation table {tq}"));
            }
            if comps.iter().any(|c: &Component| c.id == id) {
                return corrupt(format!("duplicate component id {id}"));
            }
            comps.push(Component { id, h, v, tq, q0: None, bw: 0, bh: 0, plane: Vec::new(), stride: 0, rows: 0 });
        }
        let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
        let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
        if comps.iter().any(|c| hmax % c.h != 0 || vmax % c.v != 0) {
            return Err(DcError::Unsupported("sampling factors that do not divide the maximum"));
        }
        let (w, h) = (width as usize, height as usize);
        let mcus_x = w.div_ceil(8 * hmax);
        let mcus_y = h.div_ceil(8 * vmax);
        for c in &mut comps {
            // Component size is ceil(w * h_i / h_max) samples (A.1.1).
            c.bw = (w * c.h).div_ceil(hmax).div_ceil(8);
            c.bh = (h * c.v).div_ceil(vmax).div_ceil(8);
            c.stride = mcus_x * c.h;
            c.rows = mcus_y * c.v;
        }
        self.frame = Some(Frame { width, height, progressive, comps, hmax, vmax, mcus_x, mcus_y });
        Ok(())
    }

    fn parse_dht(&mut self, mut body: &[u8]) -> Result<()> {
        while !body.is_empty() {
            let tc = body[0] >> 4;
            let th = (body[0] & 15) as usize;
            if tc > 1 || th > 3 {
                return corrupt(format!("DHT class {tc} / id {th}"));
            }
            let (table, used) = HuffTable::parse(&body[1..], tc == 1)?;
            if tc == 0 {
                self.dc_tables[th] = Some(table);
            } else {
                self.ac_tables[th] = Some(table);
            }
            body = &body[1 + used..];
        }
        Ok(())
    }

    fn parse_dqt(&mut self, mut body: &[u8]) -> Result<()> {
        while !body.is_empty() {
            let pq = body[0] >> 4;
            let tq = (body[0] & 15) as usize;
            if pq > 1 || tq > 3 {
                return corrupt(format!("DQT precision {pq} / id {tq}"));
            }
            let n = if pq == 0 { 64 } else { 128 };
            let Some(vals) = body.get(1..1 + n) else {
                return corrupt("DQT segment too short");
            };
            let q0 = if pq == 0 { vals[0] as u16 } else { u16::from_be_bytes([vals[0], vals[1]]) };
            if q0 == 0 {
                return corrupt("zero DC quantiser");
            }
            self.qt[tq] = Some(q0);
            body = &body[1 + n..];
        }
        Ok(())
    }

    /// Parses an SOS header and decodes (or skips) its entropy-coded data.
    /// Returns the position of the marker that follows the scan.
    /// A sequential (baseline) frame all of whose components were decoded to the last MCU.
    fn sequential_image_complete(&self) -> bool {
        self.frame.as_ref().is_some_and(|f| !f.progressive && self.complete == (1u32 << f.comps.len()) - 1)
    }

    fn scan(&mut self, body: &[u8], data_pos: usize) -> Result<usize> {
        let data = self.data;
        let Some(frame) = self.frame.as_mut() else {
            return corrupt("SOS before SOF");
        };
        if body.is_empty() {
            return corrupt("empty SOS");
        }
        let ns = body[0] as usize;
        if ns == 0 || ns > 4 || ns > frame.comps.len() {
            return corrupt(format!("SOS with {ns} components"));
        }
        if body.len() != 1 + 2 * ns + 3 {
            return corrupt("SOS length does not match component count");
        }
        let mut sc = [ScanComp { ci: 0, td: 0, ta: 0 }; 4];
        for (i, c) in body[1..1 + 2 * ns].chunks_exact(2).enumerate() {
            let Some(ci) = frame.comps.iter().position(|comp| comp.id == c[0]) else {
                return corrupt(format!("scan component id {} not in frame", c[0]));
            };
            if sc[..i].iter().any(|s| s.ci == ci) {
                return corrupt("component twice in one scan");
            }
            let (td, ta) = ((c[1] >> 4) as usize, (c[1] & 15) as usize);
            if td > 3 || ta > 3 {
                return corrupt("Huffman table id > 3");
            }
            sc[i] = ScanComp { ci, td, ta };
        }
        let sc = &sc[..ns];
        let p = &body[1 + 2 * ns..];
        let (ss, se, ah, al) = (p[0], p[1], p[2] >> 4, (p[2] & 15) as u32);
        self.scans += 1;

        let kind = if frame.progressive {
            if ss == 0 {
                if se != 0 {
                    return corrupt("progressive scan mixes DC and AC");
                }
                if al > 13 {
                    return corrupt("bad successive-approximation shift");
                }
                if ah == 0 { ScanKind::DcFirst { al } } else { ScanKind::DcRefine { al } }
            } else {
                if se < ss || se > 63 || ns != 1 {
                    return corrupt("bad progressive AC scan parameters");
                }
                // AC scan: not needed for the DC image. Walk to the next
                // marker without Huffman-decoding it.
                let m = find_marker(data, data_pos, true);
                if m >= data.len() {
                    return truncated("file ends inside scan data");
                }
                return Ok(m);
            }
        } else {
            // Like libjpeg, Ss/Se/Ah/Al of a sequential scan are not checked.
            ScanKind::Sequential
        };

        // Tables the scan needs.
        for s in sc {
            if !matches!(kind, ScanKind::DcRefine { .. }) {
                match self.dc_tables[s.td].as_mut() {
                    Some(t) => t.ensure_fast(),
                    None => return corrupt(format!("missing DC Huffman table {}", s.td)),
                }
            }
            if kind == ScanKind::Sequential {
                match self.ac_tables[s.ta].as_mut() {
                    Some(t) => t.ensure_fast(),
                    None => return corrupt(format!("missing AC Huffman table {}", s.ta)),
                }
            }
        }

        // Scan geometry. One component: non-interleaved, one block per MCU,
        // covering only the component's own blocks. Several: interleaved
        // MCUs of h_i × v_i blocks each.
        let (mcus_x, mcus_y) = if ns == 1 {
            let c = &frame.comps[sc[0].ci];
            (c.bw, c.bh)
        } else {
            (frame.mcus_x, frame.mcus_y)
        };
        let blocks_per_mcu: usize =
            if ns == 1 { 1 } else { sc.iter().map(|s| frame.comps[s.ci].h * frame.comps[s.ci].v).sum() };
        if blocks_per_mcu > 10 {
            return corrupt("more than 10 blocks per MCU");
        }
        // Every block takes at least one bit in a DC or sequential scan, so a
        // scan cannot hold more blocks than 8 × the bytes left. Checking this
        // before allocating bounds memory by the file size.
        let blocks = mcus_x as u64 * mcus_y as u64 * blocks_per_mcu as u64;
        let bits_left = 8 * (data.len() - data_pos.min(data.len())) as u64;
        if blocks > bits_left {
            return truncated(format!("scan needs {blocks} blocks but only {bits_left} bits remain"));
        }
        for s in sc {
            let c = &mut frame.comps[s.ci];
            if c.q0.is_none() {
                match self.qt[c.tq] {
                    Some(q) => c.q0 = Some(q),
                    None => return corrupt(format!("missing quantisation table {}", c.tq)),
                }
            }
            if c.plane.is_empty() {
                c.plane = vec![0; c.stride * c.rows];
            }
        }

        // Per-block slots of one MCU: (scan component index, x, y offsets).
        let mut slots = [(0usize, 0usize, 0usize); 10];
        let mut nslots = 0;
        for (i, s) in sc.iter().enumerate() {
            let c = &frame.comps[s.ci];
            let (h, v) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
            for dy in 0..v {
                for dx in 0..h {
                    slots[nslots] = (i, dx, dy);
                    nslots += 1;
                }
            }
        }
        let slots = &slots[..nslots];
        let slots: Vec<(usize, usize, usize)> = slots.to_vec();

        // Move the planes out of the frame for the duration of the scan so the
        // block loop can hold them mutably next to the (shared) tables.
        let mut planes: [Vec<i32>; 4] = Default::default();
        let mut strides = [0usize; 4];
        let mut mul = [(1usize, 1usize); 4];
        let empty = HuffTable::empty_ref();
        let mut dc: [&HuffTable; 4] = [empty; 4];
        let mut ac: [&HuffTable; 4] = [empty; 4];
        for (i, s) in sc.iter().enumerate() {
            let c = &mut frame.comps[s.ci];
            planes[i] = std::mem::take(&mut c.plane);
            strides[i] = c.stride;
            mul[i] = if ns == 1 { (1, 1) } else { (c.h, c.v) };
            if let Some(t) = &self.dc_tables[s.td] {
                dc[i] = t;
            }
            if let Some(t) = &self.ac_tables[s.ta] {
                ac[i] = t;
            }
        }
        let mut ctx =
            ScanCtx { planes, strides, mul, dc, ac, slots, mcus_x, mcus_y, restart_interval: self.restart_interval };
        let res = match kind {
            ScanKind::Sequential => ctx.decode::<SEQUENTIAL>(data, data_pos, 0),
            ScanKind::DcFirst { al } => ctx.decode::<DC_FIRST>(data, data_pos, al),
            ScanKind::DcRefine { al } => ctx.decode::<DC_REFINE>(data, data_pos, al),
        };
        for (i, s) in sc.iter().enumerate() {
            frame.comps[s.ci].plane = std::mem::take(&mut ctx.planes[i]);
        }
        // Every MCU of this scan was decoded (the file may still end without its EOI).
        let whole = match &res {
            Ok(_) => true,
            Err(DcError::Truncated(why)) => why == NO_EOI,
            Err(_) => false,
        };
        if whole && matches!(kind, ScanKind::Sequential) {
            for s in sc {
                self.complete |= 1 << s.ci;
            }
        }
        res
    }

    fn finish(self) -> Result<DcImage> {
        let Some(frame) = self.frame else {
            return corrupt("no SOF before EOI");
        };
        if self.scans == 0 {
            return corrupt("no scan before EOI");
        }
        if frame.comps.iter().all(|c| c.plane.is_empty()) {
            // Only progressive AC scans: full decoders render this (as a flat
            // mid-grey base plus AC detail); a DC image would be blank.
            return Err(DcError::Unsupported("progressive JPEG without DC scans"));
        }
        if frame.comps.len() == 3 {
            // libjpeg's colour-space guess for 3 components.
            let ids = [frame.comps[0].id, frame.comps[1].id, frame.comps[2].id];
            let rgb = if self.jfif {
                false
            } else if let Some(t) = self.adobe_transform {
                t == 0
            } else {
                ids == [b'R', b'G', b'B']
            };
            if rgb {
                return Err(DcError::Unsupported("RGB (untransformed) JPEG"));
            }
        }

        let dw = (frame.width as usize).div_ceil(8);
        let dh = (frame.height as usize).div_ceil(8);
        // One plane of DC-derived samples per component at output resolution.
        let mut up: Vec<Vec<u8>> = Vec::with_capacity(frame.comps.len());
        for c in &frame.comps {
            let mut s = vec![128u8; c.bw * c.bh];
            if !c.plane.is_empty() {
                let q = c.q0.unwrap_or(1) as i64;
                for y in 0..c.bh {
                    let row = &c.plane[y * c.stride..y * c.stride + c.bw];
                    for (o, &d) in s[y * c.bw..(y + 1) * c.bw].iter_mut().zip(row) {
                        // round(DC*Q0/8) + 128, clamped (jpeg_idct_1x1).
                        let v = ((d as i64 * q + 4) >> 3) + 128;
                        *o = v.clamp(0, 255) as u8;
                    }
                }
            }
            up.push(upsample(&s, c.bw, c.bh, frame.hmax / c.h, frame.vmax / c.v, dw, dh));
        }

        let mut rgb = vec![0u8; dw * dh * 3];
        if up.len() == 1 {
            for (o, &y) in rgb.chunks_exact_mut(3).zip(&up[0]) {
                o.fill(y);
            }
        } else {
            ycc_to_rgb(&up[0], &up[1], &up[2], &mut rgb);
        }
        Ok(DcImage {
            width: frame.width,
            height: frame.height,
            dc_width: dw as u32,
            dc_height: dh as u32,
            rgb,
            progressive: frame.progressive,
        })
    }
}

const SEQUENTIAL: u8 = 0;
const DC_FIRST: u8 = 1;
const DC_REFINE: u8 = 2;

/// Everything the block loop of one scan needs, indexed by the component's
/// position in the scan.
struct ScanCtx<'t> {
    planes: [Vec<i32>; 4],
    strides: [usize; 4],
    /// Block multipliers for MCU → block coordinates: (h, v), or (1, 1) for a
    /// non-interleaved scan.
    mul: [(usize, usize); 4],
    dc: [&'t HuffTable; 4],
    ac: [&'t HuffTable; 4],
    /// Blocks of one MCU: (scan component, x offset, y offset).
    slots: Vec<(usize, usize, usize)>,
    mcus_x: usize,
    mcus_y: usize,
    restart_interval: usize,
}

impl ScanCtx<'_> {
    /// The MCU loop, specialised per scan kind so the sequential case is a
    /// tight loop of "DC diff, skip AC". Returns the position of the marker
    /// after the scan.
    fn decode<const KIND: u8>(&mut self, data: &[u8], pos: usize, al: u32) -> Result<usize> {
        // A local (not an argument passed by reference) so that LLVM keeps
        // the bit buffer in registers.
        let mut rd = BitReader::new(data, pos);
        let mut pred = [0i32; 4];
        let ri = self.restart_interval;
        let mut until_restart = ri;
        let mut rst_n: u8 = 0;
        let n = self.slots.len().min(10);
        // Per slot: scan component, block index of the slot in the current
        // MCU, and how far that index moves from one MCU to the next.
        let mut comp = [0usize; 10];
        let mut at = [0usize; 10];
        let mut step = [0usize; 10];
        for my in 0..self.mcus_y {
            for (j, &(i, dx, dy)) in self.slots.iter().enumerate().take(n) {
                let (hm, vm) = self.mul[i & 3];
                comp[j] = i & 3;
                at[j] = (my * vm + dy) * self.strides[i & 3] + dx;
                step[j] = hm;
            }
            for _ in 0..self.mcus_x {
                if ri != 0 {
                    if until_restart == 0 {
                        rd = rd.restart(rst_n)?;
                        rst_n = (rst_n + 1) & 7;
                        pred = [0; 4];
                        until_restart = ri;
                    }
                    until_restart -= 1;
                }
                for j in 0..n {
                    let i = comp[j];
                    let Some(cell) = self.planes[i].get_mut(at[j]) else {
                        return corrupt("block outside component plane"); // unreachable by construction
                    };
                    at[j] += step[j];
                    match KIND {
                        SEQUENTIAL => {
                            pred[i] = pred[i].wrapping_add(decode_dc_diff(&mut rd, self.dc[i])?);
                            *cell = pred[i];
                            skip_ac(&mut rd, self.ac[i])?;
                        }
                        DC_FIRST => {
                            pred[i] = pred[i].wrapping_add(decode_dc_diff(&mut rd, self.dc[i])?);
                            *cell = pred[i].wrapping_shl(al);
                        }
                        _ => {
                            rd.refill();
                            if rd.take(1) != 0 {
                                *cell |= 1 << al;
                            }
                        }
                    }
                }
                if rd.overran() {
                    return Err(rd.overrun_error());
                }
            }
        }
        rd.finish_scan()
    }
}

impl HuffTable {
    /// A table with no codes (every lookup goes to the slow path and fails);
    /// stands in for tables a scan kind does not use.
    fn empty_ref() -> &'static HuffTable {
        static EMPTY: OnceLock<HuffTable> = OnceLock::new();
        EMPTY.get_or_init(|| HuffTable {
            vals: [0; 256],
            maxcode: [-1; 17],
            valoff: [0; 17],
            codes: Vec::new(),
            fast: slow_only_table(),
            fast_built: true,
            is_ac: true,
            key: Vec::new(),
        })
    }
}

// ---------------------------------------------------------------------------
// Upsampling and colour conversion
// ---------------------------------------------------------------------------

/// For each output index `i` of a factor-`r` upsample of `n` source samples:
/// (left index, right index, right weight) with weights out of `2r`, for
/// centred linear interpolation: output `i` sits at source position
/// `(i + 0.5) / r - 0.5`. For r = 2 this gives libjpeg's 3/4, 1/4 "fancy" weights.
fn linear_taps(r: usize, n: usize, out: usize) -> Vec<(usize, usize, u32)> {
    let den = 2 * r as i64;
    (0..out)
        .map(|i| {
            let num = 2 * i as i64 + 1 - r as i64;
            let k = num.div_euclid(den);
            let f = num.rem_euclid(den) as u32;
            let last = n as i64 - 1;
            let a = k.clamp(0, last) as usize;
            let b = (k + 1).clamp(0, last) as usize;
            (a, b, f)
        })
        .collect()
}

/// Replication taps in the same form as [`linear_taps`] (weight 0 on the right).
fn nearest_taps(r: usize, n: usize, out: usize) -> Vec<(usize, usize, u32)> {
    (0..out).map(|i| ((i / r).min(n - 1), (i / r).min(n - 1), 0)).collect()
}

/// Upsamples a `w × h` plane by integer factors to exactly `ow × oh`:
/// a horizontal pass into a `ow × h` intermediate (scaled by `2·rx`), then a
/// vertical pass (scaled by `2·ry`) with one rounding at the end.
fn upsample(src: &[u8], w: usize, h: usize, rx: usize, ry: usize, ow: usize, oh: usize) -> Vec<u8> {
    if rx == 1 && ry == 1 && w == ow && h == oh {
        return src.to_vec();
    }
    // Like libjpeg (and jpeg-decoder), interpolate only for factors of 1 or 2
    // ("fancy" upsampling); larger factors (4:1:1, 4:1:0) are replicated.
    let (tx, ty) = if rx <= 2 && ry <= 2 {
        (linear_taps(rx, w, ow), linear_taps(ry, h, oh))
    } else {
        (nearest_taps(rx, w, ow), nearest_taps(ry, h, oh))
    };
    let (dx, dy) = (2 * rx as u32, 2 * ry as u32);
    let mut mid = vec![0u16; ow * h];
    for (s, m) in src.chunks_exact(w).zip(mid.chunks_exact_mut(ow)) {
        for (d, &(a, b, f)) in m.iter_mut().zip(&tx) {
            *d = (s[a] as u32 * (dx - f) + s[b] as u32 * f) as u16;
        }
    }
    let total = dx * dy;
    let mut out = vec![0u8; ow * oh];
    for (o, &(a, b, f)) in out.chunks_exact_mut(ow).zip(&ty) {
        let (ra, rb) = (&mid[a * ow..(a + 1) * ow], &mid[b * ow..(b + 1) * ow]);
        let (wa, wb) = (dy - f, f);
        if total.is_power_of_two() {
            let sh = total.trailing_zeros();
            for ((o, &p), &q) in o.iter_mut().zip(ra).zip(rb) {
                *o = ((p as u32 * wa + q as u32 * wb + total / 2) >> sh) as u8;
            }
        } else {
            for ((o, &p), &q) in o.iter_mut().zip(ra).zip(rb) {
                *o = ((p as u32 * wa + q as u32 * wb + total / 2) / total) as u8;
            }
        }
    }
    out
}

/// JFIF YCbCr → RGB with libjpeg's 16-bit fixed-point constants.
fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
    const HALF: i32 = 1 << 15;
    const FIX_1_402: i32 = 91881;
    const FIX_1_772: i32 = 116130;
    const FIX_0_344: i32 = 22554;
    const FIX_0_714: i32 = 46802;
    for (o, ((&y, &cb), &cr)) in rgb.chunks_exact_mut(3).zip(y.iter().zip(cb).zip(cr)) {
        let (y, cb, cr) = (y as i32, cb as i32 - 128, cr as i32 - 128);
        let r = y + ((FIX_1_402 * cr + HALF) >> 16);
        let g = y + ((-FIX_0_344 * cb - FIX_0_714 * cr + HALF) >> 16);
        let b = y + ((FIX_1_772 * cb + HALF) >> 16);
        o[0] = r.clamp(0, 255) as u8;
        o[1] = g.clamp(0, 255) as u8;
        o[2] = b.clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_rejects_overfull_counts() {
        // Three codes of length 1 cannot exist.
        let mut body = vec![0u8; 16 + 3];
        body[0] = 3;
        assert!(matches!(HuffTable::parse(&body, true), Err(DcError::Corrupt(_))));
        // Two codes of length 1 use the all-ones code: libjpeg rejects it too.
        let mut body = vec![0u8; 16 + 2];
        body[0] = 2;
        assert!(matches!(HuffTable::parse(&body, true), Err(DcError::Corrupt(_))));
    }

    #[test]
    fn taps_factor_two_match_fancy_upsampling() {
        let t = linear_taps(2, 3, 6);
        // out 0: pos -0.25 -> clamp to s0; out 1: pos 0.25 -> s0*3/4 + s1*1/4
        assert_eq!(t[0], (0, 0, 3));
        assert_eq!(t[1], (0, 1, 1));
        assert_eq!(t[2], (0, 1, 3));
        assert_eq!(t[5], (2, 2, 1));
    }

    #[test]
    fn rejects_garbage_headers() {
        assert!(matches!(decode_dc(&[], 1 << 30), Err(DcError::Truncated(_))));
        assert!(matches!(decode_dc(b"GIF89a", 1 << 30), Err(DcError::Corrupt(_))));
        assert!(matches!(decode_dc(&[0xFF, 0xD8, 0xFF], 1 << 30), Err(DcError::Truncated(_))));
        assert!(matches!(decode_dc(&[0xFF, 0xD8, 0xFF, 0xD9], 1 << 30), Err(DcError::Corrupt(_))));
    }
}
