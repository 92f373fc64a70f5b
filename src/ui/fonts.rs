//! BIZ UDPGothic (SIL OFL 1.1, from Debian's fonts-morisawa-bizud-gothic; licence in
//! assets/fonts/) ships inside the binary, so Japanese diagnoses, names and paths render on
//! any workstation, whatever fonts it has.

use std::sync::Arc;

pub const JAPANESE_FONT: &[u8] = include_bytes!("../../assets/fonts/BIZUDPGothic-Regular.ttf");

pub fn install(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert("bizud".to_owned(), Arc::new(egui::FontData::from_static(JAPANESE_FONT)));
    // After egui's own fonts: Latin keeps its look, everything else falls back to BIZ UD.
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("bizud".to_owned());
    }
    ctx.set_fonts(fonts);
}
