//! Drawing the privacy review panel (its state and actions are in `privacy_review.rs`): filters
//! above; the queue on the left; the photo with the boxes found on it (or the grid of
//! thumbnails) in the middle; the findings, redactions and decisions on the right. Every
//! click pushes a `Command::Privacy`, the same path as the keys.

use super::app::App;
use super::command::{Command, Pv, modality_key};
use super::i18n::{Lang, T};
use super::privacy_review::{
    DrawTool, Edit, Grip, Image, MIN_SCORES, PrivacyReview, dragged, grip_at, grips, kind_key, level_key, review_key,
    shape_contains, usable, verdict_key,
};
use super::thumb_cache::ThumbCache;
use crate::modality::Modality;
use crate::privacy::{FindingKind, Review, Verdict};
use crate::store::{Fill, Shape};
use egui::{Color32, CursorIcon, Key, Modifiers, Pos2, Rect, RichText, Sense, Stroke, Vec2};

/// Colour-blind-safe (Okabe–Ito): faces orange, text sky blue.
const FACE: Color32 = Color32::from_rgb(230, 159, 0);
const TEXT: Color32 = Color32::from_rgb(86, 180, 233);
/// The selected shape and the polygon being drawn: Okabe–Ito yellow.
const PICKED: Color32 = Color32::from_rgb(240, 228, 66);
const ROW_H: f32 = 22.0;
/// How near (screen points) a click must be to a handle or the polygon's first corner.
const GRAB: f32 = 9.0;
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
/// (S and ← are the commands' own); while a polygon is drawn Enter closes it, Backspace takes
/// its last corner back and Esc cancels it; else Esc first lets go of the selected shape (and
/// only then closes the panel), and Backspace removes it.
pub fn keys(app: &mut App, ctx: &egui::Context) {
    for (key, pv) in [(Key::ArrowRight, Pv::Next), (Key::ArrowDown, Pv::Next), (Key::ArrowUp, Pv::Prev)] {
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, key)) {
            app.push(Command::Privacy(pv));
        }
    }
    let Some(pr) = &app.privacy_review else { return };
    let (drawing, selected) = (!pr.polygon.is_empty(), pr.selected.is_some());
    let pressed = |k: Key| ctx.input_mut(|i| i.consume_key(Modifiers::NONE, k));
    if drawing {
        for (key, pv) in
            [(Key::Enter, Pv::PolygonClose), (Key::Backspace, Pv::PolygonBack), (Key::Escape, Pv::PolygonCancel)]
        {
            if pressed(key) {
                app.push(Command::Privacy(pv));
            }
        }
    } else if selected {
        if pressed(Key::Escape) {
            app.push(Command::Privacy(Pv::SelectShape(None)));
        }
        if pressed(Key::Backspace) {
            app.push(Command::Privacy(Pv::RemoveSelected));
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
                if !pr.grid {
                    ui.label(small(T::PvDrawKeys));
                }
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

fn fill_key(f: Fill) -> T {
    match f {
        Fill::Black => T::FillBlack,
        Fill::Pixelate => T::FillPixelate,
    }
}

fn detector_key(k: FindingKind) -> T {
    match k {
        FindingKind::Face => T::DetFace,
        FindingKind::Text => T::DetText,
        FindingKind::Metadata => T::DetMetadata,
    }
}

fn toolbar(ui: &mut egui::Ui, pr: &PrivacyReview, lang: Lang, pushed: &mut Vec<Pv>) {
    ui.horizontal_wrapped(|ui| {
        let mut f = pr.filter.clone();
        choose(ui, lang.t(T::PvShow), &mut f.review, &Review::ALL, |r| lang.t(review_key(r)).to_owned(), lang);
        let verdicts = [Verdict::Identifiable, Verdict::Unsure, Verdict::Clear];
        choose(ui, lang.t(T::PvVerdict), &mut f.verdict, &verdicts, |v| lang.t(verdict_key(v)).to_owned(), lang);
        choose(ui, lang.t(T::PvKind), &mut f.kind, &FindingKind::ALL, |k| lang.t(detector_key(k)).to_owned(), lang);
        choose(ui, lang.t(T::PvMinScore), &mut f.min_score, &MIN_SCORES, |s| format!("≥ {s:.1}"), lang);
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
        if !pr.grid {
            ui.separator();
            for (tool, key, name) in [
                (DrawTool::Rect, "B", T::PvRectShape),
                (DrawTool::Polygon, "P", T::PvPolygonShape),
                (DrawTool::Crop, "L", T::PvCrop),
            ] {
                let cmd = Pv::SetTool(tool);
                let label = Command::Privacy(cmd.clone()).label(lang);
                if ui
                    .selectable_label(pr.tool == tool, format!("{} ({key})", lang.t(name)))
                    .on_hover_text(label)
                    .clicked()
                {
                    pushed.push(cmd);
                }
            }
            let fill = lang.t(fill_key(pr.fill));
            let label = Command::Privacy(Pv::ToggleFill).label(lang);
            if ui.button(format!("{}: {fill} (F)", lang.t(T::PvFill))).on_hover_text(label).clicked() {
                pushed.push(Pv::ToggleFill);
            }
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
        for pv in [Pv::Clear, Pv::Exclude, Pv::Redact, Pv::AcceptFound, Pv::RedactAsDrawn, Pv::Next, Pv::Undo] {
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
                if let Some(b) = f.bbox
                    && ui.small_button(lang.t(T::PvAccept)).on_hover_text(lang.t(T::PvAcceptFound)).clicked()
                {
                    pushed.push(Pv::AcceptBox(b));
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
            ui.horizontal_wrapped(|ui| {
                // Kind and size; where it is, on hover.
                let size = |b: &[f32; 4]| format!("{:.0}×{:.0}", b[2] - b[0], b[3] - b[1]);
                let (what, fill, at) = match &r.shape {
                    Shape::Rect { rect, fill } => {
                        (format!("{} {}", lang.t(T::PvRectShape), size(rect)), Some(*fill), rect.to_vec())
                    }
                    Shape::Crop { rect } => (format!("{} {}", lang.t(T::PvCrop), size(rect)), None, rect.to_vec()),
                    Shape::Polygon { points, fill } => (
                        format!("{} ({})", lang.t(T::PvPolygonShape), points.len()),
                        Some(*fill),
                        points.as_flattened().to_vec(),
                    ),
                };
                let at: Vec<String> = at.iter().map(|v| format!("{v:.0}")).collect();
                let picked = pr.selected == Some(r.id);
                if ui.selectable_label(picked, RichText::new(what).small()).on_hover_text(at.join(", ")).clicked() {
                    pushed.push(Pv::SelectShape(if picked { None } else { Some(r.id) }));
                }
                if let Some(fill) = fill {
                    ui.label(RichText::new(lang.t(fill_key(fill))).small());
                }
                if ui.small_button(lang.t(T::Remove)).clicked() {
                    pushed.push(Pv::RemoveRedaction(r.id));
                }
            });
        }
        let hint = match pr.tool {
            DrawTool::Rect => T::PvRectHint,
            DrawTool::Polygon => T::PvPolygonHint,
            DrawTool::Crop => T::PvCropHint,
        };
        ui.label(RichText::new(lang.t(hint)).small());
    });
}

/// The current photo, fitted, with its redactions (black, or grey with the pixelation's
/// blocks; outside the crop darkened) and the boxes found (outlined). A drag adds a rectangle
/// or the crop, clicks a polygon's corners; a click selects a shape, whose handles (or inside)
/// a drag then moves.
fn photo(ui: &mut egui::Ui, pr: &mut PrivacyReview, thumbs: &mut ThumbCache, lang: Lang, pushed: &mut Vec<Pv>) {
    let avail = ui.available_rect_before_wrap();
    let response = ui.allocate_rect(avail, Sense::click_and_drag());
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
    let editing = pr.edit.as_ref().map(|e| (e.id, e.shape.clone()));
    let shapes: Vec<(i64, Shape)> = pr
        .current_detail()
        .map(|d| {
            d.redactions
                .iter()
                .map(|r| match &editing {
                    Some((id, shape)) if *id == r.id => (r.id, shape.clone()),
                    _ => (r.id, r.shape.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    for (_, shape) in &shapes {
        draw_shape(&painter, shape, rect, scale);
    }
    if let Some(d) = pr.current_detail() {
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
    let selected = pr.selected.and_then(|id| shapes.iter().find(|(i, _)| *i == id)).cloned();
    if let Some((_, shape)) = &selected {
        outline(&painter, shape, rect, scale, Stroke::new(2.0, PICKED));
        for (_, q) in grips(shape) {
            let c = to_screen(q[0], q[1]);
            painter.rect_filled(Rect::from_center_size(c, Vec2::splat(8.0)), 1.0, PICKED);
            painter.rect_stroke(
                Rect::from_center_size(c, Vec2::splat(8.0)),
                1.0,
                Stroke::new(1.0, Color32::BLACK),
                egui::StrokeKind::Outside,
            );
        }
    }
    let to_image = |p: Pos2| {
        let v = (p - rect.min) / scale;
        Pos2::new(v.x.clamp(0.0, size.x), v.y.clamp(0.0, size.y))
    };
    let tol = GRAB / scale;
    // The polygon being drawn, with a line to the pointer and its first corner ringed (a click
    // there closes it).
    if !pr.polygon.is_empty() {
        let mut pts: Vec<Pos2> = pr.polygon.iter().map(|p| to_screen(p[0], p[1])).collect();
        if let Some(h) = response.hover_pos() {
            pts.push(h);
        }
        painter.add(egui::Shape::line(pts, Stroke::new(2.0, PICKED)));
        let first = to_screen(pr.polygon[0][0], pr.polygon[0][1]);
        painter.circle_stroke(first, GRAB, Stroke::new(1.5, PICKED));
        for p in &pr.polygon {
            painter.circle_filled(to_screen(p[0], p[1]), 3.0, PICKED);
        }
    }
    // The pointer says what a drag would take.
    if let (Some(h), Some((_, shape))) = (response.hover_pos(), &selected) {
        let cursor = match grip_at(shape, to_image(h), tol) {
            Some(Grip::Move) => Some(CursorIcon::Move),
            Some(Grip::Vertex(_)) => Some(CursorIcon::Crosshair),
            Some(Grip::Edge { x, y }) => Some(match (x, y) {
                (0, _) => CursorIcon::ResizeVertical,
                (_, 0) => CursorIcon::ResizeHorizontal,
                (a, b) if a == b => CursorIcon::ResizeNwSe,
                _ => CursorIcon::ResizeNeSw,
            }),
            None => None,
        };
        if let Some(c) = cursor {
            ui.ctx().set_cursor_icon(c);
        }
    }
    if response.drag_started()
        && let Some(o) = ui.input(|i| i.pointer.press_origin()).map(to_image)
    {
        // The selected shape's handles and inside first; else the tool draws.
        let grip = selected.as_ref().and_then(|(id, shape)| Some((*id, shape, grip_at(shape, o, tol)?)));
        if let Some((id, shape, grip)) = grip {
            pr.edit = Some(Edit { id, grip, from: o, original: shape.clone(), shape: shape.clone() });
        } else if pr.tool != DrawTool::Polygon {
            pr.drag = Some((o, o));
        }
    }
    if let Some(p) = response.interact_pointer_pos().map(to_image) {
        if let Some(e) = &mut pr.edit {
            e.shape = dragged(&e.original, e.grip, p - e.from, size);
        }
        if let Some(d) = &mut pr.drag {
            d.1 = p;
        }
    }
    if let Some((a, b)) = pr.drag {
        let s = Rect::from_two_pos(to_screen(a.x, a.y), to_screen(b.x, b.y));
        let colour = if pr.tool == DrawTool::Crop { Color32::WHITE } else { PICKED };
        painter.rect_stroke(s, 0.0, Stroke::new(1.5, colour), egui::StrokeKind::Outside);
    }
    if response.drag_stopped() {
        if let Some(e) = pr.edit.take()
            && e.shape != e.original
            && usable(&e.shape)
        {
            pushed.push(Pv::ChangeShape(e.id, e.shape));
        }
        if let Some((a, b)) = pr.drag.take() {
            let r = [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)];
            if r[2] - r[0] >= 2.0 && r[3] - r[1] >= 2.0 {
                pushed.push(Pv::AddShape(match pr.tool {
                    DrawTool::Crop => Shape::Crop { rect: r },
                    _ => Shape::Rect { rect: r, fill: pr.fill },
                }));
            }
        }
    }
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos().map(to_image)
    {
        if pr.tool == DrawTool::Polygon {
            let near_first =
                pr.polygon.len() >= 3 && pr.polygon.first().is_some_and(|f| (f[0] - p.x).hypot(f[1] - p.y) <= tol);
            if near_first {
                pushed.push(Pv::PolygonClose);
            } else if response.double_clicked() {
                // A double-click's place is the last corner (its first click, seen in an
                // earlier frame, placed it already): then the polygon closes.
                let placed = pr.polygon.last().is_some_and(|l| (l[0] - p.x).hypot(l[1] - p.y) <= tol);
                if !placed {
                    pushed.push(Pv::PolygonPoint([p.x, p.y]));
                }
                pushed.push(Pv::PolygonClose);
            } else {
                pushed.push(Pv::PolygonPoint([p.x, p.y]));
            }
        } else {
            // The topmost shape under the click; the crop by its border (inside it is the photo).
            let hit = shapes.iter().rev().find(|(_, s)| shape_contains(s, [p.x, p.y])).or_else(|| {
                shapes.iter().rev().find(|(_, s)| {
                    matches!(s, Shape::Crop { rect: r }
                        if (p.x - r[0]).abs().min((p.x - r[2]).abs()) <= tol && p.y >= r[1] - tol && p.y <= r[3] + tol
                            || (p.y - r[1]).abs().min((p.y - r[3]).abs()) <= tol && p.x >= r[0] - tol && p.x <= r[2] + tol)
                })
            });
            pushed.push(Pv::SelectShape(hit.map(|(id, _)| *id)));
        }
    }
}

/// A redaction as it will leave: black, pixelated (grey, with its blocks' edges), or for the
/// crop everything outside it darkened.
fn draw_shape(painter: &egui::Painter, shape: &Shape, rect: Rect, scale: f32) {
    let to_screen = |x: f32, y: f32| rect.min + Vec2::new(x, y) * scale;
    let fill_colour = |f: Fill| match f {
        Fill::Black => Color32::from_black_alpha(230),
        Fill::Pixelate => Color32::from_rgba_unmultiplied(95, 95, 95, 240),
    };
    match shape {
        Shape::Rect { rect: b, fill } => {
            let s = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
            painter.rect_filled(s, 0.0, fill_colour(*fill));
            if *fill == Fill::Pixelate {
                // The blocks the export averages (privacy::redact), as it will cut them.
                let (x0, y0, x1, y1) =
                    (b[0].floor() as u32, b[1].floor() as u32, b[2].ceil() as u32, b[3].ceil() as u32);
                let block = crate::privacy::redact::block_size(x1 - x0, y1 - y0);
                let line = Stroke::new(1.0, Color32::from_gray(150));
                for x in crate::privacy::redact::block_edges(x0, x1, block) {
                    painter.line_segment([to_screen(x as f32, b[1]), to_screen(x as f32, b[3])], line);
                }
                for y in crate::privacy::redact::block_edges(y0, y1, block) {
                    painter.line_segment([to_screen(b[0], y as f32), to_screen(b[2], y as f32)], line);
                }
            }
            painter.rect_stroke(s, 0.0, Stroke::new(1.0, Color32::from_gray(140)), egui::StrokeKind::Inside);
        }
        Shape::Polygon { points, fill } => {
            let pts: Vec<Pos2> = points.iter().map(|p| to_screen(p[0], p[1])).collect();
            let mut mesh = egui::Mesh::default();
            for &p in &pts {
                mesh.colored_vertex(p, fill_colour(*fill));
            }
            for t in triangulate(&pts) {
                mesh.add_triangle(t[0] as u32, t[1] as u32, t[2] as u32);
            }
            painter.add(egui::Shape::mesh(mesh));
            outline(painter, shape, rect, scale, Stroke::new(1.0, Color32::from_gray(140)));
        }
        Shape::Crop { rect: b } => {
            let c = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
            let dim = Color32::from_black_alpha(170);
            for r in [
                Rect::from_min_max(rect.min, Pos2::new(rect.max.x, c.min.y)),
                Rect::from_min_max(Pos2::new(rect.min.x, c.max.y), rect.max),
                Rect::from_min_max(Pos2::new(rect.min.x, c.min.y), Pos2::new(c.min.x, c.max.y)),
                Rect::from_min_max(Pos2::new(c.max.x, c.min.y), Pos2::new(rect.max.x, c.max.y)),
            ] {
                if r.is_positive() {
                    painter.rect_filled(r, 0.0, dim);
                }
            }
            painter.rect_stroke(c, 0.0, Stroke::new(2.0, Color32::WHITE), egui::StrokeKind::Outside);
        }
    }
}

fn outline(painter: &egui::Painter, shape: &Shape, rect: Rect, scale: f32, stroke: Stroke) {
    let to_screen = |x: f32, y: f32| rect.min + Vec2::new(x, y) * scale;
    match shape {
        Shape::Rect { rect: b, .. } | Shape::Crop { rect: b } => {
            let s = Rect::from_min_max(to_screen(b[0], b[1]), to_screen(b[2], b[3]));
            painter.rect_stroke(s, 0.0, stroke, egui::StrokeKind::Outside);
        }
        Shape::Polygon { points, .. } => {
            let pts: Vec<Pos2> = points.iter().map(|p| to_screen(p[0], p[1])).collect();
            painter.add(egui::Shape::closed_line(pts, stroke));
        }
    }
}

/// Triangles of a simple polygon (ear clipping), for drawing it filled: egui fills convex
/// shapes only. A self-crossing polygon is finished as a fan (drawn roughly; the export burns
/// it in exactly, even-odd).
fn triangulate(pts: &[Pos2]) -> Vec<[usize; 3]> {
    let n = pts.len();
    if n < 3 {
        return Vec::new();
    }
    let cross = |a: Pos2, b: Pos2, c: Pos2| (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    let area: f32 = (0..n).map(|i| pts[i].x * pts[(i + 1) % n].y - pts[(i + 1) % n].x * pts[i].y).sum();
    let turn = if area >= 0.0 { 1.0 } else { -1.0 };
    let mut idx: Vec<usize> = (0..n).collect();
    let mut out = Vec::new();
    while idx.len() > 3 {
        let m = idx.len();
        let ear = (0..m).find(|&i| {
            let (a, b, c) = (idx[(i + m - 1) % m], idx[i], idx[(i + 1) % m]);
            if cross(pts[a], pts[b], pts[c]) * turn <= 0.0 {
                return false;
            }
            !idx.iter().any(|&j| {
                j != a
                    && j != b
                    && j != c
                    && cross(pts[a], pts[b], pts[j]) * turn >= 0.0
                    && cross(pts[b], pts[c], pts[j]) * turn >= 0.0
                    && cross(pts[c], pts[a], pts[j]) * turn >= 0.0
            })
        });
        let Some(i) = ear else { break };
        out.push([idx[(i + m - 1) % m], idx[i], idx[(i + 1) % m]]);
        idx.remove(i);
    }
    for k in 1..idx.len().saturating_sub(1) {
        out.push([idx[0], idx[k], idx[k + 1]]);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concave_polygon_is_cut_into_triangles_of_its_own_area() {
        let l = [(0.0, 0.0), (40.0, 0.0), (40.0, 10.0), (10.0, 10.0), (10.0, 40.0), (0.0, 40.0)];
        let pts: Vec<Pos2> = l.iter().map(|&(x, y)| Pos2::new(x, y)).collect();
        let tris = triangulate(&pts);
        assert_eq!(tris.len(), 4);
        let area: f32 = tris
            .iter()
            .map(|t| {
                let (a, b, c) = (pts[t[0]], pts[t[1]], pts[t[2]]);
                ((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)).abs() / 2.0
            })
            .sum();
        assert_eq!(area, 700.0, "the L's area, no triangle outside it");
    }
}
