//! The core library knows nothing of the UI or the CLI: dependencies point one way. Every
//! path in every core module (its `use` items, types, calls and macros) is read with a Rust
//! parser, so a `use egui::...` cannot hide behind an alias or a line break.

use std::path::Path;
use syn::visit::Visit;

/// Crates only the UI and the CLI may use.
const EDGE_CRATES: &[&str] = &["egui", "eframe", "egui_kittest", "clap", "indicatif", "rfd"];

#[derive(Default)]
struct Offences(Vec<String>);

impl Offences {
    fn check(&mut self, segments: &[String]) {
        let first = segments.first().map(String::as_str).unwrap_or("");
        let second = segments.get(1).map(String::as_str).unwrap_or("");
        if EDGE_CRATES.contains(&first) || (first == "crate" && (second == "ui" || second == "cli")) {
            self.0.push(segments.join("::"));
        }
    }
}

fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Offences) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            prefix.push(n.ident.to_string());
            out.check(prefix);
            prefix.pop();
        }
        syn::UseTree::Rename(r) => {
            prefix.push(r.ident.to_string());
            out.check(prefix);
            prefix.pop();
        }
        syn::UseTree::Glob(_) => out.check(prefix),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(t, prefix, out)),
    }
}

impl<'ast> Visit<'ast> for Offences {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        use_paths(&u.tree, &mut Vec::new(), self);
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.check(&segments);
        syn::visit::visit_path(self, p);
    }
    fn visit_item_extern_crate(&mut self, c: &'ast syn::ItemExternCrate) {
        self.check(&[c.ident.to_string()]);
    }
}

fn offences(source: &str) -> Vec<String> {
    let file = syn::parse_file(source).expect("a core module parses");
    let mut v = Offences::default();
    v.visit_file(&file);
    v.0
}

#[test]
fn the_checker_catches_what_it_is_for() {
    assert_eq!(offences("use egui::Ui;"), ["egui::Ui"]);
    assert_eq!(offences("use crate::{store, ui::App};"), ["crate::ui::App"]);
    assert_eq!(offences("use clap as c;"), ["clap"]);
    assert_eq!(offences("fn f() { let _ = indicatif::ProgressBar::new(1); }").len(), 1);
    assert_eq!(offences("fn f(_: &crate::cli::Cli) {}"), ["crate::cli::Cli"]);
    assert!(offences("use crate::store::Store; fn f() { let egui_like = 1; }").is_empty());
}

#[test]
fn core_never_reaches_into_ui_cli_or_their_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(&src).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        let rel = p.strip_prefix(&src).unwrap();
        let Some(first) = rel.components().next() else { continue };
        let first = first.as_os_str().to_string_lossy().into_owned();
        if p.extension().is_none_or(|e| e != "rs") || ["ui", "cli", "main.rs", "lib.rs"].contains(&first.as_str()) {
            continue;
        }
        checked += 1;
        for o in offences(&std::fs::read_to_string(p).unwrap()) {
            found.push(format!("{} uses {o}", rel.display()));
        }
    }
    assert!(checked > 25, "the core modules were found ({checked})");
    assert!(found.is_empty(), "core modules must stay UI-free: {found:#?}");
}
