//! `bench masks`: a 24-MP lesion mask stored and read back, dermdesk's codec against PNG of
//! the same mask (the `image` crate's PNG encoder, 8-bit grey as most tools write masks, and
//! 1-bit through the `png` crate), side by side. The masks are real lesion outlines: PH2's
//! masks scaled up to 6000×4000 (bilinear, then thresholded, so the edges stay smooth and
//! pixel-fine rather than blocky).

use super::median;
use crate::masks::{Encoded, Mask, codec};
use anyhow::Context as _;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

pub const W: u32 = 6000;
pub const H: u32 = 4000;

#[derive(Serialize, Default)]
struct Row {
    method: String,
    bytes_median: f64,
    encode_ms_median: f64,
    decode_ms_median: f64,
    /// Encode plus one SQLite transaction writing the blob (the store's save).
    save_ms_median: f64,
}

#[derive(Serialize)]
struct Report {
    width: u32,
    height: u32,
    masks: usize,
    repeats: usize,
    rows: Vec<Row>,
    /// PNG (image crate, 8-bit) bytes / dermdesk bytes.
    size_ratio_vs_png8: f64,
    /// PNG (image crate, 8-bit) save time / dermdesk save time.
    save_ratio_vs_png8: f64,
    /// The annotation panel: painting, and a thousand lesions on one photo.
    panel: Option<super::annotate::PanelReport>,
}

/// A PH2 mask scaled to W×H: bilinear on 0/1, thresholded at one half.
pub fn scaled_mask(path: &Path) -> anyhow::Result<Mask> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let small = codec::read_binary_image(&bytes)?;
    let grey = image::GrayImage::from_fn(small.width(), small.height(), |x, y| {
        image::Luma([if small.get(x, y) { 255 } else { 0 }])
    });
    let big = image::imageops::resize(&grey, W, H, image::imageops::FilterType::Triangle);
    Mask::from_bytes(W, H, big.into_raw().into_iter().map(|v| (v >= 128) as u8).collect())
        .context("scaled mask has the wrong size")
}

fn png8(m: &Mask) -> anyhow::Result<Vec<u8>> {
    let img = image::GrayImage::from_raw(m.width(), m.height(), m.data().iter().map(|&b| b * 255).collect())
        .context("mask size")?;
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

fn save_blob(conn: &rusqlite::Connection, blob: &[u8]) -> anyhow::Result<()> {
    conn.execute_batch("BEGIN")?;
    conn.execute("INSERT INTO blobs (data) VALUES (?1)", [blob])?;
    conn.execute_batch("COMMIT")?;
    Ok(())
}

pub fn run(shared: &Path, n: usize, repeats: usize, panel: bool, json: bool) -> anyhow::Result<()> {
    let dir = shared.join("data/ph2/masks");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    // Spread over the set rather than the first few.
    let step = (files.len() / n.max(1)).max(1);
    let files: Vec<_> = files.into_iter().step_by(step).take(n).collect();
    let work = super::tempfile_dir("dermdesk-bench-masks")?;
    // A plain table in a WAL database stands for the store: the same SQLite settings, so the
    // write cost of each form compares fairly.
    let conn = rusqlite::Connection::open(work.join("blobs.sqlite"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
    )?;
    type Enc = fn(&Mask) -> anyhow::Result<Vec<u8>>;
    type Dec = fn(&[u8]) -> anyhow::Result<Mask>;
    let ours_enc: Enc = |m| Ok(Encoded::of(m).data);
    let ours_dec: Dec = |b| Ok(codec::decode(b)?);
    let png1_enc: Enc = |m| Ok(codec::png_binary(m)?);
    let png_dec: Dec = |b| Ok(codec::read_binary_image(b)?);
    let methods: [(&str, Enc, Dec); 3] = [
        ("dermdesk (row-delta RLE)", ours_enc, ours_dec),
        ("PNG 8-bit (image crate)", png8, png_dec),
        ("PNG 1-bit (png crate)", png1_enc, png_dec),
    ];
    let mut rows: Vec<Row> = Vec::new();
    let masks: Vec<Mask> = files.iter().map(|f| scaled_mask(f)).collect::<anyhow::Result<_>>()?;
    for (name, enc, dec) in methods {
        let (mut bytes, mut et, mut dt, mut st) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for m in &masks {
            for _ in 0..repeats {
                let t = Instant::now();
                let b = enc(m)?;
                et.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                let b2 = enc(m)?;
                save_blob(&conn, &b2)?;
                st.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                let back = dec(&b)?;
                dt.push(t.elapsed().as_secs_f64() * 1000.0);
                anyhow::ensure!(back == *m, "{name} did not give the same mask back");
                bytes.push(b.len() as f64);
            }
        }
        rows.push(Row {
            method: name.to_owned(),
            bytes_median: median(&mut bytes),
            encode_ms_median: median(&mut et),
            decode_ms_median: median(&mut dt),
            save_ms_median: median(&mut st),
        });
    }
    drop(conn);
    let panel = if panel { Some(super::annotate::run(shared, &work)?) } else { None };
    let report = Report {
        panel,
        width: W,
        height: H,
        masks: masks.len(),
        repeats,
        size_ratio_vs_png8: rows[1].bytes_median / rows[0].bytes_median,
        save_ratio_vs_png8: rows[1].save_ms_median / rows[0].save_ms_median,
        rows,
    };
    if json {
        return super::super::print_json(&report);
    }
    outln!(
        "a {}×{} lesion mask ({} PH2 masks scaled up, {} runs each): stored size and times, medians",
        W,
        H,
        report.masks,
        repeats
    );
    outln!("{:<28} {:>10} {:>10} {:>10} {:>10}", "form", "bytes", "encode ms", "save ms", "decode ms");
    for r in &report.rows {
        outln!(
            "{:<28} {:>10.0} {:>10.1} {:>10.1} {:>10.1}",
            r.method,
            r.bytes_median,
            r.encode_ms_median,
            r.save_ms_median,
            r.decode_ms_median
        );
    }
    outln!(
        "PNG 8-bit / dermdesk: {:.1}× the bytes, {:.1}× the save time",
        report.size_ratio_vs_png8,
        report.save_ratio_vs_png8
    );
    if let Some(p) = &report.panel {
        let f = |x: &super::annotate::Frames| {
            format!("p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} frames)", x.p50_ms, x.p95_ms, x.max_ms, x.frames)
        };
        outln!("annotation panel on a {} (window 1280×800; UI + tessellation, no GPU)", p.photo);
        outln!("painting, fit to window      {} (goal p95 < 8)", f(&p.paint_fit));
        outln!("painting, 100 %              {} (goal p95 < 8)", f(&p.paint_100));
        outln!(
            "texture upload per frame     {:.0} px of {} ({:.3} %)",
            p.paint_overlay_px_per_frame,
            p.photo_px,
            p.paint_overlay_px_per_frame / p.photo_px as f64 * 100.0
        );
        outln!(
            "a wand click: shown after {:.0} ms, slowest frame {:.2} ms; a smart-tool click: {:.0} ms, slowest frame {:.2} ms",
            p.wand_ms,
            p.wand_frame_ms,
            p.smart_click_ms,
            p.smart_click_frame_ms
        );
        outln!(
            "{} lesions: open            {} ; all overlay tiles in {:.0} ms (goal < 16 a frame)",
            p.lesions,
            f(&p.open),
            p.open_ms_to_all_tiles
        );
        outln!("{} lesions: pan at 100 %    {}", p.lesions, f(&p.pan));
        outln!("{} lesions: toggle          {}", p.lesions, f(&p.toggle));
    }
    Ok(())
}
