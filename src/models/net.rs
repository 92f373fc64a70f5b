//! A model in tract: loaded and checked against its card, optimised for the card's input
//! size (one plan, batch of one), run on one photo.

use super::card::{Card, ModelTask, OutputKind};
use super::{ModelError, Prediction, preprocess};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

type Plan = Arc<TypedRunnableModel>;

/// A checked, optimised model, ready to run.
pub struct Loaded {
    plan: Plan,
    card: Card,
    /// The output's shape, as the optimised plan gives it.
    pub output_shape: Vec<usize>,
}

fn dims_text(dims: &[Option<i64>]) -> String {
    let d: Vec<String> = dims.iter().map(|d| d.map(|n| n.to_string()).unwrap_or_else(|| "?".into())).collect();
    format!("[{}]", d.join(", "))
}

/// Loads `onnx` (the model file's bytes) and checks it against the card: the input and
/// output named in the card exist, the input's declared shape agrees with the card's layout
/// and size, the output's shape fits the task (as many values as labels, a mask of the
/// card's size), and a test run on a grey image gives finite values (probabilities summing
/// to about 1 when the card says so). Every refusal says which check failed.
pub fn load(card: &Card, onnx: &[u8]) -> Result<Loaded, ModelError> {
    if onnx.is_empty() {
        return Err(ModelError::NotOnnx("the file is empty".into()));
    }
    let model = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(onnx))
        .map_err(|e| ModelError::NotOnnx(format!("{e:#}").replace('\n', " ")))?;
    let tract_err = |e: TractError| ModelError::NotOnnx(format!("{e:#}").replace('\n', " "));

    // The input.
    let inputs = model.input_outlets().map_err(tract_err)?.to_vec();
    let names: Vec<String> = inputs.iter().map(|o| model.node(o.node).name.clone()).collect();
    let Some(ix) = names.iter().position(|n| *n == card.input.name) else {
        return Err(ModelError::NoInput { name: card.input.name.clone(), found: names.join(", ") });
    };
    if inputs.len() != 1 {
        return Err(ModelError::NoInput {
            name: card.input.name.clone(),
            found: format!("{} (dermdesk feeds models with exactly one input)", names.join(", ")),
        });
    }
    let want = preprocess::shape(&card.input);
    let fact = model.input_fact(ix).map_err(tract_err)?;
    let declared: Vec<Option<i64>> = fact.shape.dims().map(|d| d.concretize().and_then(|t| t.to_i64().ok())).collect();
    let card_text = format!(
        "{} {}x{} (width x height), i.e. {}",
        card.input.layout.as_str(),
        card.input.width,
        card.input.height,
        dims_text(&want.iter().map(|&n| Some(n as i64)).collect::<Vec<_>>())
    );
    if fact.shape.is_open() && declared.is_empty() {
        // Nothing declared: the optimisation below tells.
    } else if declared.len() != 4
        || declared
            .iter()
            .zip(&want)
            .enumerate()
            .any(|(i, (d, &w))| d.is_some_and(|d| d != w as i64 && !(i == 0 && d < 1)))
    {
        return Err(ModelError::InputShape {
            name: card.input.name.clone(),
            model: dims_text(&declared),
            card: card_text,
        });
    }

    // The output.
    let outputs = model.output_outlets().map_err(tract_err)?.to_vec();
    let out_names: Vec<String> =
        outputs.iter().map(|o| model.outlet_label(*o).unwrap_or(&model.node(o.node).name).to_owned()).collect();
    let Some(oix) = out_names.iter().position(|n| *n == card.output.name) else {
        return Err(ModelError::NoOutput { name: card.output.name.clone(), found: out_names.join(", ") });
    };
    let mut model = model.with_output_outlets(&[outputs[oix]]).map_err(tract_err)?;
    // Some files declare output shapes for one input size only: let tract work them out.
    model = model.with_output_fact(0, InferenceFact::default()).map_err(tract_err)?;
    // The plan (with dermdesk's own kernels where the CPU has them: see tract_kernels).
    let plan = model
        .with_input_fact(0, f32::fact(want).into())
        .and_then(|m| crate::tract_kernels::optimise(m)?.into_runnable());
    let plan = plan.map_err(|e| ModelError::InputShape {
        name: card.input.name.clone(),
        model: format!("not runnable at that size ({})", format!("{e:#}").replace('\n', " ")),
        card: card_text.clone(),
    })?;
    let out_fact = plan.model().output_fact(0).map_err(tract_err)?;
    let shape: Vec<usize> = out_fact.shape.as_concrete().map(|s| s.to_vec()).unwrap_or_default();
    let bad_output =
        |why: String| ModelError::OutputShape { name: card.output.name.clone(), shape: format!("{shape:?}"), why };
    if shape.is_empty() {
        return Err(bad_output("its shape is not known for the card's input size".into()));
    }
    let values: usize = shape.iter().product();
    match card.task {
        ModelTask::Classification => {
            if values != card.labels.len() {
                return Err(bad_output(format!(
                    "{values} class scores, but the card lists {} labels",
                    card.labels.len()
                )));
            }
        }
        ModelTask::Segmentation => {
            let (mw, mh) = card.mask_size();
            let spatial: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
            if spatial != [mh as usize, mw as usize] || shape[0] != 1 {
                return Err(bad_output(format!(
                    "a one-channel mask of {mw}x{mh} (width x height) was expected, e.g. [1, 1, {mh}, {mw}]"
                )));
            }
        }
        ModelTask::Embedding => {
            if values == 0 {
                return Err(bad_output("an empty embedding".into()));
            }
        }
    }
    let loaded = Loaded { plan, card: card.clone(), output_shape: shape };

    // A test run on a grey image.
    let grey = image::RgbImage::from_pixel(card.input.width, card.input.height, image::Rgb([128, 128, 128]));
    let raw = loaded.raw(&grey).map_err(|e| ModelError::TestRun(e.to_string()))?;
    if raw.len() != values {
        return Err(ModelError::TestRun(format!("{} values came out, {values} were expected", raw.len())));
    }
    if let Some(v) = raw.iter().find(|v| !v.is_finite()) {
        return Err(ModelError::TestRun(format!("the output holds {v}")));
    }
    if card.output.kind == OutputKind::Probabilities {
        let sum: f32 = raw.iter().sum();
        if (sum - 1.0).abs() > 0.01 || raw.iter().any(|&p| !(-1e-4..=1.0001).contains(&p)) {
            return Err(ModelError::TestRun(format!(
                "the card says probabilities, but they sum to {sum:.4} (use kind = \"logits\" for raw scores)"
            )));
        }
    }
    if card.output.kind == OutputKind::MaskProbabilities && raw.iter().any(|&p| !(-1e-4..=1.0001).contains(&p)) {
        return Err(ModelError::TestRun("the card says mask-probabilities, but values fall outside 0..1".into()));
    }
    Ok(loaded)
}

impl Loaded {
    pub fn card(&self) -> &Card {
        &self.card
    }

    /// The output's values for one photo (upright, redacted), as they come out.
    pub fn raw(&self, img: &image::RgbImage) -> Result<Vec<f32>, String> {
        self.run_tensor(&preprocess::tensor(img, &self.card.input))
    }

    /// The output's values for an input tensor already in the card's layout and units.
    pub fn run_tensor(&self, data: &[f32]) -> Result<Vec<f32>, String> {
        let shape = preprocess::shape(&self.card.input);
        let tensor = Tensor::from_shape(&shape, data).map_err(|e| e.to_string())?;
        let out = self.plan.run(tvec!(tensor.into())).map_err(|e| format!("{e:#}"))?;
        let first = out.first().ok_or("the model gave no output")?;
        let view = first.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
        Ok(view.iter().copied().collect())
    }

    /// Where the time goes: milliseconds per operator kind (or, `by_node`, per node: its id,
    /// operator and what it does) over one run of the plan (the median of `runs`), with how
    /// many nodes of that kind there are, slowest first. For the benchmark that sets tract
    /// beside onnxruntime.
    pub fn profile(&self, data: &[f32], runs: usize, by_node: bool) -> Result<Vec<(String, f64, usize)>, String> {
        use std::collections::BTreeMap;
        let shape = preprocess::shape(&self.card.input);
        let tensor = Tensor::from_shape(&shape, data).map_err(|e| e.to_string())?;
        let mut state = tract_onnx::tract_core::plan::SimpleState::new(&self.plan).map_err(|e| e.to_string())?;
        let mut samples: BTreeMap<String, (Vec<f64>, usize)> = BTreeMap::new();
        for _ in 0..runs.max(1) {
            let mut this: BTreeMap<String, (f64, usize)> = BTreeMap::new();
            state
                .run_plan_with_eval(tvec!(tensor.clone().into()), |ctx, st, node, input| {
                    let t = std::time::Instant::now();
                    let r = tract_onnx::tract_core::plan::eval(ctx, st, node, input);
                    let key = if by_node {
                        format!("#{} {} {}", node.id, node.op().name(), node.op().info().unwrap_or_default().join("; "))
                    } else {
                        node.op().name().to_string()
                    };
                    let e = this.entry(key).or_default();
                    e.0 += t.elapsed().as_secs_f64() * 1000.0;
                    e.1 += 1;
                    r
                })
                .map_err(|e| format!("{e:#}"))?;
            for (op, (ms, n)) in this {
                let e = samples.entry(op).or_default();
                e.0.push(ms);
                e.1 = n;
            }
        }
        let mut out: Vec<(String, f64, usize)> = samples
            .into_iter()
            .map(|(op, (mut ms, n))| {
                ms.sort_by(f64::total_cmp);
                (op, ms[ms.len() / 2], n)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }

    /// What the model says about one photo (upright, redacted).
    pub fn predict(&self, img: &image::RgbImage) -> Result<Prediction, String> {
        let raw = self.raw(img)?;
        if let Some(v) = raw.iter().find(|v| !v.is_finite()) {
            return Err(format!("the model's output holds {v}"));
        }
        Ok(match self.card.output.kind {
            OutputKind::Logits => Prediction::Classes { probabilities: softmax(&raw) },
            OutputKind::Probabilities => Prediction::Classes { probabilities: raw },
            OutputKind::MaskLogits | OutputKind::MaskProbabilities => {
                let (w, h) = self.card.mask_size();
                let t = self.card.threshold();
                let logits = self.card.output.kind == OutputKind::MaskLogits;
                let bits: Vec<u8> = raw
                    .iter()
                    .map(|&v| {
                        let p = if logits { 1.0 / (1.0 + (-v).exp()) } else { v };
                        u8::from(p >= t)
                    })
                    .collect();
                let pixels = bits.iter().map(|&b| b as u64).sum();
                Prediction::Mask { width: w, height: h, pixels, data: crate::masks::codec::encode_bits(w, h, &bits) }
            }
            OutputKind::Embedding => Prediction::Embedding { values: raw },
        })
    }
}

pub fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}
