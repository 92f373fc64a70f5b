//! The depthwise convolutions for x86 with AVX2 and FMA but not AVX-512. Channel-last: row
//! by row, a group of outputs along the row (6 for 3×3, 8 for 5×5) through every 8-channel
//! block before the next group, with the outputs at the borders taking only the taps inside
//! the input (no per-tap checks). Sixteen 8-lane registers cannot hold 9 or 25 taps' weights
//! beside the sums, so each tap's weights are loaded once per group and block anyway; going
//! through the blocks inside the group reads the input where it lies, each pixel's channels
//! one after the other, instead of 32 bytes of every pixel for each block. Channel-first
//! (stride 1): vectors of 8 pixels, the weights broadcast, read where the input lies when 8
//! outputs of a row or more have every tap inside (`channel_first_in_place`).
//!
//! Measured here (AMD EPYC Zen 3, in the demo models, medians of 300 runs alternating the
//! versions in one process): blocks inside the groups against the AVX-512 path's order (each
//! block over the image, in bands of rows that fit the second-level cache) took 3×3 stride 2
//! over 80×112×96 from 0.23–0.33 to 0.16–0.19 ms (onnxruntime 0.15), 3×3 over 40×56×144 from
//! 0.19–0.23 to 0.15, and the 5×7 images of 1,152 channels from 0.07 to 0.05; border outputs
//! that checked every tap (two integer divisions each) had held 5×5 stride 2 over 40×56×144
//! at 0.16 ms, 0.10 without; 6 and 8 outputs at once against 4 gained 5–10 %.
#![allow(unsafe_code)]

use super::{Image, taps_inside};
use std::arch::x86_64::*;

/// `T` taps in rows of `KW`, `P` outputs of a row at once, every 8-channel block of them
/// before the next `P`.
/// SAFETY: as `super::avx512`: the input holds height × width × channels values (maybe
/// padded), taps outside the interior are checked, every output value is written once.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn run<const T: usize, const KW: usize, const P: usize>(
    g: &Image,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: *const f32,
    out: *mut f32,
) {
    let c = g.channels;
    let taps: [usize; T] = std::array::from_fn(|t| ((t / KW) * g.width + t % KW) * c);
    // SAFETY (the whole loop): weights and bias are read at c0 + lane for lanes under the mask;
    // input reads only at taps inside the input (all of an interior output's; a border
    // output's from `taps_inside`), masked lanes not read; output writes below out_h × out_w,
    // masked to the block's channels.
    unsafe {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        // Every block's weights, bias and mask, made once (kept in memory: sixteen registers
        // cannot hold 9 or 25 taps beside the sums).
        let blocks: Vec<(usize, Block<'_, T, KW>)> = (0..c)
            .step_by(8)
            .map(|c0| {
                let n = (c - c0).min(8) as i32;
                let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
                (
                    c0,
                    Block::<T, KW> {
                        m,
                        full: n == 8,
                        w: std::array::from_fn(|t| _mm256_maskload_ps(weights.as_ptr().add(t * c + c0), m)),
                        b: _mm256_maskload_ps(bias.as_ptr().add(c0), m),
                        lo: _mm256_set1_ps(clip.0),
                        hi: _mm256_set1_ps(clip.1),
                        taps: &taps,
                        step: g.sx * c,
                    },
                )
            })
            .collect();
        for y in 0..g.out_h {
            let dst = out.add(y * g.out_w * c);
            let corner = |xo: usize| super::corner(g, x, y, xo);
            let kys = taps_inside(y * g.sy, g.top, T / KW, g.height);
            // The outputs at the left and right borders: only the taps inside.
            for xo in (0..g.xs.start.min(g.out_w)).chain(g.xs.end.max(g.xs.start)..g.out_w) {
                let kxs = taps_inside(xo * g.sx, g.left, KW, g.width);
                for (c0, k) in &blocks {
                    k.part::<1>(corner(xo).wrapping_add(*c0), dst.add(xo * c + c0), c, kys.clone(), kxs.clone());
                }
            }
            let mut xo = g.xs.start;
            if kys.len() < T / KW {
                // A border row: its outputs in groups too, over the kernel rows inside.
                while xo + P <= g.xs.end {
                    for (c0, k) in &blocks {
                        k.part::<P>(corner(xo).wrapping_add(*c0), dst.add(xo * c + c0), c, kys.clone(), 0..KW);
                    }
                    xo += P;
                }
                for xo in xo..g.xs.end {
                    for (c0, k) in &blocks {
                        k.part::<1>(corner(xo).wrapping_add(*c0), dst.add(xo * c + c0), c, kys.clone(), 0..KW);
                    }
                }
                continue;
            }
            while xo + P <= g.xs.end {
                for (c0, k) in &blocks {
                    k.run::<P>(corner(xo).add(*c0), dst.add(xo * c + c0), c);
                }
                xo += P;
            }
            for (c0, k) in &blocks {
                let (from, to) = (corner(xo).wrapping_add(*c0), dst.add(xo * c + c0));
                match g.xs.end.saturating_sub(xo) {
                    0 => {}
                    1 => k.run::<1>(from, to, c),
                    2 => k.run::<2>(from, to, c),
                    3 => k.run::<3>(from, to, c),
                    4 => k.run::<4>(from, to, c),
                    5 => k.run::<5>(from, to, c),
                    6 => k.run::<6>(from, to, c),
                    _ => k.run::<7>(from, to, c),
                }
            }
        }
    }
}

/// One 8-channel block of `T` taps in rows of `KW`: its mask (all lanes when `full`), weights,
/// bias and clip.
struct Block<'a, const T: usize, const KW: usize> {
    m: __m256i,
    full: bool,
    w: [__m256; T],
    b: __m256,
    lo: __m256,
    hi: __m256,
    taps: &'a [usize; T],
    step: usize,
}

impl<const T: usize, const KW: usize> Block<'_, T, KW> {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn load(&self, at: *const f32) -> __m256 {
        // SAFETY: the caller's; masked-off lanes are not read.
        unsafe { if self.full { _mm256_loadu_ps(at) } else { _mm256_maskload_ps(at, self.m) } }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store(&self, to: *mut f32, v: __m256) {
        let v = _mm256_min_ps(_mm256_max_ps(v, self.lo), self.hi);
        // SAFETY: the caller's; masked-off lanes are not written.
        unsafe { if self.full { _mm256_storeu_ps(to, v) } else { _mm256_maskstore_ps(to, self.m, v) } }
    }

    /// `R` outputs along a row: the first reads from `from`, writes at `to` (then every
    /// `channels` values).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn run<const R: usize>(&self, from: *const f32, to: *mut f32, channels: usize) {
        // SAFETY: as `run` says for the outputs it hands here.
        unsafe {
            let mut acc = [self.b; R];
            for t in 0..T {
                let at = from.add(self.taps[t]);
                for (p, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(self.w[t], self.load(at.add(p * self.step)), *a);
                }
            }
            for (p, a) in acc.iter().enumerate() {
                self.store(to.add(p * channels), *a);
            }
        }
    }

    /// `R` outputs along a row whose taps inside the input are those in kernel rows `kys` and
    /// columns `kxs`; `from` is where tap (0, 0) of the first would read.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn part<const R: usize>(
        &self,
        from: *const f32,
        to: *mut f32,
        channels: usize,
        kys: std::ops::Range<usize>,
        kxs: std::ops::Range<usize>,
    ) {
        // SAFETY: as `run` says for the outputs it hands here: every tap read is inside.
        unsafe {
            let mut acc = [self.b; R];
            for ky in kys {
                for kx in kxs.clone() {
                    let t = ky * KW + kx;
                    let at = from.wrapping_add(self.taps[t]);
                    for (p, a) in acc.iter_mut().enumerate() {
                        *a = _mm256_fmadd_ps(self.w[t], self.load(at.wrapping_add(p * self.step)), *a);
                    }
                }
            }
            for (p, a) in acc.iter().enumerate() {
                self.store(to.add(p * channels), *a);
            }
        }
    }
}

/// The channel-first convolution (stride 1, planes padded beforehand): each row's outputs in
/// vectors of 8 pixels, four at once, the weights broadcast; a row's last pixels a vector at a
/// time, the last one masked.
/// SAFETY: as `super::avx512_channel_first`: every tap of every output lies inside the padded
/// planes; lanes past a row's last output are neither read nor written.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn channel_first<const T: usize, const KW: usize>(
    g: &super::Planes,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: *const f32,
    out: *mut f32,
) {
    let (lo, hi) = (_mm256_set1_ps(clip.0), _mm256_set1_ps(clip.1));
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // SAFETY (the whole loop): as this function's.
    unsafe {
        for c in 0..g.channels {
            let w: [__m256; T] = std::array::from_fn(|t| _mm256_set1_ps(weights[c * T + t]));
            let b = _mm256_set1_ps(bias[c]);
            let plane = x.add(c * g.height * g.width);
            let dst = out.add(c * g.out_h * g.out_w);
            for y in 0..g.out_h {
                let row = dst.add(y * g.out_w);
                let mut x0 = 0;
                // Whole vectors unmasked: masked stores are slow on AMD's cores (0.7 ms here
                // for the 32 channels after the stem, all stores masked; tract 0.3).
                while x0 + 32 <= g.out_w {
                    let mut acc = [b; 4];
                    for (t, wt) in w.iter().enumerate() {
                        let at = plane.add((y + t / KW) * g.width + x0 + t % KW);
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = _mm256_fmadd_ps(*wt, _mm256_loadu_ps(at.add(8 * j)), *a);
                        }
                    }
                    for (j, a) in acc.iter().enumerate() {
                        _mm256_storeu_ps(row.add(x0 + 8 * j), _mm256_min_ps(_mm256_max_ps(*a, lo), hi));
                    }
                    x0 += 32;
                }
                // The rest a vector at a time, the last one masked.
                while x0 < g.out_w {
                    let n = (g.out_w - x0).min(8);
                    let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lane);
                    let mut a = b;
                    for (t, wt) in w.iter().enumerate() {
                        let at = plane.add((y + t / KW) * g.width + x0 + t % KW);
                        let v = if n == 8 { _mm256_loadu_ps(at) } else { _mm256_maskload_ps(at, m) };
                        a = _mm256_fmadd_ps(*wt, v, a);
                    }
                    let v = _mm256_min_ps(_mm256_max_ps(a, lo), hi);
                    if n == 8 {
                        _mm256_storeu_ps(row.add(x0), v);
                    } else {
                        _mm256_maskstore_ps(row.add(x0), m, v);
                    }
                    x0 += n;
                }
            }
        }
    }
}

/// The channel-first convolution (stride 1) read where the input lies, without a padded copy.
/// The 32 channels after the stem, alone, medians of 300 alternating runs: 0.64–0.73 → 0.39–0.48
/// ms when the input comes from memory, 0.17–0.25 → 0.25–0.31 when it is in cache (the row ends,
/// value by value, cost more than the copy then); in the classifier, whose input is neither,
/// 0.15–0.24 ms less a run (medians of 300, alternating in one process). Along each row, the outputs whose taps all lie inside it run as in
/// `channel_first`: vectors of 8 pixels, four at once; the last vector moved back to end at the
/// last such output, so that nothing is masked (it writes a few values twice, the same ones).
/// The outputs at the row's two ends take the taps inside one by one, and the rows whose taps
/// reach above or below the input only the tap rows inside.
/// SAFETY: `x` holds `channels × in_h × in_w` values and `out` `channels × out_h × out_w`;
/// the caller checked that at least 8 outputs of a row have every tap inside (`inside`).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn channel_first_in_place<const T: usize, const KW: usize>(
    g: &super::Geometry,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: *const f32,
    out: *mut f32,
) {
    let (lo, hi) = (_mm256_set1_ps(clip.0), _mm256_set1_ps(clip.1));
    let kh = T / KW;
    let (first, end) = inside(g, KW);
    debug_assert!(end >= first + 8);
    // SAFETY (the whole loop): tap rows from `ky0` to `ky1` lie inside the plane; a vector
    // from output column `x0` with `first <= x0` and `x0 + 8 <= end` reads columns
    // `x0 - left ..= x0 + 7 - left + KW - 1`, inside the row; border outputs read only taps
    // whose row and column are inside.
    unsafe {
        for c in 0..g.channels {
            let w: [__m256; T] = std::array::from_fn(|t| _mm256_set1_ps(weights[c * T + t]));
            let b = _mm256_set1_ps(bias[c]);
            let plane = x.add(c * g.in_h * g.in_w);
            let dst = out.add(c * g.out_h * g.out_w);
            for y in 0..g.out_h {
                let (ky0, ky1) = (g.top.saturating_sub(y), (g.in_h + g.top).saturating_sub(y).min(kh));
                let row = dst.add(y * g.out_w);
                // The sums of `J` vectors from output column `x0` over the tap rows `rows`. Rows
                // with every tap row inside take `0..kh`, a constant, so that their taps unroll
                // as `channel_first`'s do.
                macro_rules! sums {
                    ($rows:expr, $x0:expr, $j:literal) => {{
                        let mut acc = [b; $j];
                        for ky in $rows {
                            let from = plane.add((y + ky - g.top) * g.in_w + $x0 - g.left);
                            for kx in 0..KW {
                                for (j, a) in acc.iter_mut().enumerate() {
                                    *a = _mm256_fmadd_ps(w[ky * KW + kx], _mm256_loadu_ps(from.add(kx + 8 * j)), *a);
                                }
                            }
                        }
                        acc
                    }};
                }
                let full = ky0 == 0 && ky1 == kh;
                let mut x0 = first;
                while x0 + 32 <= end {
                    let acc = if full { sums!(0..kh, x0, 4) } else { sums!(ky0..ky1, x0, 4) };
                    for (j, a) in acc.iter().enumerate() {
                        _mm256_storeu_ps(row.add(x0 + 8 * j), _mm256_min_ps(_mm256_max_ps(*a, lo), hi));
                    }
                    x0 += 32;
                }
                while x0 < end {
                    // The last vector ends at `end`, over outputs already written if need be.
                    x0 = x0.min(end - 8);
                    let [a] = if full { sums!(0..kh, x0, 1) } else { sums!(ky0..ky1, x0, 1) };
                    _mm256_storeu_ps(row.add(x0), _mm256_min_ps(_mm256_max_ps(a, lo), hi));
                    x0 += 8;
                }
                for xo in (0..first).chain(end..g.out_w) {
                    let mut s = bias[c];
                    for ky in ky0..ky1 {
                        let iy = y + ky - g.top;
                        for kx in 0..KW {
                            let ix = (xo + kx).wrapping_sub(g.left);
                            if xo + kx >= g.left && ix < g.in_w {
                                s = weights[c * T + ky * KW + kx].mul_add(*plane.add(iy * g.in_w + ix), s);
                            }
                        }
                    }
                    *row.add(xo) = s.clamp(clip.0, clip.1);
                }
            }
        }
    }
}

/// The output columns `first..end` of a row whose every tap (of `kw` along the row) lies
/// inside the input's row (empty when none do).
pub(super) fn inside(g: &super::Geometry, kw: usize) -> (usize, usize) {
    let first = g.left.min(g.out_w);
    let end = (g.in_w + g.left + 1).saturating_sub(kw).min(g.out_w).max(first);
    (first, end)
}
