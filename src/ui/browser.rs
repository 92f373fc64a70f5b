//! The thumbnail grid. Virtualised: only the rows in view are laid out and painted, so it
//! costs the same with 100 photos or 100,000.

use super::app::App;
use super::command::{Command, Select, modality_key};
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
            }
        });
        ui.separator();
    }
    if app.grid.is_empty() {
        empty_state(app, ui);
        return;
    }
    let width = ui.available_width() - 4.0;
    let cols = (((width + GAP) / (app.state.thumb_px + GAP)).floor() as usize).max(1);
    // Cells grow a little so the columns fill the width.
    let cell = ((width - GAP * (cols as f32 - 1.0)) / cols as f32).max(app.state.thumb_px.min(width));
    app.columns = cols;
    let rows = app.grid.len().div_ceil(cols);
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
        // The rows on screen, and a screen's worth either side, so that scrolling finds them in.
        let span = (last - first).max(1) * cols;
        app.visible = first * cols..(last * cols).min(app.grid.len());
        app.grid.want((first * cols).saturating_sub(span)..last * cols + span);
        for r in first..last {
            for c in 0..cols {
                let idx = r * cols + c;
                if idx >= app.grid.len() {
                    break;
                }
                let min = origin + Vec2::new(c as f32 * (cell + GAP), r as f32 * row_h);
                cell_ui(app, ui, idx, Rect::from_min_size(min, Vec2::new(cell, cell + LABEL_H)));
            }
        }
    });
    app.grid_scroll = (out.state.clamped_offset().y, out.inner_rect.height());
}

fn cell_ui(app: &mut App, ui: &egui::Ui, idx: usize, rect: Rect) {
    let Some(id) = app.grid.id(idx) else { return };
    let selected = app.selection.contains(&id);
    let focused = app.focus == Some(idx);
    let response = ui.interact(rect, ui.make_persistent_id(("cell", id)), Sense::click());
    let visuals = ui.visuals().clone();
    let painter = ui.painter_at(rect.expand(2.0));
    let bg = if selected {
        visuals.selection.bg_fill
    } else if response.hovered() {
        visuals.widgets.hovered.weak_bg_fill
    } else {
        visuals.extreme_bg_color
    };
    painter.rect_filled(rect, 4.0, bg);
    let square = Rect::from_min_size(rect.min, Vec2::splat(rect.width())).shrink(3.0);
    let Some(item) = app.grid.row(idx).cloned() else {
        // Its row is on its way (a page is read in a millisecond or two).
        let loading = app.lang().t(T::Loading);
        response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, loading));
        painter.rect_filled(square, 2.0, visuals.faint_bg_color);
        return;
    };
    let name = item.name.clone();
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &name));
    match app.thumbs.get(&item.hash) {
        Some(tex) => {
            let size = tex.size_vec2();
            let scale = (square.width() / size.x).min(square.height() / size.y);
            let img_rect = Rect::from_center_size(square.center(), size * scale);
            painter.image(tex.id(), img_rect, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
        }
        None => {
            painter.rect_filled(square, 2.0, visuals.faint_bg_color);
            // "…" while it loads; "—" when there is no thumbnail yet (the thumbnail job is
            // making it).
            let mark = if app.thumbs.is_absent(&item.hash) { "—" } else { "…" };
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
    painter.rect_filled(badge, 2.0, modality_color(item.modality));
    let initial: String =
        app.lang().t(modality_key(item.modality)).chars().next().map(String::from).unwrap_or_default();
    painter.text(
        badge.center(),
        egui::Align2::CENTER_CENTER,
        initial,
        egui::FontId::proportional(11.0),
        Color32::WHITE,
    );
    if item.missing {
        painter.line_segment([square.left_top(), square.right_bottom()], Stroke::new(2.0, Color32::RED));
        painter.line_segment([square.right_top(), square.left_bottom()], Stroke::new(2.0, Color32::RED));
    }
    // A photo known only by its file's time says so, with a clock in the opposite corner.
    if item.captured_at.is_none() && item.file_time.is_some() {
        let mark = Rect::from_min_size(Pos2::new(square.right() - 18.0, square.top()), Vec2::new(18.0, 16.0));
        painter.rect_filled(mark, 2.0, Color32::from_black_alpha(150));
        let (c, r) = (mark.center(), 5.0);
        let ink = Stroke::new(1.2, Color32::WHITE);
        painter.circle_stroke(c, r, ink);
        painter.line_segment([c, c + Vec2::new(0.0, -r * 0.7)], ink);
        painter.line_segment([c, c + Vec2::new(r * 0.55, 0.0)], ink);
    }
    let text_rect = Rect::from_min_max(Pos2::new(rect.left() + 3.0, rect.bottom() - LABEL_H), rect.max);
    // One line, cut with "…" when the name is longer than the cell (the whole name on hover).
    let mut job =
        egui::text::LayoutJob::simple_singleline(name.clone(), egui::FontId::proportional(11.0), visuals.text_color());
    job.wrap = egui::text::TextWrapping::truncate_at_width(text_rect.width());
    let galley = painter.layout_job(job);
    let cut = galley.elided;
    painter.with_clip_rect(text_rect).galley(text_rect.min, galley, visuals.text_color());
    if focused {
        painter.rect_stroke(rect, 4.0, Stroke::new(2.0, visuals.selection.stroke.color), egui::StrokeKind::Outside);
    }
    let lang = app.lang();
    let response = response.on_hover_ui_at_pointer(|ui| {
        if cut {
            ui.label(&name);
        }
        match (&item.captured_at, &item.file_time) {
            (Some(at), _) => ui.label(at),
            (None, Some(t)) => ui.label(lang.f(T::FileTimeOnly, &[("t", t)])),
            (None, None) => ui.label(lang.t(T::Undated)),
        };
    });

    if response.clicked() {
        let m = ui.input(|i| i.modifiers);
        let select = if m.command {
            Select::Toggle
        } else if m.shift {
            Select::Range
        } else {
            Select::Only
        };
        app.push(Command::Focus { index: idx, select });
    }
    if response.secondary_clicked() {
        // The menu acts on what it was opened on: focus, selection and details move there.
        app.push(Command::Focus { index: idx, select: Select::KeepIfSelected });
    }
    if response.double_clicked() {
        app.push(Command::Open(id));
    }
    response.context_menu(|ui| {
        if ui.button(Command::OpenFocused.label(lang)).clicked() {
            app.push(Command::Open(id));
            ui.close();
        }
        ui.separator();
        for m in Modality::ALL {
            if ui.button(Command::SetModality(m).label(lang)).clicked() {
                app.push(Command::SetModality(m));
                ui.close();
            }
        }
        if ui.button(Command::ResetModality.label(lang)).clicked() {
            app.push(Command::ResetModality);
            ui.close();
        }
    });
}

fn empty_state(app: &mut App, ui: &mut egui::Ui) {
    let lang = app.lang();
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.25);
        if !app.grid.loaded_once || (app.jobs.iter().any(|j| j.is_running()) && app.state.filter == Default::default())
        {
            ui.spinner();
            ui.label(lang.t(if app.jobs.is_empty() { T::Loading } else { T::DemoImporting }));
            return;
        }
        if app.state.filter != Default::default() && app.grid.counts.values().sum::<u64>() > 0 {
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
