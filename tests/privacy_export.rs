//! The de-identified export strips every kind of metadata: canary strings are planted (with
//! exiftool) in every metadata family the shared metadata corpus exercises, on copies of those
//! files; the files are imported, screened, cleared and exported; then no canary byte and no
//! original metadata value is left, and exiftool finds nothing but the image itself.

mod common;
use common::*;
use dermdesk::Store;
use dermdesk::jobs::Progress;
use dermdesk::privacy::Review;
use std::process::Command;

/// Tags set on every copy, one canary per metadata family (exiftool writes those the format
/// can hold and skips the rest).
const CANARY_TAGS: &[(&str, &str)] = &[
    ("EXIF:Artist", "CANARY-EXIF-ARTIST-YAMADA"),
    ("EXIF:ImageDescription", "CANARY-EXIF-DESCRIPTION"),
    ("EXIF:UserComment", "CANARY-EXIF-USERCOMMENT"),
    ("EXIF:Copyright", "CANARY-EXIF-COPYRIGHT"),
    ("EXIF:SerialNumber", "CANARY-EXIF-SERIAL-4711"),
    ("EXIF:OwnerName", "CANARY-EXIF-OWNER"),
    ("EXIF:ImageUniqueID", "CANARY-EXIF-UNIQUEID"),
    ("EXIF:XPAuthor", "CANARY-EXIF-XPAUTHOR"),
    ("EXIF:GPSLatitude", "35.681236"),
    ("EXIF:GPSLongitude", "139.767125"),
    ("XMP-dc:Creator", "CANARY-XMP-CREATOR"),
    ("XMP-dc:Description", "CANARY-XMP-DESCRIPTION"),
    ("XMP-photoshop:CaptionWriter", "CANARY-XMP-CAPTIONWRITER"),
    ("IPTC:By-line", "CANARY-IPTC-BYLINE"),
    ("IPTC:Caption-Abstract", "CANARY-IPTC-CAPTION"),
    ("IPTC:OriginalTransmissionReference", "CANARY-IPTC-CHART-0012345"),
    ("File:Comment", "CANARY-JPEG-COMMENT"),
    ("PNG:Comment", "CANARY-PNG-TEXT"),
    ("PNG:Author", "CANARY-PNG-AUTHOR"),
    ("ICC_Profile:ProfileDescription", "CANARY-ICC-DESCRIPTION"),
    ("Photoshop:CopyrightFlag", "True"),
];

fn exiftool() -> Command {
    Command::new("exiftool")
}

fn has_exiftool() {
    let ok = exiftool().arg("-ver").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "exiftool is needed (Debian: libimage-exiftool-perl; .ci/run installs it)");
}

/// Every text value exiftool reads from each file, with its group: {file: [(group:tag, value)]}
/// (one exiftool run for them all).
fn metadata_values(
    paths: &[std::path::PathBuf],
) -> std::collections::HashMap<std::path::PathBuf, Vec<(String, String)>> {
    let out = exiftool().args(["-j", "-G1", "-a", "-u", "-b", "-q", "-q", "-m"]).args(paths).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let mut all = std::collections::HashMap::new();
    for obj in v.as_array().into_iter().flatten().filter_map(|o| o.as_object()) {
        let file = std::path::PathBuf::from(obj.get("SourceFile").and_then(|s| s.as_str()).unwrap_or_default());
        let vals: Vec<(String, String)> = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "SourceFile")
            .filter_map(|(k, val)| val.as_str().map(|s| (k.clone(), s.to_string())))
            .collect();
        all.insert(file, vals);
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_metadata_survives_the_export() {
    has_exiftool();
    let corpus = shared().join("corpora/metadata");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let mut copied = Vec::new();
    for e in walkdir::WalkDir::new(&corpus).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let p = e.path();
        let ext = p.extension().map(|x| x.to_string_lossy().to_lowercase()).unwrap_or_default();
        if !["jpg", "jpeg", "png", "tif", "tiff", "webp", "bmp"].contains(&ext.as_str()) {
            continue;
        }
        let rel = p.strip_prefix(&corpus).unwrap().to_string_lossy().replace(['/', '#'], "_");
        let dest = dir.join(&rel);
        std::fs::copy(p, &dest).unwrap();
        copied.push(dest);
    }
    // Plant the canaries (one exiftool run); files exiftool cannot write keep their own metadata.
    let mut cmd = exiftool();
    cmd.args(["-q", "-q", "-m", "-overwrite_original"]);
    for (tag, value) in CANARY_TAGS {
        cmd.arg(format!("-{tag}={value}"));
    }
    let _ = cmd.args(&copied).output();
    assert!(copied.len() > 70, "the metadata corpus is there: {}", copied.len());
    // What each file holds now: its canaries and its own metadata values.
    let mut planted = 0;
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (_, values) in metadata_values(&copied) {
        for (k, v) in values {
            if v.contains("CANARY-") {
                planted += 1;
            }
            let group = k.split(':').next().unwrap_or("");
            // Values that would appear by chance in any image (short, numeric, or describing the
            // file itself) are not evidence; long free text is.
            if !["ExifTool", "System", "File", "Composite"].contains(&group)
                && v.len() >= 8
                && v.chars().any(|c| c.is_alphabetic())
                && !v.starts_with("(Binary")
            {
                secrets.push((k, v));
            }
        }
    }
    assert!(planted > 300, "canaries planted in many fields of many files: {planted}");

    let db = tmp.path().join("a.sqlite");
    let report = json(&cli_ok(&db, &["import", "--json", dir.to_str().unwrap()]));
    let imported = report["new_photos"].as_u64().unwrap();
    assert!(imported >= 60, "{report}");
    let screen = json(&cli_ok(&db, &["screen", "--json", "--threads", "2"]));
    assert_eq!(screen["screened"].as_u64(), Some(imported), "{screen}");
    // Screening found the planted metadata on the files that hold it.
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let with_canary_findings = rows
        .iter()
        .filter(|r| {
            r["screening"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["kind"] == "metadata" && f["text"].as_str().is_some_and(|t| t.contains("CANARY-")))
        })
        .count();
    assert!(with_canary_findings as u64 >= imported * 3 / 4, "{with_canary_findings} of {imported}");

    let mut store = Store::open(&db).unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    store.set_review(&ids, Review::Cleared, "dr.sato").unwrap();
    let out = tmp.path().join("export");
    let rep = dermdesk::privacy::export::export_deid(&mut store, &out, None, &Progress::new()).unwrap();
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(rep.exported as u64, imported);

    let allowed_groups = ["ExifTool", "System", "File", "JFIF", "Composite", "PNG"];
    let png_image_tags = ["ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter", "Interlace"];
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    let seen = metadata_values(&files);
    assert_eq!(seen.len(), files.len(), "exiftool read every exported file");
    let mut exported = 0;
    for p in &files {
        exported += 1;
        let bytes = std::fs::read(p).unwrap();
        assert!(!contains(&bytes, b"CANARY"), "{}: a canary survived", p.display());
        for needle in [
            &b"Exif\0"[..],
            b"http://ns.adobe.com",
            b"Photoshop 3.0",
            b"ICC_PROFILE",
            b"tEXt",
            b"zTXt",
            b"iTXt",
            b"eXIf",
            b"iCCP",
        ] {
            assert!(!contains(&bytes, needle), "{}: holds {:?}", p.display(), String::from_utf8_lossy(needle));
        }
        for (k, v) in &secrets {
            assert!(!contains(&bytes, v.as_bytes()), "{}: the original's {k} ({v:?}) survived", p.display());
        }
        // exiftool sees the image and nothing else.
        for (k, v) in &seen[p] {
            let (group, tag) = k.split_once(':').unwrap_or((k, ""));
            assert!(allowed_groups.contains(&group), "{}: exiftool finds {k} = {v:?}", p.display());
            if group == "PNG" {
                assert!(png_image_tags.contains(&tag), "{}: exiftool finds {k} = {v:?}", p.display());
            }
            assert!(!v.contains("CANARY"), "{}: {k} = {v:?}", p.display());
        }
        // And the product's own scanner agrees.
        let left = dermdesk::privacy::metadata::entries(&bytes);
        assert!(left.is_empty(), "{}: {left:?}", p.display());
    }
    assert_eq!(exported as u64, imported);
}

/// Marks a photo screened by every detector with nothing found (the models are not what this
/// file tests), so that a person's decision can let it out.
fn screened_clean(store: &mut Store, id: i64) {
    use dermdesk::privacy::{Detector, Screening, Verdict};
    let ran = Detector::ALL.iter().map(|d| (*d, d.version().to_string())).collect();
    let s = Screening { findings: Vec::new(), verdict: Verdict::Clear, ran, ms: Vec::new() };
    store.save_screening(id, &s).unwrap();
}

/// Whether a point is inside a simple polygon, by its winding number (written apart from the
/// export's even-odd test, which this checks).
fn inside(poly: &[[f32; 2]], x: f32, y: f32) -> bool {
    let mut winding = 0;
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let side = (b[0] - a[0]) * (y - a[1]) - (x - a[0]) * (b[1] - a[1]);
        if a[1] <= y && b[1] > y && side > 0.0 {
            winding += 1;
        } else if a[1] > y && b[1] <= y && side < 0.0 {
            winding -= 1;
        }
    }
    winding != 0
}

/// Whether the export may have touched a pixel: its centre or a corner is inside. Pixels with
/// none inside must be left as they were.
fn touched(poly: &[[f32; 2]], x: u32, y: u32) -> bool {
    let (x, y) = (x as f32, y as f32);
    [(0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].iter().any(|(dx, dy)| inside(poly, x + dx, y + dy))
}

/// Polygons (black, on a photo turned by its EXIF orientation), pixelation and a crop, drawn
/// through the store as the review panel stores them, exported and compared pixel by pixel
/// with the original decoded and turned upright independently (the image crate's own
/// rotation): inside black or one value per block, outside untouched, only the crop written.
#[test]
fn polygons_pixelation_and_crops_are_burned_in_exactly() {
    use dermdesk::privacy::redact::{block_edges, block_size};
    use dermdesk::store::{Fill, Shape};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let s = shared();
    // A camera original filed sideways (orientation 6: turn 90° clockwise to show it).
    let isic = std::fs::read(s.join("data/isic-cc0/images/ISIC_0000100.jpg")).unwrap();
    std::fs::write(dir.join("a_turned.jpg"), jpeg_with_orientation(&isic, 6)).unwrap();
    // Two real photos as PNG: their export is lossless, so every pixel can be compared.
    let clinical = image::open(s.join("data/clinical-padufes/PAT_1089_375_60.jpg")).unwrap().to_rgb8();
    clinical.save(dir.join("b_pixelated.png")).unwrap();
    let ph2 = image::open(s.join("data/ph2/images/IMD002.jpg")).unwrap().to_rgb8();
    ph2.save(dir.join("c_cropped.png")).unwrap();
    let db = tmp.path().join("x.sqlite");
    let r = dermdesk::archive::import(&db, std::slice::from_ref(&dir), &import_opts(), &Progress::new()).unwrap();
    assert_eq!(r.counts.new_photos, 3, "{r:?}");
    let ids: Vec<(String, i64)> = json_lines(&cli_ok(&db, &["list", "--json"]))
        .iter()
        .map(|r| {
            let p = std::path::Path::new(r["paths"][0].as_str().unwrap());
            (p.file_name().unwrap().to_string_lossy().into_owned(), r["id"].as_i64().unwrap())
        })
        .collect();
    let mut store = Store::open(&db).unwrap();
    for (_, id) in &ids {
        screened_clean(&mut store, *id);
    }
    let id = |n: &str| ids.iter().find(|(name, _)| name == n).unwrap().1;
    let (turned, pixelated, cropped) = (id("a_turned.jpg"), id("b_pixelated.png"), id("c_cropped.png"));

    // The reference: decoded by the image crate and turned by it, not by dermdesk.
    let upright = image::open(dir.join("a_turned.jpg")).unwrap().to_rgb8();
    let upright = image::imageops::rotate90(&upright);
    let (uw, uh) = upright.dimensions();
    // A concave polygon (an L) in the upright photo's pixels, away from its middle.
    let l_shape = vec![
        [uw as f32 * 0.10, uh as f32 * 0.10],
        [uw as f32 * 0.45, uh as f32 * 0.10],
        [uw as f32 * 0.45, uh as f32 * 0.20],
        [uw as f32 * 0.22, uh as f32 * 0.22],
        [uw as f32 * 0.20, uh as f32 * 0.55],
        [uw as f32 * 0.10, uh as f32 * 0.55],
    ];
    let user = "dr.sato";
    store.add_redaction(turned, &Shape::Polygon { points: l_shape.clone(), fill: Fill::Black }, user).unwrap();
    let pix_rect = [30.5, 40.2, 250.7, 170.9];
    store.add_redaction(pixelated, &Shape::Rect { rect: pix_rect, fill: Fill::Pixelate }, user).unwrap();
    let pix_poly = vec![[150.0, 190.0], [290.0, 200.0], [220.0, 290.0], [230.0, 230.0]];
    store.add_redaction(pixelated, &Shape::Polygon { points: pix_poly.clone(), fill: Fill::Pixelate }, user).unwrap();
    let crop = [50.0, 60.0, 250.0, 200.0];
    store.add_redaction(cropped, &Shape::Crop { rect: crop }, user).unwrap();
    store.add_redaction(cropped, &Shape::Rect { rect: [100.0, 100.0, 150.0, 150.0], fill: Fill::Black }, user).unwrap();
    for id in [turned, pixelated, cropped] {
        store.set_review(&[id], Review::Redacted, user).unwrap();
    }

    // The pixels the export writes, before encoding: exact.
    let release = store.release(None).unwrap();
    assert_eq!(release.allowed.len(), 3, "{:?}", release.withheld);
    let of = |id: i64| release.allowed.iter().find(|r| r.photo_id == id).unwrap();
    let (out, _) = dermdesk::privacy::export::deidentified_pixels(of(turned)).unwrap();
    assert_eq!(out.dimensions(), (uw, uh), "turned upright");
    let (mut black, mut kept) = (0, 0);
    for (x, y, p) in out.enumerate_pixels() {
        if inside(&l_shape, x as f32 + 0.5, y as f32 + 0.5) {
            assert_eq!(p.0, [0, 0, 0], "({x},{y}) is inside the polygon");
            black += 1;
        } else if !touched(&l_shape, x, y) {
            assert_eq!(p, upright.get_pixel(x, y), "({x},{y}) is outside the polygon");
            kept += 1;
        }
    }
    assert!(black > 1000 && kept > black, "{black} black, {kept} kept");
    // The arm of the L's inner corner is outside it: kept, not blacked out with its box.
    let (cx, cy) = ((uw as f32 * 0.35) as u32, (uh as f32 * 0.40) as u32);
    assert_eq!(out.get_pixel(cx, cy), upright.get_pixel(cx, cy));

    let (out, _) = dermdesk::privacy::export::deidentified_pixels(of(pixelated)).unwrap();
    let orig = &clinical;
    let (x0, y0, x1, y1) = (30u32, 40u32, 251u32, 171u32);
    let block = block_size(x1 - x0, y1 - y0);
    assert!(block >= 16 && block >= (y1 - y0).div_ceil(4), "{block}");
    let (ex, ey) = (block_edges(x0, x1, block), block_edges(y0, y1, block));
    let mut differ = 0;
    for by in ey.windows(2) {
        for bx in ex.windows(2) {
            let v = *out.get_pixel(bx[0], by[0]);
            let mut sum = [0u64; 3];
            for y in by[0]..by[1] {
                for x in bx[0]..bx[1] {
                    assert_eq!(*out.get_pixel(x, y), v, "one value per block: ({x},{y})");
                    let o = orig.get_pixel(x, y).0;
                    (0..3).for_each(|c| sum[c] += o[c] as u64);
                    differ += (out.get_pixel(x, y) != orig.get_pixel(x, y)) as usize;
                }
            }
            let n = ((bx[1] - bx[0]) * (by[1] - by[0])) as u64;
            let mean = sum.map(|s| ((s + n / 2) / n) as u8);
            assert_eq!(v.0, mean, "the block's average");
        }
    }
    let area = ((x1 - x0) * (y1 - y0)) as usize;
    assert!(differ * 10 > area * 9, "the pixels changed: {differ} of {area}");
    // The polygon: one value per block among the pixels it covers.
    let mut seen: std::collections::HashMap<(usize, usize), image::Rgb<u8>> = Default::default();
    let (px0, py0, px1, py1) = (150u32, 190u32, 290u32, 290u32);
    let pb = block_size(px1 - px0, py1 - py0);
    let (pex, pey) = (block_edges(px0, px1, pb), block_edges(py0, py1, pb));
    let mut covered = 0;
    for y in py0..py1 {
        for x in px0..px1 {
            if inside(&pix_poly, x as f32 + 0.5, y as f32 + 0.5) {
                let key = (pex.partition_point(|&e| e <= x), pey.partition_point(|&e| e <= y));
                let v = *out.get_pixel(x, y);
                assert_eq!(*seen.entry(key).or_insert(v), v, "one value per block: ({x},{y})");
                covered += 1;
            }
        }
    }
    assert!(covered > 3000 && seen.len() >= 2, "{covered} pixels in {} blocks", seen.len());
    for (x, y, p) in out.enumerate_pixels() {
        let in_rect = x >= x0 && x < x1 && y >= y0 && y < y1;
        if !in_rect && !touched(&pix_poly, x, y) {
            assert_eq!(p, orig.get_pixel(x, y), "({x},{y}) is outside both shapes");
        }
    }

    // The export itself: lossless sources as PNG (exact), the JPEG within its quantisation.
    let dest = tmp.path().join("out");
    let report = dermdesk::privacy::export::export_deid(&mut store, &dest, None, &Progress::new()).unwrap();
    assert_eq!(report.exported, 3, "{report:?}");
    let order: Vec<i64> = release.allowed.iter().map(|r| r.photo_id).collect();
    let file = |id: i64, ext: &str| dest.join(format!("{:06}.{ext}", order.iter().position(|&o| o == id).unwrap() + 1));
    assert_eq!(image::open(file(pixelated, "png")).unwrap().to_rgb8(), out, "the PNG holds exactly those pixels");
    let cut = image::open(file(cropped, "png")).unwrap().to_rgb8();
    assert_eq!(cut.dimensions(), (200, 140), "only the crop is written");
    for (x, y, p) in cut.enumerate_pixels() {
        let (ox, oy) = (x + 50, y + 60);
        if (100..150).contains(&ox) && (100..150).contains(&oy) {
            assert_eq!(p.0, [0, 0, 0], "({ox},{oy}) is blacked out");
        } else {
            assert_eq!(p, ph2.get_pixel(ox, oy), "({ox},{oy}) is the original");
        }
    }
    let jpeg = image::open(file(turned, "jpg")).unwrap().to_rgb8();
    assert_eq!(jpeg.dimensions(), (uw, uh));
    let (mut dark, mut n_in, mut diff, mut n_out) = (0u64, 0u64, 0u64, 0u64);
    for (x, y, p) in jpeg.enumerate_pixels() {
        // Away from the edges, where JPEG blocks mix both sides.
        let near = (-4..=4).any(|d: i32| {
            let (a, b) = (x as f32 + d as f32, y as f32 + d as f32);
            inside(&l_shape, a, y as f32) != inside(&l_shape, x as f32, y as f32)
                || inside(&l_shape, x as f32, b) != inside(&l_shape, x as f32, y as f32)
        });
        if near {
            continue;
        }
        if inside(&l_shape, x as f32 + 0.5, y as f32 + 0.5) {
            dark += p.0.iter().map(|&v| v as u64).sum::<u64>();
            n_in += 3;
        } else {
            let o = upright.get_pixel(x, y).0;
            diff += (0..3).map(|c| (p.0[c] as i32 - o[c] as i32).unsigned_abs() as u64).sum::<u64>();
            n_out += 3;
        }
    }
    assert!(dark as f64 / (n_in as f64) < 2.0, "inside stays black: mean {}", dark as f64 / n_in as f64);
    assert!(diff as f64 / (n_out as f64) < 3.0, "outside is the photo: mean difference {}", diff as f64 / n_out as f64);
}
