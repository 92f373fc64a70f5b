//! 3×3 convolutions at stride 1 by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray,
//! "Fast algorithms for convolutional neural networks", 2016): each 2×2 block of outputs
//! ("tile") takes 16 products per input and output channel instead of 36. The 4×4 input patch
//! under a tile and the 3×3 weights are each turned into 16 values (`Bᵀ d B`, `G g Gᵀ`);
//! for each of the 16 positions the sums over input channels are one matrix product
//! (`conv_kernel`, a 1×1 convolution over the tiles), and `Aᵀ m A` turns the 16 sums back
//! into the tile's four outputs, with the bias, clip and residual on the way out.
//!
//! The transforms' coefficients are 0, ±1 and ±½, so the results differ from the direct sums
//! only in rounding (about 1e-6 of the values here; the model test holds them to 1e-4).
//! The tiles are taken a band of tile rows at a time, so that the band's transformed input
//! and sums (16 values a channel and tile each) stay in the second-level cache.

use super::Pad;
use super::conv_kernel::{self as kernel, Geometry, Packed};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::ensure;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// Off x86-64 no convolution is planned for Winograd (`conv::fuse` replaces nothing where
/// `conv_kernel::available()` is false), so none of these is reached; `run` refuses first.
#[cfg(not(target_arch = "x86_64"))]
mod avx2 {
    use tract_onnx::prelude::{Tensor, TractResult};

    pub(super) fn here() -> bool {
        false
    }

    pub(super) fn output(_: &[usize]) -> TractResult<Tensor> {
        unreachable!("Winograd runs only on x86-64")
    }

    pub(super) fn transform_input(_: &[f32], _: usize, _: usize, _: &mut [f32], _: usize) {
        unreachable!("Winograd runs only on x86-64")
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn transform_output(
        _: &[&[f32]; 16],
        _: usize,
        _: f32,
        _: (f32, f32),
        _: &mut [f32],
        _: usize,
        _: usize,
    ) {
        unreachable!("Winograd runs only on x86-64")
    }
}

/// The 16 positions of a transformed tile.
const POSITIONS: usize = 16;
/// One cache line of floats.
const SKEW: usize = 16;

/// Tiles per band, about: enough for the products' 16-pixel vectors, few enough that a
/// band's transformed input and sums (2 × 16 × channels × tiles values) stay near the
/// second-level cache.
const BAND_TILES: usize = 112;

thread_local! {
    /// The padded input, and the transformed input and the sums of one band (see `Winograd::run`).
    #[allow(clippy::type_complexity)]
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// A 3×3, stride-1 convolution of a channel-first input (one photo) into a channel-first
/// output, planned for Winograd F(2×2, 3×3).
#[derive(Debug, Clone, PartialEq)]
pub struct Winograd {
    channels: usize,
    outputs: usize,
    /// The input (its size and the zeros before its first row and column) copied into zeros
    /// wide enough for every tile's 4×4 patch.
    pad: Pad,
    /// The output's size.
    rows: usize,
    cols: usize,
    /// Tile rows and columns (each tile 2×2 outputs), and tile rows per band.
    tile_rows: usize,
    tile_cols: usize,
    band: usize,
    /// For each of the 16 positions, the transformed weights (outputs × channels), read over
    /// a band's transformed input laid out channel by channel, `band × tile_cols` tiles apart.
    products: Vec<Packed>,
    bias: Vec<f32>,
}

impl Winograd {
    /// Plans the convolution `out[o, y, x] = bias[o] + Σ w[o, c, ky, kx] · in[c, y + ky − top,
    /// x + kx − left]` (zeros outside the input) of a `channels × height × width` input into
    /// `outputs × rows × cols`; `w` in OIHW order.
    #[allow(clippy::too_many_arguments)] // one call site; the convolution's own numbers
    pub fn new(
        channels: usize,
        outputs: usize,
        (height, width): (usize, usize),
        (top, left): (usize, usize),
        (rows, cols): (usize, usize),
        w: &[f32],
        bias: &[f32],
    ) -> Winograd {
        assert_eq!(w.len(), outputs * channels * 9);
        let (tile_rows, tile_cols) = (rows.div_ceil(2), cols.div_ceil(2));
        let padded = (2 * tile_rows + 2, 2 * tile_cols + 2);
        assert!(padded.0 >= height + top && padded.1 >= width + left, "{rows}×{cols} outputs of {height}×{width}");
        let pad = Pad { channels, height, width, top, left, padded };
        let band = (BAND_TILES / tile_cols).clamp(1, tile_rows);
        let stride = band * tile_cols;
        // G g Gᵀ for each output and channel: 16 values, position by position.
        let mut u = vec![0f32; POSITIONS * outputs * channels];
        for o in 0..outputs {
            for c in 0..channels {
                let g = &w[(o * channels + c) * 9..][..9];
                let t = transform_weights(g);
                for (p, v) in t.iter().enumerate() {
                    u[(p * outputs + o) * channels + c] = *v;
                }
            }
        }
        let zeros = vec![0f32; outputs];
        let products = (0..POSITIONS)
            .map(|p| {
                let u = &u[p * outputs * channels..][..outputs * channels];
                Packed::new(outputs, (0..channels).map(|c| c * stride).collect(), |o, c| u[o * channels + c], &zeros)
            })
            .collect();
        Winograd { channels, outputs, pad, rows, cols, tile_rows, tile_cols, band, products, bias: bias.to_vec() }
    }

    /// Multiply-adds per photo (the products'; the transforms' additions are few beside them).
    pub fn fmas(&self) -> usize {
        POSITIONS * self.outputs * self.channels * self.tile_rows * self.tile_cols
    }

    /// The convolution of `x` (`channels × height × width`), its bias added, clipped to
    /// `clip`, plus `residual` (laid out as the output) where given, as a new tensor of `shape`.
    pub fn run(&self, x: &[f32], clip: (f32, f32), residual: Option<&[f32]>, shape: &[usize]) -> TractResult<Tensor> {
        let (c, o) = (self.channels, self.outputs);
        ensure!(avx2::here(), "Winograd's transforms need AVX2 and FMA, which this CPU lacks");
        let values = o * self.rows * self.cols;
        ensure!(x.len() == c * self.pad.height * self.pad.width, "input of {} values for {self:?}", x.len());
        ensure!(shape.iter().product::<usize>() == values, "output {shape:?} for {self:?}");
        if let Some(r) = residual {
            ensure!(r.len() == values, "residual of {} values for {self:?}", r.len());
        }
        let (ph, pw) = self.pad.padded;
        let mut out = avx2::output(shape)?;
        let mut ram = out.try_as_plain_ram_mut()?;
        let dst = ram.as_slice_mut::<f32>()?;
        let tc = self.tile_cols;
        let stride = self.band * tc;
        // Each position's values one cache line further along than a whole number of
        // channels: 16 streams a multiple of 4 KiB apart would share the first-level cache's
        // sets (and its store forwarding's address bits).
        let (vp, mp) = (c * stride + SKEW, o * stride + SKEW);
        SCRATCH.with_borrow_mut(|(padded, v, m)| {
            // Kept from call to call: fresh buffers of this size came from the system each
            // time, and their pages cost more to fault in than the transforms took.
            self.pad.apply_into(x, padded);
            // Slack for the transform's last group of tiles, which reads whole groups of 8.
            padded.resize(padded.len() + 2 * 8 + 2, 0.0);
            v.resize(POSITIONS * vp, 0.0);
            m.resize(POSITIONS * mp, 0.0);
            self.bands(padded, (ph, pw), clip, residual, (v, vp), (m, mp), dst)
        })?;
        Ok(out)
    }

    /// The bands' transforms and products (see `run`), into the output `dst`.
    #[allow(clippy::too_many_arguments)] // `run`'s locals, handed over once
    fn bands(
        &self,
        padded: &[f32],
        (ph, pw): (usize, usize),
        clip: (f32, f32),
        residual: Option<&[f32]>,
        (v, vp): (&mut [f32], usize),
        (m, mp): (&mut [f32], usize),
        dst: &mut [f32],
    ) -> TractResult<()> {
        let (c, o, tc) = (self.channels, self.outputs, self.tile_cols);
        let stride = self.band * tc;
        for i0 in (0..self.tile_rows).step_by(self.band) {
            let i1 = (i0 + self.band).min(self.tile_rows);
            let n = (i1 - i0) * tc;
            for ch in 0..c {
                // Channel by channel and tile row by tile row, in order: each writes values
                // that are not tiles (up to 7 past its row's last) where the next will write
                // its own, or into the skew after the last channel.
                let plane = &padded[ch * ph * pw..];
                for i in i0..i1 {
                    let at = (i - i0) * tc;
                    avx2::transform_input(&plane[2 * i * pw..], pw, tc, &mut v[ch * stride + at..], vp);
                }
            }
            // Each position's sums over the band's tiles, channel-first, unclipped.
            let g = Geometry { outputs: o, rows: 1, cols: n, x_row: 0, x_col: 1, c_channel: n, c_row: 0, c_col: 1 };
            let unbounded = (f32::NEG_INFINITY, f32::INFINITY);
            for (p, w) in self.products.iter().enumerate() {
                kernel::run_into(&g, w, unbounded, &v[p * vp..], None, &mut m[p * mp..][..o * n])?;
            }
            // Output channel by channel and tile row by tile row, in order: a row's last
            // group writes up to 14 values past its end, where a later one writes its own
            // (the plane's last row writes none past it).
            for oc in 0..o {
                let sums: [&[f32]; POSITIONS] = std::array::from_fn(|p| &m[p * mp + oc * n..]);
                let plane = &mut dst[oc * self.rows * self.cols..][..self.rows * self.cols];
                for (k, i) in (i0..i1).enumerate() {
                    let row_sums = sums.map(|s| &s[k * tc..]);
                    let rows = (self.rows - 2 * i).min(2);
                    avx2::transform_output(
                        &row_sums,
                        tc,
                        self.bias[oc],
                        clip,
                        &mut plane[2 * i * self.cols..],
                        self.cols,
                        rows,
                    );
                }
                if let Some(r) = residual {
                    let r = &r[oc * self.rows * self.cols..][..self.rows * self.cols];
                    let rows = (2 * i0 * self.cols)..(2 * i1 * self.cols).min(plane.len());
                    for (d, r) in plane[rows.clone()].iter_mut().zip(&r[rows]) {
                        *d += r;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `G g Gᵀ` of one output and channel's 3×3 weights (row by row), position by position.
fn transform_weights(g: &[f32]) -> [f32; POSITIONS] {
    // G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
    let rows = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    let cols: [[f32; 4]; 3] = std::array::from_fn(|x| rows(g[x], g[3 + x], g[6 + x]));
    let mut t = [0f32; POSITIONS];
    for r in 0..4 {
        let v = rows(cols[0][r], cols[1][r], cols[2][r]);
        t[4 * r..4 * r + 4].copy_from_slice(&v);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tract_kernels::test_values as values;

    /// The definition written out plainly, in double precision.
    #[allow(clippy::too_many_arguments)]
    fn plain(
        (c, o): (usize, usize),
        (h, w): (usize, usize),
        (top, left): (usize, usize),
        (rows, cols): (usize, usize),
        wt: &[f32],
        bias: &[f32],
        clip: (f32, f32),
        x: &[f32],
        res: Option<&[f32]>,
    ) -> Vec<f32> {
        let mut out = vec![0f32; o * rows * cols];
        for oc in 0..o {
            for y in 0..rows {
                for xo in 0..cols {
                    let mut s = bias[oc] as f64;
                    for ic in 0..c {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = ((y + ky) as isize - top as isize, (xo + kx) as isize - left as isize);
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    let v = x[(ic * h + iy as usize) * w + ix as usize] as f64;
                                    s += wt[((oc * c + ic) * 3 + ky) * 3 + kx] as f64 * v;
                                }
                            }
                        }
                    }
                    let ix = (oc * rows + y) * cols + xo;
                    out[ix] = (s as f32).clamp(clip.0, clip.1) + res.map_or(0.0, |r| r[ix]);
                }
            }
        }
        out
    }

    /// Against the definition: padded and unpadded, odd and even sizes (a last tile half
    /// outside the output), one band and several (a last band shorter than the others),
    /// channels that fill the products' registers and channels that do not, clip and
    /// residual.
    #[test]
    fn winograd_matches_the_definition() {
        if !(kernel::available() && avx2::here()) {
            return;
        }
        for (c, o, (h, w), (top, left), (bottom, right), clip, residual) in [
            (64, 64, (40, 56), (1, 1), (1, 1), (f32::NEG_INFINITY, f32::INFINITY), false),
            (64, 64, (10, 14), (1, 1), (1, 1), (0.0, 6.0), true),
            (5, 7, (9, 13), (1, 1), (1, 1), (-1.0, 1.0), false),
            (16, 24, (7, 5), (0, 0), (0, 0), (f32::NEG_INFINITY, f32::INFINITY), true),
            (3, 40, (33, 3), (2, 0), (0, 1), (f32::NEG_INFINITY, 2.0), false),
        ] {
            let (rows, cols) = (h + top + bottom - 2, w + left + right - 2);
            let x = values(c * h * w, 1);
            let wt = values(o * c * 9, 2);
            let bias = values(o, 3);
            let res = residual.then(|| values(o * rows * cols, 4));
            let plan = Winograd::new(c, o, (h, w), (top, left), (rows, cols), &wt, &bias);
            let got = plan.run(&x, clip, res.as_deref(), &[1, o, rows, cols]).unwrap();
            let got = got.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec();
            let want = plain((c, o), (h, w), (top, left), (rows, cols), &wt, &bias, clip, &x, res.as_deref());
            let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
            let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(
                diff <= 2e-6 * scale * (c as f32).sqrt(),
                "{c}→{o} over {h}×{w}: max diff {diff} (values up to {scale})"
            );
        }
    }
}
