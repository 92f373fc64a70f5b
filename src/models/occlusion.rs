//! Occlusion sensitivity: which parts of a photo a classifier's answer rests on. A grey
//! patch (the card's mean, which preprocessing maps to 0 in every channel) slides over the
//! model's input on a grid; at each place the model runs again, and the heat of that cell is
//! how much the probability of the target class (the most probable class on the whole
//! photo, unless one is asked for) drops, clamped at 0. Zeiler & Fergus (2014), section 4.2.
//!
//! Defaults, and why: the patch is a fifth of each side of the input (45×32 on the demo
//! classifier's 224×160), the stride half a patch (9×9 = 81 runs). HAM10000-like dermoscopy
//! frames a lesion over a third to a half of the picture; a patch much smaller than the
//! lesion (the 1/7 often used on ImageNet) hides too little of it to move a CNN's answer,
//! whose evidence is spread over the lesion, and the map comes out flat and noisy. Half a
//! patch of stride gives each point of the input two to four covering patches, so the map is
//! smooth when upsampled, at a cost that stays a few seconds a photo on two cores.
//!
//! Batching: tract's plan is built for a batch of one. A plan built for a batch of 4, 8 or
//! 16 was measured slower per image (168, 156, 166 ms against 101 ms for batch 1, one
//! thread, the demo classifier, 2026-12-01; `dermdesk bench occlusion` repeats it), so the
//! runs go one image at a time, spread over threads that share one plan.
//!
//! Privacy: [`run`] only reads a photo that [`Store::release`] lets out (as inference does:
//! screened, cleared or redacted, not opted out), decodes it in a worker process (untrusted
//! bytes never in this one), checks its content hash, turns it upright and burns in its
//! redactions and crop before the model sees it. A photo of a modality the card does not
//! name is refused unless forced, as `dermdesk infer` skips it.

use super::card::{Layout, ModelTask, OutputKind, Resize};
use super::net::{self, Loaded};
use super::registry::ModelInfo;
use super::{ModelError, preprocess};
use crate::decode::Limits;
use crate::decode::tasks::{FullDecode, FullRequest};
use crate::jobs::Progress;
use crate::store::{Releasable, Shape, Store};
use crate::work::Worker;
use image::{RgbImage, Rgba, RgbaImage};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the grid is laid out and run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The patch's side as a fraction of each side of the model's input.
    pub patch: f32,
    /// The step between patches as a fraction of the patch.
    pub stride: f32,
    /// Threads running the model (each run single-threaded, sharing one plan).
    pub threads: usize,
    /// The class whose probability is watched (index in the card's labels); None: the most
    /// probable on the whole photo.
    pub target: Option<usize>,
    /// Run on a photo of a modality the card does not name.
    pub force_modality: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            patch: 0.2,
            stride: 0.5,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(4),
            target: None,
            force_modality: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OcclusionError {
    #[error("photo {photo} may not be shown to a model ({reason}): clear it in privacy review first")]
    Withheld { photo: i64, reason: &'static str },
    #[error("{model} {version} is a {task} model: occlusion sensitivity needs a classifier")]
    NotClassifier { model: String, version: String, task: &'static str },
    #[error("photo {photo} is {modality}, which the card of {model} does not name (force it to run anyway)")]
    Modality { photo: i64, modality: &'static str, model: String },
    #[error("no such class in the card of {model}: {target}")]
    NoClass { model: String, target: String },
    #[error("cancelled")]
    Cancelled,
    #[error("the photo could not be read: {0}")]
    Photo(String),
    #[error("the model failed: {0}")]
    Model(String),
    #[error(transparent)]
    Registry(#[from] ModelError),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl From<OcclusionError> for crate::Error {
    fn from(e: OcclusionError) -> Self {
        match e {
            OcclusionError::Store(e) => e,
            other => crate::Error::Invalid(other.to_string()),
        }
    }
}

/// Where the patches go along one side of the input: `n` starts, evenly spaced from 0 to
/// `side - patch` (the last patch ends at the edge), no further apart than `stride` (before
/// rounding to whole pixels).
fn starts(side: u32, patch: u32, stride: f32) -> Vec<u32> {
    let room = side.saturating_sub(patch);
    if room == 0 {
        return vec![0];
    }
    let n = (room as f32 / stride.max(1.0)).ceil() as u32 + 1;
    (0..n).map(|i| ((i as f64 * room as f64) / (n - 1) as f64).round() as u32).collect()
}

/// The result: the drop of the target class's probability per grid cell.
#[derive(Clone, Debug, Serialize)]
pub struct Heatmap {
    pub model: String,
    pub version: String,
    pub photo_id: i64,
    /// The target class: its index in the card's labels, key and ICD-10 code.
    pub target: usize,
    pub label: String,
    pub code: Option<String>,
    /// The target's probability on the whole (unoccluded) photo.
    pub p_target: f32,
    pub cols: usize,
    pub rows: usize,
    /// Row-major, `rows` × `cols`: probability drop per patch place, clamped at 0.
    pub drops: Vec<f32>,
    pub max_drop: f32,
    /// Patch size (width, height) in the model's input pixels, and the patches' left and top
    /// edges.
    pub patch: [u32; 2],
    pub xs: Vec<u32>,
    pub ys: Vec<u32>,
    /// The model's input size and how the photo was brought to it (the card's `resize`).
    pub input: [u32; 2],
    pub resize: Resize,
    /// The upright photo's size, and the part of it the model saw (x, y, width, height: all
    /// of it unless a crop was set in privacy review).
    pub photo: [u32; 2],
    pub region: [u32; 4],
    /// Model runs (the whole photo and each patch place) and the time they took.
    pub runs: usize,
    pub seconds: f64,
}

impl Heatmap {
    /// The drops scaled to 0..1 by the largest (all 0 when no patch lowered the probability).
    pub fn heat(&self) -> Vec<f32> {
        let m = self.max_drop;
        self.drops.iter().map(|&d| if m > 0.0 { d / m } else { 0.0 }).collect()
    }

    /// The cell with the largest drop (column, row).
    pub fn peak(&self) -> (usize, usize) {
        let i = self.drops.iter().enumerate().fold(0, |b, (i, &d)| if d > self.drops[b] { i } else { b });
        (i % self.cols, i / self.cols)
    }

    /// How the photo's x (or y) axis maps to the input's: input = photo * scale - offset,
    /// both measured from the region's corner, in continuous pixel coordinates.
    fn axes(&self) -> ([f32; 2], [f32; 2]) {
        let [rw, rh] = [self.region[2].max(1), self.region[3].max(1)];
        let [iw, ih] = self.input;
        match self.resize {
            Resize::Stretch => ([iw as f32 / rw as f32, 0.0], [ih as f32 / rh as f32, 0.0]),
            Resize::ShorterSideCrop => {
                // As preprocess::resized: scaled to cover the input, then the centre cut out.
                let s = (iw as f64 / rw as f64).max(ih as f64 / rh as f64);
                let nw = ((rw as f64 * s).round() as u32).max(iw);
                let nh = ((rh as f64 * s).round() as u32).max(ih);
                ([nw as f32 / rw as f32, ((nw - iw) / 2) as f32], [nh as f32 / rh as f32, ((nh - ih) / 2) as f32])
            }
        }
    }

    /// The centre of a cell's patch, in the upright photo's pixels.
    pub fn cell_centre(&self, col: usize, row: usize) -> (f32, f32) {
        let (ax, ay) = self.axes();
        let u = self.xs[col] as f32 + self.patch[0] as f32 / 2.0;
        let v = self.ys[row] as f32 + self.patch[1] as f32 / 2.0;
        (self.region[0] as f32 + (u + ax[1]) / ax[0], self.region[1] as f32 + (v + ay[1]) / ay[0])
    }

    /// The normalised heat at a point of the upright photo (continuous pixel coordinates),
    /// bilinear between the patch centres; None where the model saw nothing of the photo.
    pub fn at(&self, x: f32, y: f32, heat: &[f32]) -> Option<f32> {
        let (ax, ay) = self.axes();
        let u = (x - self.region[0] as f32) * ax[0] - ax[1];
        let v = (y - self.region[1] as f32) * ay[0] - ay[1];
        if u < 0.0 || v < 0.0 || u >= self.input[0] as f32 || v >= self.input[1] as f32 {
            return None;
        }
        let grid = |c: f32, starts: &[u32], patch: u32| -> (usize, usize, f32) {
            let first = starts[0] as f32 + patch as f32 / 2.0;
            let last = *starts.last().expect("at least one start") as f32 + patch as f32 / 2.0;
            let n = starts.len();
            if n == 1 || last <= first {
                return (0, 0, 0.0);
            }
            let g = ((c - first) / (last - first) * (n - 1) as f32).clamp(0.0, (n - 1) as f32);
            let i = (g.floor() as usize).min(n - 2);
            (i, i + 1, g - i as f32)
        };
        let (x0, x1, fx) = grid(u, &self.xs, self.patch[0]);
        let (y0, y1, fy) = grid(v, &self.ys, self.patch[1]);
        let h = |c: usize, r: usize| heat[r * self.cols + c];
        let top = h(x0, y0) + (h(x1, y0) - h(x0, y0)) * fx;
        let bottom = h(x0, y1) + (h(x1, y1) - h(x0, y1)) * fx;
        Some(top + (bottom - top) * fy)
    }

    /// The overlay: the whole upright photo at `w` × `h`, the heat bilinear in a colour map
    /// (transparent where cold and where the model saw nothing, up to 60 % opaque where hot).
    /// The GUI draws it over the photo; `dermdesk occlusion --png` writes it at full size.
    pub fn overlay(&self, w: u32, h: u32) -> RgbaImage {
        let heat = self.heat();
        let (sx, sy) = (self.photo[0] as f32 / w.max(1) as f32, self.photo[1] as f32 / h.max(1) as f32);
        RgbaImage::from_fn(w, h, |x, y| match self.at((x as f32 + 0.5) * sx, (y as f32 + 0.5) * sy, &heat) {
            Some(t) => colour(t),
            None => Rgba([0, 0, 0, 0]),
        })
    }
}

/// The colour map (inferno's stops: dark purple to pale yellow, ordered in lightness, readable
/// without colour vision), with opacity rising with the heat.
pub fn colour(t: f32) -> Rgba<u8> {
    const STOPS: [[f32; 3]; 5] =
        [[0.0, 0.0, 4.0], [87.0, 16.0, 110.0], [188.0, 55.0, 84.0], [249.0, 142.0, 9.0], [252.0, 255.0, 164.0]];
    let t = t.clamp(0.0, 1.0);
    let g = t * (STOPS.len() - 1) as f32;
    let i = (g.floor() as usize).min(STOPS.len() - 2);
    let f = g - i as f32;
    let c = |k: usize| (STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f).round() as u8;
    Rgba([c(0), c(1), c(2), (t.powf(0.8) * 153.0).round() as u8])
}

/// The photo as the model sees it (upright, redacted, cropped), with where it sits in the
/// upright photo.
pub struct Released {
    pub image: RgbImage,
    pub photo: [u32; 2],
    pub region: [u32; 4],
}

/// Where the crops' intersection starts, as `privacy::redact::apply` cuts it.
fn crop_origin(shapes: &[Shape], w: u32, h: u32) -> (u32, u32) {
    let crop = shapes
        .iter()
        .filter_map(|s| if let Shape::Crop { rect } = s { Some(*rect) } else { None })
        .reduce(|a, b| [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]);
    match crop {
        None => (0, 0),
        Some(c) => (
            (c[0].floor().max(0.0) as u32).min(w.saturating_sub(1)),
            (c[1].floor().max(0.0) as u32).min(h.saturating_sub(1)),
        ),
    }
}

/// THE GATE, then the photo: refuses a photo `Store::release` withholds; decodes the
/// released file in a worker process (`exe`), checks it is the content the store knows,
/// turns it upright and burns in its redactions.
pub fn released_photo(store: &Store, photo_id: i64, exe: &Path) -> Result<Released, OcclusionError> {
    decode(gate(store, photo_id)?, exe)
}

/// THE GATE: what `Store::release` says may be done with the photo, or why not.
fn gate(store: &Store, photo_id: i64) -> Result<Releasable, OcclusionError> {
    let release = store.release(Some(&[photo_id]))?;
    if let Some((_, why)) = release.withheld.first() {
        return Err(OcclusionError::Withheld { photo: photo_id, reason: why.as_str() });
    }
    release.allowed.into_iter().next().ok_or(OcclusionError::Withheld { photo: photo_id, reason: "no_such_photo" })
}

/// A released photo as the model sees it (see [`released_photo`]).
fn decode(r: Releasable, exe: &Path) -> Result<Released, OcclusionError> {
    let limits = Limits::default();
    let mut worker = Worker::new(exe, Duration::from_secs(120)).with_max_blob(limits.max_pixels * 3);
    let path = std::path::PathBuf::from(&r.path);
    let req = FullRequest { path: path.clone(), orientation: r.orientation, limits };
    let (img, rgb) = match worker.call::<FullDecode>(&req)? {
        Ok(answer) => answer,
        Err(refusal) => return Err(OcclusionError::Photo(format!("{}: {}", refusal.message, path.display()))),
    };
    if img.hash != r.hash {
        return Err(OcclusionError::Photo(format!(
            "the file changed since it was imported and reviewed (import its folder again): {}",
            path.display()
        )));
    }
    let upright = RgbImage::from_raw(img.width, img.height, rgb)
        .ok_or_else(|| OcclusionError::Photo(format!("the worker sent a damaged image: {}", path.display())))?;
    let shapes: Vec<Shape> = r.redactions.into_iter().map(|x| x.shape).collect();
    let (x0, y0) = crop_origin(&shapes, img.width, img.height);
    let image = crate::privacy::redact::apply(upright, &shapes);
    let region = [x0, y0, image.width(), image.height()];
    Ok(Released { image, photo: [img.width, img.height], region })
}

/// Loads a registered model, refusing a file changed since it was registered. The last model
/// loaded is kept for the next heatmap (optimising the plan is about a second, a sixth of a
/// heatmap); the file is read and its hash checked every time all the same.
pub fn load_registered(info: &ModelInfo) -> Result<Arc<Loaded>, OcclusionError> {
    static LAST: Mutex<Option<(String, Arc<Loaded>)>> = Mutex::new(None);
    let bytes = std::fs::read(&info.model_path).map_err(|e| {
        OcclusionError::Model(format!("cannot read the model file ({e}): {}", info.model_path.display()))
    })?;
    if blake3::hash(&bytes).to_hex().as_str() != info.model_hash {
        return Err(OcclusionError::Model(format!(
            "the model file changed since it was registered: {}",
            info.model_path.display()
        )));
    }
    let key = format!("{}@{}#{}", info.name(), info.version(), info.model_hash);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((k, m)) = last.as_ref()
        && *k == key
    {
        return Ok(m.clone());
    }
    let model = Arc::new(net::load(&info.card, &bytes)?);
    *last = Some((key, model.clone()));
    Ok(model)
}

/// The occlusion heatmap of `photo_id` (which the gate must release) for a registered
/// classifier. Progress counts model runs; cancelling stops between runs.
pub fn run(
    store: &Store,
    exe: &Path,
    info: &ModelInfo,
    photo_id: i64,
    opts: &Options,
    progress: &Progress,
) -> Result<Heatmap, OcclusionError> {
    if info.card.task != ModelTask::Classification {
        return Err(OcclusionError::NotClassifier {
            model: info.name().to_owned(),
            version: info.version().to_owned(),
            task: info.card.task.as_str(),
        });
    }
    // The gate first, then the card's modalities: nothing is read before both say yes.
    let released = gate(store, photo_id)?;
    if !opts.force_modality
        && let Some(d) = store.photo(photo_id)?
        && !info.card.intended_for(d.row.modality)
    {
        return Err(OcclusionError::Modality {
            photo: photo_id,
            modality: d.row.modality.as_str(),
            model: info.name().to_owned(),
        });
    }
    let photo = decode(released, exe)?;
    if progress.is_cancelled() {
        return Err(OcclusionError::Cancelled);
    }
    let model = load_registered(info)?;
    let mut h = heatmap(&model, &photo.image, opts, progress)?;
    h.photo_id = photo_id;
    h.photo = photo.photo;
    h.region = photo.region;
    Ok(h)
}

/// The target class's probability from the model's raw output.
fn probability(model: &Loaded, raw: &[f32], target: usize) -> Result<f32, OcclusionError> {
    let p = match model.card().output.kind {
        OutputKind::Logits => net::softmax(raw),
        _ => raw.to_vec(),
    };
    p.get(target).copied().filter(|v| v.is_finite()).ok_or_else(|| OcclusionError::Model("no finite score".into()))
}

/// The heatmap of one image (already upright and redacted) for a loaded classifier. The
/// result's `photo` and `region` are the image's own size; [`run`] sets them for a photo.
pub fn heatmap(model: &Loaded, img: &RgbImage, opts: &Options, progress: &Progress) -> Result<Heatmap, OcclusionError> {
    let started = Instant::now();
    let card = model.card();
    if card.task != ModelTask::Classification {
        return Err(OcclusionError::NotClassifier {
            model: card.name.clone(),
            version: card.version.clone(),
            task: card.task.as_str(),
        });
    }
    let (iw, ih) = (card.input.width, card.input.height);
    let pw = ((iw as f32 * opts.patch).round() as u32).clamp(1, iw);
    let ph = ((ih as f32 * opts.patch).round() as u32).clamp(1, ih);
    let xs = starts(iw, pw, pw as f32 * opts.stride);
    let ys = starts(ih, ph, ph as f32 * opts.stride);
    let (cols, rows) = (xs.len(), ys.len());
    progress.set_total(1 + (cols * rows) as u64, true);
    progress.set_message(format!("{} {}", card.name, card.version));

    let base = preprocess::tensor(img, &card.input);
    let raw = model.run_tensor(&base).map_err(OcclusionError::Model)?;
    let probs = match card.output.kind {
        OutputKind::Logits => net::softmax(&raw),
        _ => raw,
    };
    let target = match opts.target {
        Some(t) if t < probs.len() => t,
        Some(t) => return Err(OcclusionError::NoClass { model: card.name.clone(), target: t.to_string() }),
        None => probs.iter().enumerate().fold(0, |b, (i, &p)| if p > probs[b] { i } else { b }),
    };
    let p_target = probs[target];
    progress.add_done(1);

    // The grey patch is 0 in every channel: what preprocessing makes of the card's mean.
    let (w, hgt) = (iw as usize, ih as usize);
    let occlude = |x0: u32, y0: u32| -> Vec<f32> {
        let mut t = base.clone();
        for y in y0 as usize..(y0 + ph) as usize {
            for x in x0 as usize..(x0 + pw) as usize {
                for c in 0..3 {
                    let at = match card.input.layout {
                        Layout::Nchw => c * hgt * w + y * w + x,
                        Layout::Nhwc => (y * w + x) * 3 + c,
                    };
                    t[at] = 0.0;
                }
            }
        }
        t
    };
    let drops = Mutex::new(vec![0f32; cols * rows]);
    let failed = Mutex::new(None::<String>);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..opts.threads.clamp(1, cols * rows) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cols * rows || progress.is_cancelled() {
                        return;
                    }
                    let out = model
                        .run_tensor(&occlude(xs[i % cols], ys[i / cols]))
                        .map_err(OcclusionError::Model)
                        .and_then(|raw| probability(model, &raw, target));
                    match out {
                        Ok(p) => drops.lock().unwrap_or_else(|e| e.into_inner())[i] = (p_target - p).max(0.0),
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                            progress.cancel();
                            return;
                        }
                    }
                    progress.add_done(1);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(OcclusionError::Model(e));
    }
    if progress.is_cancelled() {
        return Err(OcclusionError::Cancelled);
    }
    let drops = drops.into_inner().unwrap_or_else(|e| e.into_inner());
    let max_drop = drops.iter().copied().fold(0.0, f32::max);
    let label = &card.labels[target];
    Ok(Heatmap {
        model: card.name.clone(),
        version: card.version.clone(),
        photo_id: 0,
        target,
        label: label.key.clone(),
        code: label.code.clone(),
        p_target,
        cols,
        rows,
        drops,
        max_drop,
        patch: [pw, ph],
        xs,
        ys,
        input: [iw, ih],
        resize: card.input.resize,
        photo: [img.width(), img.height()],
        region: [0, 0, img.width(), img.height()],
        runs: 1 + cols * rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_the_input_to_its_edges_evenly() {
        // The demo classifier's 224 x 160 with the defaults: 45 x 32 patches, 9 places a side.
        let xs = starts(224, 45, 22.5);
        assert_eq!(xs.len(), 9);
        assert_eq!((xs[0], *xs.last().unwrap()), (0, 224 - 45));
        // Evenly spaced (179 / 8 = 22.4), rounded to whole pixels.
        assert!(xs.windows(2).all(|w| (22..=23).contains(&(w[1] - w[0]))), "{xs:?}");
        assert_eq!(starts(160, 32, 16.0), vec![0, 16, 32, 48, 64, 80, 96, 112, 128]);
        assert_eq!(starts(10, 10, 5.0), vec![0]);
    }

    fn map(resize: Resize, photo: [u32; 2], region: [u32; 4]) -> Heatmap {
        // A 3 x 2 grid over a 40 x 20 input, patches 20 x 10 at x 0, 10, 20 and y 0, 10; only
        // the top-right cell is hot.
        Heatmap {
            model: "m".into(),
            version: "1".into(),
            photo_id: 1,
            target: 0,
            label: "a".into(),
            code: None,
            p_target: 0.9,
            cols: 3,
            rows: 2,
            drops: vec![0.0, 0.0, 0.4, 0.0, 0.0, 0.0],
            max_drop: 0.4,
            patch: [20, 10],
            xs: vec![0, 10, 20],
            ys: vec![0, 10],
            input: [40, 20],
            resize,
            photo,
            region,
            runs: 7,
            seconds: 0.0,
        }
    }

    #[test]
    fn the_heat_maps_back_onto_the_photo_through_the_cards_resize() {
        // Stretched from an 80 x 80 photo: input x = photo x / 2, y = photo y / 4.
        let h = map(Resize::Stretch, [80, 80], [0, 0, 80, 80]);
        assert_eq!(h.peak(), (2, 0));
        assert_eq!(h.cell_centre(2, 0), (60.0, 20.0));
        let heat = h.heat();
        assert_eq!(h.at(60.0, 20.0, &heat), Some(1.0));
        assert_eq!(h.at(10.0, 70.0, &heat), Some(0.0));
        // Halfway between the top-right and top-middle centres (input x 25, photo x 50).
        assert!((h.at(50.0, 20.0, &heat).unwrap() - 0.5).abs() < 1e-6);
        // Centre-cropped from a 120 x 40 photo: scaled by 1/2 to 60 x 20, 10 px cut off each
        // side, so photo x 0..20 and 100..120 were never seen.
        let h = map(Resize::ShorterSideCrop, [120, 40], [0, 0, 120, 40]);
        assert_eq!(h.at(10.0, 20.0, &h.heat()), None);
        assert_eq!(h.at(110.0, 20.0, &h.heat()), None);
        assert_eq!(h.cell_centre(2, 0), (80.0, 10.0));
        assert_eq!(h.at(80.0, 10.0, &h.heat()), Some(1.0));
        // A crop in privacy review: the region sits inside the photo.
        let h = map(Resize::Stretch, [200, 100], [100, 50, 80, 40]);
        assert_eq!(h.cell_centre(2, 0), (100.0 + 60.0, 50.0 + 10.0));
        assert_eq!(h.at(50.0, 20.0, &h.heat()), None);
        let o = h.overlay(200, 100);
        assert_eq!(o.get_pixel(10, 10).0[3], 0, "outside what the model saw: transparent");
        let hot = h.at(160.5, 60.5, &h.heat()).unwrap();
        assert!(hot > 0.9, "{hot}");
        assert_eq!(o.get_pixel(160, 60).0, colour(hot).0);
    }

    #[test]
    fn the_colour_map_rises_in_lightness_and_opacity() {
        let light = |t: f32| {
            let c = colour(t).0;
            0.2126 * c[0] as f32 + 0.7152 * c[1] as f32 + 0.0722 * c[2] as f32
        };
        assert!((0..10).all(|i| light(i as f32 / 10.0) < light((i + 1) as f32 / 10.0)));
        assert_eq!(colour(0.0).0[3], 0);
        assert_eq!(colour(1.0).0[3], 153);
    }
}
