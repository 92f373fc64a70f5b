//! The arithmetic of a convolution for x86 with AVX-512 (here) or AVX2 and FMA (`avx2`):
//! `out[o, y, x] = clip(bias[o] + Σk w[o, k] · in[offset[k] + y·x_row + x·x_col])
//! (+ residual[o, y, x])` for one photo. A 1×1
//! convolution has one term per input channel and its pixels in one row, the input and output
//! each channel-first or channel-last; a k×k one (over an input padded beforehand) has a term
//! per input channel and tap.
//!
//! Why a kernel of our own: tract 0.23.9 runs these products at 20–60 GFLOP/s here (about half
//! of one core's peak), because where the output is channel-last it puts pixels in the vector
//! lanes and writes every value alone, and because it repacks the photo before each product
//! and runs its epilogue through an interpreter per 16×12 tile. This kernel puts 32 output
//! channels in two 16-lane registers (weights packed once, at plan time), reads the photo where
//! it lies (one broadcast per pixel and term), keeps 12 pixels × 32 channels of sums in
//! 24 registers across the whole input, and adds the bias, clips and adds the residual on the
//! way out: 77–116 GFLOP/s on the demo classifier's shapes.
//!
//! Unsafe code is allowed in this file and `avx2` alone: the SIMD loops read and write through
//! raw pointers. `run` checks, before any of it, that every index it will touch is inside the
//! slices it was given.
#![allow(unsafe_code)]
// The register-blocked loops index several arrays by the same row or half on purpose.
#![allow(clippy::needless_range_loop)]

#[cfg(target_arch = "x86_64")]
mod avx2;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{bail, ensure};

/// Output channels per weight panel (two 16-lane registers).
pub const LANES: usize = 32;
/// Output channels per weight panel for AVX2 (its tile's two 8-lane registers).
const PANEL_AVX2: usize = 16;
/// Pixels per tile: 12 × 2 accumulators + 2 weight registers + 1 broadcast fit in 32 registers.
const ROWS: usize = 12;

/// Where everything lies, in values: output channels, the terms of each sum, the output's
/// pixels as rows × columns, and the strides of the input and the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Output channels.
    pub outputs: usize,
    /// Output rows and columns (a 1×1 convolution flattens its pixels into one row).
    pub rows: usize,
    pub cols: usize,
    /// Input offset from one output row, and one output column, to the next.
    pub x_row: usize,
    pub x_col: usize,
    /// Output (and residual) strides between channels, rows and columns.
    pub c_channel: usize,
    pub c_row: usize,
    pub c_col: usize,
}

impl Geometry {
    /// Channel-first or channel-last: every output value has exactly one index below
    /// `outputs × rows × cols`.
    fn dense(&self) -> bool {
        let (o, r, c) = (self.outputs, self.rows, self.cols);
        let rows_ok = |row: usize| r == 1 || self.c_row == row;
        (self.c_channel == 1 && self.c_col == o && rows_ok(c * o))
            || (self.c_col == 1 && rows_ok(c) && self.c_channel == r * c)
    }
}

/// The weights in panels of `width` output channels (32 for AVX-512, two of its registers; 16
/// for AVX2, the tile's two), each panel term by term (`panel q, term k, lane j` =
/// `w[width·q + j, k]`, zero past the last output), the bias padded the same way, and where in
/// the input each term reads, from a pixel's first value. A panel is read from start to end:
/// AVX2 once read 16 lanes of 32-lane panels, every other 64 bytes, and the weights that come
/// from memory in the network (a few megabytes at the end of EfficientNet, each used for 35
/// pixels) arrived more slowly.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    panels: Lines,
    width: usize,
    bias: Vec<f32>,
    offsets: Vec<usize>,
    outputs: usize,
}

impl Packed {
    /// `w(o, k)` gives the weight of term `k` (read at `offsets[k]`) in output `o`; packed for
    /// the best instruction set this machine has.
    pub fn new(outputs: usize, offsets: Vec<usize>, w: impl Fn(usize, usize) -> f32, bias: &[f32]) -> Packed {
        Packed::for_isa(Isa::best().unwrap_or(Isa::Avx512), outputs, offsets, w, bias)
    }

    /// `new` for the given instruction set.
    fn for_isa(isa: Isa, outputs: usize, offsets: Vec<usize>, w: impl Fn(usize, usize) -> f32, bias: &[f32]) -> Packed {
        assert_eq!(bias.len(), outputs);
        let width = isa.panel_width();
        let terms = offsets.len();
        let count = outputs.div_ceil(width);
        let mut panels = Lines::zeros(count * terms * width);
        let mut padded = vec![0.0; count * width];
        for o in 0..outputs {
            for k in 0..terms {
                panels[(o / width) * terms * width + k * width + o % width] = w(o, k);
            }
            padded[o] = bias[o];
        }
        Packed { panels, width, bias: padded, offsets, outputs }
    }

    pub fn terms(&self) -> usize {
        self.offsets.len()
    }
}

/// Floats in whole 64-byte cache lines, the first on a line's boundary. A `Vec<f32>` is
/// aligned to 16 bytes only (one of the weights' size comes from `mmap`, 16 bytes past a
/// page's start), so that every other 32-byte load of a 16-channel panel (and every 64-byte
/// load of AVX-512's) straddled two lines: aligned, the 3×3 64→64 over 20×28 and the stem
/// ran 3 % faster here (medians of 400 alternating runs).
#[derive(Debug, Clone, PartialEq)]
struct Lines(Vec<Line>);

#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
struct Line([f32; 16]);

impl Lines {
    /// `n` zeros (`n` a multiple of 16).
    fn zeros(n: usize) -> Lines {
        assert_eq!(n % 16, 0, "whole lines only");
        Lines(vec![Line([0.0; 16]); n / 16])
    }
}

impl std::ops::Deref for Lines {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: a `Line` is 16 floats and nothing else (`repr(C)`, 64 bytes, aligned to 64).
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<f32>(), self.0.len() * 16) }
    }
}

impl std::ops::DerefMut for Lines {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as `deref`.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<f32>(), self.0.len() * 16) }
    }
}

/// The instruction sets the kernel is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
}

impl Isa {
    /// Whether this machine runs it.
    pub fn runs(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
                Isa::Avx2 => std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Output channels in a panel of weights.
    fn panel_width(self) -> usize {
        match self {
            Isa::Avx512 => LANES,
            Isa::Avx2 => PANEL_AVX2,
        }
    }

    /// The best this machine runs. `DERMDESK_KERNELS=avx2` keeps an AVX-512 machine on the AVX2
    /// path, so that both paths can be timed on one machine (`bench models`).
    pub fn best() -> Option<Isa> {
        static BEST: std::sync::OnceLock<Option<Isa>> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| {
            let avx2_only = std::env::var("DERMDESK_KERNELS").is_ok_and(|v| v.eq_ignore_ascii_case("avx2"));
            [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.runs() && !(avx2_only && *isa == Isa::Avx512))
        })
    }

    /// Every one this machine runs, best first (the tests run each).
    #[cfg(test)]
    pub fn here() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2].into_iter().filter(|isa| isa.runs()).collect()
    }
}

/// The longest sums for which the AVX2 path turns a channel-first tile around (pixels in the
/// vector lanes, weights broadcast; `avx2::run`).
const SHORT_SUMS: usize = 64;

/// Whether the best kernel here would run a convolution of `terms` terms with a channel-first
/// output and input, read pixel after pixel, with the pixels in the vector lanes: what a
/// stride-2 convolution gains by reading its input split by column parity.
pub fn pixels_in_lanes(terms: usize) -> bool {
    Isa::best() == Some(Isa::Avx2) && terms <= SHORT_SUMS
}

/// Whether this machine can run the kernel (with AVX-512, or AVX2 and FMA).
pub fn available() -> bool {
    Isa::best().is_some()
}

/// The convolution's output, a new tensor of `shape` (whose values must number `outputs ×
/// rows × cols`; every one is written). `clip` bounds each value after the bias (±∞ for none);
/// `residual`, laid out as the output, is added last.
pub fn run(
    g: &Geometry,
    w: &Packed,
    clip: (f32, f32),
    x: &[f32],
    residual: Option<&[f32]>,
    shape: &[usize],
) -> TractResult<Tensor> {
    run_on(best()?, g, w, clip, x, residual, shape)
}

/// The best instruction set here, or why the kernel cannot run.
fn best() -> TractResult<Isa> {
    let Some(isa) = Isa::best() else {
        bail!("the convolution kernel needs AVX-512 or AVX2 with FMA, which this CPU lacks")
    };
    Ok(isa)
}

/// `run` with the given instruction set (the tests run each one this machine has).
fn run_on(
    isa: Isa,
    g: &Geometry,
    w: &Packed,
    clip: (f32, f32),
    x: &[f32],
    residual: Option<&[f32]>,
    shape: &[usize],
) -> TractResult<Tensor> {
    let values: usize = shape.iter().product();
    ensure!(values == g.outputs * g.rows * g.cols, "output {shape:?} for {g:?}");
    // SAFETY: `f32` has no invalid bit patterns, and `run_into_on` writes every value.
    let mut out = unsafe { Tensor::uninitialized::<f32>(shape)? };
    run_into_on(isa, g, w, clip, x, residual, out.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?)?;
    Ok(out)
}

/// `run`, writing the `outputs × rows × cols` values into the start of `out` instead of a
/// new tensor (Winograd's sixteen products write into one scratch buffer).
pub fn run_into(
    g: &Geometry,
    w: &Packed,
    clip: (f32, f32),
    x: &[f32],
    residual: Option<&[f32]>,
    out: &mut [f32],
) -> TractResult<()> {
    run_into_on(best()?, g, w, clip, x, residual, out)
}

fn run_into_on(
    isa: Isa,
    g: &Geometry,
    w: &Packed,
    clip: (f32, f32),
    x: &[f32],
    residual: Option<&[f32]>,
    out: &mut [f32],
) -> TractResult<()> {
    ensure!(isa.runs(), "this CPU cannot run the {isa:?} convolution kernel");
    let terms = w.terms();
    ensure!(g.outputs > 0 && terms > 0 && g.rows > 0 && g.cols > 0, "empty convolution {g:?}");
    ensure!(w.outputs == g.outputs, "weights for {} outputs in {g:?}", w.outputs);
    ensure!(w.width == isa.panel_width(), "weights packed for another instruction set than {isa:?}");
    let reach = (g.rows - 1) * g.x_row + (g.cols - 1) * g.x_col + 1;
    let last = w.offsets.iter().max().copied().unwrap_or(0);
    ensure!(x.len() >= last + reach, "input of {} values for {g:?}", x.len());
    let values = g.outputs * g.rows * g.cols;
    ensure!(out.len() >= values, "room for {} values for {g:?}", out.len());
    ensure!(g.dense(), "the output is neither channel-first nor channel-last: {g:?}");
    if let Some(r) = residual {
        ensure!(r.len() >= values, "residual of {} values for {g:?}", r.len());
    }
    // SAFETY: the output's strides are channel-first or channel-last (checked above), so
    // the kernel writes each of the first `values` of `out` exactly once; every read index
    // is inside the slices (checked above).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let (x, residual, c) = (x.as_ptr(), residual.map(|r| r.as_ptr()), out.as_mut_ptr());
        match isa {
            Isa::Avx512 => avx512(g, w, clip, x, residual, c),
            Isa::Avx2 => avx2::run(g, w, clip, x, residual, c),
        }
        Ok(())
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("available() is false off x86_64")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512(g: &Geometry, w: &Packed, clip: (f32, f32), x: *const f32, res: Option<*const f32>, c: *mut f32) {
    let terms = w.terms();
    let t = Tile { g, offsets: &w.offsets, clip, x, res, c };
    for q in 0..g.outputs.div_ceil(LANES) {
        let o0 = q * LANES;
        let on = (g.outputs - o0).min(LANES);
        let panel = &w.panels[q * terms * LANES..(q + 1) * terms * LANES];
        let bias = &w.bias[o0..o0 + LANES];
        // The 16-pixel tiles (`sixteen`) pay where the sums are short: the stem's 27 terms
        // 0.40 → 0.28 ms when the other tiles wrote channel-first outputs value by value; since
        // those turn their sums around too (`channel_first`), 32→16 over 8,960 pixels still
        // takes 0.107 ms this way against 0.128 (the stem 0.194 against 0.187). With long
        // sums their 16 broadcasts per weight load lose (1152 terms: 0.17 → 0.24 ms).
        let channel_first = g.c_channel != 1 && terms <= 64;
        for y in 0..g.rows {
            let mut col = 0;
            // SAFETY (every branch): indices as `run` checked; a tile reads `R` columns from `col`.
            unsafe {
                if channel_first {
                    // 16 pixels × 16 channels at a time, transposed in registers and stored
                    // as 16 contiguous pixels of each channel.
                    while col + 16 <= g.cols {
                        for h in 0..on.div_ceil(16) {
                            t.sixteen(panel, bias, o0 + 16 * h, (on - 16 * h).min(16), h, y, col);
                        }
                        col += 16;
                    }
                }
                if on > 16 {
                    while col + ROWS <= g.cols {
                        t.run::<ROWS, 2>(panel, bias, o0, on, y, col);
                        col += ROWS;
                    }
                    t.rest::<2>(panel, bias, o0, on, y, col);
                } else {
                    while col + ROWS <= g.cols {
                        t.run::<ROWS, 1>(panel, bias, o0, on, y, col);
                        col += ROWS;
                    }
                    t.rest::<1>(panel, bias, o0, on, y, col);
                }
            }
        }
    }
}

/// What stays the same for every tile of one call.
#[cfg(target_arch = "x86_64")]
struct Tile<'a> {
    g: &'a Geometry,
    offsets: &'a [usize],
    clip: (f32, f32),
    x: *const f32,
    res: Option<*const f32>,
    c: *mut f32,
}

#[cfg(target_arch = "x86_64")]
impl Tile<'_> {
    /// Row `y`'s 16 columns from `col` × output channels `o0..o0 + on` (`on` ≤ 16, half `h` of
    /// the panel), for a channel-first output: the 16 × 16 sums transposed in registers, then
    /// each channel's 16 pixels stored (and residual added) as one vector.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn sixteen(&self, panel: &[f32], bias: &[f32], o0: usize, on: usize, h: usize, y: usize, col: usize) {
        use std::arch::x86_64::*;
        let g = self.g;
        // SAFETY: as `run`, for 16 columns and the channels below `on`.
        unsafe {
            let mut acc = [_mm512_setzero_ps(); 16];
            let first = self.x.add(y * g.x_row + col * g.x_col);
            let mut wp = panel.as_ptr().add(16 * h);
            for &off in self.offsets {
                let w = _mm512_loadu_ps(wp);
                let mut at = first.add(off);
                for a in &mut acc {
                    *a = _mm512_fmadd_ps(w, _mm512_set1_ps(*at), *a);
                    at = at.wrapping_add(g.x_col);
                }
                wp = wp.add(LANES);
            }
            let b = _mm512_loadu_ps(bias.as_ptr().add(16 * h));
            let (lo, hi) = (_mm512_set1_ps(self.clip.0), _mm512_set1_ps(self.clip.1));
            for a in &mut acc {
                *a = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(*a, b), lo), hi);
            }
            let by_channel = transpose16(&acc);
            for (o, v) in by_channel.iter().enumerate().take(on) {
                let at = (o0 + o) * g.c_channel + y * g.c_row + col;
                let mut v = *v;
                if let Some(res) = self.res {
                    v = _mm512_add_ps(v, _mm512_loadu_ps(res.add(at)));
                }
                _mm512_storeu_ps(self.c.add(at), v);
            }
        }
    }

    /// The last `cols - col` (< ROWS) columns of row `y`.
    #[target_feature(enable = "avx512f")]
    unsafe fn rest<const H: usize>(&self, panel: &[f32], bias: &[f32], o0: usize, on: usize, y: usize, col: usize) {
        // SAFETY: as `run`, with fewer rows.
        unsafe {
            match self.g.cols - col {
                0 => {}
                1 => self.run::<1, H>(panel, bias, o0, on, y, col),
                2 => self.run::<2, H>(panel, bias, o0, on, y, col),
                3 => self.run::<3, H>(panel, bias, o0, on, y, col),
                4 => self.run::<4, H>(panel, bias, o0, on, y, col),
                5 => self.run::<5, H>(panel, bias, o0, on, y, col),
                6 => self.run::<6, H>(panel, bias, o0, on, y, col),
                7 => self.run::<7, H>(panel, bias, o0, on, y, col),
                8 => self.run::<8, H>(panel, bias, o0, on, y, col),
                9 => self.run::<9, H>(panel, bias, o0, on, y, col),
                10 => self.run::<10, H>(panel, bias, o0, on, y, col),
                _ => self.run::<11, H>(panel, bias, o0, on, y, col),
            }
        }
    }

    /// Row `y`'s `R` columns from `col` × the panel's `on` output channels from `o0`, in `H`
    /// registers of 16.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run<const R: usize, const H: usize>(
        &self,
        panel: &[f32],
        bias: &[f32],
        o0: usize,
        on: usize,
        y: usize,
        col: usize,
    ) {
        use std::arch::x86_64::*;
        let g = self.g;
        // SAFETY: reads of x at offsets[k] + y·x_row + (col + r)·x_col, below what `run`
        // checked; writes (and residual reads) at (o0 + o)·c_channel + y·c_row + (col + r)·c_col
        // for o < on, each below `values`; the panel holds terms × 32 values and the bias 32.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); H]; R];
            let first = self.x.add(y * g.x_row + col * g.x_col);
            // Weights asked for ahead only for 1×1s, as on the AVX2 path (`avx2::sums`).
            if g.rows == 1 {
                sums::<R, H, true>(&mut acc, first, self.offsets, panel.as_ptr(), g.x_col);
            } else {
                sums::<R, H, false>(&mut acc, first, self.offsets, panel.as_ptr(), g.x_col);
            }
            let (lo, hi) = (_mm512_set1_ps(self.clip.0), _mm512_set1_ps(self.clip.1));
            for h in 0..H {
                let b = _mm512_loadu_ps(bias.as_ptr().add(16 * h));
                for a in &mut acc {
                    a[h] = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(a[h], b), lo), hi);
                }
            }
            if g.c_channel == 1 {
                // Channel-last output: each pixel's channels are contiguous.
                let mask = |h: usize| -> __mmask16 {
                    let n = on.saturating_sub(16 * h).min(16);
                    ((1u32 << n) - 1) as __mmask16
                };
                for (r, a) in acc.iter().enumerate() {
                    let at = y * g.c_row + (col + r) * g.c_col + o0;
                    for h in 0..H {
                        let m = mask(h);
                        let mut v = a[h];
                        if let Some(res) = self.res {
                            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res.add(at + 16 * h)));
                        }
                        _mm512_mask_storeu_ps(self.c.add(at + 16 * h), m, v);
                    }
                }
            } else {
                // Channel-first output (`dense`: its pixels along a row adjacent).
                self.channel_first::<R, H>(acc, o0, on, y, col);
            }
        }
    }

    /// A tile's sums `acc` (pixel by pixel, 16 channels a register) stored into a channel-first
    /// output whose pixels along a row are adjacent: each 16-channel half turned around in
    /// registers (rows past the tile's `R` pixels zero), then each channel's `R` pixels stored
    /// as one vector under a mask, its residual added first. (Apart, and handed the sums by
    /// value, as on the AVX2 path, so that they stay in registers through the sums' loop.)
    /// Written value by value through a buffer before 2026-12-04: the projections to 24–112
    /// channels from channel-last inputs took 4–10 % longer (144→24 over 2,240 pixels 0.167 →
    /// 0.155 ms; the classifier's 1×1s with a channel-first output together 1.95 → 1.87 ms,
    /// the segmenter's 2.43 → 2.33; each node's fastest of ten profiles, the two alternating
    /// in one process).
    #[target_feature(enable = "avx512f")]
    #[inline(never)]
    unsafe fn channel_first<const R: usize, const H: usize>(
        &self,
        acc: [[std::arch::x86_64::__m512; H]; R],
        o0: usize,
        on: usize,
        y: usize,
        col: usize,
    ) {
        use std::arch::x86_64::*;
        let g = self.g;
        let m = ((1u32 << R) - 1) as __mmask16;
        // SAFETY: writes (and residual reads) at (o0 + o)·c_channel + y·c_row + col + r for
        // o < on and r < R (masked), each below the output's size as `run` checked.
        unsafe {
            for h in 0..H {
                let mut rows = [_mm512_setzero_ps(); 16];
                for (r, a) in acc.iter().enumerate() {
                    rows[r] = a[h];
                }
                let by_channel = transpose16(&rows);
                for (o, v) in by_channel.iter().enumerate().take(on.saturating_sub(16 * h).min(16)) {
                    let at = (o0 + 16 * h + o) * g.c_channel + y * g.c_row + col;
                    let mut v = *v;
                    if let Some(res) = self.res {
                        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res.add(at)));
                    }
                    _mm512_mask_storeu_ps(self.c.add(at), m, v);
                }
            }
        }
    }
}

/// How many terms ahead a 1×1's tile asks for its weights (4 KiB, two cache lines a term).
/// The last stage's weights (a few megabytes, each used for 35 pixels) come from the third
/// level of cache or memory in the network: asked for ahead, 192→1152 over 35 pixels took
/// 0.103 ms instead of 0.146, 320→1280 0.218 instead of 0.305, the classifier's 1×1s together
/// 3.90 instead of 4.51 (each node's fastest of ten profiles of 40 runs, the two versions
/// alternating in one process, on a day when the machine's neighbours were busy).
const PREFETCH: usize = 32;

/// A tile's sums over `offsets`' terms: pixel `r` of each term read `step` apart along one
/// pointer from `first + offset` (each broadcast used as soon as it is loaded: twelve
/// independent addresses let the compiler load them all first and spill accumulators). The
/// weights are at `wp`, 32 values a term; with `AHEAD`, those `PREFETCH` terms on are asked
/// for. (Apart from `Tile::run`, the choice a type parameter: written inline, with a flag
/// tested inside the loop, every 1×1 ran 2.5 times slower.)
///
/// SAFETY: as `Tile::run`'s reads.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn sums<const R: usize, const H: usize, const AHEAD: bool>(
    acc: &mut [[std::arch::x86_64::__m512; H]; R],
    first: *const f32,
    offsets: &[usize],
    mut wp: *const f32,
    step: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: as this function's.
    unsafe {
        for &off in offsets {
            if AHEAD {
                // (A hint only: it reads nothing, so past the panel's end is harmless.)
                _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(PREFETCH * LANES) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(PREFETCH * LANES + 16) as *const i8);
            }
            let wv: [__m512; H] = std::array::from_fn(|h| _mm512_loadu_ps(wp.add(16 * h)));
            let mut at = first.add(off);
            for r in 0..R {
                let b = _mm512_set1_ps(*at);
                at = at.wrapping_add(step);
                for h in 0..H {
                    acc[r][h] = _mm512_fmadd_ps(wv[h], b, acc[r][h]);
                }
            }
            wp = wp.add(LANES);
        }
    }
}

/// A 16 × 16 transpose: row `r` of the result holds lane `r` of every input, in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn transpose16(r: &[std::arch::x86_64::__m512; 16]) -> [std::arch::x86_64::__m512; 16] {
    use std::arch::x86_64::*;
    // Pairs of rows interleaved by value, then by pairs of values: lane L of u[4q + j] holds
    // column 4L + j of rows 4q..4q + 4.
    let t: [__m512; 16] = std::array::from_fn(|i| {
        let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
        if i % 2 == 0 { _mm512_unpacklo_ps(a, b) } else { _mm512_unpackhi_ps(a, b) }
    });
    let pd = _mm512_castps_pd;
    let u: [__m512; 16] = std::array::from_fn(|i| {
        let (q, j) = (i / 4, i % 4);
        let (a, b) = (pd(t[4 * q + j / 2]), pd(t[4 * q + 2 + j / 2]));
        _mm512_castpd_ps(if j % 2 == 0 { _mm512_unpacklo_pd(a, b) } else { _mm512_unpackhi_pd(a, b) })
    });
    // Then 128-bit lanes: column j from lane 0 of u[j], u[4 + j], u[8 + j], u[12 + j], and so on.
    let mut out = [_mm512_setzero_ps(); 16];
    for j in 0..4 {
        let v0 = _mm512_shuffle_f32x4::<0x88>(u[j], u[4 + j]);
        let v1 = _mm512_shuffle_f32x4::<0xDD>(u[j], u[4 + j]);
        let v2 = _mm512_shuffle_f32x4::<0x88>(u[8 + j], u[12 + j]);
        let v3 = _mm512_shuffle_f32x4::<0xDD>(u[8 + j], u[12 + j]);
        out[j] = _mm512_shuffle_f32x4::<0x88>(v0, v2);
        out[8 + j] = _mm512_shuffle_f32x4::<0xDD>(v0, v2);
        out[4 + j] = _mm512_shuffle_f32x4::<0x88>(v1, v3);
        out[12 + j] = _mm512_shuffle_f32x4::<0xDD>(v1, v3);
    }
    out
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::tract_kernels::test_values as values;

    /// The definition written out plainly (the order differs from the kernel's fused
    /// multiply-adds).
    fn plain(
        g: &Geometry,
        offsets: &[usize],
        w: &[f32],
        bias: &[f32],
        clip: (f32, f32),
        x: &[f32],
        res: Option<&[f32]>,
    ) -> Vec<f32> {
        let terms = offsets.len();
        let mut out = vec![f32::NAN; g.outputs * g.rows * g.cols];
        for o in 0..g.outputs {
            for y in 0..g.rows {
                for c in 0..g.cols {
                    let mut s = bias[o] as f64;
                    for (k, off) in offsets.iter().enumerate() {
                        s += (w[o * terms + k] * x[off + y * g.x_row + c * g.x_col]) as f64;
                    }
                    let ix = o * g.c_channel + y * g.c_row + c * g.c_col;
                    out[ix] = (s as f32).clamp(clip.0, clip.1) + res.map_or(0.0, |r| r[ix]);
                }
            }
        }
        out
    }

    fn check(g: Geometry, offsets: Vec<usize>, x_len: usize, clip: (f32, f32), residual: bool, c_last: bool) {
        let values_n = g.outputs * g.rows * g.cols;
        let terms = offsets.len();
        let w = values(g.outputs * terms, 1);
        let bias = values(g.outputs, 2);
        let x = values(x_len, 3);
        let res = residual.then(|| values(values_n, 4));
        let shape = if c_last { [g.rows, g.cols, g.outputs] } else { [g.outputs, g.rows, g.cols] };
        let want = plain(&g, &offsets, &w, &bias, clip, &x, res.as_deref());
        let tol = 1e-5 * (terms as f32).sqrt() * 4.0;
        for isa in Isa::here() {
            let packed = Packed::for_isa(isa, g.outputs, offsets.clone(), |o, k| w[o * terms + k], &bias);
            let got = run_on(isa, &g, &packed, clip, &x, res.as_deref(), &shape).unwrap();
            let got = got.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                let what = format!("{isa:?} {g:?} {terms} terms, clip {clip:?}, residual {residual}");
                assert!((a - b).abs() <= tol, "{what}: [{k}] {a} vs {b}");
            }
        }
    }

    /// 1×1 convolutions in every layout (channel-first or -last, in and out), output counts
    /// filling one, two or three registers or a part of one (17, 24 and 40 leave 17–24 for
    /// AVX2's three-register tiles), pixel counts leaving every remainder of a 12-, 6- and
    /// 4-pixel tile, a clip, none, and a residual, sums long enough to be taken
    /// in blocks (240 and 672 terms): the kernel, with every instruction set this CPU has,
    /// against the definition.
    #[test]
    fn one_by_one_matches_the_definition() {
        if !available() {
            eprintln!("skipped: this CPU lacks AVX-512 and AVX2 (dermdesk then leaves convolutions to tract)");
            return;
        }
        let mut checked = 0;
        for (outputs, inputs) in
            [(1, 1), (7, 3), (16, 24), (17, 5), (24, 144), (32, 16), (40, 240), (96, 16), (112, 672)]
        {
            for pixels in [1, 5, 9, 11, 12, 13, 15, 35, 140] {
                for (x_last, c_last) in [(false, false), (false, true), (true, false), (true, true)] {
                    for (clip, residual) in [((0.0, 6.0), false), ((f32::NEG_INFINITY, f32::INFINITY), true)] {
                        let x_channel = if x_last { 1 } else { pixels };
                        let g = Geometry {
                            outputs,
                            rows: 1,
                            cols: pixels,
                            x_row: 0,
                            x_col: if x_last { inputs } else { 1 },
                            c_channel: if c_last { 1 } else { pixels },
                            c_row: 0,
                            c_col: if c_last { outputs } else { 1 },
                        };
                        let offsets = (0..inputs).map(|i| i * x_channel).collect();
                        check(g, offsets, inputs * pixels, clip, residual, c_last);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 9 * 4 * 2);
    }

    /// A 3×3 convolution over a channel-first input already padded (as the operator pads
    /// it), strides 1 and 2, rows whose width leaves a remainder, output channel-first and
    /// channel-last.
    #[test]
    fn three_by_three_matches_the_definition() {
        if !available() {
            return;
        }
        // (The second: 27 terms at stride 1, which the AVX2 path runs with pixels in the lanes.)
        for (channels, outputs, (h, w), stride) in
            [(3, 32, (9, 17), 2), (3, 20, (6, 35), 1), (16, 20, (7, 14), 1), (64, 64, (5, 7), 1)]
        {
            let (hp, wp) = (h + 2, w + 2);
            let (rows, cols) = ((hp - 3) / stride + 1, (wp - 3) / stride + 1);
            let mut offsets = Vec::new();
            for i in 0..channels {
                for ky in 0..3 {
                    for kx in 0..3 {
                        offsets.push(i * hp * wp + ky * wp + kx);
                    }
                }
            }
            for c_last in [false, true] {
                let g = Geometry {
                    outputs,
                    rows,
                    cols,
                    x_row: stride * wp,
                    x_col: stride,
                    c_channel: if c_last { 1 } else { rows * cols },
                    c_row: if c_last { cols * outputs } else { cols },
                    c_col: if c_last { outputs } else { 1 },
                };
                check(g, offsets.clone(), channels * hp * wp, (0.0, f32::INFINITY), false, c_last);
            }
        }
    }

    /// A 3×3 convolution at stride 2 over rows split by column parity (`Pad::apply_by_parity`
    /// and `by_parity`'s offsets, as the operator runs the stem on AVX2: pixels read one after
    /// another) gives the convolution of the plainly padded input: odd and even widths and
    /// paddings (17, 18 and 43 columns padded), an output count that leaves a part of a tile.
    #[test]
    fn stride_two_by_column_parity_is_the_plain_convolution() {
        if !available() {
            return;
        }
        use crate::tract_kernels::{Pad, by_parity};
        for (channels, outputs, (h, w), (top, left, bottom, right)) in
            [(3, 32, (9, 17), (0, 0, 1, 0)), (3, 32, (10, 16), (1, 1, 1, 1)), (2, 5, (7, 40), (1, 1, 0, 2))]
        {
            let (hp, wp) = (h + top + bottom, w + left + right);
            let pad = Pad { channels, height: h, width: w, top, left, padded: (hp, wp) };
            let (rows, cols) = ((hp - 3) / 2 + 1, (wp - 3) / 2 + 1);
            let x = values(channels * h * w, 5);
            let offsets = |column: &dyn Fn(usize) -> usize| {
                let mut o = Vec::new();
                for i in 0..channels {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            o.push((i * hp + ky) * wp + column(kx));
                        }
                    }
                }
                o
            };
            let g = Geometry {
                outputs,
                rows,
                cols,
                x_row: 2 * wp,
                x_col: 2,
                c_channel: rows * cols,
                c_row: cols,
                c_col: 1,
            };
            let terms = channels * 9;
            let (wt, bias, clip) = (values(outputs * terms, 6), values(outputs, 7), (0.0, 6.0));
            let want = plain(&g, &offsets(&|kx| kx), &wt, &bias, clip, &pad.apply(&x), None);
            let split = Geometry { x_col: 1, ..g };
            let split_offsets = offsets(&|kx| by_parity(kx, wp));
            for isa in Isa::here() {
                let packed = Packed::for_isa(isa, outputs, split_offsets.clone(), |o, k| wt[o * terms + k], &bias);
                let got = run_on(isa, &split, &packed, clip, &pad.apply_by_parity(&x), None, &[outputs, rows, cols]);
                let got = got.unwrap().try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
                for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() <= 1e-4, "{isa:?} {split:?}: [{k}] {a} vs {b}");
                }
            }
        }
    }

    /// Inputs too short for the geometry, and outputs of another size or layout, are refused
    /// before anything is read.
    #[test]
    fn refuses_what_does_not_fit() {
        if !available() {
            return;
        }
        let g = Geometry { outputs: 4, rows: 1, cols: 5, x_row: 0, x_col: 1, c_channel: 5, c_row: 0, c_col: 1 };
        for isa in Isa::here() {
            let packed = Packed::for_isa(isa, 4, vec![0, 5, 10], |_, _| 1.0, &[0.0; 4]);
            let run = |g: &Geometry, x: &[f32], r: Option<&[f32]>, shape: &[usize]| {
                run_on(isa, g, &packed, (0.0, 6.0), x, r, shape)
            };
            let err = run(&g, &[0.0; 14], None, &[4, 5]).unwrap_err();
            assert!(err.to_string().contains("input of 14 values"), "{isa:?}: {err}");
            assert!(run(&g, &[0.0; 15], None, &[4, 4]).is_err());
            assert!(run(&g, &[0.0; 15], Some(&[0.0; 19]), &[4, 5]).is_err());
            let scattered = Geometry { c_channel: 6, ..g };
            assert!(run(&scattered, &[0.0; 15], None, &[4, 5]).is_err());
            assert!(run(&g, &[0.0; 15], Some(&[0.0; 20]), &[4, 5]).is_ok());
        }
    }
}
