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
