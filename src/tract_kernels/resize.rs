//! tract's `Resize` with its plans made once, when the model is compiled.
//!
//! tract 0.23.9 builds each axis's resampling plan (source indices and weights) every time the
//! operator runs, copies its input first, and resamples the last axis one value at a time through
//! a loop made for long rows. The segmenter upsamples its 40×56 mask logits to 160×224 that way
//! in 1.7 ms a photo (its four resizes: 2.7 ms, a fifth of the network). `PlannedResize` keeps
//! the plans tract makes (`Resize::plan_axis`, so the same indices and weights) and resamples
//! each axis of a linear plan with a loop of its own (two taps an output, in the same order of
//! additions as tract's), any other plan with tract's own `resample_axis`.

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::resize::{AxisPlan, Resize, resample_axis};
use tract_onnx::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// A resize of a float tensor of `input` shape to `output` shape, one plan per changed axis.
#[derive(Debug, Clone)]
pub struct PlannedResize {
    resize: Resize,
    input: TVec<usize>,
    output: TVec<usize>,
    plans: Arc<Vec<(usize, AxisPlan)>>,
}

impl PartialEq for PlannedResize {
    fn eq(&self, other: &Self) -> bool {
        // The plans follow from the op and the shapes.
        self.resize == other.resize && self.input == other.input && self.output == other.output
    }
}
impl Eq for PlannedResize {}

impl Op for PlannedResize {
    fn name(&self) -> StaticName {
        "PlannedResize".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{:?} → {:?}, {:?} {:?}",
            self.input, self.output, self.resize.interpolator, self.resize.coord_transformer
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for PlannedResize {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = inputs[0].try_as_plain_ram()?.as_slice::<f32>()?;
        ensure!(
            inputs[0].shape() == &*self.input,
            "PlannedResize: input {:?}, planned for {:?}",
            inputs[0].shape(),
            self.input
        );
        // The tensor's last axis first, where it is planned: its loop goes value by value, the
        // others' a row at a time, so on the smaller tensor when it grows (the segmenter's
        // 20×28 → 40×56 over 64 channels 0.29 → 0.17 ms, 40×56 → 160×224 0.066 → 0.03). Each
        // axis adds its two taps as tract's loop does; the axes' order changes the last bits
        // only (tract's own order is the reverse).
        let mut order: Vec<&(usize, AxisPlan)> = self.plans.iter().collect();
        if order.len() > 1 && order.last().is_some_and(|(axis, _)| axis + 1 == self.input.len()) {
            order.rotate_right(1);
        }
        let Some(((last_axis, last_plan), outer)) = order.split_last() else {
            return Ok(tvec!(Tensor::from_shape(&self.input, input)?.into_tvalue()));
        };
        // The axes before the last one into buffers, the last straight into the output.
        let mut shape = self.input.clone();
        let mut data: Option<Vec<f32>> = None;
        for (axis, plan) in outer.iter().copied() {
            let from = data.as_deref().unwrap_or(input);
            let mut out = vec![0f32; from.len() / shape[*axis] * plan.extrapolated.len()];
            resample(from, &shape, *axis, plan, &mut out);
            shape[*axis] = plan.extrapolated.len();
            data = Some(out);
        }
        let mut result = Tensor::zero::<f32>(&self.output)?;
        let mut view = result.try_as_plain_ram_mut()?;
        resample(data.as_deref().unwrap_or(input), &shape, *last_axis, last_plan, view.as_slice_mut::<f32>()?);
        Ok(tvec!(result.into_tvalue()))
    }
}

/// Resamples `axis` of `input` (of `shape`) into `output` by the plan: our loop for a linear
/// plan, tract's otherwise.
fn resample(input: &[f32], shape: &[usize], axis: usize, plan: &AxisPlan, output: &mut [f32]) {
    let inner: usize = shape[axis + 1..].iter().product();
    if linear_axis(input, shape[axis], inner, plan, output).is_none() {
        resample_axis(input, shape, axis, plan, 0.0, output);
    }
}

/// Resamples one axis (of `len_in` values, each followed by `inner` values of the axes after
/// it) as tract's `resample_axis` would for a linear plan: each output starts at zero and adds
/// its taps' weighted values in order, taps of weight zero left out. None when the plan is not
/// two taps an output inside the input (then tract's loop runs).
fn linear_axis(input: &[f32], len_in: usize, inner: usize, plan: &AxisPlan, output: &mut [f32]) -> Option<()> {
    if plan.window != 2 || plan.extrapolated.contains(&true) || len_in * inner == 0 {
        return None;
    }
    let len_out = plan.extrapolated.len();
    if inner == 1 {
        // The last axis: one value an output, the row in cache while its outputs are made.
        for (src, dst) in input.chunks_exact(len_in).zip(output.chunks_exact_mut(len_out)) {
            for (x, d) in dst.iter_mut().enumerate() {
                let (w0, w1) = (plan.weights[2 * x], plan.weights[2 * x + 1]);
                let v = if w0 != 0.0 { w0 * src[plan.indices[2 * x]] } else { 0.0 };
                *d = if w1 != 0.0 { v + w1 * src[plan.indices[2 * x + 1]] } else { v };
            }
        }
        return Some(());
    }
    for (src, dst) in input.chunks_exact(len_in * inner).zip(output.chunks_exact_mut(len_out * inner)) {
        for (x, d) in dst.chunks_exact_mut(inner).enumerate() {
            let (i0, i1) = (plan.indices[2 * x], plan.indices[2 * x + 1]);
            let (w0, w1) = (plan.weights[2 * x], plan.weights[2 * x + 1]);
            let (a, b) = (&src[i0 * inner..][..inner], &src[i1 * inner..][..inner]);
            match (w0 != 0.0, w1 != 0.0) {
                (true, true) => d.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (a, b))| *d = w0 * a + w1 * b),
                (true, false) => d.iter_mut().zip(a).for_each(|(d, a)| *d = w0 * a),
                (false, true) => d.iter_mut().zip(b).for_each(|(d, b)| *d = w1 * b),
                (false, false) => d.fill(0.0),
            }
        }
    }
    Some(())
}

impl TypedOp for PlannedResize {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.output)))
    }

    as_op!();
}

/// Replaces every float `Resize` whose input and output shapes are known when the model is
/// compiled; returns how many.
pub fn plan(model: &mut TypedModel) -> TractResult<usize> {
    let mut planned = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(resize) = node.op_as::<Resize>() else { continue };
        let fact = model.outlet_fact(node.inputs[0])?;
        let (Some(input), Some(output)) = (fact.shape.as_concrete(), node.outputs[0].fact.shape.as_concrete()) else {
            continue;
        };
        if fact.datum_type != f32::datum_type() || input.len() != output.len() {
            continue;
        }
        // The scales as tract's own eval takes them: the scales input when it has one per axis,
        // otherwise output over input.
        let given = resize.optional_scales_input.and_then(|ix| node.inputs.get(ix));
        let given = match given {
            Some(&outlet) => match &model.outlet_fact(outlet)?.konst {
                Some(t) if t.len() == input.len() => {
                    Some(t.cast_to::<f32>()?.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
                }
                Some(_) => None,
                None => continue,
            },
            None => None,
        };
        let scales: Vec<f32> =
            given.unwrap_or_else(|| output.iter().zip(input).map(|(o, i)| *o as f32 / *i as f32).collect());
        let plans: Vec<(usize, AxisPlan)> = (0..input.len())
            .filter(|&a| !(input[a] == output[a] && scales[a] == 1.0))
            .map(|a| (a, resize.plan_axis(scales[a], input[a], output[a])))
            .collect();
        let op = PlannedResize {
            resize: resize.clone(),
            input: input.into(),
            output: output.into(),
            plans: Arc::new(plans),
        };
        let mut patch = TypedModelPatch::new(format!("dermdesk planned resize {}", node.name));
        let x = patch.tap_model(model, node.inputs[0])?;
        let out = patch.wire_node(format!("{}.planned", node.name), op, &[x])?;
        patch.shunt_outside(model, OutletId::new(id, 0), out[0])?;
        patch.apply(model)?;
        planned += 1;
    }
    if planned > 0 {
        model.compact()?;
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::nn::resize::{CoordTransformer, Interpolator, Nearest};

    /// A model of one `Resize` (sizes given as a constant), run as tract runs it and after
    /// `plan`: the same values, for linear (our loops), nearest and cubic (tract's loop, the plan
    /// kept), up and down, on every axis changed at once.
    #[test]
    fn planned_resizes_give_tracts_values() {
        let cases = [
            (Interpolator::Linear, CoordTransformer::HalfPixel, [1, 3, 5, 7], [1, 3, 10, 14]),
            (Interpolator::Linear, CoordTransformer::AlignCorners, [1, 2, 9, 6], [1, 2, 4, 13]),
            (Interpolator::Linear, CoordTransformer::HalfPixel, [2, 3, 4, 5], [3, 5, 4, 9]),
            (Interpolator::Nearest, CoordTransformer::Asymmetric, [1, 4, 6, 6], [1, 4, 12, 9]),
            (Interpolator::Cubic, CoordTransformer::HalfPixel, [1, 2, 8, 8], [1, 2, 5, 11]),
        ];
        for (interpolator, coord_transformer, input, output) in cases {
            let what = format!("{interpolator:?} {coord_transformer:?} {input:?} → {output:?}");
            let resize = Resize {
                coord_transformer,
                interpolator,
                nearest: Nearest::Floor,
                optional_scales_input: None,
                optional_sizes_input: Some(1),
            };
            let mut model = TypedModel::default();
            let x = model.add_source("x", f32::fact(input)).unwrap();
            let sizes = tensor1(&output.iter().map(|&d| d as i64).collect::<Vec<_>>());
            let sizes = model.add_const("sizes", sizes).unwrap();
            let y = model.wire_node("resize", resize, &[x, sizes]).unwrap();
            model.select_output_outlets(&y).unwrap();
            let n: usize = input.iter().product();
            let data: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
            let run = |m: &TypedModel| {
                let plan = m.clone().into_runnable().unwrap();
                let out = plan.run(tvec!(Tensor::from_shape(&input, &data).unwrap().into())).unwrap();
                out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect::<Vec<f32>>()
            };
            let want = run(&model);
            let mut planned = model.clone();
            assert_eq!(plan(&mut planned).unwrap(), 1, "{what}");
            assert!(planned.nodes().iter().any(|n| n.op_is::<PlannedResize>()));
            let got = run(&planned);
            assert_eq!(got.len(), output.iter().product::<usize>());
            let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(diff <= 1e-5, "{what}: {diff}");
        }
    }
}
