//! The arithmetic of a depthwise convolution (channel-last; channel-first with stride 1) for
//! x86 with AVX-512 (or AVX2 and FMA, `avx2`), with the clip that follows it: `out[y, x, c] =
//! clip(bias[c] + Σ w[ky, kx, c] · in[y·sy + ky − top, x·sx + kx − left, c])`, taps outside the
//! input left out.
//!
//! Why a kernel of our own, beside the one registered in tract's table (`depthwise_routine`):
//! tract hands that one a row of output positions at a time and it reloads every tap's weights
//! for every position, two loads per multiply-add; tract then clips in a pass of its own. Here
//! a 16-channel block keeps all its taps' weights in registers (9 or 25) while it sweeps the
//! image, one load per fused multiply-add, and clips before it stores.
//!
//! Unsafe code is allowed in this file and `avx2` alone: the SIMD loops read and write through
//! raw pointers. `run` checks the slices against the geometry before any of it.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
mod avx2;

use super::conv_kernel::Isa;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{bail, ensure};

/// A channel-last input of `in_h × in_w × channels`, `kh × kw` taps, strides, the zeros
/// before the first row and column, and the output's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Geometry {
    pub channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sy: usize,
    pub sx: usize,
    pub top: usize,
    pub left: usize,
}

/// Whether the kernel runs these taps on this machine: 3×3 and 5×5, channel-last or
/// channel-first, with AVX-512 or with AVX2 and FMA (`avx2`).
pub fn available(kh: usize, kw: usize) -> bool {
    Isa::best().is_some() && matches!((kh, kw), (3, 3) | (5, 5))
}

/// What both layouts need: the kernel on this CPU, a convolution with something in it, and
/// slices of the sizes the geometry says.
fn check(g: &Geometry, weights: &[f32], bias: &[f32], x: &[f32], shape: &[usize]) -> TractResult<()> {
    ensure!(available(g.kh, g.kw), "no depthwise kernel for {}×{} taps on this CPU", g.kh, g.kw);
    ensure!(g.channels > 0 && g.out_h > 0 && g.out_w > 0 && g.sy > 0 && g.sx > 0, "empty depthwise convolution {g:?}");
    ensure!(weights.len() == g.kh * g.kw * g.channels && bias.len() == g.channels, "weights for {g:?}");
    ensure!(x.len() >= g.in_h * g.in_w * g.channels, "input of {} values for {g:?}", x.len());
    ensure!(shape.iter().product::<usize>() == g.out_h * g.out_w * g.channels, "output {shape:?} for {g:?}");
    Ok(())
}

/// The convolution's output, a new tensor of `shape` (`out_h × out_w × channels` values, every
/// one written): channel-last from a channel-last input, with `weights` tap by tap for each
/// channel (`[ky][kx][c]`); or, where `channel_last` is false, channel-first from a
/// channel-first input with stride 1 only, `weights` channel by channel (`[c][ky][kx]`).
pub fn run(
    g: &Geometry,
    channel_last: bool,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: &[f32],
    shape: &[usize],
) -> TractResult<Tensor> {
    let Some(isa) = Isa::best() else { bail!("no depthwise kernel on this CPU (it needs AVX-512 or AVX2 with FMA)") };
    if channel_last {
        run_on(isa, g, weights, bias, clip, x, shape)
    } else {
        run_channel_first_on(isa, g, weights, bias, clip, x, shape)
    }
}

/// `run` for a channel-last input with the given instruction set (the tests run each one this
/// machine has).
fn run_on(
    isa: Isa,
    g: &Geometry,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: &[f32],
    shape: &[usize],
) -> TractResult<Tensor> {
    check(g, weights, bias, x, shape)?;
    ensure!(isa.runs(), "this CPU cannot run the {isa:?} depthwise kernel");
    // Where the taps of an output reach past the input, the input is read where it lies and
    // the outputs at its borders take only the taps inside (no per-tap checks): a copy into
    // zeros costs more than the borders. Measured (each node's fastest of ten profiles of 40
    // runs in the demo models, the two versions alternating in one process; Xeon with
    // AVX-512): 5×5 over 10×14×480 0.102 → 0.055 ms, 3×3 over 10×14×480 0.056 → 0.032, 5×5
    // over 20×28×240 0.125 → 0.092, the three 5×5s over 5×7×1,152 (nearly all border) 0.060 →
    // 0.046, all sixteen depthwise nodes of the classifier 1.40 → 1.17 (AVX2, on an AMD EPYC,
    // alone, medians of 1,000 alternating runs: 3×3 stride 2 over 20×28×240 0.038 → 0.023 ms,
    // 5×5 over 20×28×240 0.181 → 0.147). With AVX2 only, a small input of which most outputs
    // are at a border is still copied (5×5 over 5×7: 0.084 ms in place, 0.079 copied).
    let (ph, pw) = ((g.out_h - 1) * g.sy + g.kh, (g.out_w - 1) * g.sx + g.kw);
    let c = g.channels;
    let inside = g.top == 0 && g.left == 0 && ph <= g.in_h && pw <= g.in_w;
    let in_place = Image::new(g, g.in_h, g.in_w, g.top, g.left);
    let mostly_border = 4 * in_place.ys.len() * in_place.xs.len() < g.out_h * g.out_w;
    let padded;
    let copy = isa == Isa::Avx2 && !inside && g.in_h * g.in_w * c <= PAD_AT_MOST && mostly_border;
    let (x, image) = if !copy {
        (x, in_place)
    } else {
        let (ph, pw) = (ph.max(g.in_h + g.top), pw.max(g.in_w + g.left));
        let pad = super::Pad {
            channels: 1,
            height: g.in_h,
            width: g.in_w * c,
            top: g.top,
            left: g.left * c,
            padded: (ph, pw * c),
        };
        padded = pad.apply(x);
        (&padded[..], Image::new(g, ph, pw, 0, 0))
    };
    // SAFETY: the input holds height × width × channels values; `avx512` and `avx2::run` read
    // only the taps inside it (at the borders, `Borders` or `taps_inside`), and write
    // each of the out_h × out_w × channels values of the new tensor once, before it is read.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let mut out = Tensor::uninitialized::<f32>(shape)?;
        let o = out.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?.as_mut_ptr();
        match (isa, g.kh, g.kw) {
            (Isa::Avx512, 3, 3) => avx512::<9, 3, 6>(&image, weights, bias, clip, x.as_ptr(), o),
            (Isa::Avx512, _, _) => avx512::<25, 5, 4>(&image, weights, bias, clip, x.as_ptr(), o),
            (Isa::Avx2, 3, 3) => avx2::run::<9, 3, 6>(&image, weights, bias, clip, x.as_ptr(), o),
            (Isa::Avx2, _, _) => avx2::run::<25, 5, 8>(&image, weights, bias, clip, x.as_ptr(), o),
        }
        Ok(out)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("available() is false off x86_64")
}

/// `run` for a channel-first input (`channels × in_h × in_w`) and output, stride 1 only, with
/// the given instruction set: each row's outputs are vectors of 16 pixels (8 with AVX2), the
/// weights broadcast. With AVX-512 the input is read where it lies (`avx512_channel_first`);
/// with AVX2 when 8 outputs of a row or more have every tap inside
/// (`avx2::channel_first_in_place`), otherwise it is copied into zeros where the taps reach
/// past it.
fn run_channel_first_on(
    isa: Isa,
    g: &Geometry,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: &[f32],
    shape: &[usize],
) -> TractResult<Tensor> {
    ensure!(g.sy == 1 && g.sx == 1, "channel-first depthwise convolutions run with stride 1 only: {g:?}");
    check(g, weights, bias, x, shape)?;
    ensure!(isa.runs(), "this CPU cannot run the {isa:?} depthwise kernel");
    #[cfg(target_arch = "x86_64")]
    {
        let in_place = match isa {
            Isa::Avx512 => true,
            Isa::Avx2 => {
                let (first, end) = avx2::inside(g, g.kw);
                end >= first + 8
            }
        };
        let (ph, pw) = ((g.out_h - 1 + g.kh).max(g.in_h + g.top), (g.out_w - 1 + g.kw).max(g.in_w + g.left));
        let pad = super::Pad {
            channels: g.channels,
            height: g.in_h,
            width: g.in_w,
            top: g.top,
            left: g.left,
            padded: (ph, pw),
        };
        let padded = if in_place { Vec::new() } else { pad.apply(x) };
        let planes = Planes { channels: g.channels, height: ph, width: pw, out_h: g.out_h, out_w: g.out_w };
        // SAFETY: read in place, `check` made sure of the input's size, and with AVX2 at least
        // 8 outputs of a row have every tap inside (as `channel_first_in_place` needs); padded,
        // every tap of every output lies inside the padded planes (ph, pw cover the last
        // output's taps) and loads and stores past a row's last output are masked off
        // (masked-off lanes are neither read nor written). Either way each of the out_h ×
        // out_w × channels values of the new tensor is written before it is read.
        unsafe {
            let mut out = Tensor::uninitialized::<f32>(shape)?;
            let o = out.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?.as_mut_ptr();
            let (x, xp) = (x.as_ptr(), padded.as_ptr());
            match (isa, in_place, g.kh, g.kw) {
                (Isa::Avx2, true, 3, 3) => avx2::channel_first_in_place::<9, 3>(g, weights, bias, clip, x, o),
                (Isa::Avx2, true, _, _) => avx2::channel_first_in_place::<25, 5>(g, weights, bias, clip, x, o),
                (Isa::Avx512, _, 3, 3) => avx512_channel_first::<9, 3, 8>(g, weights, bias, clip, x, o),
                (Isa::Avx512, _, _, _) => avx512_channel_first::<25, 5, 4>(g, weights, bias, clip, x, o),
                (Isa::Avx2, false, 3, 3) => avx2::channel_first::<9, 3>(&planes, weights, bias, clip, xp, o),
                (Isa::Avx2, false, _, _) => avx2::channel_first::<25, 5>(&planes, weights, bias, clip, xp, o),
            }
            Ok(out)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("available() is false off x86_64")
}

/// Padded channel-first planes and the output's size.
struct Planes {
    channels: usize,
    height: usize,
    width: usize,
    out_h: usize,
    out_w: usize,
}

/// The channel-first convolution (stride 1) read where the input lies: each row's outputs in
/// groups of up to `V` vectors of 16 pixels, the weights broadcast. A tap's load for a vector
/// is masked to the lanes whose input column lies inside the row (AVX-512 neither reads nor
/// faults on masked-off lanes, so the loads at a row's ends need no copy into zeros), and the
/// tap rows above or below the input are left out. (Copied into zeros first, as before, the
/// classifier's 3×3 over 32 × 80 × 112 took 0.193 ms instead of 0.148: the fastest of ten
/// profiles of 40 runs, the two alternating in one process.)
/// SAFETY: `x` holds channels × in_h × in_w values and `out` channels × out_h × out_w; stride
/// 1; reads only at rows inside the plane and, under the masks, columns inside the row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_channel_first<const T: usize, const KW: usize, const V: usize>(
    g: &Geometry,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: *const f32,
    out: *mut f32,
) {
    use std::arch::x86_64::*;
    let kh = T / KW;
    let vectors = g.out_w.div_ceil(16);
    // Lane l of vector j reads column 16·j + l + kx − left for tap column kx.
    let load_masks: Vec<__mmask16> = (0..vectors * KW)
        .map(|i| {
            let (j, kx) = (i / KW, i % KW);
            (0..16).fold(0u16, |m, l| {
                let (xo, ix) = (16 * j + l, (16 * j + l + kx) as isize - g.left as isize);
                if xo < g.out_w && ix >= 0 && (ix as usize) < g.in_w { m | (1 << l) } else { m }
            })
        })
        .collect();
    let store_masks: Vec<__mmask16> =
        (0..vectors).map(|j| ((1u32 << g.out_w.saturating_sub(16 * j).min(16)) - 1) as __mmask16).collect();
    let (lo, hi) = (_mm512_set1_ps(clip.0), _mm512_set1_ps(clip.1));
    // SAFETY (the whole loop): as the function says.
    unsafe {
        for c in 0..g.channels {
            let w: [__m512; T] = std::array::from_fn(|t| _mm512_set1_ps(weights[c * T + t]));
            let b = _mm512_set1_ps(bias[c]);
            let plane = x.add(c * g.in_h * g.in_w);
            let dst = out.add(c * g.out_h * g.out_w);
            for y in 0..g.out_h {
                let kys = taps_inside(y, g.top, kh, g.in_h);
                // Where tap (ky, 0) of the row's first output would read.
                let row = |ky: usize| plane.wrapping_offset(((y + ky - g.top) * g.in_w) as isize - g.left as isize);
                let to = dst.add(y * g.out_w);
                let mut j0 = 0;
                while j0 < vectors {
                    let n = (vectors - j0).min(V);
                    let mut acc = [b; V];
                    for ky in kys.clone() {
                        let r = row(ky);
                        for kx in 0..KW {
                            let wt = w[ky * KW + kx];
                            for (j, a) in acc.iter_mut().enumerate().take(n) {
                                let m = load_masks[(j0 + j) * KW + kx];
                                let v = _mm512_maskz_loadu_ps(m, r.wrapping_add(16 * (j0 + j) + kx));
                                *a = _mm512_fmadd_ps(wt, v, *a);
                            }
                        }
                    }
                    for (j, a) in acc.iter().enumerate().take(n) {
                        let v = _mm512_min_ps(_mm512_max_ps(*a, lo), hi);
                        _mm512_mask_storeu_ps(to.add(16 * (j0 + j)), store_masks[j0 + j], v);
                    }
                    j0 += n;
                }
            }
        }
    }
}

/// With AVX2, inputs up to this many values are copied into zeros when taps reach past most
/// outputs (1 MiB).
const PAD_AT_MOST: usize = 1 << 18;

/// The input as the kernel reads it (maybe padded): its size and channels, the zeros its taps
/// assume before its first row and column, the output's size and strides, and which outputs
/// have every tap inside (rows `ys`, columns `xs`).
struct Image {
    channels: usize,
    height: usize,
    width: usize,
    top: usize,
    left: usize,
    out_h: usize,
    out_w: usize,
    sy: usize,
    sx: usize,
    ys: std::ops::Range<usize>,
    xs: std::ops::Range<usize>,
}

/// The taps `k` (of `k` in a kernel row or column) whose input row `at + k − before` lies in
/// `0..size`, for the output whose first tap is at `at` (padding included).
fn taps_inside(at: usize, before: usize, k: usize, size: usize) -> std::ops::Range<usize> {
    let first = before.saturating_sub(at).min(k);
    let last = (size + before).saturating_sub(at).min(k);
    first..last.max(first)
}

impl Image {
    fn new(g: &Geometry, height: usize, width: usize, top: usize, left: usize) -> Image {
        // Output i reads input rows i·s − before .. + k: inside from the first i with
        // i·s ≥ before to the last with i·s − before + k ≤ size.
        let inside = |out: usize, s: usize, before: usize, k: usize, size: usize| {
            let first = before.div_ceil(s);
            let last = if size + before >= k { (size + before - k) / s + 1 } else { 0 };
            first.min(out)..last.min(out).max(first.min(out))
        };
        Image {
            channels: g.channels,
            height,
            width,
            top,
            left,
            out_h: g.out_h,
            out_w: g.out_w,
            sy: g.sy,
            sx: g.sx,
            ys: inside(g.out_h, g.sy, top, g.kh, height),
            xs: inside(g.out_w, g.sx, left, g.kw, width),
        }
    }
}

/// `T` taps in rows of `KW`, `P` output positions of a row at once (one accumulator each: a
/// single chain of fused multiply-adds would wait on each one's latency); the row's last
/// `out_w % P` positions together too. An input that fits the second-level cache is run one
/// 16-channel block at a time over the whole image, the block's weights held in registers. A
/// larger one row by row, every block of a group of `P` outputs before the next group (as
/// `avx2::run`), so each pixel's channels are read one after the other and the input comes
/// from memory once, not once per block (64 bytes of each pixel a pass). Measured here (Xeon
/// with AVX-512, 2 MiB of second-level cache a core; in the demo models, the fastest of three
/// profiles of 40 runs each): 3×3 stride 2 over 80×112×96 (3.4 MB) 0.40–0.42 → 0.17–0.25 ms
/// with the blocks inside the groups (onnxruntime 0.24), while over 40×56×144 (1.3 MB) they
/// took 0.15–0.16 against 0.12–0.13, and the 5×5s 0.16–0.21 against 0.11–0.13 (their 25 taps'
/// weights loaded again for each group).
///
/// The input is read where it lies. The outputs with every tap inside run as above; those at
/// its borders (`Borders`) read each tap through a table of addresses, where a tap outside the
/// input reads zeros, four outputs at once (four chains of multiply-adds) with the same
/// unrolled taps. Before, each border output summed only its taps inside, in loops over the
/// kernel rows and columns inside, one or two chains at a time. An input of few pixels
/// (`FEW_PIXELS`) also runs every block of a group before the next group: one block at a time
/// read one 64-byte line of each pixel 4.6 KB apart (1,152 channels). On an AMD EPYC (Zen 4),
/// the fastest of three profiles of 40 runs, the two builds alternating: the 5×5s over
/// 5×7×1,152 0.079 → 0.050 ms a node (onnxruntime 0.042), the 3×3 over 5×7×1,152 0.044 → 0.025
/// (0.024), the 3×3s over 10×14×480 0.054 → 0.038 (0.036); the classifier's ratio to
/// onnxruntime over eight alternating pairs of whole runs 1.019 → 1.005.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<const T: usize, const KW: usize, const P: usize>(
    g: &Image,
    weights: &[f32],
    bias: &[f32],
    clip: (f32, f32),
    x: *const f32,
    out: *mut f32,
) {
    use std::arch::x86_64::*;
    let c = g.channels;
    let taps: [usize; T] = std::array::from_fn(|t| ((t / KW) * g.width + t % KW) * c);
    let block = |c0: usize| {
        let m = ((1u32 << (c - c0).min(16)) - 1) as __mmask16;
        // SAFETY: weights and bias are read at c0 + lane for lanes under the mask (c0 + 16 >
        // channels only on the last block, masked).
        unsafe {
            Block::<T, KW> {
                m,
                w: std::array::from_fn(|t| _mm512_maskz_loadu_ps(m, weights.as_ptr().add(t * c + c0))),
                b: _mm512_maskz_loadu_ps(m, bias.as_ptr().add(c0)),
                lo: _mm512_set1_ps(clip.0),
                hi: _mm512_set1_ps(clip.1),
                taps: &taps,
                step: g.sx * c,
            }
        }
    };
    let zeros = vec![0f32; c];
    let borders = Borders::<T>::new::<KW>(g, x, zeros.as_ptr());
    // SAFETY: as `avx512_row` and `Block::borders` say, for rows below out_h and the border
    // outputs.
    unsafe {
        if g.height * g.width * c > BLOCKS_INSIDE_FROM || g.height * g.width <= FEW_PIXELS {
            let blocks: Vec<(usize, Block<'_, T, KW>)> = (0..c).step_by(16).map(|c0| (c0, block(c0))).collect();
            for y in g.ys.clone() {
                avx512_row::<T, KW, P>(g, &blocks, x, y, out);
            }
            let (mut to, mut from) = (borders.to.chunks_exact(4), borders.from.chunks_exact(4));
            for (to, from) in (&mut to).zip(&mut from) {
                for (c0, k) in &blocks {
                    k.gather::<4>(to, from, out, *c0);
                }
            }
            for (c0, k) in &blocks {
                k.borders_left(to.remainder(), from.remainder(), out, *c0);
            }
        } else {
            // The same as `avx512_row` over one block, written out: handed a one-block slice,
            // the compiler reloaded the weights for each group (3×3 over 40×56×144: 0.13 →
            // 0.16–0.25 ms in the classifier).
            for c0 in (0..c).step_by(16) {
                let k = block(c0);
                for y in g.ys.clone() {
                    let dst = out.add(y * g.out_w * c + c0);
                    let corner = |xo: usize| corner(g, x, y, xo).add(c0);
                    let mut xo = g.xs.start;
                    while xo + P <= g.xs.end {
                        k.run::<P>(corner(xo), dst.add(xo * c), c);
                        xo += P;
                    }
                    if xo < g.xs.end {
                        k.run_last(g.xs.end - xo, corner(xo), dst.add(xo * c), c);
                    }
                }
                k.borders(&borders, out, c0);
            }
        }
    }
}

/// Where tap (0, 0) of output (y, xo) would read (maybe outside the input, at a border).
fn corner(g: &Image, x: *const f32, y: usize, xo: usize) -> *const f32 {
    let iy = (y * g.sy) as isize - g.top as isize;
    let ix = (xo * g.sx) as isize - g.left as isize;
    x.wrapping_offset((iy * g.width as isize + ix) * g.channels as isize)
}

/// Inputs above this many values (2 MiB, a core's second-level cache here) are run with the
/// blocks inside the groups (`avx512`).
const BLOCKS_INSIDE_FROM: usize = 1 << 19;

/// Inputs of at most this many pixels too (the 10×14s and 5×7s of the demo models; the 3×3s
/// over 10×14×480 0.051 → 0.038 ms with 160 against 64 here, the 5×5s level).
const FEW_PIXELS: usize = 160;

/// The outputs with a tap outside the input: for each, where its values go (its first
/// channel's offset in the output) and where each of its taps reads its first channel, the
/// taps outside at `zeros` (at least `channels` zeros).
#[cfg(target_arch = "x86_64")]
struct Borders<const T: usize> {
    to: Vec<usize>,
    from: Vec<[*const f32; T]>,
}

#[cfg(target_arch = "x86_64")]
impl<const T: usize> Borders<T> {
    fn new<const KW: usize>(g: &Image, x: *const f32, zeros: *const f32) -> Self {
        let (mut to, mut from) = (Vec::new(), Vec::new());
        for y in 0..g.out_h {
            // A row with every tap row inside has its borders at its two ends only: the
            // interior is not walked (this runs on every call of the operator).
            let (skip_from, skip_to) = if g.ys.contains(&y) { (g.xs.start, g.xs.end) } else { (0, 0) };
            for xo in (0..skip_from).chain(skip_to.max(skip_from)..g.out_w) {
                to.push((y * g.out_w + xo) * g.channels);
                from.push(std::array::from_fn(|t| {
                    let iy = (y * g.sy + t / KW) as isize - g.top as isize;
                    let ix = (xo * g.sx + t % KW) as isize - g.left as isize;
                    if iy >= 0 && ix >= 0 && (iy as usize) < g.height && (ix as usize) < g.width {
                        x.wrapping_add((iy as usize * g.width + ix as usize) * g.channels)
                    } else {
                        zeros
                    }
                }));
            }
        }
        Borders { to, from }
    }
}

/// Output row `y` (every tap inside) of the given 16-channel blocks, every block of a group of
/// `P` outputs before the next group.
/// SAFETY: `y` in `g.ys`: input reads at the taps of outputs in `g.xs`, inside the (maybe
/// padded) input (`run`); output writes below out_h × out_w, masked to each block's channels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn avx512_row<const T: usize, const KW: usize, const P: usize>(
    g: &Image,
    blocks: &[(usize, Block<'_, T, KW>)],
    x: *const f32,
    y: usize,
    out: *mut f32,
) {
    let c = g.channels;
    // SAFETY: as the function says.
    unsafe {
        let dst = out.add(y * g.out_w * c);
        let corner = |xo: usize| corner(g, x, y, xo);
        let mut xo = g.xs.start;
        while xo + P <= g.xs.end {
            for (c0, k) in blocks {
                k.run::<P>(corner(xo).add(*c0), dst.add(xo * c + c0), c);
            }
            xo += P;
        }
        if xo >= g.xs.end {
            return;
        }
        for (c0, k) in blocks {
            k.run_last(g.xs.end - xo, corner(xo).add(*c0), dst.add(xo * c + c0), c);
        }
    }
}

/// One 16-channel block: its mask, weights (one register per tap), bias and clip.
#[cfg(target_arch = "x86_64")]
struct Block<'a, const T: usize, const KW: usize> {
    m: std::arch::x86_64::__mmask16,
    w: [std::arch::x86_64::__m512; T],
    b: std::arch::x86_64::__m512,
    lo: std::arch::x86_64::__m512,
    hi: std::arch::x86_64::__m512,
    /// Each tap's input offset from an output's first tap.
    taps: &'a [usize; T],
    /// Input offset from one output to the next along a row.
    step: usize,
}

#[cfg(target_arch = "x86_64")]
impl<const T: usize, const KW: usize> Block<'_, T, KW> {
    /// `R` outputs along a row: the first reads from `from`, writes at `to` (then every
    /// `channels` values).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run<const R: usize>(&self, from: *const f32, to: *mut f32, channels: usize) {
        use std::arch::x86_64::*;
        // SAFETY: as `avx512` says for the outputs it hands here.
        unsafe {
            let mut acc = [self.b; R];
            for t in 0..T {
                let at = from.add(self.taps[t]);
                for (p, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(self.w[t], _mm512_maskz_loadu_ps(self.m, at.add(p * self.step)), *a);
                }
            }
            for (p, a) in acc.iter().enumerate() {
                _mm512_mask_storeu_ps(to.add(p * channels), self.m, _mm512_min_ps(_mm512_max_ps(*a, self.lo), self.hi));
            }
        }
    }

    /// The last `n` (1 to 5, fewer than a group of `P`) outputs of a row, as `run`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run_last(&self, n: usize, from: *const f32, to: *mut f32, channels: usize) {
        // SAFETY: as `run` says.
        unsafe {
            match n {
                1 => self.run::<1>(from, to, channels),
                2 => self.run::<2>(from, to, channels),
                3 => self.run::<3>(from, to, channels),
                4 => self.run::<4>(from, to, channels),
                _ => self.run::<5>(from, to, channels),
            }
        }
    }

    /// This block's channels of every border output, four at a time.
    /// SAFETY: `borders` made for this input (its addresses inside it, or at zeros of at least
    /// `channels` values) and `out` of out_h × out_w × channels values; this block's channels
    /// start at `c0`, read and written under its mask.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn borders(&self, borders: &Borders<T>, out: *mut f32, c0: usize) {
        // SAFETY: as the function says.
        unsafe {
            let (mut to, mut from) = (borders.to.chunks_exact(4), borders.from.chunks_exact(4));
            for (to, from) in (&mut to).zip(&mut from) {
                self.gather::<4>(to, from, out, c0);
            }
            self.borders_left(to.remainder(), from.remainder(), out, c0);
        }
    }

    /// The last border outputs, fewer than four.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn borders_left(&self, to: &[usize], from: &[[*const f32; T]], out: *mut f32, c0: usize) {
        // SAFETY: as `borders` says.
        unsafe {
            match to.len() {
                0 => {}
                1 => self.gather::<1>(to, from, out, c0),
                2 => self.gather::<2>(to, from, out, c0),
                _ => self.gather::<3>(to, from, out, c0),
            }
        }
    }

    /// `R` border outputs, each tap read at its address in `from` (+ `c0`).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn gather<const R: usize>(&self, to: &[usize], from: &[[*const f32; T]], out: *mut f32, c0: usize) {
        use std::arch::x86_64::*;
        // SAFETY: as `borders` says.
        unsafe {
            let mut acc = [self.b; R];
            for (t, w) in self.w.iter().enumerate() {
                for (p, a) in acc.iter_mut().enumerate() {
                    let v = _mm512_maskz_loadu_ps(self.m, from[p][t].add(c0));
                    *a = _mm512_fmadd_ps(*w, v, *a);
                }
            }
            for (p, a) in acc.iter().enumerate() {
                let v = _mm512_min_ps(_mm512_max_ps(*a, self.lo), self.hi);
                _mm512_mask_storeu_ps(out.add(to[p] + c0), self.m, v);
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::tract_kernels::test_values as values;

    /// 3×3 and 5×5 taps, strides 1 and 2, padding on every side or on two, channel counts that
    /// fill 16- and 8-lane blocks or leave a part of one, images smaller than the taps, inputs
    /// copied into zeros and inputs read in place, channel-last, each path this CPU has
    /// (AVX-512, AVX2): the kernel against the definition. (The channel-first kernel is checked
    /// through the models in `tract_kernels::tests`, on AVX-512 machines.)
    #[test]
    fn matches_the_definition() {
        if !available(3, 3) {
            eprintln!(
                "skipped: this CPU lacks AVX-512 and AVX2 (dermdesk then leaves depthwise convolutions to tract)"
            );
            return;
        }
        for (k, stride, (top, bottom), channels, (in_h, in_w)) in [
            (3, 1, (1, 1), 32, (9, 13)),
            (3, 2, (0, 1), 96, (8, 11)),
            (5, 1, (2, 2), 40, (5, 7)),
            (5, 2, (1, 2), 17, (10, 14)),
            (5, 1, (2, 2), 3, (3, 2)),
            // Inputs over PAD_AT_MOST: read where they lie with AVX2 too.
            (3, 2, (0, 1), 96, (60, 50)),
            (5, 1, (2, 2), 48, (80, 70)),
            (3, 1, (1, 1), 1100, (17, 15)),
            // Inputs over BLOCKS_INSIDE_FROM: with AVX-512, every block of a group before the
            // next group (a part-filled last block in the second).
            (3, 2, (0, 1), 96, (80, 72)),
            (5, 1, (2, 2), 40, (120, 112)),
        ] {
            let out_h = (in_h + top + bottom - k) / stride + 1;
            let out_w = (in_w + top + bottom - k) / stride + 1;
            let g =
                Geometry { channels, in_h, in_w, out_h, out_w, kh: k, kw: k, sy: stride, sx: stride, top, left: top };
            let (w, bias, x) = (values(k * k * channels, 1), values(channels, 2), values(in_h * in_w * channels, 3));
            let clip = (0.0, 6.0);
            for isa in Isa::here() {
                let got = run_on(isa, &g, &w, &bias, clip, &x, &[out_h, out_w, channels]).unwrap();
                let got = got.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
                for y in 0..out_h {
                    for xo in 0..out_w {
                        for c in 0..channels {
                            let mut s = bias[c] as f64;
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (iy, ix) = (
                                        (y * stride + ky) as isize - top as isize,
                                        (xo * stride + kx) as isize - top as isize,
                                    );
                                    if iy >= 0 && ix >= 0 && (iy as usize) < in_h && (ix as usize) < in_w {
                                        let v = x[(iy as usize * in_w + ix as usize) * channels + c];
                                        s += (w[(ky * k + kx) * channels + c] * v) as f64;
                                    }
                                }
                            }
                            let want = (s as f32).clamp(clip.0, clip.1);
                            let have = got[(y * out_w + xo) * channels + c];
                            assert!((have - want).abs() <= 1e-5, "{isa:?} {g:?} at {y},{xo},{c}: {have} vs {want}");
                        }
                    }
                }
            }
        }
        let g =
            Geometry { channels: 4, in_h: 3, in_w: 3, out_h: 3, out_w: 3, kh: 3, kw: 3, sy: 1, sx: 1, top: 1, left: 1 };
        let err = run(&g, true, &[0.0; 36], &[0.0; 4], (0.0, 6.0), &[0.0; 35], &[3, 3, 4]).unwrap_err();
        assert!(err.to_string().contains("input of 35 values"), "{err}");
        assert!(run(&g, true, &[0.0; 36], &[0.0; 4], (0.0, 6.0), &[0.0; 36], &[3, 3, 3]).is_err());
    }

    /// The channel-first kernel (stride 1) against the definition, each path this CPU has:
    /// rows of outputs that fill four vectors, leave part of one, or are shorter than one;
    /// with AVX2, read in place where 8 outputs of a row or more have every tap inside (the
    /// first five), padded where fewer do (the sixth: 6 of its 8 outputs; and the last); padding
    /// on both sides, after only, and before only.
    #[test]
    fn channel_first_matches_the_definition() {
        if !available(3, 3) {
            eprintln!("skipped: this CPU lacks AVX-512 and AVX2");
            return;
        }
        for (k, (top, left), (bottom, right), channels, (in_h, in_w)) in [
            (3, (1, 1), (1, 1), 5, (9, 13)),
            (3, (1, 1), (1, 1), 3, (6, 70)),
            (5, (2, 2), (2, 2), 4, (7, 40)),
            (3, (0, 0), (2, 2), 2, (5, 64)),
            (5, (3, 4), (0, 0), 2, (6, 21)),
            (3, (1, 1), (1, 1), 2, (4, 8)),
            (5, (2, 2), (2, 2), 2, (4, 3)),
        ] {
            let (out_h, out_w) = (in_h + top + bottom - k + 1, in_w + left + right - k + 1);
            let g = Geometry { channels, in_h, in_w, out_h, out_w, kh: k, kw: k, sy: 1, sx: 1, top, left };
            let (w, bias, x) = (values(k * k * channels, 4), values(channels, 5), values(in_h * in_w * channels, 6));
            let clip = (-1.0, 1.5);
            for isa in Isa::here() {
                let got = run_channel_first_on(isa, &g, &w, &bias, clip, &x, &[channels, out_h, out_w]).unwrap();
                let got = got.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
                for c in 0..channels {
                    for y in 0..out_h {
                        for xo in 0..out_w {
                            let mut s = bias[c] as f64;
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (iy, ix) =
                                        ((y + ky) as isize - top as isize, (xo + kx) as isize - left as isize);
                                    if iy >= 0 && ix >= 0 && (iy as usize) < in_h && (ix as usize) < in_w {
                                        let v = x[(c * in_h + iy as usize) * in_w + ix as usize];
                                        s += (w[(c * k + ky) * k + kx] * v) as f64;
                                    }
                                }
                            }
                            let want = (s as f32).clamp(clip.0, clip.1);
                            let have = got[(c * out_h + y) * out_w + xo];
                            assert!((have - want).abs() <= 1e-5, "{isa:?} {g:?} at {c},{y},{xo}: {have} vs {want}");
                        }
                    }
                }
            }
        }
    }
}
