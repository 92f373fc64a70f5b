//! Helpers shared by the integration tests. Real data comes from the shared folder
//! (`DERMDESK_SHARED`, default `../shared`), read-only, never copied into the project.
#![allow(dead_code)]

pub mod gui;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn shared() -> PathBuf {
    let dir = std::env::var_os("DERMDESK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.join("data").is_dir() && dir.join("corpora").is_dir(),
        "these tests read real images from the shared data folder, which is missing: {} \
         (set DERMDESK_SHARED to where shared/data and shared/corpora are)",
        dir.display()
    );
    dir
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dermdesk"))
}

/// Runs the CLI; returns its output (does not assert success).
pub fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(bin()).arg("--db").arg(db).args(args).output().expect("run dermdesk")
}

/// Runs the CLI and insists on exit code 0.
pub fn cli_ok(db: &Path, args: &[&str]) -> String {
    let out = cli(db, args);
    assert!(
        out.status.success(),
        "dermdesk {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {s}"))
}

pub fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines().filter(|l| !l.trim().is_empty()).map(json).collect()
}

/// BLAKE3, size and mtime of every file below `dir`: to prove originals were not touched.
pub fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (String, u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok) {
        if e.file_type().is_file() {
            let bytes = std::fs::read(e.path()).expect("read");
            let meta = e.metadata().expect("meta");
            out.insert(
                e.path().to_path_buf(),
                (blake3::hash(&bytes).to_hex().to_string(), meta.len(), meta.modified().expect("mtime")),
            );
        }
    }
    out
}

/// Copies files into a fresh folder (for tests that move, rename and delete things).
pub fn copy_files(files: &[PathBuf], to: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(to).expect("mkdir");
    files
        .iter()
        .map(|f| {
            let dest = to.join(f.file_name().expect("file name"));
            std::fs::copy(f, &dest).expect("copy");
            dest
        })
        .collect()
}

pub fn files_in(dir: &Path, ext: &str, n: usize) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    v.sort();
    v.truncate(n);
    v
}

/// HAM10000's rows as (diagnosis, image id), sorted by image id.
pub fn ham_rows() -> Vec<(String, String)> {
    let csv = std::fs::read_to_string(shared().join("data/ham10000/HAM10000_metadata.csv")).unwrap();
    let mut rows: Vec<(String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].to_owned(), f[1].to_owned())
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    rows
}

/// A HAM10000 image in the shared folder, by image id.
pub fn ham_image(id: &str) -> PathBuf {
    shared().join(format!("data/ham10000/images/{id}.jpg"))
}

/// Marks a photo screened by every detector at its current version, with nothing found (the
/// screening itself is tested in tests/privacy.rs; here it is the gate that matters).
pub fn screened_clear(store: &mut dermdesk::Store, id: i64) {
    use dermdesk::privacy::{Detector, Screening, Verdict};
    let s = Screening {
        findings: Vec::new(),
        verdict: Verdict::Clear,
        ran: Detector::ALL.iter().map(|d| (*d, d.version().to_owned())).collect(),
        ms: Vec::new(),
    };
    store.save_screening(id, &s).unwrap();
}

pub fn import_opts() -> dermdesk::archive::ImportOptions {
    dermdesk::archive::ImportOptions::with_exe(bin())
}

/// A copy of a JPEG whose only EXIF block says `Orientation = orientation` (made at test
/// time in a temporary folder; the real corpora hold no non-square rotated photo).
pub fn jpeg_with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let tiff = dermdesk::decode::exif::minimal_tiff(&[(0x0112, orientation)], None);
    dermdesk::decode::exif::splice_jpeg_exif(jpeg, Some(&tiff)).expect("a JPEG")
}
