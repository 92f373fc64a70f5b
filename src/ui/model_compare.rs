//! In the Models window, a model's version beside an earlier one, on the photos both looked
//! at: of a classifier, how often the most probable class is the same, how often each agrees
//! with the chart, and the photos whose answer changed; of a segmenter, the overlap of the two
//! masks and the photos where they differ (a click opens one). `models::compare`, the code
//! behind `dermdesk models compare`, runs on a thread with its own connection, as the window's
//! other work does, and again when either version's results change.

use super::i18n::{Lang, T};
use crate::models::ModelInfo;
use crate::models::compare::{Comparison, DIFFER_BELOW, MaskComparison, Versions, compare_any};
use crate::store::Store;
use poll_promise::Promise;
use std::path::Path;

/// What a person asked for in the section: a photo opened, or the browser narrowed to the
/// photos whose answer changed.
pub enum Act {
    Open(i64),
    Show(crate::store::VersionPair),
}

/// Photos whose answer changed listed in the window (the rest: `dermdesk models compare`).
const LISTED: usize = 50;

/// What a comparison is of: model, earlier version, version, and both versions' result counts
/// (new results make a new comparison).
type Key = (String, String, String, u64, u64);

#[derive(Default)]
pub struct CompareView {
    /// The earlier version chosen, per model name and version (default: the one before).
    chosen: std::collections::HashMap<(String, String), String>,
    key: Option<Key>,
    running: Option<Promise<Result<Versions, String>>>,
    result: Option<Result<Versions, String>>,
}

impl CompareView {
    /// The comparison on screen, once made.
    pub fn shown(&self) -> Option<&Result<Versions, String>> {
        self.result.as_ref()
    }

    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// Takes in a finished comparison.
    pub fn poll(&mut self) {
        if self.running.as_ref().is_some_and(|p| p.ready().is_some()) {
            self.result = Some(self.running.take().expect("checked").block_and_take());
        }
    }

    /// Starts the comparison `key` unless it is the one shown or being made.
    fn want(&mut self, db: &Path, key: Key) {
        if self.key.as_ref() == Some(&key) {
            return;
        }
        let db = db.to_path_buf();
        let (name, from, to) = (key.0.clone(), key.1.clone(), key.2.clone());
        self.key = Some(key);
        self.result = None;
        self.running = Some(Promise::spawn_thread("models-compare", move || {
            let store = Store::open(&db).map_err(|e| e.to_string())?;
            compare_any(&store, &name, Some(&from), Some(&to)).map_err(|e| e.to_string())
        }));
    }
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 { "–".to_owned() } else { format!("{:.0}", 100.0 * n as f64 / of as f64) }
}

/// The section for version `m` (a classifier or segmenter), given the registry as listed with
/// result counts. Shown only where the model has an earlier version.
pub fn section(
    ui: &mut egui::Ui,
    lang: Lang,
    view: &mut CompareView,
    db: &Path,
    m: &ModelInfo,
    models: &[(ModelInfo, u64)],
) -> Option<Act> {
    let older: Vec<(&ModelInfo, u64)> = models
        .iter()
        .filter(|(o, _)| o.name() == m.name() && crate::models::compare_versions(o.version(), m.version()).is_lt())
        .map(|(o, n)| (o, *n))
        .collect();
    if m.card.task == crate::models::ModelTask::Embedding || older.is_empty() {
        return None;
    }
    let mut open = None;
    egui::CollapsingHeader::new(lang.t(T::CompareVersions)).id_salt(("compare", m.name(), m.version())).show(
        ui,
        |ui| {
            let here = (m.name().to_owned(), m.version().to_owned());
            let from = view.chosen.get(&here).cloned().unwrap_or_else(|| older[0].0.version().to_owned());
            let mut pick = from.clone();
            ui.horizontal(|ui| {
                ui.label(lang.t(T::CompareWith));
                egui::ComboBox::from_id_salt(("compare-from", m.name(), m.version())).selected_text(&pick).show_ui(
                    ui,
                    |ui| {
                        for (o, _) in &older {
                            ui.selectable_value(&mut pick, o.version().to_owned(), o.version());
                        }
                    },
                );
            });
            if pick != from {
                view.chosen.insert(here, pick.clone());
            }
            let n_from = older.iter().find(|(o, _)| o.version() == pick).map_or(0, |(_, n)| *n);
            let n_to = models.iter().find(|(o, _)| o.id == m.id).map_or(0, |(_, n)| *n);
            view.want(db, (m.name().to_owned(), pick, m.version().to_owned(), n_from, n_to));
            // The versions compared, and whether any photo changed its answer.
            let ((model, from, to), any) = match &view.result {
                None => {
                    ui.spinner();
                    return;
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                    return;
                }
                Some(Ok(Versions::Classes(c))) => {
                    open = comparison_ui(ui, lang, c).map(Act::Open);
                    ((&c.model, &c.from, &c.to), !c.changed.is_empty())
                }
                Some(Ok(Versions::Masks(c))) => {
                    open = masks_ui(ui, lang, c).map(Act::Open);
                    ((&c.model, &c.from, &c.to), !c.differ.is_empty())
                }
            };
            if any && ui.button(lang.t(T::CompareShowInBrowser)).clicked() {
                open = Some(Act::Show(crate::store::VersionPair {
                    model: model.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }));
            }
        },
    );
    open
}

fn comparison_ui(ui: &mut egui::Ui, lang: Lang, c: &Comparison) -> Option<i64> {
    ui.label(lang.f(
        T::CompareBoth,
        &[("n", &c.photos), ("a", &c.from), ("na", &c.only_from), ("b", &c.to), ("nb", &c.only_to)],
    ));
    if c.photos == 0 {
        return None;
    }
    ui.label(lang.f(T::CompareSameTop, &[("s", &c.same_top), ("n", &c.photos), ("p", &pct(c.same_top, c.photos))]));
    if c.charted == 0 {
        ui.label(lang.t(T::CompareNoChart));
    } else {
        ui.label(lang.f(
            T::CompareAgree,
            &[
                ("n", &c.charted),
                ("a", &c.from),
                ("x", &c.from_agrees),
                ("px", &pct(c.from_agrees, c.charted)),
                ("b", &c.to),
                ("y", &c.to_agrees),
                ("py", &pct(c.to_agrees, c.charted)),
                ("g", &c.now_agrees),
                ("l", &c.now_disagrees),
            ],
        ));
    }
    if c.changed.is_empty() {
        return None;
    }
    ui.add_space(4.0);
    ui.strong(lang.f(T::CompareChanged, &[("n", &c.changed.len())]));
    let mark = |a: Option<bool>| match a {
        Some(true) => format!(" ({})", lang.t(T::CompareAgreesShort)),
        Some(false) => format!(" ({})", lang.t(T::CompareDisagreesShort)),
        None => String::new(),
    };
    let rows = c.changed.iter().take(LISTED).map(|ch| {
        let cells = [
            format!("{} {:.0}%{}", ch.from.label, ch.from.p * 100.0, mark(ch.from_agrees)),
            format!("{} {:.0}%{}", ch.to.label, ch.to.p * 100.0, mark(ch.to_agrees)),
            ch.chart_code.clone().unwrap_or_else(|| "–".to_owned()),
        ];
        (ch.photo_id, cells)
    });
    photo_table(ui, lang, "compare-changed", [&c.from, &c.to, lang.t(T::CompareChart)], rows, c.changed.len())
}

fn masks_ui(ui: &mut egui::Ui, lang: Lang, c: &MaskComparison) -> Option<i64> {
    ui.label(lang.f(
        T::CompareBothMasks,
        &[("n", &c.photos), ("a", &c.from), ("na", &c.only_from), ("b", &c.to), ("nb", &c.only_to)],
    ));
    if c.photos == 0 {
        return None;
    }
    let f3 = |v: f64| format!("{v:.3}");
    ui.label(lang.f(
        T::CompareDice,
        &[("md", &f3(c.dice.median)), ("mn", &f3(c.dice.mean)), ("lo", &f3(c.dice.min)), ("iou", &f3(c.iou.mean))],
    ));
    ui.add_space(4.0);
    ui.strong(lang.f(T::CompareMasksDiffer, &[("t", &DIFFER_BELOW), ("n", &c.differ.len())]));
    if c.differ.is_empty() {
        return None;
    }
    let rows = c.differ.iter().take(LISTED).map(|d| {
        (d.photo_id, [f3(d.dice), format!("{:.0}%", d.from_share * 100.0), format!("{:.0}%", d.to_share * 100.0)])
    });
    photo_table(ui, lang, "compare-masks", ["Dice", &c.from, &c.to], rows, c.differ.len())
}

/// The listed photos as a table: each photo's id as a link (clicked: returned, to open it),
/// then three cells under `heads`; a line for the `total` past those listed.
fn photo_table(
    ui: &mut egui::Ui,
    lang: Lang,
    salt: &str,
    heads: [&str; 3],
    rows: impl Iterator<Item = (i64, [String; 3])>,
    total: usize,
) -> Option<i64> {
    let mut open = None;
    egui::ScrollArea::vertical().id_salt(salt).max_height(180.0).show(ui, |ui| {
        egui::Grid::new((salt, "grid")).num_columns(4).striped(true).show(ui, |ui| {
            ui.label(egui::RichText::new(lang.t(T::ComparePhoto)).small().strong());
            for h in heads {
                ui.label(egui::RichText::new(h).small().strong());
            }
            ui.end_row();
            for (id, cells) in rows {
                if ui.link(id.to_string()).on_hover_text(lang.t(T::OpenPhoto)).clicked() {
                    open = Some(id);
                }
                for cell in cells {
                    ui.label(cell);
                }
                ui.end_row();
            }
        });
        if total > LISTED {
            ui.label(egui::RichText::new(lang.f(T::CompareMore, &[("n", &(total - LISTED))])).small().weak());
        }
    });
    open
}
