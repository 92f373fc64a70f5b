//! The demo archive imported on first run: real, public dermoscopy, clinical and H&E images
//! read from the shared data folder at run time (never copied into the project).
//!
//! Where it is looked for: `--demo DIR`, then `DERMDESK_SHARED`, then `../shared` and
//! `./shared` from the working folder, then `demo/` beside the executable (where a package
//! may bundle it).

use std::path::{Path, PathBuf};

/// HAM10000 images per diagnosis in the demo (7 diagnoses: about 300 images).
const HAM_PER_DIAGNOSIS: usize = 43;

pub fn shared_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = explicit
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::var_os("DERMDESK_SHARED").map(PathBuf::from))
        .chain([PathBuf::from("../shared"), PathBuf::from("shared")])
        .chain(std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("demo"))))
        .collect();
    candidates.into_iter().find(|d| d.join("data").is_dir())
}

/// What to import for the demo: whole folders, plus a per-diagnosis sample of HAM10000.
pub fn sources(shared: &Path) -> Vec<PathBuf> {
    let data = shared.join("data");
    // Whole folders: their READMEs and label files are passed over as documents.
    let mut out: Vec<PathBuf> = ["isic-cc0/images", "ph2/images", "clinical-padufes", "histopathology-he"]
        .iter()
        .map(|d| data.join(d))
        .filter(|d| d.is_dir())
        .collect();
    out.extend(ham_sample(&data.join("ham10000")));
    out
}

/// The first images (by image id) of each HAM10000 diagnosis, from its metadata file.
fn ham_sample(ham: &Path) -> Vec<PathBuf> {
    let Ok(csv) = std::fs::read_to_string(ham.join("HAM10000_metadata.csv")) else { return Vec::new() };
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(dx), Some(file)) = (col("dx"), col("image_file")) else { return Vec::new() };
    let mut rows: Vec<(String, String)> = lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((f.get(dx)?.to_string(), f.get(file)?.to_string()))
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    let mut taken: std::collections::BTreeMap<String, usize> = Default::default();
    rows.into_iter()
        .filter(|(dx, _)| {
            let n = taken.entry(dx.clone()).or_default();
            *n += 1;
            *n <= HAM_PER_DIAGNOSIS
        })
        .map(|(_, f)| ham.join(f))
        .filter(|p| p.is_file())
        .collect()
}
