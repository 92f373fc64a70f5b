//! One way to turn a parsed ONNX network into tract's optimised plan.
//!
//! tract-linalg 0.23.9 registers a SIMD depthwise-convolution kernel only for WebAssembly and
//! aarch64 (its `x86_64/depthwise.rs` is written but nothing registers it); on x86 the
//! channel-first depthwise loop is scalar, while with every convolution channel-last (tract's
//! `conv_nhwc` rewrite) the loop runs over contiguous channels and vectorises. That wins on
//! EfficientNet-Lite (the demo classifier 32.7 → 26.8 ms a photo, depthwise 28.1 → 8.7 ms, quiet
//! machine) and loses on the privacy detectors (their ordinary convolutions lose tract's direct
//! channel-first path; measured under load: YuNet 43 → 71 ms, PP-OCRv5 recogniser 47 → 84 ms).
//! So a registered model is optimised both ways and timed on its test input, and the faster plan
//! is kept; the privacy detectors keep the file's layout. `DERMDESK_TRACT_NCHW=1` keeps the
//! file's layout everywhere, for benchmarks side by side (`dermdesk bench models`, README
//! "tract and onnxruntime").

use std::sync::Arc;
use std::time::Instant;
use tract_onnx::prelude::*;

/// How a plan runs its convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// As the ONNX file has them (channel-first).
    File,
    /// Every convolution channel-last (tract's `conv_nhwc` rewrite).
    ChannelLast,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::File => "as in the file",
            Layout::ChannelLast => "channel-last",
        }
    }
}

/// Whether channel-last plans may be tried (`DERMDESK_TRACT_NCHW` unset, empty or 0).
pub fn channel_last_allowed() -> bool {
    std::env::var_os("DERMDESK_TRACT_NCHW").is_none_or(|v| v.is_empty() || v == "0")
}

/// Typed, decluttered, in `layout`, optimised.
pub fn optimise(model: InferenceModel, layout: Layout) -> TractResult<TypedModel> {
    from_decluttered(model.into_typed()?.into_decluttered()?, layout)
}

fn from_decluttered(mut typed: TypedModel, layout: Layout) -> TractResult<TypedModel> {
    if layout == Layout::ChannelLast {
        match tract_onnx::tract_core::transform::get_transform("conv_nhwc")? {
            Some(t) => t.transform(&mut typed)?,
            None => return Err(anyhow::anyhow!("this tract has no conv_nhwc rewrite")),
        }
    }
    typed.into_optimized()
}

/// The faster of the two layouts for `model` (input fact set), timed on `input`: the best of
/// three runs each after one to warm up. With channel-last plans not allowed, or when the
/// rewrite fails, the file's layout.
pub fn fastest(model: InferenceModel, input: &Tensor) -> TractResult<(Arc<TypedRunnableModel>, Layout)> {
    let decluttered = model.into_typed()?.into_decluttered()?;
    let file = from_decluttered(decluttered.clone(), Layout::File)?.into_runnable()?;
    if !channel_last_allowed() {
        return Ok((file, Layout::File));
    }
    let Ok(last) = from_decluttered(decluttered, Layout::ChannelLast).and_then(|m| m.into_runnable()) else {
        return Ok((file, Layout::File));
    };
    let time = |plan: &Arc<TypedRunnableModel>| -> TractResult<f64> {
        plan.run(tvec!(input.clone().into()))?;
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            plan.run(tvec!(input.clone().into()))?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok(best)
    };
    // A plan that cannot run is left to the caller's own test run to report, in the file's layout.
    match (time(&last), time(&file)) {
        (Ok(l), Ok(f)) if l < f => Ok((last, Layout::ChannelLast)),
        _ => Ok((file, Layout::File)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both layouts of the demo classifier give the same logits on a non-trivial input, and the
    /// channel-last plan really is a different plan (its depthwise convolutions channel-last).
    #[test]
    fn both_layouts_agree_on_the_demo_classifier() {
        let Some((_, bytes)) = crate::models::registry::builtin_files("ham7-lite0") else {
            panic!("the demo classifier is built in (assets/models/ham7-lite0)");
        };
        let shape = [1usize, 3, 160, 224];
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|i| ((i * 7919 % 255) as f32 - 127.0) / 128.0).collect();
        let input = Tensor::from_shape(&shape, &data).unwrap();
        let run = |layout: Layout| {
            let model = onnx().model_for_read(&mut std::io::Cursor::new(bytes)).unwrap();
            let model = model.with_input_fact(0, f32::fact(shape).into()).unwrap();
            let typed = optimise(model, layout).unwrap();
            let moves = typed.nodes().iter().filter(|n| n.name.contains("nhwc")).count();
            let out = typed.into_runnable().unwrap().run(tvec!(input.clone().into())).unwrap();
            let values = out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect::<Vec<f32>>();
            (values, moves)
        };
        let (file, moves_file) = run(Layout::File);
        let (last, moves_last) = run(Layout::ChannelLast);
        assert_eq!(moves_file, 0);
        assert!(moves_last > 0, "the channel-last rewrite left no axis move in the plan");
        assert_eq!(file.len(), 7);
        let diff = file.iter().zip(&last).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff <= 1e-4, "layouts differ by {diff}: {file:?} vs {last:?}");
    }
}
