//! Inference as a worker task (see `crate::work`): the worker reads the photo, checks that
//! its bytes are the ones the store knows (and the model file's, the registered ones),
//! decodes it upright, burns in its redactions, and runs the model. The checked, optimised
//! model stays loaded in the worker for the next photos.

use super::Prediction;
use super::card::Card;
use super::net::{self, Loaded};
use crate::decode::tasks::{hash_bytes, read};
use crate::decode::{Limits, Refusal, RefusalCode};
use crate::store::Shape;
use crate::work::{Ctx, Reply, Task};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InferRequest {
    pub path: PathBuf,
    /// The content hash the store holds for the photo.
    pub hash: String,
    pub orientation: u8,
    /// Shapes burned in before the model sees the photo (a redacted photo leaves redacted).
    pub redactions: Vec<Shape>,
    /// The registered model: its name, version, card text, file and the file's hash.
    pub name: String,
    pub version: String,
    pub card: String,
    pub model_path: PathBuf,
    pub model_hash: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum InferOutcome {
    Done(Prediction),
    /// The file is no longer what was imported (and screened, and reviewed).
    Changed,
    /// The model could not be loaded: no photo can be inferred.
    NoModel(String),
}

/// (name, version, model hash): which model a loaded one is.
type Key = (String, String, String);

/// Loaded models (at their cards' input sizes), most recently used last.
#[derive(Default)]
struct Models(Vec<(Key, Result<Loaded, String>)>);

/// Models kept loaded per worker.
const KEEP: usize = 2;

fn load(req: &InferRequest) -> Result<Loaded, String> {
    let card = Card::parse(&req.card).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&req.model_path)
        .map_err(|e| format!("cannot read the model file ({e}): {}", req.model_path.display()))?;
    if hash_bytes(&bytes) != req.model_hash {
        return Err(format!(
            "the model file changed since it was registered (add it again under a new version): {}",
            req.model_path.display()
        ));
    }
    net::load(&card, &bytes).map_err(|e| e.to_string())
}

pub struct Infer;

impl Task for Infer {
    const NAME: &'static str = "infer";
    type Request = InferRequest;
    type Response = InferOutcome;

    fn run(ctx: &mut Ctx, req: InferRequest) -> Result<Reply<InferOutcome>, Refusal> {
        let key = (req.name.clone(), req.version.clone(), req.model_hash.clone());
        {
            let models = ctx.slot::<Models>();
            if let Some(i) = models.0.iter().position(|(k, _)| *k == key) {
                let hit = models.0.remove(i);
                models.0.push(hit);
            } else {
                // One thread per worker: the job runs a worker per core.
                crate::privacy::set_model_threads(1);
                if models.0.len() >= KEEP {
                    drop(models.0.remove(0));
                }
                let loaded = load(&req);
                models.0.push((key, loaded));
            }
        }
        let bytes = read(&req.path)?;
        if hash_bytes(&bytes) != req.hash {
            return Ok(Reply::new(InferOutcome::Changed));
        }
        let fmt = crate::decode::format::sniff(&bytes[..bytes.len().min(4096)], &req.path)?;
        let img = crate::decode::decode_with_image(&bytes, fmt, &Limits::default())?;
        drop(bytes);
        let upright = crate::decode::orient(img.to_rgb8(), req.orientation);
        let shown = crate::privacy::redact::apply(upright, &req.redactions);
        let models = ctx.slot::<Models>();
        let model = match &models.0.last().expect("pushed or moved last above").1 {
            Ok(m) => m,
            Err(e) => return Ok(Reply::new(InferOutcome::NoModel(e.clone()))),
        };
        match model.predict(&shown) {
            Ok(p) => Ok(Reply::new(InferOutcome::Done(p))),
            Err(e) => Err(Refusal::new(RefusalCode::Corrupt, format!("the model failed on it: {e}"))),
        }
    }
}
