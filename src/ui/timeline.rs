//! The patient timeline of the photo on screen: visits, diagnoses, pathology, prescriptions,
//! treatments, adverse events and notes on one time axis, one lane each, with the patient's
//! linked photos placed on it (this photo marked). Shown by research ID, sex and age band,
//! never by chart number. Read on the store thread (`charts::timeline`).

use super::app::App;
use super::chart_details::kind_key;
use super::command::Command;
use super::i18n::{Lang, T};
use super::photo_answer::PhotoAnswer;
use crate::charts::dates::Date;
use crate::charts::timeline::{self, Timeline};
use crate::store::thread::StoreThread;
use egui::{Color32, Pos2, Rect, Sense, Stroke, vec2};

/// The lanes, top to bottom, by event kind.
pub const LANES: [&str; 7] = ["visit", "pathology", "prescription", "treatment", "adverse_event", "note", "photo"];

/// A colour-blind-safe colour per lane (Okabe–Ito).
fn lane_colour(kind: &str) -> Color32 {
    match kind {
        "visit" => Color32::from_rgb(0, 114, 178),
        "pathology" => Color32::from_rgb(204, 121, 167),
        "prescription" => Color32::from_rgb(0, 158, 115),
        "treatment" => Color32::from_rgb(230, 159, 0),
        "adverse_event" => Color32::from_rgb(213, 94, 0),
        "note" => Color32::from_rgb(150, 150, 150),
        _ => Color32::from_rgb(86, 180, 233),
    }
}

/// The timeline of the photo on screen (None: the photo is not linked to a patient).
pub type TimelinePanel = PhotoAnswer<Timeline>;

impl TimelinePanel {
    /// Follows the photo on screen (asking the store when it changed).
    pub fn show(&mut self, want: Option<i64>, store: &StoreThread) {
        self.follow(want, |id| {
            store.ask(move |s| {
                let Some(rid) = s.link_of(id)?.and_then(|l| l.research_id) else { return Ok(None) };
                Ok(Some(timeline::timeline(s, &rid)?))
            })
        });
    }
}

fn sex_key(s: Option<&str>) -> T {
    match s {
        Some("male") | Some("m") => T::SexMale,
        Some("female") | Some("f") => T::SexFemale,
        _ => T::SexUnknown,
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let mut open = true;
    let mut push = Vec::new();
    let panel = &app.timeline;
    egui::Window::new(lang.t(T::Timeline))
        .id(egui::Id::unique("timeline"))
        .open(&mut open)
        .default_size([900.0, 520.0])
        .collapsible(false)
        .show(ctx, |ui| {
            if let Some(e) = &panel.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            match &panel.shown {
                None if panel.is_loading() => {
                    ui.spinner();
                }
                None => {
                    ui.label(lang.t(T::TimelineNoPhoto));
                }
                Some((_, None)) => {
                    ui.label(lang.t(T::TimelineNotLinked));
                }
                Some((photo, Some(t))) => draw(ui, lang, t, *photo, &mut push),
            }
        });
    if !open {
        push.push(Command::ToggleTimeline);
    }
    for c in push {
        app.push(c);
    }
}

fn draw(ui: &mut egui::Ui, lang: Lang, t: &Timeline, photo: i64, push: &mut Vec<Command>) {
    let sex = lang.t(sex_key(t.sex.as_deref()));
    ui.heading(lang.f(
        T::TimelineHeader,
        &[("rid", &t.research_id), ("sex", &sex), ("age", &t.age_band_first.as_deref().unwrap_or("?"))],
    ));
    let days = |d: &str| Date::from_iso(d).map(|d| d.days());
    let all: Vec<i64> =
        t.events.iter().flat_map(|e| [days(&e.date), e.end_date.as_deref().and_then(days)]).flatten().collect();
    let (Some(&lo), Some(&hi)) = (all.iter().min(), all.iter().max()) else { return };
    // A margin either side, and at least a month shown.
    let span = (hi - lo).max(30) as f32;
    let (lo, span) = (lo as f32 - span * 0.03, span * 1.06);
    let label_w = 110.0;
    let lane_h = 26.0;
    let width = ui.available_width().max(400.0);
    let (rect, resp) = ui.allocate_exact_size(vec2(width, lane_h * LANES.len() as f32 + 28.0), Sense::click());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top()),
        Pos2::new(rect.right() - 8.0, rect.bottom() - 24.0),
    );
    let x_of = |d: i64| plot.left() + (d as f32 - lo) / span * plot.width();
    let visuals = ui.visuals().clone();
    let text_colour = visuals.text_color();
    let font = egui::FontId::proportional(12.0);
    for (i, kind) in LANES.iter().enumerate() {
        let y = plot.top() + lane_h * (i as f32 + 0.5);
        if i % 2 == 0 {
            painter.rect_filled(
                Rect::from_min_max(Pos2::new(rect.left(), y - lane_h / 2.0), Pos2::new(plot.right(), y + lane_h / 2.0)),
                0.0,
                visuals.faint_bg_color,
            );
        }
        painter.text(
            Pos2::new(rect.left() + 4.0, y),
            egui::Align2::LEFT_CENTER,
            lang.t(kind_key(kind)),
            font.clone(),
            text_colour,
        );
    }
    // Year ticks along the axis.
    let axis_y = plot.bottom() + 2.0;
    painter
        .line_segment([Pos2::new(plot.left(), axis_y), Pos2::new(plot.right(), axis_y)], Stroke::new(1.0, text_colour));
    let (y0, y1) = (
        Date::from_days(lo as i64).iso()[..4].parse::<i32>().unwrap_or(2000),
        Date::from_days((lo + span) as i64).iso()[..4].parse::<i32>().unwrap_or(2000),
    );
    let step = ((y1 - y0) / 10).max(1);
    for y in (y0..=y1 + 1).step_by(step as usize) {
        let Some(d) = days(&format!("{y:04}-01-01")) else { continue };
        let x = x_of(d);
        if x < plot.left() || x > plot.right() {
            continue;
        }
        painter.line_segment(
            [Pos2::new(x, plot.top()), Pos2::new(x, axis_y + 4.0)],
            Stroke::new(0.5, visuals.weak_text_color()),
        );
        painter.text(Pos2::new(x, axis_y + 5.0), egui::Align2::CENTER_TOP, y.to_string(), font.clone(), text_colour);
    }
    let hover = resp.hover_pos();
    let mut near: Option<(f32, String, Option<i64>)> = None;
    for e in &t.events {
        let Some(d) = days(&e.date) else { continue };
        let lane = LANES.iter().position(|k| *k == e.kind).unwrap_or(5);
        let y = plot.top() + lane_h * (lane as f32 + 0.5);
        let x = x_of(d);
        let colour = lane_colour(&e.kind);
        if let Some(end) = e.end_date.as_deref().and_then(days) {
            painter
                .line_segment([Pos2::new(x, y), Pos2::new(x_of(end), y)], Stroke::new(5.0, colour.gamma_multiply(0.6)));
        }
        let this = e.photo_id == Some(photo);
        if e.kind == "photo" {
            let r = if this { 7.0 } else { 4.5 };
            let sq = Rect::from_center_size(Pos2::new(x, y), vec2(r * 2.0, r * 2.0));
            painter.rect_filled(sq, 2.0, colour);
            if this {
                painter.rect_stroke(sq.expand(2.0), 2.0, Stroke::new(2.0, text_colour), egui::StrokeKind::Outside);
                painter.text(
                    Pos2::new(x, y - lane_h / 2.0),
                    egui::Align2::CENTER_BOTTOM,
                    lang.t(T::TimelineThisPhoto),
                    font.clone(),
                    text_colour,
                );
            }
        } else {
            painter.circle_filled(Pos2::new(x, y), 5.0, colour);
        }
        if let Some(h) = hover {
            let dist = (h - Pos2::new(x, y)).length();
            if dist < 10.0 && near.as_ref().is_none_or(|(best, ..)| dist < *best) {
                let age = e.age_band.as_deref().map(|a| format!(" ({a})")).unwrap_or_default();
                let end = e.end_date.as_deref().map(|d| format!(" – {d}")).unwrap_or_default();
                let code = e.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
                let text = format!("{}{end}{age}\n{}: {}{code}", e.date, lang.t(kind_key(&e.kind)), e.text);
                near = Some((dist, text, e.photo_id));
            }
        }
    }
    if let Some((_, text, photo_id)) = near {
        if resp.clicked()
            && let Some(id) = photo_id
        {
            push.push(Command::Open(id));
        }
        resp.on_hover_text(text);
    }
    ui.separator();
    egui::ScrollArea::vertical().id_salt("timeline_rows").max_height(220.0).show(ui, |ui| {
        egui::Grid::new("timeline_list").num_columns(4).striped(true).show(ui, |ui| {
            for e in &t.events {
                let date = match &e.end_date {
                    Some(end) => format!("{} – {end}", e.date),
                    None => e.date.clone(),
                };
                ui.label(egui::RichText::new(date).monospace().small());
                ui.label(egui::RichText::new(e.age_band.as_deref().unwrap_or("—")).small());
                ui.colored_label(lane_colour(&e.kind), lang.t(kind_key(&e.kind)));
                let code = e.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
                let mut text = format!("{}{code}", e.text);
                if e.photo_id == Some(photo) {
                    text = format!("{text} ← {}", lang.t(T::TimelineThisPhoto));
                }
                ui.label(egui::RichText::new(text).small());
                ui.end_row();
            }
        });
    });
}
