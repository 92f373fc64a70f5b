//! Where dermdesk runs parts of a model faster than tract 0.23.9 does on x86, and the one way
//! every model here is compiled (`optimise`), so that each gets them.
//!
//! - `depthwise_routine`: a channel-inner depthwise-convolution kernel registered into
//!   tract-linalg's kernel table (tract then runs EfficientNet's depthwise convolutions
//!   channel-last; `depthwise` then runs them).
//! - `depthwise`: 3×3 and 5×5 depthwise convolutions (channel-last, or channel-first with
//!   stride 1) and their clip replaced by an operator of our own running `depthwise_kernel`
//!   (AVX-512, or AVX2 and FMA).
//! - `conv`: 1×1 and k×k convolutions (with their bias, clip and residual add) replaced by an
//!   operator of our own running `conv_kernel` (AVX-512, or AVX2 and FMA), after tract has
//!   chosen every tensor's layout and before it compiles the rest.
//! - `resize`: tract's `Resize` with its resampling plans made once, at compile time.
//!
//! README, Benchmarks, "Kernels of our own", has the figures.

mod conv;
mod conv_kernel;
mod depthwise;
mod depthwise_kernel;
mod depthwise_routine;
mod resize;
mod winograd;

pub use conv::DermdeskConv;
pub use depthwise::DermdeskDepthwise;
pub use depthwise_routine::DEPTHWISE_C_NAME;
pub use resize::PlannedResize;
use tract_onnx::prelude::*;

/// A channel-first input of `channels × height × width`, copied into the middle of a zeroed
/// `channels × padded.0 × padded.1` one at (`top`, `left`). A channel-last input is one
/// "channel" whose rows hold every pixel's channels (widths and `left` in values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pad {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub top: usize,
    pub left: usize,
    pub padded: (usize, usize),
}

impl Pad {
    /// Written in one pass, front to back: zeroing it all first and then copying the rows in
    /// cost the channel-first depthwise convolution after the stem (1.2 MB padded) 0.015–0.03
    /// ms more, the stem 0.01–0.02.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.channels * self.padded.0 * self.padded.1);
        self.apply_into(x, &mut out);
        out
    }

    /// `apply` into `out` (emptied first; its memory kept from call to call where the caller
    /// keeps it).
    pub fn apply_into(&self, x: &[f32], out: &mut Vec<f32>) {
        let (ph, pw) = self.padded;
        let (right, bottom) = (pw - self.left - self.width, ph - self.top - self.height);
        out.clear();
        for c in 0..self.channels {
            out.resize(out.len() + self.top * pw, 0.0);
            for y in 0..self.height {
                let from = (c * self.height + y) * self.width;
                out.resize(out.len() + self.left, 0.0);
                out.extend_from_slice(&x[from..from + self.width]);
                out.resize(out.len() + right, 0.0);
            }
            out.resize(out.len() + bottom * pw, 0.0);
        }
    }

    /// `apply`, each padded row stored as its values at even columns, then those at odd
    /// columns. A convolution at stride 2 along the rows then finds the inputs of adjacent
    /// outputs side by side (a tap at column `x` in half `x % 2`, `x / 2` from its start; see
    /// `by_parity`), so a kernel can load them as vectors.
    pub fn apply_by_parity(&self, x: &[f32]) -> Vec<f32> {
        let mut out = self.apply(x);
        // Then each row through a copy of itself: its even values, then its odd ones. The stem:
        // 0.03–0.05 ms a photo, as a pass over each row built beside the copy was (written
        // value by value into zeros, 0.14).
        let pw = self.padded.1;
        let mut line = vec![0f32; pw];
        for row in out.chunks_exact_mut(pw) {
            line.copy_from_slice(row);
            let (even, odd) = row.split_at_mut(pw.div_ceil(2));
            let pairs = line.chunks_exact(2);
            if let [last] = pairs.remainder() {
                even[pw / 2] = *last;
            }
            for ((e, o), p) in even.iter_mut().zip(odd.iter_mut()).zip(pairs) {
                (*e, *o) = (p[0], p[1]);
            }
        }
        out
    }
}

/// Where padded column `column` of a row `width` wide lies in `Pad::apply_by_parity`'s layout.
pub(super) fn by_parity(column: usize, width: usize) -> usize {
    (column % 2) * width.div_ceil(2) + column / 2
}

/// The runnable plan of a model whose input facts are set: tract's simplification, our
/// convolutions (ordinary, then depthwise) where the CPU has AVX-512 or AVX2 and FMA, resizes
/// planned once, then tract's compilation.
pub fn optimise(model: InferenceModel) -> TractResult<TypedModel> {
    let mut typed = model.into_typed()?.into_decluttered()?;
    conv::fuse(&mut typed)?;
    depthwise::fuse(&mut typed)?;
    resize::plan(&mut typed)?;
    typed.optimize()?;
    Ok(typed)
}

/// `n` values in −2..2 from a seeded linear congruential sequence, for the kernels' tests.
#[cfg(test)]
fn test_values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::onnx;

    fn plan(name: &str, shape: [usize; 4], ours: bool) -> TypedModel {
        let Some((_, bytes)) = crate::models::registry::builtin_files(name) else {
            panic!("{name} is built in (assets/models/{name})");
        };
        let model = onnx().model_for_read(&mut std::io::Cursor::new(bytes)).unwrap();
        let model = model.with_input_fact(0, f32::fact(shape).into()).unwrap();
        if ours { optimise(model).unwrap() } else { model.into_optimized().unwrap() }
    }

    /// Every convolution (the stem's 3×3, the 1×1s, the segmenter's three 3×3s, the 16
    /// depthwise ones) and constant-weight product of the three built-in models
    /// becomes ours where the CPU has AVX-512 or AVX2 and FMA (none elsewhere), every resize (the segmenter's four) is planned
    /// once, and each model then gives tract's own outputs on a photo-like input (a smooth
    /// gradient with texture), within 1e-4.
    #[test]
    fn the_built_in_models_run_their_convolutions_here_and_give_tracts_outputs() {
        for (name, shape, convolutions, resizes) in [
            ("ham7-lite0", [1, 3, 160, 224], 34, 0),
            // The segmenter's last 1×1 (64 channels to the mask's one logit) has a weight
            // vector, not a matrix.
            ("lesion-seg-lite0", [1, 3, 160, 224], 41, 4),
            // The modality probe adds 10 products of a feature vector with constant weights.
            ("modality-lite0", [1, 3, 160, 160], 44, 0),
        ] {
            let ours = plan(name, shape, true);
            let count = ours.nodes().iter().filter(|n| n.op_is::<DermdeskConv>()).count();
            let want = if conv_kernel::available() { convolutions } else { 0 };
            assert_eq!(count, want, "{name}: convolutions run by dermdesk's kernel");
            // All 16 depthwise ones (AVX-512 or AVX2): 15 channel-last, the first (after the
            // stem) channel-first.
            let depthwise = ours.nodes().iter().filter(|n| n.op_is::<DermdeskDepthwise>()).count();
            let want = if conv_kernel::available() { 16 } else { 0 };
            assert_eq!(depthwise, want, "{name}: depthwise convolutions");
            let planned = ours.nodes().iter().filter(|n| n.op_is::<PlannedResize>()).count();
            assert_eq!(planned, resizes, "{name}: resizes planned once");
            let [_, c, h, w] = shape;
            let input: Vec<f32> = (0..c * h * w)
                .map(|k| {
                    let (ch, y, x) = (k / (h * w), (k / w) % h, k % w);
                    ((x as f32 / w as f32 - 0.5)
                        + (y as f32 * 0.37 + ch as f32).sin() * 0.3
                        + ((k * 7919) % 13) as f32 * 0.02)
                        .clamp(-1.0, 1.0)
                })
                .collect();
            let run = |m: TypedModel| {
                let out =
                    m.into_runnable().unwrap().run(tvec!(Tensor::from_shape(&shape, &input).unwrap().into())).unwrap();
                out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect::<Vec<f32>>()
            };
            let (a, b) = (run(ours), run(plan(name, shape, false)));
            assert_eq!(a.len(), b.len());
            let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(diff <= 1e-4, "{name}: max |ours - tract| = {diff}");
        }
    }
}
