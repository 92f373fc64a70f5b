//! "Show what the model looked at": a classifier's occlusion-sensitivity heatmap
//! (`models::occlusion`) computed on a background thread for the photo in the viewer, then
//! drawn over it (bilinear, in a colour map, transparent where cold) with a legend. H (or the
//! prediction section's button) shows it, hides it, or cancels it while it is computed;
//! moving to another photo cancels it too. The last few results stay in memory per photo and
//! model version, so showing one again is instant.

use super::command::Command;
use super::i18n::{Lang, T};
use super::predictions::PredictionPanel;
use crate::jobs::{Job, Progress, ProgressSnapshot};
use crate::models::ModelTask;
use crate::models::occlusion::{self, Heatmap, Options};
use crate::models::registry;
use crate::store::Store;
use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions, Vec2};
use std::path::PathBuf;
use std::sync::Arc;

/// Results kept in memory.
const KEEP: usize = 8;
/// The overlay texture's longer side (the GPU scales it further, linearly).
const TEXTURE_SIDE: u32 = 1024;

struct Running {
    photo_id: i64,
    job: Job<Heatmap>,
}

#[derive(Default)]
pub struct HeatmapView {
    running: Option<Running>,
    /// Finished heatmaps, newest last.
    cache: Vec<Arc<Heatmap>>,
    /// The heatmap over the viewer's photo, and its texture once made.
    shown: Option<(Arc<Heatmap>, Option<TextureHandle>)>,
    pub error: Option<String>,
}

/// The classifier whose answer the prediction section shows for `photo_id`, if any.
pub fn panel_classifier(panel: &PredictionPanel, photo_id: i64) -> Option<(String, String)> {
    let (id, Some(v)) = panel.shown.as_ref()? else { return None };
    if *id != photo_id {
        return None;
    }
    v.answers.iter().find(|a| a.p.task == ModelTask::Classification).map(|a| (a.p.model.clone(), a.p.version.clone()))
}

impl HeatmapView {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    pub fn progress(&self) -> Option<ProgressSnapshot> {
        self.running.as_ref().map(|r| r.job.progress.snapshot())
    }

    /// The heatmap over the viewer's photo.
    pub fn shown(&self) -> Option<&Heatmap> {
        self.shown.as_ref().map(|(h, _)| h.as_ref())
    }

    /// H: hides the heatmap when it shows, cancels it while it is computed, else shows the
    /// one kept for this photo and model or starts computing it.
    pub fn toggle(
        &mut self,
        photo_id: i64,
        model: Option<(String, String)>,
        db: PathBuf,
        exe: PathBuf,
        ctx: &egui::Context,
        name: &str,
    ) {
        self.error = None;
        if self.shown.take().is_some() {
            return;
        }
        if let Some(r) = self.running.take() {
            r.job.progress.cancel();
            return;
        }
        let kept =
            self.cache.iter().rev().find(|h| {
                h.photo_id == photo_id && model.as_ref().is_none_or(|(m, v)| h.model == *m && h.version == *v)
            });
        if let Some(h) = kept {
            self.shown = Some((h.clone(), None));
            return;
        }
        let progress = Progress::new();
        let c = ctx.clone();
        progress.set_waker(move || c.request_repaint());
        let job = Job::spawn(name, progress, move |p| {
            let mut store = Store::open_reader(&db)?;
            // The demo models, if this database has not registered them yet (problems with
            // them leave the others usable).
            let _ = registry::open(&mut store);
            let info = match model {
                Some((m, v)) => registry::get(&store, &m, Some(&v))?,
                None => pick(registry::list(&store)?)?,
            };
            Ok(occlusion::run(&store, &exe, &info, photo_id, &Options::default(), p)?)
        });
        self.running = Some(Running { photo_id, job });
    }

    /// Takes a finished heatmap; cancels or hides one for a photo no longer in the viewer.
    pub fn poll(&mut self, viewer_photo: Option<i64>) {
        if let Some(r) = &self.running {
            if viewer_photo != Some(r.photo_id) {
                r.job.progress.cancel();
                self.running = None;
            } else if let Some(done) = r.job.ready() {
                match done {
                    Ok(h) => {
                        let h = Arc::new(h.clone());
                        self.cache.retain(|k| (k.photo_id, &k.model, &k.version) != (h.photo_id, &h.model, &h.version));
                        self.cache.push(h.clone());
                        if self.cache.len() > KEEP {
                            self.cache.remove(0);
                        }
                        self.shown = Some((h, None));
                    }
                    Err(_) if r.job.progress.is_cancelled() => {}
                    Err(e) => self.error = Some(e.clone()),
                }
                self.running = None;
            }
        }
        if self.shown.as_ref().is_some_and(|(h, _)| Some(h.photo_id) != viewer_photo) {
            self.shown = None;
        }
    }

    /// The overlay's texture for the viewer (covering the whole photo), made once.
    pub fn texture(&mut self, ctx: &egui::Context) -> Option<egui::TextureId> {
        let (h, tex) = self.shown.as_mut()?;
        if tex.is_none() {
            let [w, hh] = h.photo;
            let s = (TEXTURE_SIDE as f32 / w.max(hh).max(1) as f32).min(1.0);
            let (tw, th) = (((w as f32 * s).round() as u32).max(1), ((hh as f32 * s).round() as u32).max(1));
            let img = h.overlay(tw, th);
            let ci = ColorImage::from_rgba_unmultiplied([tw as usize, th as usize], img.as_raw());
            *tex = Some(ctx.load_texture(format!("heatmap-{}", h.photo_id), ci, TextureOptions::LINEAR));
        }
        tex.as_ref().map(|t| t.id())
    }
}

/// A classifier added by hand (the newest), else the demo classifier shipped in the executable.
fn pick(models: Vec<crate::models::ModelInfo>) -> crate::Result<crate::models::ModelInfo> {
    models
        .into_iter()
        .filter(|m| m.card.task == ModelTask::Classification)
        .max_by_key(|m| (!m.builtin, m.id))
        .ok_or_else(|| crate::Error::Invalid("no classification model is registered".into()))
}

/// The target class's name in the person's language, from the card as the prediction
/// section has it (else its key).
fn class_name(panel: &PredictionPanel, h: &Heatmap, lang: Lang) -> String {
    let names = panel.value().and_then(|v| v.answers.iter().find(|a| a.p.model == h.model && a.p.version == h.version));
    match (names.and_then(|a| a.names.get(&h.label)), lang) {
        (Some((_, Some(ja))), Lang::Ja) => ja.clone(),
        (Some((en, _)), _) => en.clone(),
        (None, _) => h.label.clone(),
    }
}

/// The prediction section's button (and the progress while computing).
pub fn controls(ui: &mut egui::Ui, lang: Lang, view: &HeatmapView) -> Option<Command> {
    let mut out = None;
    let keys = Command::ToggleHeatmap.shortcut().map(|sc| ui.ctx().format_shortcut(&sc)).unwrap_or_default();
    let text = if view.is_running() {
        T::Cancel
    } else if view.shown().is_some() {
        T::HeatmapHide
    } else {
        T::HeatmapShow
    };
    if ui.button(lang.t(text)).on_hover_text(keys).clicked() {
        out = Some(Command::ToggleHeatmap);
    }
    if let Some(p) = view.progress() {
        // The words are in the viewer's legend; here the bar alone.
        ui.add(egui::ProgressBar::new(p.fraction().unwrap_or(0.0)).show_percentage());
    }
    if let Some(e) = &view.error {
        ui.colored_label(ui.visuals().error_fg_color, lang.f(T::HeatmapFailed, &[("e", e)]));
    }
    out
}

/// The legend in the viewer's top-right corner: what the colours mean, and Hide; while
/// computing, the progress and Cancel.
pub fn legend(
    ui: &mut egui::Ui,
    lang: Lang,
    view: &HeatmapView,
    panel: &PredictionPanel,
    area: Rect,
) -> Option<Command> {
    let p = view.progress();
    let h = view.shown();
    if p.is_none() && h.is_none() {
        return None;
    }
    let mut out = None;
    let rect = Rect::from_min_size(Pos2::new(area.right() - 290.0, area.top() + 8.0), Vec2::new(282.0, 120.0));
    ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
        egui::Frame::popup(ui.style()).show(ui, |ui| {
            ui.set_width(260.0);
            if let Some(p) = &p {
                ui.label(lang.t(T::HeatmapComputing));
                ui.add(egui::ProgressBar::new(p.fraction().unwrap_or(0.0)).show_percentage());
                if ui.button(lang.t(T::Cancel)).clicked() {
                    out = Some(Command::ToggleHeatmap);
                }
                return;
            }
            let Some(h) = h else { return };
            ui.label(
                egui::RichText::new(lang.f(
                    T::HeatmapTitle,
                    &[("class", &class_name(panel, h, lang)), ("p", &format!("{:.0}", h.p_target * 100.0))],
                ))
                .strong(),
            );
            let (bar, _) = ui.allocate_exact_size(Vec2::new(240.0, 12.0), egui::Sense::hover());
            let steps = 48;
            for i in 0..steps {
                let c = occlusion::colour((i as f32 + 0.5) / steps as f32).0;
                let x0 = bar.left() + bar.width() * i as f32 / steps as f32;
                let r = Rect::from_min_max(
                    Pos2::new(x0, bar.top()),
                    Pos2::new(x0 + bar.width() / steps as f32 + 0.5, bar.bottom()),
                );
                ui.painter().rect_filled(r, 0.0, Color32::from_rgb(c[0], c[1], c[2]));
            }
            ui.horizontal(|ui| {
                ui.small("0");
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.small(lang.f(T::HeatmapMax, &[("d", &format!("{:.0}", h.max_drop * 100.0))]));
                });
            });
            ui.small(lang.f(T::HeatmapLegend, &[("model", &h.model), ("version", &h.version)]));
            if ui.button(lang.t(T::HeatmapHide)).clicked() {
                out = Some(Command::ToggleHeatmap);
            }
        });
    });
    out
}
