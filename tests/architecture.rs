//! The core library knows nothing of the UI or the CLI: dependencies point one way.

use std::path::Path;

#[test]
fn core_never_reaches_into_ui_or_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for entry in walkdir::WalkDir::new(&src).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        let rel = p.strip_prefix(&src).unwrap();
        let Some(first) = rel.components().next() else { continue };
        let first = first.as_os_str().to_string_lossy();
        if p.extension().is_none_or(|e| e != "rs")
            || first == "ui"
            || first == "cli"
            || first == "main.rs"
            || first == "lib.rs"
        {
            continue;
        }
        let text = std::fs::read_to_string(p).unwrap();
        for needle in ["egui", "eframe", "crate::ui", "crate::cli", "clap", "indicatif", "rfd::"] {
            if text.contains(needle) {
                offenders.push(format!("{} uses {needle}", rel.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "core modules must stay UI-free: {offenders:#?}");
}
