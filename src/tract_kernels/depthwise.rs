//! Depthwise convolutions (3×3 and 5×5; channel-last, or channel-first with stride 1) as one
//! operator of our own, fused with the clip that follows them: tract's `DepthWiseConv` and its
//! `Max`/`Min` pass become one `DermdeskDepthwise` running `depthwise_kernel` (AVX-512, or AVX2
//! and FMA).

use super::conv::{ConvParts, conv_parts, epilogue};
use super::depthwise_kernel::{self as kernel, Geometry};
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// A depthwise convolution and its clip.
#[derive(Debug, Clone)]
pub struct DermdeskDepthwise {
    geometry: Geometry,
    /// The layout of the input and output; channel-first runs strides of 1 only.
    channel_last: bool,
    /// `[ky][kx][c]` (channel-last) or `[c][ky][kx]`, and the bias per channel.
    weights: Arc<(Vec<f32>, Vec<f32>)>,
    clip: (f32, f32),
    shape: TVec<usize>,
}

impl PartialEq for DermdeskDepthwise {
    fn eq(&self, other: &Self) -> bool {
        self.geometry == other.geometry
            && self.channel_last == other.channel_last
            && (Arc::ptr_eq(&self.weights, &other.weights) || self.weights == other.weights)
            && self.clip.0.to_bits() == other.clip.0.to_bits()
            && self.clip.1.to_bits() == other.clip.1.to_bits()
            && self.shape == other.shape
    }
}
impl Eq for DermdeskDepthwise {}

impl Op for DermdeskDepthwise {
    fn name(&self) -> StaticName {
        "DermdeskDepthwise".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = &self.geometry;
        Ok(vec![format!(
            "{}×{} stride {}×{}, {} channels, {}×{} → {}×{}, {}, clip {:?}",
            g.kh,
            g.kw,
            g.sy,
            g.sx,
            g.channels,
            g.in_h,
            g.in_w,
            g.out_h,
            g.out_w,
            if self.channel_last { "channel-last" } else { "channel-first" },
            self.clip
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for DermdeskDepthwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = inputs[0].try_as_plain_ram()?.as_slice::<f32>()?;
        let (w, b) = &*self.weights;
        let out = kernel::run(&self.geometry, self.channel_last, w, b, self.clip, x, &self.shape)?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for DermdeskDepthwise {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let g = &self.geometry;
        Ok(tvec!((Cost::FMA(f32::datum_type()), (g.out_h * g.out_w * g.channels * g.kh * g.kw).into())))
    }

    as_op!();
}

/// Replaces every depthwise convolution the kernel runs, with the clip after it; returns how
/// many.
pub fn fuse(model: &mut TypedModel) -> TractResult<usize> {
    let mut fused = 0;
    for id in model.eval_order()? {
        if let Some(patch) = patch(model, id)? {
            patch.apply(model)?;
            fused += 1;
        }
    }
    if fused > 0 {
        model.compact()?;
    }
    Ok(fused)
}

/// The depthwise convolution at `id`, if the kernel runs it: one group per channel, a batch of
/// one (or none), channel-last or (stride 1) channel-first, and `conv_parts`.
fn patch(model: &TypedModel, id: usize) -> TractResult<Option<TypedModelPatch>> {
    let Some(ConvParts { conv, before, weights: w, bias: b, input: xs, output: cs, .. }) = conv_parts(model, id)?
    else {
        return Ok(None);
    };
    let spec = &conv.pool_spec;
    let channels = spec.input_channels;
    if conv.group != channels || spec.output_channels != channels {
        return Ok(None);
    }
    let df = spec.data_format;
    let channel_last = df.c_is_last();
    if !kernel::available(spec.kernel_shape[0], spec.kernel_shape[1]) {
        return Ok(None);
    }
    let batch = df.has_n();
    if xs.len() != 3 + batch as usize || cs.len() != xs.len() || (batch && xs[0] != 1) {
        return Ok(None);
    }
    let (xs, hw) = (&xs[batch as usize..], &cs[batch as usize..]);
    // (height, width, channels) of the input and the output.
    let (xs, hw) = if channel_last {
        ([xs[0], xs[1], xs[2]], [hw[0], hw[1], hw[2]])
    } else {
        ([xs[1], xs[2], xs[0]], [hw[1], hw[2], hw[0]])
    };
    let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
    let (sy, sx) = spec.strides.as_ref().map_or((1, 1), |s| (s[0], s[1]));
    if xs[2] != channels || hw[2] != channels || w.shape() != [channels, 1, kh, kw] || b.len() != channels {
        return Ok(None);
    }
    // Channel-first, the kernel reads a row's pixels as one vector: stride 1 only.
    if !channel_last && (sy, sx) != (1, 1) {
        return Ok(None);
    }
    let g = Geometry {
        channels,
        in_h: xs[0],
        in_w: xs[1],
        out_h: hw[0],
        out_w: hw[1],
        kh,
        kw,
        sy,
        sx,
        top: before[0],
        left: before[1],
    };
    let w = w.cast_to::<f32>()?;
    let w = w.try_as_plain_ram()?.as_slice::<f32>()?;
    // Channel-last: tap by tap, each channel's weight; channel-first: channel by channel, as given.
    let taps = if channel_last {
        let mut taps = vec![0f32; kh * kw * channels];
        for c in 0..channels {
            for t in 0..kh * kw {
                taps[t * channels + c] = w[c * kh * kw + t];
            }
        }
        taps
    } else {
        w.to_vec()
    };
    let mut bias = b.cast_to::<f32>()?.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
    // What the kernel can do on the way out: a bias and the clip (no residual: it has none).
    let channel_axis = if channel_last { cs.len() - 1 } else { batch as usize };
    let (last, extra, clip, residual) = epilogue(model, id, cs, channel_axis, channels)?;
    if residual.is_some() {
        return Ok(None);
    }
    for (b, e) in bias.iter_mut().zip(extra) {
        *b += e;
    }
    let op = DermdeskDepthwise { geometry: g, channel_last, weights: Arc::new((taps, bias)), clip, shape: cs.into() };
    let node = model.node(id);
    let mut patch = TypedModelPatch::new(format!("dermdesk depthwise {}", node.name));
    let x = patch.tap_model(model, node.inputs[0])?;
    let out = patch.wire_node(format!("{}.dermdesk", node.name), op, &[x])?;
    patch.shunt_outside(model, OutletId::new(last, 0), out[0])?;
    Ok(Some(patch))
}
