//! Convolutions as one operator of our own, fused with their bias, clip and residual add.
//!
//! After tract simplifies a model, a 1×1 convolution is an `EinSum` of the photo's tensor with a
//! constant weight matrix (`IHW,OI->HWO`, `HWI,OI->OHW`, ...), and a k×k one (not grouped) a
//! `Conv`; either is followed by an `Add` of the bias, often a `Max`/`Min` pair (ReLU6) and
//! sometimes the `Add` of a residual. `fuse` replaces each such chain by one `DermdeskConv` that
//! runs `conv_kernel` (AVX-512, or AVX2 and FMA) and lets tract compile the rest of the model as before. What it
//! does not recognise stays tract's.

use super::Pad;
use super::conv_kernel::{self as kernel, Geometry, Packed};
use super::winograd::Winograd;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::{Add, Max, Min};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// A convolution with its epilogue: `clip(bias + w * x) + residual`.
#[derive(Debug, Clone)]
pub struct DermdeskConv {
    geometry: Geometry,
    sums: Sums,
    clip: (f32, f32),
    /// Whether a second input, laid out as the output, is added last.
    residual: bool,
    shape: TVec<usize>,
    /// What the profile shows, e.g. "1×1, 16→96 channels, 8960 pixels, channel-first → last".
    what: String,
}

/// How the sums are made: the kernel's direct sums over the packed weights and the input laid
/// out as `input` says, or, for a 3×3 at stride 1 over enough pixels, Winograd's transforms
/// (which hold their own transformed weights).
#[derive(Debug, Clone)]
enum Sums {
    Direct { weights: Arc<Packed>, input: Layout },
    Winograd(Arc<Winograd>),
}

/// The input of the direct sums: as it comes (a 1×1, or a k×k without padding), copied into
/// zeros, or copied into zeros with each row split by column parity (`Pad::apply_by_parity`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    AsIs,
    Padded(Pad),
    ByParity(Pad),
}

impl Layout {
    fn apply(self, x: &[f32]) -> Option<Vec<f32>> {
        match self {
            Layout::AsIs => None,
            Layout::Padded(p) => Some(p.apply(x)),
            Layout::ByParity(p) => Some(p.apply_by_parity(x)),
        }
    }
}

impl PartialEq for Sums {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Sums::Direct { weights: a, input: ia }, Sums::Direct { weights: b, input: ib }) => {
                (Arc::ptr_eq(a, b) || a == b) && ia == ib
            }
            (Sums::Winograd(a), Sums::Winograd(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for DermdeskConv {
    fn eq(&self, other: &Self) -> bool {
        self.geometry == other.geometry
            && self.sums == other.sums
            && self.clip.0.to_bits() == other.clip.0.to_bits()
            && self.clip.1.to_bits() == other.clip.1.to_bits()
            && self.residual == other.residual
            && self.shape == other.shape
    }
}
impl Eq for DermdeskConv {}

impl Op for DermdeskConv {
    fn name(&self) -> StaticName {
        "DermdeskConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let epilogue = format!("clip {:?}{}", self.clip, if self.residual { ", plus residual" } else { "" });
        Ok(vec![self.what.clone(), epilogue])
    }

    op_as_typed_op!();
}

impl EvalOp for DermdeskConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = inputs[0].try_as_plain_ram()?.as_slice::<f32>()?;
        let residual = match (self.residual, inputs.get(1)) {
            (true, Some(r)) => Some(r.try_as_plain_ram()?.as_slice::<f32>()?),
            (true, None) => bail!("DermdeskConv: the residual input is missing"),
            (false, _) => None,
        };
        let out = match &self.sums {
            Sums::Winograd(w) => w.run(x, self.clip, residual, &self.shape)?,
            Sums::Direct { weights, input } => {
                let padded = input.apply(x);
                let x = padded.as_deref().unwrap_or(x);
                kernel::run(&self.geometry, weights, self.clip, x, residual, &self.shape)?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for DermdeskConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let g = &self.geometry;
        let fmas = match &self.sums {
            Sums::Direct { weights, .. } => g.outputs * weights.terms() * g.rows * g.cols,
            Sums::Winograd(w) => w.fmas(),
        };
        Ok(tvec!((Cost::FMA(f32::datum_type()), fmas.into())))
    }

    as_op!();
}

/// Replaces every convolution chain `fuse` recognises in a simplified (decluttered) model;
/// returns how many. Nothing changes on a machine without AVX-512 or AVX2.
pub fn fuse(model: &mut TypedModel) -> TractResult<usize> {
    if !kernel::available() {
        return Ok(0);
    }
    let mut fused = 0;
    for id in model.eval_order()? {
        let found = if model.node(id).op_is::<EinSum>() { one_by_one(model, id)? } else { k_by_k(model, id)? };
        if let Some(conv) = found {
            conv.patch(model)?.apply(model)?;
            fused += 1;
        }
    }
    if fused > 0 {
        model.compact()?;
    }
    Ok(fused)
}

/// A convolution found in the graph, before its epilogue is looked for.
struct Found {
    id: usize,
    geometry: Geometry,
    /// Each term's input offset, and its weight for each output: `w(o, k)`.
    offsets: Vec<usize>,
    weights: Vec<f32>,
    bias: Vec<f32>,
    input: Layout,
    /// Where Winograd's transforms pay: the input's channels, size and leading zeros.
    winograd: Option<Input>,
    /// The output's shape, and which of its axes holds the channels.
    shape: TVec<usize>,
    channel_axis: usize,
    what: String,
}

/// A k×k convolution's channel-first input: its channels, size, and the zeros before its
/// first row and column.
#[derive(Debug, Clone, Copy)]
struct Input {
    channels: usize,
    size: (usize, usize),
    before: (usize, usize),
}

impl Found {
    /// The patch replacing the convolution and its epilogue (a constant bias along the output
    /// channels, clips, a residual) by one `DermdeskConv`.
    fn patch(mut self, model: &TypedModel) -> TractResult<TypedModelPatch> {
        let (last, bias, clip, residual) =
            epilogue(model, self.id, &self.shape, self.channel_axis, self.geometry.outputs)?;
        for (b, extra) in self.bias.iter_mut().zip(bias) {
            *b += extra;
        }
        let terms = self.offsets.len();
        let w = &self.weights;
        let g = self.geometry;
        let sums = match self.winograd {
            Some(i) => {
                self.what.push_str(", Winograd F(2×2, 3×3)");
                let plan = Winograd::new(i.channels, g.outputs, i.size, i.before, (g.rows, g.cols), w, &self.bias);
                Sums::Winograd(Arc::new(plan))
            }
            None => {
                let packed = Packed::new(g.outputs, self.offsets, |o, k| w[o * terms + k], &self.bias);
                Sums::Direct { weights: Arc::new(packed), input: self.input }
            }
        };
        let node = model.node(self.id);
        let op = DermdeskConv {
            geometry: self.geometry,
            sums,
            clip,
            residual: residual.is_some(),
            shape: self.shape,
            what: self.what,
        };
        let mut patch = TypedModelPatch::new(format!("dermdesk convolution {}", node.name));
        let mut wires = tvec!(patch.tap_model(model, node.inputs[0])?);
        if let Some(r) = residual {
            wires.push(patch.tap_model(model, r)?);
        }
        let out = patch.wire_node(format!("{}.dermdesk", node.name), op, &wires)?;
        patch.shunt_outside(model, OutletId::new(last, 0), out[0])?;
        Ok(patch)
    }
}

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

fn layout(channel_stride: usize) -> &'static str {
    if channel_stride == 1 { "channel-last" } else { "channel-first" }
}

/// The 1×1 convolution at `id`, if the `EinSum` there is one.
fn one_by_one(model: &TypedModel, id: usize) -> TractResult<Option<Found>> {
    let node = model.node(id);
    let Some(einsum) = node.op_as::<EinSum>() else { return Ok(None) };
    if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() || node.inputs.len() != 2 {
        return Ok(None);
    }
    let (xf, wf) = (model.outlet_fact(node.inputs[0])?, model.outlet_fact(node.inputs[1])?);
    let (Some(w), None) = (wf.konst.clone(), &xf.konst) else { return Ok(None) };
    let (Some(xs), Some(cs)) = (xf.shape.as_concrete(), node.outputs[0].fact.shape.as_concrete()) else {
        return Ok(None);
    };
    // A weight matrix (outputs × inputs), or a vector where there is one output (a mask's
    // logit: its output axis, of size 1, then appears in the output alone).
    if xf.datum_type != f32::datum_type() || w.datum_type() != f32::datum_type() || !(1..=2).contains(&w.rank()) {
        return Ok(None);
    }
    let (x_st, c_st, w_st) = (strides(xs), strides(cs), strides(w.shape()));
    let (mut k, mut o, mut single) = (None, None, None);
    let mut pixel_axes = Vec::new(); // (position in x, position in output)
    for axis in einsum.axes.iter_all_axes() {
        let one = |v: &TVec<usize>| if v.len() > 1 { Err(()) } else { Ok(v.first().copied()) };
        let (Ok(a), Ok(b), Ok(c)) = (one(&axis.inputs[0]), one(&axis.inputs[1]), one(&axis.outputs[0])) else {
            return Ok(None);
        };
        match (a, b, c) {
            (Some(a), Some(b), None) if k.is_none() => k = Some((a, b)),
            (None, Some(b), Some(c)) if o.is_none() => o = Some((b, c)),
            (Some(a), None, Some(c)) if xs[a] > 1 => pixel_axes.push((a, c)),
            (Some(a), None, Some(c)) if xs[a] == 1 && cs[c] == 1 => {}
            (Some(a), None, None) if xs[a] == 1 => {}
            (None, None, Some(c)) if cs[c] == 1 => single = single.or(Some(c)),
            _ => return Ok(None),
        }
    }
    // Any axis of size 1 in the output alone serves as the single output's channel axis.
    if w.rank() == 1 && o.is_some() || w.rank() == 2 && o.is_none() {
        return Ok(None);
    }
    // The weights' output axis (none for a vector) and the output's channel axis.
    let (Some((kx, kw)), Some((ow, oc))) = (k, o.map(|(b, c)| (Some(b), c)).or(single.map(|c| (None, c)))) else {
        return Ok(None);
    };
    // The pixel axes, in the same order in both tensors and each inside the one before (so
    // that one stride walks them all).
    pixel_axes.sort();
    let in_order = pixel_axes.windows(2).all(|p| {
        let ((a0, c0), (a1, c1)) = (p[0], p[1]);
        c0 < c1 && x_st[a0] == x_st[a1] * xs[a1] && c_st[c0] == c_st[c1] * cs[c1]
    });
    if !in_order {
        return Ok(None);
    }
    let pixels: usize = pixel_axes.iter().map(|&(a, _)| xs[a]).product();
    let (x_pixel, c_pixel) = pixel_axes.last().map_or((0, 0), |&(a, c)| (x_st[a], c_st[c]));
    // A vector's one output: its weights are all the vector's values (stride 0 between outputs).
    let ((outputs, so), (inputs, si)) = (ow.map_or((1, 0), |ow| (w.shape()[ow], w_st[ow])), (w.shape()[kw], w_st[kw]));
    let geometry = Geometry {
        outputs,
        rows: 1,
        cols: pixels,
        x_row: 0,
        x_col: x_pixel,
        c_channel: c_st[oc],
        c_row: 0,
        c_col: if pixels == 1 { outputs } else { c_pixel },
    };
    if outputs * pixels != cs.iter().product::<usize>() {
        return Ok(None);
    }
    let data = w.cast_to::<f32>()?;
    let data = data.try_as_plain_ram()?.as_slice::<f32>()?;
    let weights = (0..outputs).flat_map(|o| (0..inputs).map(move |i| data[o * so + i * si])).collect();
    let what = format!(
        "1×1, {inputs}→{outputs} channels, {pixels} pixels, {} → {}",
        layout(x_st[kx]),
        layout(geometry.c_channel)
    );
    Ok(Some(Found {
        id,
        geometry,
        offsets: (0..inputs).map(|i| i * x_st[kx]).collect(),
        weights,
        bias: vec![0.0; outputs],
        input: Layout::AsIs,
        winograd: None,
        shape: cs.into(),
        channel_axis: oc,
        what,
    }))
}

/// A float `Conv` with a 2-D kernel (OIHW), no dilation, explicit (or no) padding, constant
/// weights and bias, and known shapes: what both of dermdesk's convolution operators need.
pub(super) struct ConvParts<'m> {
    pub conv: &'m Conv,
    /// Padding before and after, per spatial axis.
    pub before: TVec<usize>,
    pub after: TVec<usize>,
    pub weights: Arc<Tensor>,
    pub bias: Arc<Tensor>,
    pub input: &'m [usize],
    pub output: &'m [usize],
}

pub(super) fn conv_parts(model: &TypedModel, id: usize) -> TractResult<Option<ConvParts<'_>>> {
    let node = model.node(id);
    let Some(conv) = node.op_as::<Conv>() else { return Ok(None) };
    let spec = &conv.pool_spec;
    if conv.q_params.is_some()
        || conv.kernel_fmt != KernelFormat::OIHW
        || spec.kernel_shape.len() != 2
        || spec.dilations.as_ref().is_some_and(|d| d.iter().any(|&d| d != 1))
        || node.inputs.len() != 3
    {
        return Ok(None);
    }
    let (before, after) = match &spec.padding {
        PaddingSpec::Explicit(b, a) if b.len() == 2 && a.len() == 2 => (b.clone(), a.clone()),
        PaddingSpec::Valid => (tvec!(0, 0), tvec!(0, 0)),
        _ => return Ok(None),
    };
    let xf = model.outlet_fact(node.inputs[0])?;
    let (Some(weights), Some(bias)) =
        (model.outlet_fact(node.inputs[1])?.konst.clone(), model.outlet_fact(node.inputs[2])?.konst.clone())
    else {
        return Ok(None);
    };
    let (Some(input), Some(output)) = (xf.shape.as_concrete(), node.outputs[0].fact.shape.as_concrete()) else {
        return Ok(None);
    };
    if xf.datum_type != f32::datum_type() {
        return Ok(None);
    }
    Ok(Some(ConvParts { conv, before, after, weights, bias, input, output }))
}

/// The fewest 2×2 output tiles for which a 3×3 convolution runs by Winograd's transforms.
const WINOGRAD_TILES: usize = 100;

/// The k×k convolution at `id`, if the `Conv` there is one dermdesk runs: not grouped,
/// channel-first with a batch of one, and `conv_parts`.
fn k_by_k(model: &TypedModel, id: usize) -> TractResult<Option<Found>> {
    let Some(ConvParts { conv, before, after, weights: w, bias: b, input: xs, output: cs }) = conv_parts(model, id)?
    else {
        return Ok(None);
    };
    let spec = &conv.pool_spec;
    if conv.group != 1
        || spec.data_format != DataFormat::NCHW
        || xs.len() != 4
        || xs[0] != 1
        || cs.len() != 4
        || w.rank() != 4
    {
        return Ok(None);
    }
    let (channels, h, wd) = (xs[1], xs[2], xs[3]);
    let (outputs, kh, kw) = (cs[1], spec.kernel_shape[0], spec.kernel_shape[1]);
    let (sh, sw) = spec.strides.as_ref().map_or((1, 1), |s| (s[0], s[1]));
    let padded = (h + before[0] + after[0], wd + before[1] + after[1]);
    let (rows, cols) = (cs[2], cs[3]);
    if w.shape() != [outputs, channels, kh, kw]
        || padded.0 < kh
        || padded.1 < kw
        || rows != (padded.0 - kh) / sh + 1
        || cols != (padded.1 - kw) / sw + 1
        || b.len() != outputs
    {
        return Ok(None);
    }
    let w = w.cast_to::<f32>()?;
    let bias = b.cast_to::<f32>()?;
    // At stride 2 along the rows, the stem (27 terms, 32 channels, channel-first both sides):
    // with each padded row split by column parity, adjacent outputs read adjacent inputs, and
    // AVX2 runs it with 16 pixels in its lanes and the weights broadcast.
    let by_parity = sw == 2 && rows * cols > 1 && kernel::pixels_in_lanes(channels * kh * kw);
    let column = |x: usize| if by_parity { super::by_parity(x, padded.1) } else { x };
    let mut offsets = Vec::with_capacity(channels * kh * kw);
    for c in 0..channels {
        for y in 0..kh {
            for x in 0..kw {
                offsets.push((c * padded.0 + y) * padded.1 + column(x));
            }
        }
    }
    let geometry = Geometry {
        outputs,
        rows,
        cols,
        x_row: sh * padded.1,
        x_col: if by_parity { 1 } else { sw },
        c_channel: rows * cols,
        c_row: cols,
        c_col: 1,
    };
    let unpadded = before.iter().chain(&after).all(|&p| p == 0);
    let pad = Pad { channels, height: h, width: wd, top: before[0], left: before[1], padded };
    // Winograd where it paid here (AMD EPYC, AVX2, alone, medians of 300): the segmenter's
    // 3×3s, 64→64 channels, over 40×56 pixels 1.93 → 1.27 ms and over 20×28 0.48 → 0.34;
    // over 10×14 (35 tiles) both 0.12.
    let tiles = rows.div_ceil(2) * cols.div_ceil(2);
    let winograd = (kh, kw, sh, sw) == (3, 3, 1, 1) && channels >= 16 && outputs >= 16 && tiles >= WINOGRAD_TILES;
    Ok(Some(Found {
        id,
        geometry,
        offsets,
        weights: w.try_as_plain_ram()?.as_slice::<f32>()?.to_vec(),
        bias: bias.try_as_plain_ram()?.as_slice::<f32>()?.to_vec(),
        input: match (by_parity, unpadded) {
            (true, _) => Layout::ByParity(pad),
            (false, false) => Layout::Padded(pad),
            (false, true) => Layout::AsIs,
        },
        winograd: winograd.then_some(Input { channels, size: (h, wd), before: (before[0], before[1]) }),
        shape: cs.into(),
        channel_axis: 1,
        what: format!(
            "{kh}×{kw} stride {sh}×{sw}, {channels}→{outputs} channels, {rows}×{cols} pixels{}",
            if by_parity { ", columns by parity" } else { "" }
        ),
    }))
}

/// What follows the convolution at `id` (output `shape`, channels on `channel_axis`) that the
/// kernel can do on the way out: a constant bias along the channels, then clips (`Max`, `Min`
/// with a constant), then the `Add` of another tensor of the same shape. Returns the last node
/// taken, the bias, the clip and the residual's outlet.
#[allow(clippy::type_complexity)]
pub(super) fn epilogue(
    model: &TypedModel,
    id: usize,
    shape: &[usize],
    channel_axis: usize,
    outputs: usize,
) -> TractResult<(usize, Vec<f32>, (f32, f32), Option<OutletId>)> {
    let mut last = id;
    let mut bias = vec![0f32; outputs];
    let mut clip = (f32::NEG_INFINITY, f32::INFINITY);
    let mut residual = None;
    let mut bias_taken = false;
    let mut clipped = false;
    while let Some((succ, other)) = single_binary_successor(model, last, shape)? {
        let bin = succ.op_as::<TypedBinOp>().expect("checked");
        let konst = model.outlet_fact(other)?.konst.clone();
        if !bias_taken
            && !clipped
            && bin.0.is::<Add>()
            && let Some(t) = &konst
        {
            let t = t.cast_to::<f32>()?;
            let v = t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
            let along =
                t.rank() == shape.len() && t.shape().iter().enumerate().all(|(d, &n)| n == 1 || d == channel_axis);
            match v.len() {
                1 => bias.fill(v[0]),
                n if n == outputs && along => bias = v,
                _ => break,
            }
            bias_taken = true;
            last = succ.id;
            continue;
        }
        if bin.0.is::<Max>() || bin.0.is::<Min>() {
            let scalar = konst.as_ref().filter(|t| t.len() == 1).and_then(|t| t.cast_to_scalar::<f32>().ok());
            let Some(v) = scalar else { break };
            let next = if bin.0.is::<Max>() { (clip.0.max(v), clip.1) } else { (clip.0, clip.1.min(v)) };
            if next.0 > next.1 {
                break;
            }
            (clip, clipped, last) = (next, true, succ.id);
            continue;
        }
        if bin.0.is::<Add>() && konst.is_none() && model.outlet_fact(other)?.shape.as_concrete() == Some(shape) {
            residual = Some(other);
            last = succ.id;
        }
        break;
    }
    Ok((last, bias, clip, residual))
}

/// The one node reading `id`'s output, when it is a binary op whose output has the shape
/// `shape` and `id`'s output is not one of the model's: that node and its other input.
fn single_binary_successor<'m>(
    model: &'m TypedModel,
    id: usize,
    shape: &[usize],
) -> TractResult<Option<(&'m TypedNode, OutletId)>> {
    let here = OutletId::new(id, 0);
    if model.output_outlets()?.contains(&here) {
        return Ok(None);
    }
    let Some(succ) = model.single_succ(id)? else { return Ok(None) };
    if succ.op_as::<TypedBinOp>().is_none()
        || succ.inputs.len() != 2
        || succ.outputs[0].fact.shape.as_concrete() != Some(shape)
        || succ.outputs[0].fact.datum_type != f32::datum_type()
    {
        return Ok(None);
    }
    let other = if succ.inputs[0] == here { succ.inputs[1] } else { succ.inputs[0] };
    if other == here {
        return Ok(None);
    }
    Ok(Some((succ, other)))
}
