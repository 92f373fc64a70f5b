//! One ONNX network in tract: parsed once, optimised once per input shape (tract plans are
//! fastest with concrete shapes; the OCR detector needs them), the plans kept for reuse.

use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::*;

type Plan = Arc<TypedRunnableModel>;

pub(crate) struct Net {
    name: &'static str,
    model: InferenceModel,
    plans: Mutex<Vec<(Vec<usize>, Plan)>>,
    /// How many plans to keep (each holds its own copy of packed weights).
    keep: usize,
}

pub(crate) fn model_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("the {name} model failed: {e}"))
}

impl Net {
    /// Parses an ONNX file. Output facts are cleared: some files declare output shapes for
    /// one input size only (CenterFace says 10x1x8x8), and tract would hold them to it.
    pub(crate) fn parse(name: &'static str, bytes: &[u8], keep: usize) -> Result<Net> {
        let mut model = onnx().model_for_read(&mut std::io::Cursor::new(bytes)).map_err(|e| model_error(name, e))?;
        for i in 0..model.output_outlets().map_err(|e| model_error(name, e))?.len() {
            model = model.with_output_fact(i, InferenceFact::default()).map_err(|e| model_error(name, e))?;
        }
        Ok(Net { name, model, plans: Mutex::new(Vec::new()), keep })
    }

    fn plan(&self, shape: &[usize]) -> Result<Plan> {
        {
            let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = plans.iter().position(|(s, _)| s == shape) {
                // Most recently used last.
                let hit = plans.remove(i);
                let plan = hit.1.clone();
                plans.push(hit);
                return Ok(plan);
            }
        }
        let plan = self
            .model
            .clone()
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(crate::tract_kernels::optimise)
            .and_then(|m| m.into_runnable())
            .map_err(|e| model_error(self.name, e))?;
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() >= self.keep {
            plans.remove(0);
        }
        plans.push((shape.to_vec(), plan.clone()));
        Ok(plan)
    }

    /// Runs the network on one NCHW f32 input; returns every output as (shape, values).
    pub(crate) fn run(&self, shape: &[usize], input: Vec<f32>) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
        let plan = self.plan(shape)?;
        let tensor = Tensor::from_shape(shape, &input).map_err(|e| model_error(self.name, e))?;
        let outputs = plan.run(tvec!(tensor.into())).map_err(|e| model_error(self.name, e))?;
        outputs
            .iter()
            .map(|t| {
                let view = t.to_plain_array_view::<f32>().map_err(|e| model_error(self.name, e))?;
                Ok((view.shape().to_vec(), view.iter().copied().collect()))
            })
            .collect()
    }
}

/// How many threads each model run may use (default 1: the screening job runs one photo per
/// thread instead). Benchmarks set it to compare with onnxruntime at the same thread count.
pub fn set_model_threads(n: usize) {
    use tract_linalg::multithread::{Executor, set_default_executor};
    set_default_executor(if n > 1 { Executor::multithread(n) } else { Executor::SingleThread });
}
