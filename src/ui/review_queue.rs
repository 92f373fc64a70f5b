//! The review queue: submitted masks waiting for someone other than their annotator.
//! Loaded on a thread when the window opens; a row opens its photo in the mask panel with
//! that lesion active.

use super::annotate::status_key;
use super::app::App;
use super::command::Command;
use super::i18n::T;
use crate::store::{LesionRow, Store};
use poll_promise::Promise;
use std::path::PathBuf;

pub struct ReviewQueue {
    promise: Option<Promise<Result<Vec<LesionRow>, String>>>,
    pub rows: Vec<LesionRow>,
    pub error: Option<String>,
}

impl ReviewQueue {
    pub fn open(db: PathBuf, ctx: &egui::Context) -> ReviewQueue {
        let c = ctx.clone();
        let promise = Promise::spawn_thread("review-queue", move || {
            let r = Store::open_reader(&db).and_then(|s| s.mask_queue()).map_err(|e| e.to_string());
            c.request_repaint();
            r
        });
        ReviewQueue { promise: Some(promise), rows: Vec::new(), error: None }
    }

    pub fn poll(&mut self) {
        if self.promise.as_ref().is_some_and(|p| p.ready().is_some())
            && let Some(p) = self.promise.take()
        {
            match p.block_and_take() {
                Ok(rows) => self.rows = rows,
                Err(e) => self.error = Some(e),
            }
        }
    }

    pub fn is_loading(&self) -> bool {
        self.promise.is_some()
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let Some(q) = app.review_queue.as_ref() else { return };
    let mut open = true;
    let mut run = None;
    egui::Window::new(lang.t(T::ReviewQueue)).open(&mut open).default_width(520.0).show(ctx, |ui| {
        if q.is_loading() {
            ui.label(lang.t(T::Loading));
        } else if let Some(e) = &q.error {
            ui.colored_label(egui::Color32::LIGHT_RED, e);
        } else if q.rows.is_empty() {
            ui.label(lang.t(T::QueueEmpty));
        }
        egui::ScrollArea::vertical().max_height(420.0).show_rows(ui, 22.0, q.rows.len(), |ui, range| {
            for l in &q.rows[range] {
                let who = l.version.as_ref().map(|v| v.annotator.as_str()).unwrap_or("-");
                let text = format!(
                    "#{} {} · {} · {}",
                    l.number,
                    l.label,
                    lang.t(status_key(l.status)),
                    lang.f(T::DrawnBy, &[("who", &who)])
                );
                if ui.button(text).clicked()
                    && let Some(photo_id) = l.photo_id
                {
                    run = Some(Command::OpenLesion { photo_id, lesion_id: l.id });
                }
            }
        });
    });
    if !open {
        app.push(Command::ToggleReviewQueue);
    }
    if let Some(c) = run {
        app.push(c);
        app.push(Command::ToggleReviewQueue);
    }
}
