//! The thumbnail grid. Virtualised: only the rows in view are laid out and painted, so it
//! costs the same with 100 photos or 100,000.

use super::app::App;
use super::command::{Command, modality_key};
use super::i18n::T;
use crate::modality::Modality;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

const GAP: f32 = 6.0;
const LABEL_H: f32 = 18.0;

pub fn modality_color(m: Modality) -> Color32 {
    match m {
        Modality::Clinical => Color32::from_rgb(230, 140, 60),
        Modality::Dermoscopy => Color32::from_rgb(40, 170, 160),
        Modality::Visia => Color32::from_rgb(150, 110, 220),
        Modality::Histopathology => Color32::from_rgb(225, 90, 160),
        Modality::Other => Color32::from_rgb(140, 140, 140),
    }
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    let lang = app.lang();
    if app.interrupted > 0 {
        ui.horizontal(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, lang.f(T::InterruptedRuns, &[("n", &app.interrupted)]));
            if ui.button(lang.t(T::Resume)).clicked() {
                app.push(Command::ResumeImports);
                app.interrupted = 0;
            }
        });
        ui.separator();
    }
    if app.items.is_empty() {
        empty_state(app, ui);
        return;
    }
    let width = ui.available_width() - 4.0;
    let cols = (((width + GAP) / (app.state.thumb_px + GAP)).floor() as usize).max(1);
    // Cells grow a little so the columns fill the width.
    let cell = ((width - GAP * (cols as f32 - 1.0)) / cols as f32).max(app.state.thumb_px.min(width));
    app.columns = cols;
    let rows = app.items.len().div_ceil(cols);
    let row_h = cell + LABEL_H + GAP;

    let mut area = egui::ScrollArea::vertical().auto_shrink(false);
    if app.scroll_to_focus {
        app.scroll_to_focus = false;
        if let Some(f) = app.focus {
            let top = (f / cols) as f32 * row_h;
            let (offset, view_h) = app.grid_scroll;
            if top < offset {
                area = area.vertical_scroll_offset(top);
            } else if top + row_h > offset + view_h {
                area = area.vertical_scroll_offset(top + row_h - view_h);
            }
        }
    }
    let out = area.show_viewport(ui, |ui, viewport| {
        ui.set_height(rows as f32 * row_h);
        let origin = ui.max_rect().min;
        let first = (viewport.min.y / row_h).floor().max(0.0) as usize;
        let last = ((viewport.max.y / row_h).ceil() as usize + 1).min(rows);
        for r in first..last {
            for c in 0..cols {
                let idx = r * cols + c;
                if idx >= app.items.len() {
                    break;
                }
                let min = origin + Vec2::new(c as f32 * (cell + GAP), r as f32 * row_h);
                cell_ui(app, ui, idx, Rect::from_min_size(min, Vec2::new(cell, cell + LABEL_H)));
            }
        }
    });
    app.grid_scroll = (out.state.clamped_offset().y, out.inner_rect.height());
}

fn cell_ui(app: &mut App, ui: &mut egui::Ui, idx: usize, rect: Rect) {
    let item = &app.items[idx];
    let id = item.id;
    let selected = app.selection.contains(&id);
    let focused = app.focus == Some(idx);
    let response = ui.interact(rect, ui.make_persistent_id(("cell", id)), Sense::click());
    let name = item.name.clone();
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &name));
    let painter = ui.painter_at(rect.expand(2.0));
    let visuals = ui.visuals();
    let bg = if selected {
        visuals.selection.bg_fill
    } else if response.hovered() {
        visuals.widgets.hovered.weak_bg_fill
    } else {
        visuals.extreme_bg_color
    };
    painter.rect_filled(rect, 4.0, bg);
    let square = Rect::from_min_size(rect.min, Vec2::splat(rect.width())).shrink(3.0);
    let hash = item.hash.clone();
    let modality = item.modality;
    let missing = item.missing;
    let label = item.name.clone();
    match app.thumbs.get(&hash) {
        Some(tex) => {
            let size = tex.size_vec2();
            let scale = (square.width() / size.x).min(square.height() / size.y);
            let img_rect = Rect::from_center_size(square.center(), size * scale);
            painter.image(tex.id(), img_rect, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
        }
        None => {
            painter.rect_filled(square, 2.0, visuals.faint_bg_color);
            // "…" while it loads; the file's format when there is no thumbnail yet (the
            // thumbnail job is making it).
            let mark = if app.thumbs.is_absent(&hash) { "—" } else { "…" };
            painter.text(
                square.center(),
                egui::Align2::CENTER_CENTER,
                mark,
                egui::FontId::proportional(18.0),
                visuals.weak_text_color(),
            );
        }
    }
    // Modality badge: a coloured corner with its initial.
    let badge = Rect::from_min_size(square.min, Vec2::new(18.0, 16.0));
    painter.rect_filled(badge, 2.0, modality_color(modality));
    let initial: String = app.lang().t(modality_key(modality)).chars().next().map(String::from).unwrap_or_default();
    painter.text(
        badge.center(),
        egui::Align2::CENTER_CENTER,
        initial,
        egui::FontId::proportional(11.0),
        Color32::WHITE,
    );
    if missing {
        painter.line_segment([square.left_top(), square.right_bottom()], Stroke::new(2.0, Color32::RED));
        painter.line_segment([square.right_top(), square.left_bottom()], Stroke::new(2.0, Color32::RED));
    }
    let text_rect = Rect::from_min_max(Pos2::new(rect.left() + 3.0, rect.bottom() - LABEL_H), rect.max);
    // One line, cut with "…" when the name is longer than the cell.
    let mut job =
        egui::text::LayoutJob::simple_singleline(label, egui::FontId::proportional(11.0), visuals.text_color());
    job.wrap = egui::text::TextWrapping::truncate_at_width(text_rect.width());
    let galley = painter.layout_job(job);
    painter.with_clip_rect(text_rect).galley(text_rect.min, galley, visuals.text_color());
    if focused {
        painter.rect_stroke(rect, 4.0, Stroke::new(2.0, visuals.selection.stroke.color), egui::StrokeKind::Outside);
    }

    if response.clicked() {
        let m = ui.input(|i| i.modifiers);
        if m.command {
            if !app.selection.remove(&id) {
                app.selection.insert(id);
            }
        } else if m.shift {
            let from = app.anchor.or(app.focus).unwrap_or(idx);
            let (a, b) = (from.min(idx), from.max(idx));
            for it in &app.items[a..=b] {
                app.selection.insert(it.id);
            }
        } else {
            app.selection.clear();
            app.selection.insert(id);
            app.anchor = Some(idx);
        }
        app.focus = Some(idx);
    }
    if response.double_clicked() {
        app.push(Command::Open(id));
    }
    response.context_menu(|ui| {
        let lang = app.lang();
        if ui.button(Command::OpenFocused.label(lang)).clicked() {
            app.push(Command::Open(id));
            ui.close();
        }
        ui.separator();
        for m in Modality::ALL {
            if ui.button(Command::SetModality(m).label(lang)).clicked() {
                if !app.selection.contains(&id) {
                    app.selection.clear();
                    app.selection.insert(id);
                }
                app.push(Command::SetModality(m));
                ui.close();
            }
        }
    });
}

fn empty_state(app: &mut App, ui: &mut egui::Ui) {
    let lang = app.lang();
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.25);
        if !app.loaded_once || (app.jobs.iter().any(|j| j.is_running()) && app.state.filter == Default::default()) {
            ui.spinner();
            ui.label(lang.t(if app.jobs.is_empty() { T::Loading } else { T::DemoImporting }));
            return;
        }
        if app.state.filter != Default::default() && app.modality_counts.values().sum::<u64>() > 0 {
            ui.label(lang.t(T::NoMatch));
            if ui.button(lang.t(T::ClearFilters)).clicked() {
                app.push(Command::ClearFilters);
            }
            return;
        }
        ui.heading(lang.t(T::EmptyTitle));
        ui.add_space(6.0);
        ui.label(lang.t(T::EmptyBody));
        ui.add_space(12.0);
        let button =
            egui::Button::new(egui::RichText::new(lang.t(T::AddFolder)).size(18.0)).min_size(Vec2::new(260.0, 44.0));
        if ui.add(button).clicked() {
            app.push(Command::AddFolder);
        }
    });
}
