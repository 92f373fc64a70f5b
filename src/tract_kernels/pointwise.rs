//! 1×1 convolutions as one operator of our own, fused with their bias, clip and residual add.
//!
//! After tract simplifies a model, a 1×1 convolution is an `EinSum` of the photo's tensor with a
//! constant weight matrix (`IHW,OI->HWO`, `HWI,OI->OHW`, ...), followed by an `Add` of the bias,
//! often a `Max`/`Min` pair (ReLU6) and sometimes the `Add` of a residual. `fuse` replaces each
//! such chain by one `PointwiseConv` that runs `pointwise_kernel` (AVX-512) and lets tract
//! compile the rest of the model as before. What it does not recognise stays tract's.

use super::pointwise_kernel::{self as kernel, Geometry, Packed};
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::{Add, Max, Min};
use tract_onnx::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// A 1×1 convolution with its epilogue: `clip(bias + w · x) + residual`.
#[derive(Debug, Clone)]
pub struct PointwiseConv {
    geometry: Geometry,
    weights: Arc<Packed>,
    clip: (f32, f32),
    /// Whether a second input, laid out as the output, is added last.
    residual: bool,
    shape: TVec<usize>,
}

impl PartialEq for PointwiseConv {
    fn eq(&self, other: &Self) -> bool {
        self.geometry == other.geometry
            && (Arc::ptr_eq(&self.weights, &other.weights) || self.weights == other.weights)
            && self.clip.0.to_bits() == other.clip.0.to_bits()
            && self.clip.1.to_bits() == other.clip.1.to_bits()
            && self.residual == other.residual
            && self.shape == other.shape
    }
}
impl Eq for PointwiseConv {}

impl Op for PointwiseConv {
    fn name(&self) -> StaticName {
        "PointwiseConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = &self.geometry;
        let layout = |channel: usize| if channel == 1 { "channel-last" } else { "channel-first" };
        Ok(vec![format!(
            "{}→{} channels over {} pixels, input {}, output {}, clip {:?}{}",
            g.inputs,
            g.outputs,
            g.pixels,
            layout(g.x_channel),
            layout(g.c_channel),
            self.clip,
            if self.residual { ", plus residual" } else { "" }
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for PointwiseConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = inputs[0].try_as_plain_ram()?.as_slice::<f32>()?;
        let residual = match (self.residual, inputs.get(1)) {
            (true, Some(r)) => Some(r.try_as_plain_ram()?.as_slice::<f32>()?),
            (true, None) => bail!("PointwiseConv: the residual input is missing"),
            (false, _) => None,
        };
        let out = kernel::run(&self.geometry, &self.weights, self.clip, x, residual, &self.shape)?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for PointwiseConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let g = &self.geometry;
        Ok(tvec!((Cost::FMA(f32::datum_type()), (g.outputs * g.inputs * g.pixels).into())))
    }

    as_op!();
}

/// Replaces every 1×1 convolution chain `fuse` recognises in a simplified (decluttered) model;
/// returns how many. Nothing changes on a machine without AVX-512.
pub fn fuse(model: &mut TypedModel) -> TractResult<usize> {
    if !kernel::available() {
        return Ok(0);
    }
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

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// The 1×1 convolution at `id`, if it is one, as a patch replacing it and its epilogue.
fn patch(model: &TypedModel, id: usize) -> TractResult<Option<TypedModelPatch>> {
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
    if xf.datum_type != f32::datum_type() || w.datum_type() != f32::datum_type() || w.rank() != 2 {
        return Ok(None);
    }
    let (x_st, c_st, w_st) = (strides(xs), strides(cs), strides(w.shape()));
    let (mut k, mut o) = (None, None);
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
            (None, None, Some(c)) if cs[c] == 1 => {}
            _ => return Ok(None),
        }
    }
    let (Some((kx, kw)), Some((ow, oc))) = (k, o) else { return Ok(None) };
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
    let (outputs, inputs) = (w.shape()[ow], w.shape()[kw]);
    let g = Geometry {
        outputs,
        inputs,
        pixels,
        x_channel: x_st[kx],
        x_pixel,
        c_channel: c_st[oc],
        c_pixel: if pixels == 1 { outputs } else { c_pixel },
    };
    let dense = (g.c_channel == 1 && g.c_pixel == outputs) || (g.c_pixel == 1 && g.c_channel == pixels);
    if !dense || outputs * pixels != cs.iter().product::<usize>() {
        return Ok(None);
    }

    // The epilogue: a constant bias along the output channels, a clip, a residual.
    let mut last = id;
    let mut bias = vec![0f32; outputs];
    let mut clip = (f32::NEG_INFINITY, f32::INFINITY);
    let mut residual = None;
    let mut stage = 0; // 0: bias next, 1: clips, 2: residual, 3: done
    while stage < 3 {
        let Some((succ, other)) = single_binary_successor(model, last, cs)? else { break };
        let bin = succ.op_as::<TypedBinOp>().expect("checked");
        let konst = model.outlet_fact(other)?.konst.clone();
        let scalar = konst.as_ref().filter(|t| t.len() == 1).and_then(|t| t.cast_to_scalar::<f32>().ok());
        if stage == 0 && bin.0.is::<Add>() {
            stage = 1;
            if let Some(t) = &konst {
                let t = t.cast_to::<f32>()?;
                let v = t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
                let along_o = t.rank() == cs.len() && t.shape().iter().enumerate().all(|(d, &n)| n == 1 || d == oc);
                match v.len() {
                    1 => bias.fill(v[0]),
                    n if n == outputs && along_o => bias = v,
                    _ => break,
                }
                last = succ.id;
                continue;
            }
        }
        if stage <= 1 && (bin.0.is::<Max>() || bin.0.is::<Min>()) {
            let Some(v) = scalar else { break };
            let next = if bin.0.is::<Max>() { (clip.0.max(v), clip.1) } else { (clip.0, clip.1.min(v)) };
            if next.0 > next.1 {
                break;
            }
            clip = next;
            stage = 1;
            last = succ.id;
            continue;
        }
        if bin.0.is::<Add>() && konst.is_none() && model.outlet_fact(other)?.shape.as_concrete() == Some(cs) {
            residual = Some(other);
            last = succ.id;
        }
        break;
    }

    let data = w.cast_to::<f32>()?;
    let data = data.try_as_plain_ram()?.as_slice::<f32>()?;
    let packed = Packed::new(outputs, inputs, |o, i| data[o * w_st[ow] + i * w_st[kw]], &bias);
    let op =
        PointwiseConv { geometry: g, weights: Arc::new(packed), clip, residual: residual.is_some(), shape: cs.into() };
    let mut patch = TypedModelPatch::new(format!("dermdesk 1×1 convolution {}", node.name));
    let mut wires = tvec!(patch.tap_model(model, node.inputs[0])?);
    if let Some(r) = residual {
        wires.push(patch.tap_model(model, r)?);
    }
    let out = patch.wire_node(format!("{}.pointwise", node.name), op, &wires)?;
    patch.shunt_outside(model, OutletId::new(last, 0), out[0])?;
    Ok(Some(patch))
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
