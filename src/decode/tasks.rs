//! The decoding tasks that worker processes run (see `crate::work`).
//!
//! Each reads the file itself, read-only, and hashes the very bytes it decodes: one read per
//! file, and what is decoded is always what the hash names (no race with a file changing in
//! between). `ReadHash` then `Probe` on the same worker reuse the bytes read by the first.

use super::probe::{self, Probe as ProbeResult};
use super::{Limits, Refusal, RefusalCode, Route, format};
use crate::work::{Ctx, Reply, Task};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Files above this are not read into memory by a worker (bigger than any photo we decode).
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// The file a worker read last, kept for the next request on the same path.
#[derive(Default)]
struct LastFile {
    path: PathBuf,
    hash: String,
    bytes: Vec<u8>,
}

pub fn hash_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Reads a whole file (opened read-only: originals are never written).
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Refusal> {
    let unreadable = |e: std::io::Error| Refusal::new(RefusalCode::Unreadable, format!("cannot read the file: {e}"));
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Refusal::new(RefusalCode::TooLarge, format!("the file is {} bytes", meta.len())));
    }
    std::fs::read(path).map_err(unreadable)
}

/// The bytes of `path` and their hash: from the last read when it was this path, else read now.
fn bytes_of<'a>(ctx: &'a mut Ctx, path: &Path) -> Result<&'a LastFile, Refusal> {
    let last = ctx.slot::<LastFile>();
    if last.path != path || last.hash.is_empty() {
        // Dropped first so that two large files are never held at once.
        *last = LastFile::default();
        let bytes = read(path)?;
        *last = LastFile { path: path.to_path_buf(), hash: hash_bytes(&bytes), bytes };
    }
    Ok(last)
}

fn forget(ctx: &mut Ctx) {
    *ctx.slot::<LastFile>() = LastFile::default();
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hashed {
    pub hash: String,
    pub len: u64,
}

/// Reads a file and answers its content hash (the bytes stay in the worker for a `Probe`).
pub struct ReadHash;

impl Task for ReadHash {
    const NAME: &'static str = "read_hash";
    type Request = PathBuf;
    type Response = Hashed;

    fn run(ctx: &mut Ctx, path: PathBuf) -> Result<Reply<Hashed>, Refusal> {
        let f = bytes_of(ctx, &path)?;
        Ok(Reply::new(Hashed { hash: f.hash.clone(), len: f.bytes.len() as u64 }))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeRequest {
    pub path: PathBuf,
    /// Make a thumbnail (its JPEG comes back as the blob).
    pub thumb: bool,
    pub thumb_size: u32,
    pub limits: Limits,
    /// Run the modality model (loaded once per worker) beside the cues.
    pub modality_model: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Probed {
    /// The hash of the bytes probed.
    pub hash: String,
    pub probe: ProbeResult,
}

/// Validates a file for import: format, EXIF, every byte of the image decoded at reduced
/// size (damaged files are refused), modality cues, and the thumbnail.
pub struct Probe;

impl Task for Probe {
    const NAME: &'static str = "probe";
    type Request = ProbeRequest;
    type Response = Probed;

    fn run(ctx: &mut Ctx, req: ProbeRequest) -> Result<Reply<Probed>, Refusal> {
        let f = bytes_of(ctx, &req.path)?;
        let hash = f.hash.clone();
        let model = if req.modality_model { crate::modality::model::shared() } else { None };
        let result = probe::probe_bytes(&f.bytes, &req.path, req.thumb, req.thumb_size, &req.limits, model);
        forget(ctx);
        let (probe, thumb) = result?;
        Ok(Reply::with_blob(Probed { hash, probe }, thumb.map(|t| t.jpeg).unwrap_or_default()))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThumbRequest {
    pub path: PathBuf,
    pub size: u32,
    pub limits: Limits,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThumbMade {
    pub hash: String,
    pub route: Route,
}

/// Makes a thumbnail by the fastest route the file allows; the JPEG is the blob.
pub struct Thumbnail;

impl Task for Thumbnail {
    const NAME: &'static str = "thumbnail";
    type Request = ThumbRequest;
    type Response = ThumbMade;

    fn run(_ctx: &mut Ctx, req: ThumbRequest) -> Result<Reply<ThumbMade>, Refusal> {
        let bytes = read(&req.path)?;
        let fmt = format::sniff(&bytes[..bytes.len().min(512)], &req.path)?;
        let thumb = super::make_thumbnail(&bytes, fmt, req.size, &req.limits)?;
        Ok(Reply::with_blob(ThumbMade { hash: hash_bytes(&bytes), route: thumb.route }, thumb.jpeg))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FullRequest {
    pub path: PathBuf,
    pub orientation: u8,
    pub limits: Limits,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FullImage {
    pub hash: String,
    pub width: u32,
    pub height: u32,
}

/// Decodes a whole image at full resolution, orientation applied; the blob is its RGB8
/// pixels, row by row.
pub struct FullDecode;

impl Task for FullDecode {
    const NAME: &'static str = "full_decode";
    type Request = FullRequest;
    type Response = FullImage;

    fn run(_ctx: &mut Ctx, req: FullRequest) -> Result<Reply<FullImage>, Refusal> {
        let bytes = read(&req.path)?;
        let hash = hash_bytes(&bytes);
        let fmt = format::sniff(&bytes[..bytes.len().min(512)], &req.path)?;
        let img = super::decode_with_image(&bytes, fmt, &req.limits)?;
        drop(bytes);
        let img = super::orient(img.into_rgb8(), req.orientation);
        let (width, height) = img.dimensions();
        Ok(Reply::with_blob(FullImage { hash, width, height }, img.into_raw()))
    }
}
