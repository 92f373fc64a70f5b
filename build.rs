//! Finds the demo models (`assets/models/<folder>/card.toml` and the model file the card
//! names) and compiles them into the executable, as the privacy models are: the app and its
//! workers are one file that needs nothing beside it.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=assets/models");
    // The folder of the tree being built, read when the script runs: `env!` would fix the path
    // of the tree that compiled the script, and cargo reuses one compiled script for clones
    // sharing a target folder (a clone's stale models were compiled in that way).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("assets/models");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("card.toml").is_file()).collect())
        .unwrap_or_default();
    dirs.sort();
    let mut code = String::from("pub(crate) const BUILTIN: &[Builtin] = &[\n");
    for dir in dirs {
        let card = dir.join("card.toml");
        println!("cargo:rerun-if-changed={}", card.display());
        let text = std::fs::read_to_string(&card).unwrap_or_default();
        // The card's `file = "..."` line (the card itself is checked when registered).
        let file = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("file"))
            .filter_map(|rest| rest.trim_start().strip_prefix('='))
            .map(|v| v.split('#').next().unwrap_or("").trim().trim_matches('"').to_owned())
            .next()
            .unwrap_or_default();
        let model = dir.join(&file);
        let model_expr = if !file.is_empty() && model.is_file() {
            println!("cargo:rerun-if-changed={}", model.display());
            format!("include_bytes!({:?})", model.display().to_string())
        } else {
            "&[]".to_owned()
        };
        code.push_str(&format!(
            "    Builtin {{ folder: {:?}, card: include_str!({:?}), model: {model_expr} }},\n",
            dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            card.display().to_string(),
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_models.rs");
    std::fs::write(out, code).expect("write builtin_models.rs");
}
