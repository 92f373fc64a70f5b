//! Drawing the privacy review panel (its state and actions are in `privacy_review.rs`): filters
//! above; the queue on the left; the photo with the boxes found on it (or the grid of
//! thumbnails) in the middle; the findings, redactions and decisions on the right. Every
//! click pushes a `Command::Privacy`, the same path as the keys.

use super::app::App;
use super::command::{Command, Pv, modality_key};
use super::i18n::{Lang, T};
use super::privacy_review::{Image, PrivacyReview, kind_key, level_key, review_key, verdict_key};
use super::thumb_cache::ThumbCache;
use crate::modality::Modality;
use crate::privacy::{FindingKind, Review, Verdict};
use crate::store::Shape;
use egui::{Color32, Key, Modifiers, Pos2, Rect, RichText, Sense, Stroke, Vec2};

/// Colour-blind-safe (Okabe–Ito): faces orange, text sky blue.
const FACE: Color32 = Color32::from_rgb(230, 159, 0);
const TEXT: Color32 = Color32::from_rgb(86, 180, 233);
const ROW_H: f32 = 22.0;
const CELL: f32 = 150.0;

fn verdict_colour(v: Verdict) -> Color32 {
    match v {
        Verdict::Identifiable => Color32::from_rgb(213, 94, 0),
        Verdict::Unsure => Color32::from_rgb(240, 228, 66),
        Verdict::Clear => Color32::from_gray(150),
    }
}

fn kind_colour(k: FindingKind) -> Color32 {
    match k {
        FindingKind::Face => FACE,
        FindingKind::Text => TEXT,
        FindingKind::Metadata => Color32::from_gray(190),
    }
}

/// The panel's keys that are no single command's shortcut: → and ↓ go on, ↑ goes back
/// (S and ← are the commands' own).
pub fn keys(app: &mut App, ctx: &egui::Context) {
    for (key, pv) in [(Key::ArrowRight, Pv::Next), (Key::ArrowDown, Pv::Next), (Key::ArrowUp, Pv::Prev)] {
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, key)) {
            app.push(Command::Privacy(pv));
        }
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    if app.privacy_review.is_none() {
        return;
    }
    let mut pushed: Vec<Pv> = Vec::new();
    let mut open = true;
    let size = ctx.content_rect().size() * Vec2::new(0.96, 0.9) - Vec2::new(0.0, 40.0);
    let thumbs = &mut app.thumbs;
    let review = &mut app.privacy_review;
    egui::Window::new(lang.t(T::PrivacyReview))
        .id(egui::Id::unique("privacy-review"))
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
        .fixed_size(size)
        .show(ctx, |ui| {
            let Some(pr) = review.as_mut() else { return };
            toolbar(ui, pr, lang, &mut pushed);
            ui.separator();
            egui::Panel::bottom("pv-keys").show(ui, |ui| {
                let small = |t: T| RichText::new(lang.t(t)).small().color(Color32::from_gray(170));
                ui.label(small(T::PvKeys));
                if pr.grid {
                    ui.label(small(T::PvGridKeys));
                }
            });
            if let Some(e) = &pr.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if pr.items.is_empty() {
                pr.view = None;
                let text = if pr.is_loading() { T::Loading } else { T::PvEmpty };
                ui.centered_and_justified(|ui| ui.label(lang.t(text)));
                return;
            }
            egui::Panel::right("pv-side").exact_size(320.0).show(ui, |ui| side(ui, pr, lang, &mut pushed));
            if pr.grid {
                pr.view = None;
                grid(ui, pr, thumbs, lang, &mut pushed);
            } else {
                egui::Panel::left("pv-queue").exact_size(240.0).show(ui, |ui| queue(ui, pr, lang, &mut pushed));
                photo(ui, pr, thumbs, lang, &mut pushed);
            }
            pr.scroll_to_current = false;
        });
    if !open {
        app.push(Command::TogglePrivacyReview);
    }
    for p in pushed {
        app.push(Command::Privacy(p));
    }
}

/// A drop-down of `Any` and each option.
fn choose<V: Copy + PartialEq>(
    ui: &mut egui::Ui,
    title: &str,
    value: &mut Option<V>,
    options: &[V],
    name: impl Fn(V) -> String,
    lang: Lang,
) {
    let label = ui.label(title);
    let text = value.map(&name).unwrap_or_else(|| lang.t(T::Any).to_owned());
    egui::ComboBox::from_id_salt(("pv-filter", title))
        .selected_text(text)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, lang.t(T::Any));
            for &o in options {
                ui.selectable_value(value, Some(o), name(o));
            }
        })
        .response
        .labelled_by(label.id);
}

/// Text read from pixels or metadata may be in any script: what the fonts cannot draw is
/// shown as its code point (U+0667), never dropped.
fn printable(ui: &egui::Ui, s: &str) -> String {
    let font = egui::TextStyle::Body.resolve(ui.style());
    ui.ctx().fonts_mut(|f| {
        s.chars()
            .map(
                |c| {
                    if c.is_control() || !f.has_glyph(&font, c) {
                        format!("<U+{:04X}>", c as u32)
                    } else {
                        c.to_string()
                    }
                },
            )
            .collect()
    })
}

fn toolbar(ui: &mut egui::Ui, pr: &PrivacyReview, lang: Lang, pushed: &mut Vec<Pv>) {
    ui.horizontal_wrapped(|ui| {
        let mut f = pr.filter.clone();
        choose(ui, lang.t(T::PvShow), &mut f.review, &Review::ALL, |r| lang.t(review_key(r)).to_owned(), lang);
        let verdicts = [Verdict::Identifiable, Verdict::Unsure, Verdict::Clear];
        choose(ui, lang.t(T::PvVerdict), &mut f.verdict, &verdicts, |v| lang.t(verdict_key(v)).to_owned(), lang);
        choose(ui, lang.t(T::PvKind), &mut f.kind, &FindingKind::ALL, |k| lang.t(kind_key(k)).to_owned(), lang);
        choose(ui, lang.t(T::Modality), &mut f.modality, &Modality::ALL, |m| lang.t(modality_key(m)).to_owned(), lang);
        if f != pr.filter {
            pushed.push(Pv::SetFilter(f));
        }
        ui.separator();
        if ui.selectable_label(pr.grid, lang.t(T::PvGrid)).clicked() {
            pushed.push(Pv::ToggleGrid);
        }
        if ui.button(lang.t(T::PvReload)).clicked() {
            pushed.push(Pv::Reload);
        }
        if pr.is_loading() {
            ui.spinner();
        }
        if !pr.items.is_empty() {
            ui.separator();
            ui.label(lang.f(T::PvPosition, &[("i", &(pr.current + 1)), ("n", &pr.items.len())]));
        }
        if !pr.checked.is_empty() {
            ui.separator();
            ui.label(lang.f(T::PvTicked, &[("n", &pr.checked.len())]));
        }
    });
}

/// Scrolls a `show_rows` area so that `row` shows (called inside it, before its rows).
fn scroll_to_row(ui: &egui::Ui, first: usize, row: usize, row_h: f32) {
    let step = row_h + ui.spacing().item_spacing.y;
    let top = ui.max_rect().top() + (row as f32 - first as f32) * step;
    let r = Rect::from_min_size(Pos2::new(ui.max_rect().left(), top), Vec2::new(1.0, row_h));
    ui.scroll_to_rect(r, None);
}

fn queue(ui: &mut egui::Ui, pr: &PrivacyReview, lang: Lang, pushed: &mut Vec<Pv>) {
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, ROW_H, pr.items.len(), |ui, range| {
        if pr.scroll_to_current {
            scroll_to_row(ui, range.start, pr.current, ROW_H);
        }
        for i in range {
            let it = &pr.items[i];
            ui.horizontal(|ui| {
                let (r, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
                ui.painter().circle_filled(r.center(), 4.5, verdict_colour(it.verdict));
                let mut text = printable(ui, &it.name);
                if it.review != Review::Pending {
                    text = format!("{text} · {}", lang.t(review_key(it.review)));
                }
                let faded = it.review != Review::Pending;
                let rich = if faded { RichText::new(text).weak() } else { RichText::new(text) };
                if ui.selectable_label(i == pr.current, rich).clicked() {
                    pushed.push(Pv::Select(i));
                }
            });
        }
    });
}

fn side(ui: &mut egui::Ui, pr: &PrivacyReview, lang: Lang, pushed: &mut Vec<Pv>) {
    let Some(item) = pr.current_item() else { return };
    let detail = pr.detail.as_ref().filter(|d| d.photo_id == item.photo_id);
    ui.add(egui::Label::new(RichText::new(printable(ui, &item.name)).strong()).truncate());
    let size = PrivacyReview::upright_size(item);
    ui.label(format!("{} · {}×{}", lang.t(modality_key(item.modality)), size.x, size.y));
    ui.horizontal(|ui| {
        ui.colored_label(verdict_colour(item.verdict), lang.t(verdict_key(item.verdict)));
        ui.label("·");
        let review = lang.t(review_key(item.review));
        match detail.and_then(|d| d.reviewer.as_deref()).filter(|_| item.review != Review::Pending) {
            Some(who) => ui.label(lang.f(T::PvReviewer, &[("review", &review), ("who", &who)])),
            None => ui.label(review),
        };
    });
    ui.separator();
    let ctx = ui.ctx().clone();
    ui.horizontal_wrapped(|ui| {
        for pv in [Pv::Clear, Pv::Exclude, Pv::Redact, Pv::Next, Pv::Undo] {
            let cmd = Command::Privacy(pv.clone());
            let keys = cmd.shortcut().map(|sc| ctx.format_shortcut(&sc)).unwrap_or_default();
            let label = cmd.label(lang);
            let short = label.split(':').next().unwrap_or(&label).to_owned();
            if ui.button(format!("{short} ({keys})")).on_hover_text(&label).clicked() {
                pushed.push(pv);
            }
        }
    });
    ui.separator();
    let Some(d) = detail else {
        ui.spinner();
        return;
    };
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.strong(lang.t(T::PvFindings));
        if d.findings.is_empty() {
            ui.label(lang.t(T::PvNoFindings));
        }
        // What says most first.
        let mut findings: Vec<_> = d.findings.iter().collect();
        findings.sort_by(|a, b| b.level.cmp(&a.level).then(b.score.total_cmp(&a.score)));
        for f in findings {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(kind_colour(f.kind), lang.t(kind_key(f.kind)));
                ui.colored_label(verdict_colour(f.level), lang.t(level_key(f.level)));
                if f.kind != FindingKind::Metadata {
                    ui.label(RichText::new(lang.f(T::PvScore, &[("s", &format!("{:.2}", f.score))])).small());
                }
            });
            if let Some(field) = &f.field {
                ui.label(RichText::new(printable(ui, field)).small().monospace());
            }
            if let Some(t) = f.text.as_ref().filter(|t| !t.trim().is_empty()) {
                ui.label(RichText::new(format!("“{}”", printable(ui, t))).strong());
            }
            ui.add_space(4.0);
        }
        ui.separator();
        ui.strong(lang.t(T::PvRedactions));
        for r in &d.redactions {
            ui.horizontal(|ui| {
                let what = match &r.shape {
                    Shape::Rect { rect, .. } | Shape::Crop { rect } => {
                        format!("▮ {:.0},{:.0} – {:.0},{:.0}", rect[0], rect[1], rect[2], rect[3])
                    }
                    Shape::Polygon { points, .. } => format!("▮ {} pts", points.len()),
                };
                ui.label(RichText::new(what).small().monospace());
                if ui.small_button(lang.t(T::Remove)).clicked() {
                    pushed.push(Pv::RemoveRedaction(r.id));
                }
            });
        }
        ui.label(RichText::new(lang.t(T::PvDrawHint)).small());
    });
}

/// The current photo, fitted, with its redactions (black) and the boxes found (outlined);
/// a drag adds a black rectangle.
fn photo(ui: &mut egui::Ui, pr: &mut PrivacyReview, thumbs: &mut ThumbCache, lang: Lang, pushed: &mut Vec<Pv>) {
    let avail = ui.available_rect_before_wrap();
    let response = ui.allocate_rect(avail, Sense::drag());
    let painter = ui.painter_at(avail);
    painter.rect_filled(avail, 0.0, Color32::from_gray(24));
    let Some(item) = pr.current_item().cloned() else { return };
    let id = item.photo_id;
    let image = pr.image.as_ref().filter(|(i, _)| *i == id).map(|(_, im)| im);
    let size = match image {
        Some(Image::Ready { size, .. }) => *size,
        _ => PrivacyReview::upright_size(&item),
    };
    let inner = avail.shrink(6.0);
    let scale = (inner.width() / size.x).min(inner.height() / size.y);
    let rect = Rect::from_center_size(inner.center(), size * scale);
    pr.view = Some((rect, size));
    let to_screen = |x: f32, y: f32| rect.min + Vec2::new(x, y) * scale;
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    let note = |text: String, colour: Color32| {
        painter.text(
            avail.left_bottom() + Vec2::new(8.0, -8.0),
            egui::Align2::LEFT_BOTTOM,
            text,
            egui::FontId::proportional(14.0),
            colour,
        )
    };
    match image {
        Some(Image::Ready { tiles, .. }) => {
            for (r, tex) in tiles {
                let screen = Rect::from_min_max(to_screen(r.min.x, r.min.y), to_screen(r.max.x, r.max.y));
                painter.image(tex.id(), screen, uv, Color32::WHITE);
            }
        }
        other => {
            let failed = matches!(other, Some(Image::Failed(_)));
            if let Some(tex) = thumbs.get(&item.hash) {
                painter.image(tex.id(), rect, uv, if failed { Color32::from_gray(110) } else { Color32::WHITE });
            }
            match other {
                Some(Image::Failed(e)) if e.is_empty() => note(lang.t(T::FileMissing).to_owned(), Color32::LIGHT_RED),
                Some(Image::Failed(e)) => note(lang.f(T::ViewerError, &[("e", e)]), Color32::LIGHT_RED),
                _ => note(lang.t(T::DecodingFull).to_owned(), Color32::LIGHT_GRAY),
            };
        }
    }
    if let Some(d) = pr.detail.as_ref().filter(|d| d.photo_id == id) {
        for r in &d.redactions {
            match &r.shape {
                Shape::Rect { rect: b, .. } => {
                    let s = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
                    painter.rect_filled(s, 0.0, Color32::from_black_alpha(225));
                    painter.rect_stroke(s, 0.0, Stroke::new(1.0, Color32::from_gray(140)), egui::StrokeKind::Inside);
                }
                Shape::Polygon { points, .. } => {
                    let pts = points.iter().map(|p| to_screen(p[0], p[1])).collect();
                    painter.add(egui::Shape::convex_polygon(pts, Color32::from_black_alpha(225), Stroke::NONE));
                }
                Shape::Crop { rect: b } => {
                    let s = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
                    painter.rect_stroke(s, 0.0, Stroke::new(2.0, Color32::WHITE), egui::StrokeKind::Outside);
                }
            }
        }
        for f in &d.findings {
            let Some(b) = f.bbox else { continue };
            let s = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
            // Boxes that say little (ruler marks, unreadable marks) are drawn faintly.
            let (colour, width) = match f.level {
                Verdict::Clear => (kind_colour(f.kind).gamma_multiply(0.55), 1.0),
                _ => (kind_colour(f.kind), 2.0),
            };
            painter.rect_stroke(s, 0.0, Stroke::new(width, colour), egui::StrokeKind::Outside);
            painter.text(
                s.left_top() - Vec2::new(0.0, 2.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{} {:.2}", lang.t(kind_key(f.kind)), f.score),
                egui::FontId::proportional(12.0),
                colour,
            );
        }
    }
    // A drag draws a black rectangle (in the upright photo's pixels).
    let to_image = |p: Pos2| {
        let v = (p - rect.min) / scale;
        Pos2::new(v.x.clamp(0.0, size.x), v.y.clamp(0.0, size.y))
    };
    if response.drag_started()
        && let Some(o) = ui.input(|i| i.pointer.press_origin())
    {
        pr.drag = Some((to_image(o), to_image(o)));
    }
    if let Some(p) = response.interact_pointer_pos()
        && let Some(d) = &mut pr.drag
    {
        d.1 = to_image(p);
    }
    if let Some((a, b)) = pr.drag {
        let s = Rect::from_two_pos(to_screen(a.x, a.y), to_screen(b.x, b.y));
        painter.rect_stroke(s, 0.0, Stroke::new(1.5, Color32::WHITE), egui::StrokeKind::Outside);
        if response.drag_stopped() {
            pr.drag = None;
            let r = [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)];
            if r[2] - r[0] >= 2.0 && r[3] - r[1] >= 2.0 {
                pushed.push(Pv::AddRect(r));
            }
        }
    }
}

/// Many queue photos at once, with ticks: a click makes one current, its tick adds it to
/// what C (or X) decides for all.
fn grid(ui: &mut egui::Ui, pr: &PrivacyReview, thumbs: &mut ThumbCache, lang: Lang, pushed: &mut Vec<Pv>) {
    let gap = ui.spacing().item_spacing.x;
    let cols = (((ui.available_width() + gap) / (CELL + gap)).floor() as usize).max(1);
    let rows = pr.items.len().div_ceil(cols);
    let row_h = CELL + 26.0;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, row_h, rows, |ui, range| {
        if pr.scroll_to_current {
            scroll_to_row(ui, range.start, pr.current / cols, row_h);
        }
        for row in range {
            ui.horizontal(|ui| {
                for i in row * cols..((row + 1) * cols).min(pr.items.len()) {
                    cell(ui, pr, thumbs, i, lang, pushed);
                }
            });
        }
    });
}

fn cell(ui: &mut egui::Ui, pr: &PrivacyReview, thumbs: &mut ThumbCache, i: usize, lang: Lang, pushed: &mut Vec<Pv>) {
    let it = &pr.items[i];
    ui.vertical(|ui| {
        ui.set_width(CELL);
        let (r, response) = ui.allocate_exact_size(Vec2::splat(CELL), Sense::click());
        let painter = ui.painter_at(r);
        painter.rect_filled(r, 2.0, Color32::from_gray(30));
        if let Some(tex) = thumbs.get(&it.hash) {
            let s = tex.size_vec2();
            let k = ((CELL - 8.0) / s.x).min((CELL - 8.0) / s.y);
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            painter.image(tex.id(), Rect::from_center_size(r.center(), s * k), uv, Color32::WHITE);
        }
        let bar = Rect::from_min_max(Pos2::new(r.left(), r.bottom() - 5.0), r.right_bottom());
        painter.rect_filled(bar, 0.0, verdict_colour(it.verdict));
        if it.review != Review::Pending {
            painter.rect_filled(r, 2.0, Color32::from_black_alpha(140));
            painter.text(
                r.center(),
                egui::Align2::CENTER_CENTER,
                lang.t(review_key(it.review)),
                egui::FontId::proportional(16.0),
                Color32::WHITE,
            );
        }
        if i == pr.current {
            painter.rect_stroke(r, 2.0, Stroke::new(3.0, Color32::WHITE), egui::StrokeKind::Inside);
        }
        if response.clicked() {
            pushed.push(Pv::Select(i));
        }
        let mut ticked = pr.checked.contains(&it.photo_id);
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        if ui.checkbox(&mut ticked, RichText::new(printable(ui, &it.name)).small()).changed() {
            pushed.push(Pv::Check(it.photo_id));
        }
    });
}
