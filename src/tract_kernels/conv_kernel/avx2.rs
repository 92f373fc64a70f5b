//! The same convolution for x86 with AVX2 and FMA but not AVX-512 (most Intel desktops since
//! 2021 and many hospital workstations): 8-lane registers, 16 of them. A tile is 6 pixels × 16
//! output channels (12 sums in registers, 2 weight registers, 1 broadcast), the classic
//! shape for this register file; 8 channels or fewer take 12 pixels, 17–24 (over a
//! channel-last input) 4 pixels × 3 registers. The weights come in panels of 16 channels
//! (`Packed`), each read from start to end. A channel-first output of a channel-first input
//! read pixel after pixel (1×1, or k×k at stride 1) with short sums (≤ 64 terms) turns the
//! tile around: 6 output channels × 16 pixels, the pixels loaded as vectors and the weights
//! broadcast, stored as vectors of pixels. Other channel-first outputs turn their
//! sums around in registers, 8 × 8 at a time, and store vectors of 8 pixels (value by value
//! through a buffer cost 0.18 ms on the stem's 287,000 outputs, 0.40 ms in all against 0.22
//! channel-last, and 6–10 % on the projections to 24 and 40 channels).
#![allow(unsafe_code)]
#![allow(clippy::needless_range_loop)]

use super::{Geometry, PANEL_AVX2 as PANEL, Packed};
use std::arch::x86_64::*;

/// Pixels per tile for 24 channels (three registers), 16 (two) and 8 or fewer (one).
const ROWS_3: usize = 4;
const ROWS_2: usize = 6;
const ROWS_1: usize = 12;
/// Terms a tile sums before the next tile of the row, where an input is channel-first
/// (measured here, one node alone, medians of 300: 320→1280 channels over 35 pixels 0.452 →
/// 0.345 ms, 192→1152 0.236 → 0.185, 3×3 64→64 over 40×56 2.01 → 1.87; 64 terms did as
/// well on 1×1s and 1.5 % worse on 3×3s, 128 worse on both).
const BLOCK: usize = 96;

/// SAFETY: as `super::avx512`: the output's strides are channel-first or channel-last, every
/// read and write index was checked by `super::run`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn run(
    g: &Geometry,
    w: &Packed,
    clip: (f32, f32),
    x: *const f32,
    res: Option<*const f32>,
    c: *mut f32,
) {
    let terms = w.terms();
    // A channel-first input (pixels adjacent: 1×1, or k×k over a padded input) gives every
    // term its own stretch of the input: a tile's sums over hundreds of terms read more than
    // the first-level cache holds (weights and input lines), and the next tile along the row
    // reads it all again from the second level. In blocks of `BLOCK` terms, each block's
    // weights and input lines serve the whole row before the next block, the sums waiting in
    // `partial` (room for 24 channels a pixel) between blocks. Channel-last inputs read each
    // pixel's terms from adjacent lines and lose a little to the extra loads and stores.
    let block = if g.x_col <= 2 && terms > BLOCK { BLOCK } else { terms };
    let mut partial = if block < terms { vec![0f32; g.cols * 24] } else { Vec::new() };
    let t = Tile { g, offsets: &w.offsets, clip, x, res, c, partial: partial.as_mut_ptr() };
    // Measured here (AMD EPYC, AVX2): turned around, 32→16 channels over 8,960 pixels takes
    // 0.23–0.28 ms instead of 0.39–0.42, 24→64 over 2,240 0.27–0.30 instead of 0.46–0.60; with
    // long sums (320 terms and more) and few pixels the weight broadcasts lose (320→1280 over 35
    // pixels: 1.15–1.30 ms against 0.90–1.00), as they do on the AVX-512 path.
    if g.c_channel != 1 && g.x_col == 1 && terms <= super::SHORT_SUMS {
        // SAFETY: as this function's.
        unsafe { by_pixels(&t, w) };
        return;
    }
    let mut o0 = 0;
    while o0 < g.outputs {
        let rest = g.outputs - o0;
        // 17–24 channels left over a channel-last input: in one pass of 4-pixel tiles, three
        // registers wide (12 sums), instead of 16 and then the rest, which read the whole
        // input twice (the projections to 24 and 40 channels, 1.3 MB over 2,240 pixels).
        let on = if rest > 16 && rest <= 24 && g.x_col > 2 { rest } else { rest.min(16) };
        let q = o0 / PANEL;
        let panel = &w.panels[q * terms * PANEL..];
        // The channels past the first 16 lie in the next panel.
        let next = if on > 16 { &w.panels[(q + 1) * terms * PANEL..] } else { panel };
        let bias = &w.bias[o0..o0 + if on > 16 { 24 } else { 16 }];
        let half = Half { panel, next, bias, o0, on };
        for y in 0..g.rows {
            for k0 in (0..terms).step_by(block) {
                // SAFETY: indices as `super::run` checked.
                unsafe { t.row(&half, y, (k0, (k0 + block).min(terms))) };
            }
        }
        o0 += on;
    }
}

/// Pixels of a row that every group of output channels sums before the next stretch, where
/// the tile is turned around: the stretch's input (256 pixels × 32 channels = 32 KiB for the
/// 32→16 after the stem) then serves all groups from the first levels of cache instead of the
/// third (that node alone 0.159 → 0.141 ms here).
const STRETCH: usize = 256;

/// How many terms ahead a tile asks for its weights (2 KiB). The last stage's weights, a few
/// megabytes each used for 35 pixels, come from the third level of cache or memory in the
/// network; asked for ahead, both models ran 1.7–2.1 % faster here (medians of 300 alternating
/// runs in one process; 16, 64 and 96 terms did the same).
const PREFETCH: usize = 32;

/// Channel-first in and out, pixels adjacent in both: groups of 6 output channels (inside
/// one 16-channel panel) × 16 pixels of a row, stretch by stretch.
#[target_feature(enable = "avx2,fma")]
unsafe fn by_pixels(t: &Tile<'_>, w: &Packed) {
    let (g, terms) = (t.g, w.terms());
    for y in 0..g.rows {
        for c0 in (0..g.cols).step_by(STRETCH) {
            let c1 = (c0 + STRETCH).min(g.cols);
            for q in 0..g.outputs.div_ceil(PANEL) {
                let panel = &w.panels[q * terms * PANEL..(q + 1) * terms * PANEL];
                let end = (g.outputs - q * PANEL).min(PANEL);
                for lane0 in (0..end).step_by(6) {
                    let (o0, panel) = (q * PANEL + lane0, &panel[lane0..]);
                    let bias = &w.bias[o0..];
                    let mut col = c0;
                    // SAFETY (every call): indices as `super::run` checked; `n` pixels from `col`.
                    unsafe {
                        while col < c1 {
                            let n = (c1 - col).min(16);
                            match end - lane0 {
                                1 => t.pixels::<1>(panel, bias, o0, y, col, n),
                                2 => t.pixels::<2>(panel, bias, o0, y, col, n),
                                3 => t.pixels::<3>(panel, bias, o0, y, col, n),
                                4 => t.pixels::<4>(panel, bias, o0, y, col, n),
                                5 => t.pixels::<5>(panel, bias, o0, y, col, n),
                                _ => t.pixels::<6>(panel, bias, o0, y, col, n),
                            }
                            col += n;
                        }
                    }
                }
            }
        }
    }
}

/// Output channels `o0..o0 + on` (at most 24): their panel of weights (and the next, for
/// channels past the first 16), and their bias.
struct Half<'a> {
    panel: &'a [f32],
    next: &'a [f32],
    bias: &'a [f32],
    o0: usize,
    on: usize,
}

struct Tile<'a> {
    g: &'a Geometry,
    offsets: &'a [usize],
    clip: (f32, f32),
    x: *const f32,
    res: Option<*const f32>,
    c: *mut f32,
    /// One row's sums so far (room for 24 a pixel), where the terms are summed in blocks.
    partial: *mut f32,
}

impl Tile<'_> {
    /// Output channels `o0..o0 + O` × row `y`'s `n` (≤ 16) pixels from `col`, for channel-first
    /// input and output with adjacent pixels; `panel` starts at channel `o0`'s lane.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn pixels<const O: usize>(&self, panel: &[f32], bias: &[f32], o0: usize, y: usize, col: usize, n: usize) {
        let g = self.g;
        // SAFETY: reads of x at offsets[k] + y·x_row + col + i for i < n (masked past n),
        // below what `run` checked; writes (and residual reads) at (o0 + o)·c_channel +
        // y·c_row + col + i for o < O, i < n; the panel holds 16 values a term from lane 0,
        // of which this reads O from the group's lane.
        unsafe {
            let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let m = [
                _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), lane),
                _mm256_cmpgt_epi32(_mm256_set1_epi32(n.saturating_sub(8) as i32), lane),
            ];
            let mut acc = [[_mm256_setzero_ps(); 2]; O];
            let first = self.x.add(y * g.x_row + col);
            let mut wp = panel.as_ptr();
            if n == 16 {
                for &off in self.offsets {
                    let at = first.add(off);
                    let xv = [_mm256_loadu_ps(at), _mm256_loadu_ps(at.add(8))];
                    for o in 0..O {
                        let b = _mm256_broadcast_ss(&*wp.add(o));
                        acc[o][0] = _mm256_fmadd_ps(b, xv[0], acc[o][0]);
                        acc[o][1] = _mm256_fmadd_ps(b, xv[1], acc[o][1]);
                    }
                    wp = wp.add(PANEL);
                }
            } else {
                for &off in self.offsets {
                    let at = first.add(off);
                    let xv = [_mm256_maskload_ps(at, m[0]), _mm256_maskload_ps(at.wrapping_add(8), m[1])];
                    for o in 0..O {
                        let b = _mm256_broadcast_ss(&*wp.add(o));
                        acc[o][0] = _mm256_fmadd_ps(b, xv[0], acc[o][0]);
                        acc[o][1] = _mm256_fmadd_ps(b, xv[1], acc[o][1]);
                    }
                    wp = wp.add(PANEL);
                }
            }
            let (lo, hi) = (_mm256_set1_ps(self.clip.0), _mm256_set1_ps(self.clip.1));
            for (o, a) in acc.iter().enumerate() {
                let b = _mm256_set1_ps(bias[o]);
                let at = (o0 + o) * g.c_channel + y * g.c_row + col;
                for v in 0..2 {
                    let p = self.c.wrapping_add(at + 8 * v);
                    let mut r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a[v], b), lo), hi);
                    if n == 16 {
                        if let Some(res) = self.res {
                            r = _mm256_add_ps(r, _mm256_loadu_ps(res.add(at + 8 * v)));
                        }
                        _mm256_storeu_ps(p, r);
                    } else {
                        if let Some(res) = self.res {
                            r = _mm256_add_ps(r, _mm256_maskload_ps(res.wrapping_add(at + 8 * v), m[v]));
                        }
                        _mm256_maskstore_ps(p, m[v], r);
                    }
                }
            }
        }
    }

    /// Row `y`'s tiles, terms `ks.0..ks.1` (see `tile`).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row(&self, half: &Half<'_>, y: usize, ks: (usize, usize)) {
        let mut col = 0;
        // SAFETY (every call): indices as `super::run` checked; a tile reads `R` columns from `col`.
        unsafe {
            if half.on > 16 {
                while col + ROWS_3 <= self.g.cols {
                    self.tile::<ROWS_3, 3>(half, y, col, ks);
                    col += ROWS_3;
                }
                match self.g.cols - col {
                    0 => {}
                    1 => self.tile::<1, 3>(half, y, col, ks),
                    2 => self.tile::<2, 3>(half, y, col, ks),
                    _ => self.tile::<3, 3>(half, y, col, ks),
                }
            } else if half.on > 8 {
                // A tile of fewer than 4 pixels holds fewer than 8 sums, too few to hide the
                // multiply-add's latency: it takes as long as 4 pixels. So the row's last 7–9
                // pixels go as 4 + 3, 4 + 4 or 5 + 4 rather than 6 and then 1–3 (the 3×3 64→64
                // over rows of 56: 58 → 56 tile-steps a row; rows of 14: 16 → 14).
                let cols = self.g.cols;
                let short = cols >= ROWS_2 && (1..=3).contains(&(cols % ROWS_2));
                let full = cols / ROWS_2 - usize::from(short);
                for _ in 0..full {
                    self.tile::<ROWS_2, 2>(half, y, col, ks);
                    col += ROWS_2;
                }
                match cols - col {
                    0 => {}
                    1 => self.tile::<1, 2>(half, y, col, ks),
                    2 => self.tile::<2, 2>(half, y, col, ks),
                    3 => self.tile::<3, 2>(half, y, col, ks),
                    4 => self.tile::<4, 2>(half, y, col, ks),
                    5 => self.tile::<5, 2>(half, y, col, ks),
                    7 => {
                        self.tile::<4, 2>(half, y, col, ks);
                        self.tile::<3, 2>(half, y, col + 4, ks);
                    }
                    8 => {
                        self.tile::<4, 2>(half, y, col, ks);
                        self.tile::<4, 2>(half, y, col + 4, ks);
                    }
                    _ => {
                        self.tile::<5, 2>(half, y, col, ks);
                        self.tile::<4, 2>(half, y, col + 5, ks);
                    }
                }
            } else {
                while col + ROWS_1 <= self.g.cols {
                    self.tile::<ROWS_1, 1>(half, y, col, ks);
                    col += ROWS_1;
                }
                self.rest_of_one(half, y, col, ks);
            }
        }
    }

    /// The last `cols - col` (< 12) columns of row `y` for 8 channels or fewer.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rest_of_one(&self, half: &Half<'_>, y: usize, col: usize, ks: (usize, usize)) {
        // SAFETY: as `tile`, with fewer columns.
        unsafe {
            match self.g.cols - col {
                0 => {}
                1 => self.tile::<1, 1>(half, y, col, ks),
                2 => self.tile::<2, 1>(half, y, col, ks),
                3 => self.tile::<3, 1>(half, y, col, ks),
                4 => self.tile::<4, 1>(half, y, col, ks),
                5 => self.tile::<5, 1>(half, y, col, ks),
                6 => self.tile::<6, 1>(half, y, col, ks),
                7 => self.tile::<7, 1>(half, y, col, ks),
                8 => self.tile::<8, 1>(half, y, col, ks),
                9 => self.tile::<9, 1>(half, y, col, ks),
                10 => self.tile::<10, 1>(half, y, col, ks),
                _ => self.tile::<11, 1>(half, y, col, ks),
            }
        }
    }

    /// Row `y`'s `R` columns from `col` × output channels `o0..o0 + on` (`on` ≤ 8·`H` ≤ 24), in
    /// `H` registers of 8, their weights in the half's `panel` (and `next`). Sums terms
    /// `ks.0..ks.1`: after the sums of earlier terms kept in `partial`, if any; kept there
    /// for the next block unless the last term is summed, then written out.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const R: usize, const H: usize>(&self, half: &Half<'_>, y: usize, col: usize, ks: (usize, usize)) {
        let (g, &Half { panel, next, bias, o0, on }) = (self.g, half);
        // SAFETY: reads of x at offsets[k] + y·x_row + (col + r)·x_col, below what `run`
        // checked; `partial` (where used) holds 24 values for each of the row's columns;
        // writes (and residual reads) at (o0 + o)·c_channel + y·c_row + (col + r)·c_col for
        // o < on, each below the output's size; the panel holds 16 values a term, of which
        // this reads 8·min(H, 2), and the next (where H = 3) 16, of which this reads 8; the
        // bias holds 8·H values from o0.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); H]; R];
            let part = self.partial.wrapping_add(col * 24);
            if ks.0 > 0 {
                for r in 0..R {
                    for h in 0..H {
                        acc[r][h] = _mm256_loadu_ps(part.add(24 * r + 8 * h));
                    }
                }
            }
            let first = self.x.add(y * g.x_row + col * g.x_col);
            let (wp, wn) = (panel.as_ptr().add(ks.0 * PANEL), next.as_ptr().add(ks.0 * PANEL));
            let offsets = &self.offsets[ks.0..ks.1];
            // Pixels one or two values apart (channel-first input, stride 1 or 2) are read at
            // constant displacements from the term's first: 5 fewer instructions a term than
            // stepping a pointer (medians of 400 alternating runs: the stem 0.275 → 0.267 ms,
            // the 3×3 64→64 over 40×56 1.879 → 1.862).
            // Weights asked for ahead only for 1×1s: a k×k's serve every row of the image, so
            // after the first they are in the cache, and asking costs (3×3 64→64 over 40×56
            // 1.850 → 1.824 ms without, medians of 400 alternating runs; the stem the same).
            match (g.x_col, g.rows == 1) {
                (1, true) => sums::<R, H, 1, true>(&mut acc, first, offsets, wp, wn, 1),
                (2, true) => sums::<R, H, 2, true>(&mut acc, first, offsets, wp, wn, 2),
                (step, true) => sums::<R, H, 0, true>(&mut acc, first, offsets, wp, wn, step),
                (1, false) => sums::<R, H, 1, false>(&mut acc, first, offsets, wp, wn, 1),
                (2, false) => sums::<R, H, 2, false>(&mut acc, first, offsets, wp, wn, 2),
                (step, false) => sums::<R, H, 0, false>(&mut acc, first, offsets, wp, wn, step),
            }
            if ks.1 < self.offsets.len() {
                for r in 0..R {
                    for h in 0..H {
                        _mm256_storeu_ps(part.add(24 * r + 8 * h), acc[r][h]);
                    }
                }
                return;
            }
            let (lo, hi) = (_mm256_set1_ps(self.clip.0), _mm256_set1_ps(self.clip.1));
            for h in 0..H {
                let b = _mm256_loadu_ps(bias.as_ptr().add(8 * h));
                for a in &mut acc {
                    a[h] = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a[h], b), lo), hi);
                }
            }
            if g.c_channel == 1 {
                // Channel-last output: each pixel's channels are contiguous; a register only
                // partly used is stored under a mask.
                let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                let mask =
                    |h: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(on.saturating_sub(8 * h).min(8) as i32), lane);
                let full: [bool; H] = std::array::from_fn(|h| on >= 8 * (h + 1));
                for (r, a) in acc.iter().enumerate() {
                    let at = y * g.c_row + (col + r) * g.c_col + o0;
                    for h in 0..H {
                        let p = self.c.add(at + 8 * h);
                        let mut v = a[h];
                        if full[h] {
                            if let Some(res) = self.res {
                                v = _mm256_add_ps(v, _mm256_loadu_ps(res.add(at + 8 * h)));
                            }
                            _mm256_storeu_ps(p, v);
                        } else {
                            let m = mask(h);
                            if let Some(res) = self.res {
                                v = _mm256_add_ps(v, _mm256_maskload_ps(res.add(at + 8 * h), m));
                            }
                            _mm256_maskstore_ps(p, m, v);
                        }
                    }
                }
            } else {
                // (Apart, and handed over by value, so that the sums stay in registers through
                // the loop above: written inline the tile ran at half speed, and handed over
                // by reference 10–30 % slower, channel-last outputs too.)
                self.channel_first::<R, H>(acc, half, y, col);
            }
        }
    }

    /// A tile's sums `acc` (pixel by pixel, 8 channels a register) stored into a channel-first
    /// output, where each channel's pixels are adjacent: turned around 8 pixels at a time
    /// (lanes past the tile's last pixel hold zeros) and stored as vectors where all 8 places
    /// lie in the row (the places past the tile are the next tile's, which overwrites them);
    /// elsewhere (a row's last pixels) value by value through a buffer.
    #[target_feature(enable = "avx2,fma")]
    #[inline(never)]
    unsafe fn channel_first<const R: usize, const H: usize>(
        &self,
        acc: [[__m256; H]; R],
        half: &Half<'_>,
        y: usize,
        col: usize,
    ) {
        let (g, o0, on) = (self.g, half.o0, half.on);
        // SAFETY: writes (and residual reads) at (o0 + o)·c_channel + y·c_row + (col + r)·c_col
        // for o < on and r < 8 where col + 8 ≤ cols (a vector inside row y), else r < R.
        unsafe {
            let zero = _mm256_setzero_ps();
            for p0 in (0..R).step_by(8) {
                let first = col + p0;
                if first + 8 <= g.cols {
                    for h in 0..H {
                        let mut rows = [zero; 8];
                        for (i, r) in rows.iter_mut().enumerate().take(R - p0) {
                            *r = acc[p0 + i][h];
                        }
                        let t = transpose8(rows);
                        for (j, v) in t.iter().enumerate().take(on.saturating_sub(8 * h).min(8)) {
                            let at = (o0 + 8 * h + j) * g.c_channel + y * g.c_row + first * g.c_col;
                            let mut v = *v;
                            if let Some(res) = self.res {
                                v = _mm256_add_ps(v, _mm256_loadu_ps(res.add(at)));
                            }
                            _mm256_storeu_ps(self.c.add(at), v);
                        }
                    }
                    continue;
                }
                let mut buf = [[0f32; 24]; 8];
                for (b, a) in buf.iter_mut().zip(&acc[p0..]) {
                    for h in 0..H {
                        _mm256_storeu_ps(b.as_mut_ptr().add(8 * h), a[h]);
                    }
                }
                for o in 0..on {
                    let at = (o0 + o) * g.c_channel + y * g.c_row + first * g.c_col;
                    for (r, b) in buf.iter().enumerate().take(R - p0) {
                        let ix = at + r * g.c_col;
                        *self.c.add(ix) = b[o] + self.res.map_or(0.0, |res| *res.add(ix));
                    }
                }
            }
        }
    }
}

/// A tile's sums over `offsets`' terms: pixel `r` of each term read at `first + offset + r·S`,
/// or, where `S` is 0, `step` apart along one pointer (see the AVX-512 path: independent
/// computed addresses made the compiler load every broadcast first and spill). The weights
/// for channels 0–15 are at `wp` and 16–23 at `wn`, 16 values a term; with `AHEAD`, those
/// `PREFETCH` terms on are asked for.
///
/// SAFETY: as `Tile::tile`'s reads.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn sums<const R: usize, const H: usize, const S: usize, const AHEAD: bool>(
    acc: &mut [[__m256; H]; R],
    first: *const f32,
    offsets: &[usize],
    mut wp: *const f32,
    mut wn: *const f32,
    step: usize,
) {
    // SAFETY: as this function's.
    unsafe {
        for &off in offsets {
            if AHEAD {
                // (A hint only: it reads nothing, so past the panel's end is harmless.)
                _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(PREFETCH * PANEL) as *const i8);
            }
            let wv: [__m256; H] =
                std::array::from_fn(|h| if h < 2 { _mm256_loadu_ps(wp.add(8 * h)) } else { _mm256_loadu_ps(wn) });
            let mut at = first.add(off);
            for r in 0..R {
                let b = if S > 0 {
                    _mm256_broadcast_ss(&*first.add(off + r * S))
                } else {
                    let b = _mm256_broadcast_ss(&*at);
                    at = at.wrapping_add(step);
                    b
                };
                for h in 0..H {
                    acc[r][h] = _mm256_fmadd_ps(wv[h], b, acc[r][h]);
                }
            }
            wp = wp.add(PANEL);
            wn = wn.add(PANEL);
        }
    }
}

/// Eight registers of eight turned around: lane j of register i becomes lane i of register j.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let s = [
        _mm256_shuffle_ps::<0x44>(t[0], t[2]),
        _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        _mm256_shuffle_ps::<0x44>(t[1], t[3]),
        _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        _mm256_shuffle_ps::<0x44>(t[4], t[6]),
        _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        _mm256_shuffle_ps::<0x44>(t[5], t[7]),
        _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    [
        _mm256_permute2f128_ps::<0x20>(s[0], s[4]),
        _mm256_permute2f128_ps::<0x20>(s[1], s[5]),
        _mm256_permute2f128_ps::<0x20>(s[2], s[6]),
        _mm256_permute2f128_ps::<0x20>(s[3], s[7]),
        _mm256_permute2f128_ps::<0x31>(s[0], s[4]),
        _mm256_permute2f128_ps::<0x31>(s[1], s[5]),
        _mm256_permute2f128_ps::<0x31>(s[2], s[6]),
        _mm256_permute2f128_ps::<0x31>(s[3], s[7]),
    ]
}
