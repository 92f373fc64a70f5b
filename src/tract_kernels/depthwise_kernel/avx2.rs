//! The channel-last depthwise convolution for x86 with AVX2 and FMA but not AVX-512: the same
//! sweep as the AVX-512 path (`super::avx512`), in blocks of 8 channels. Sixteen 8-lane
//! registers cannot hold 9 or 25 taps' weights beside the sums, so the compiler keeps some
//! on the stack (one more load from the first-level cache per multiply-add for those).
#![allow(unsafe_code)]

use super::Image;
use std::arch::x86_64::*;

/// `T` taps in rows of `KW`, 8 channels at a time, `P` outputs of a row at once.
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
    // input reads at the taps of outputs below out_h × out_w (masked lanes not read); output
    // writes below out_h × out_w, masked to the block's channels.
    unsafe {
        for c0 in (0..c).step_by(8) {
            let n = (c - c0).min(8) as i32;
            let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            let k = Block {
                m,
                full: n == 8,
                w: std::array::from_fn(|t| _mm256_maskload_ps(weights.as_ptr().add(t * c + c0), m)),
                b: _mm256_maskload_ps(bias.as_ptr().add(c0), m),
                lo: _mm256_set1_ps(clip.0),
                hi: _mm256_set1_ps(clip.1),
                taps: &taps,
                step: g.sx * c,
            };
            for y in 0..g.out_h {
                let dst = out.add(y * g.out_w * c + c0);
                if !g.ys.contains(&y) || g.xs.is_empty() {
                    for xo in 0..g.out_w {
                        k.checked(g, x.add(c0), y, xo, dst.add(xo * c));
                    }
                    continue;
                }
                for xo in (0..g.xs.start).chain(g.xs.end..g.out_w) {
                    k.checked(g, x.add(c0), y, xo, dst.add(xo * c));
                }
                let row = x.add(((y * g.sy - g.top) * g.width) * c + c0);
                let tap = |xo: usize| row.add((xo * g.sx - g.left) * c);
                let mut xo = g.xs.start;
                while xo + P <= g.xs.end {
                    k.run::<P>(tap(xo), dst.add(xo * c), c);
                    xo += P;
                }
                let (from, to) = (tap(xo), dst.add(xo * c));
                match g.xs.end - xo {
                    0 => {}
                    1 => k.run::<1>(from, to, c),
                    2 => k.run::<2>(from, to, c),
                    3 => k.run::<3>(from, to, c),
                    4 => k.run::<4>(from, to, c),
                    _ => k.run::<5>(from, to, c),
                }
            }
        }
    }
}

/// One 8-channel block: its mask (all lanes when `full`), weights, bias and clip.
struct Block<'a, const T: usize> {
    m: __m256i,
    full: bool,
    w: [__m256; T],
    b: __m256,
    lo: __m256,
    hi: __m256,
    taps: &'a [usize; T],
    step: usize,
}

impl<const T: usize> Block<'_, T> {
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

    /// Output (y, xo) at a border: each tap checked against the input.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn checked(&self, g: &Image, x: *const f32, y: usize, xo: usize, to: *mut f32) {
        // SAFETY: reads only at rows below height and columns below width (checked).
        unsafe {
            let mut acc = self.b;
            for t in 0..T {
                let iy = (y * g.sy + t / g.kw) as isize - g.top as isize;
                let ix = (xo * g.sx + t % g.kw) as isize - g.left as isize;
                if iy >= 0 && (iy as usize) < g.height && ix >= 0 && (ix as usize) < g.width {
                    let at = x.add((iy as usize * g.width + ix as usize) * g.channels);
                    acc = _mm256_fmadd_ps(self.w[t], self.load(at), acc);
                }
            }
            self.store(to, acc);
        }
    }
}
