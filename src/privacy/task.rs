//! Screening as a worker task (see `crate::work`): the worker reads the photo, checks that
//! its bytes are the ones the store knows, decodes, and runs the detectors. A photo that
//! hangs or crashes a detector costs that photo a refusal, never the job or the app.

use super::job::load_for_screening;
use super::{Detector, ScreenInput, Screener, Screening};
use crate::decode::tasks::{hash_bytes, read};
use crate::decode::{Refusal, RefusalCode};
use crate::modality::Modality;
use crate::work::{Ctx, Reply, Task};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScreenRequest {
    pub path: PathBuf,
    /// The content hash the store holds for the photo.
    pub hash: String,
    pub orientation: u8,
    pub modality: Modality,
    pub detectors: Vec<Detector>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ScreenOutcome {
    Screened(Screening),
    /// The file is no longer what was imported: screening it would vouch for other pixels.
    Changed,
    /// The models could not be loaded in the worker: no photo can be screened.
    NoModels(String),
}

/// The models, loaded on a worker's first screening and kept for the next ones.
#[derive(Default)]
struct Models(Option<Result<Screener, String>>);

pub struct Screen;

impl Task for Screen {
    const NAME: &'static str = "screen";
    type Request = ScreenRequest;
    type Response = ScreenOutcome;

    fn run(ctx: &mut Ctx, req: ScreenRequest) -> Result<Reply<ScreenOutcome>, Refusal> {
        let bytes = read(&req.path)?;
        if hash_bytes(&bytes) != req.hash {
            return Ok(Reply::new(ScreenOutcome::Changed));
        }
        let (image, full_size) = load_for_screening(&bytes, &req.path, req.orientation)
            .map_err(|e| Refusal::new(RefusalCode::Corrupt, e.to_string()))?;
        let models = ctx.slot::<Models>();
        let screener = match models.0.get_or_insert_with(|| {
            // One thread per worker: the pool runs a worker per core.
            super::set_model_threads(1);
            Screener::load().map_err(|e| e.to_string())
        }) {
            Ok(s) => s,
            Err(e) => return Ok(Reply::new(ScreenOutcome::NoModels(e.clone()))),
        };
        let input = ScreenInput { image: &image, full_size, file: &bytes, modality: req.modality };
        match screener.screen(&input, &req.detectors) {
            Ok(s) => Ok(Reply::new(ScreenOutcome::Screened(s))),
            Err(e) => Err(Refusal::new(RefusalCode::Corrupt, format!("the detectors failed on it: {e}"))),
        }
    }
}
