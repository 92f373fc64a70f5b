//! The packaged folder's licence notices (`packaging/licences.py`, run by `make-dist.sh`):
//! every crate compiled into the executable is listed with its licence and has a licence
//! text, the crates only the tests use are not listed, and identical texts are printed once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The output's "== Crates ==" lines as (name, version, licence), and its text headers.
fn read(out: &str) -> (Vec<(String, String, String)>, Vec<String>) {
    let crates_at = out.find("== Crates ==").expect("a crates section");
    let texts_at = out.find("== Licence texts ==").expect("a licence texts section");
    let crates = out[crates_at..texts_at]
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, char::is_whitespace);
            let name = parts.next().unwrap_or_default().to_owned();
            let version = parts.next().unwrap_or_default().to_owned();
            (name, version, parts.next().unwrap_or_default().trim().to_owned())
        })
        .collect();
    let headers = out[texts_at..].lines().filter(|l| l.starts_with("--- text ")).map(str::to_owned).collect();
    (crates, headers)
}

#[test]
fn every_linked_crate_has_its_licence_text() {
    if Command::new("python3").arg("--version").output().is_err() {
        panic!("python3 is needed to run packaging/licences.py (`.ci/run` installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("THIRD-PARTY-LICENSES.txt");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new("python3").arg(root.join("packaging/licences.py")).arg(&out_path).output().unwrap();
    assert!(
        run.status.success(),
        "licences.py failed: {}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let out = std::fs::read_to_string(&out_path).unwrap();
    let (crates, headers) = read(&out);
    assert!(crates.len() > 100, "only {} crates listed", crates.len());

    // Every direct dependency is there, with a licence expression.
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml")).unwrap().parse().unwrap();
    let direct: BTreeSet<&str> = manifest["dependencies"].as_table().unwrap().keys().map(String::as_str).collect();
    let listed: BTreeSet<&str> = crates.iter().map(|(n, _, _)| n.as_str()).collect();
    let absent: Vec<&&str> = direct.iter().filter(|d| !listed.contains(**d)).collect();
    assert!(absent.is_empty(), "direct dependencies not listed: {absent:?}");
    for (name, version, licence) in &crates {
        assert!(!licence.is_empty() && licence != "(none declared)", "{name} {version} has no licence expression");
        // ... and every crate's licence text follows, under a header naming it.
        let label = format!("{name} {version} (");
        assert!(headers.iter().any(|h| h.contains(&label)), "no licence text for {name} {version}");
    }
    // Crates only the tests use are not compiled into the executable.
    for dev in ["egui_kittest", "tempfile"] {
        assert!(!listed.contains(dev), "{dev} (a dev-dependency) is listed");
    }
    // The egui crates ship no licence file: they get the standard MIT text under their authors.
    let egui = headers.iter().find(|h| h.contains("egui 0.")).expect("egui's text");
    assert!(egui.contains("standard MIT text"), "{egui}");
    // The fonts egui compiles in keep their own licences (SIL OFL, Ubuntu Font Licence).
    for font in ["fonts/OFL.txt", "fonts/UFL.txt"] {
        assert!(headers.iter().any(|h| h.contains(&format!("epaint_default_fonts 0.37.0 ({font})"))), "{font}");
    }
    // Identical texts once: the Apache-2.0 text is shared by dozens of crates under one header.
    let apache_users = headers.iter().filter(|h| h.contains("tract-core ") && h.contains("LICENSE-APACHE")).count();
    assert_eq!(apache_users, 1);
    let shared = headers.iter().find(|h| h.contains("tract-core ") && h.contains("LICENSE-APACHE")).unwrap();
    assert!(shared.matches("; ").count() > 20, "the Apache text is not shared: {shared}");
}
