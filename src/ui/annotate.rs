//! The annotation panel: tools above, the photo with its lesion overlay in the middle, the
//! lesions and their review on the right. Every action pushes a `Command` (`Ann`); the
//! state and the edits are in `annotator.rs`.

use super::annotator::{Annotator, Notice, PALETTE, State};
use super::app::App;
use super::command::{Ann, Command, Tool};
use super::i18n::{Lang, T};
use crate::masks::{PixelRect, ReviewAction, ReviewStatus, Role};
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

pub fn status_key(s: ReviewStatus) -> T {
    match s {
        ReviewStatus::Draft => T::MaskStatusDraft,
        ReviewStatus::Submitted => T::MaskStatusSubmitted,
        ReviewStatus::Approved => T::MaskStatusApproved,
        ReviewStatus::Returned => T::MaskStatusReturned,
    }
}

pub fn role_key(r: Role) -> T {
    match r {
        Role::Dermatologist => T::RoleDermatologist,
        Role::Resident => T::RoleResident,
        Role::ResearchAssistant => T::RoleResearchAssistant,
    }
}

fn ann(app: &mut App, a: Ann) {
    app.push(Command::Annotation(a));
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    let lang = app.lang();
    let Some(an) = app.annotator.as_ref() else { return };
    match &an.state {
        State::Loading(_) => {
            ui.centered_and_justified(|ui| ui.label(lang.t(T::LoadingPhoto)));
            return;
        }
        State::Failed(e) => {
            let msg =
                if e.is_empty() { lang.t(T::FileMissing).to_owned() } else { lang.f(T::ViewerError, &[("e", e)]) };
            ui.colored_label(Color32::LIGHT_RED, msg);
            if ui.button(lang.t(T::CloseAnnotator)).clicked() {
                app.push(Command::CloseAnnotator);
            }
            return;
        }
        State::Ready => {}
    }
    toolbar(app, ui, lang);
    egui::Panel::right("lesions").resizable(true).default_size(300.0).show(ui, |ui| lesions(app, ui, lang));
    canvas(app, ui, lang);
}

/// The status line's text for a model proposal.
pub fn notice_text(n: &Notice, lang: Lang) -> (String, Color32) {
    let grey = Color32::from_gray(170);
    match n {
        Notice::Proposing => (lang.t(T::Proposing).to_owned(), grey),
        Notice::Proposed { model, version, pixels } => {
            (lang.f(T::Proposed, &[("model", model), ("version", version), ("n", pixels)]), grey)
        }
        Notice::NothingFound { model, version } => {
            (lang.f(T::ProposedNothing, &[("model", model), ("version", version)]), grey)
        }
        Notice::NoSegmenter => (lang.t(T::NoSegmenter).to_owned(), Color32::from_rgb(230, 159, 0)),
        Notice::Failed(e) => (lang.f(T::ProposeFailed, &[("e", e)]), Color32::LIGHT_RED),
    }
}

fn toolbar(app: &mut App, ui: &mut egui::Ui, lang: Lang) {
    let Some(an) = app.annotator.as_ref() else { return };
    let (tool, brush, tolerance, opacity, outline) = (an.tool, an.brush, an.tolerance, an.opacity, an.outline);
    let (can_undo, can_redo) =
        an.active_lesion().map(|l| (l.history.can_undo(), l.history.can_redo())).unwrap_or((false, false));
    let saved = an.all_saved();
    let notice = an.notice.clone();
    let mut pushed = Vec::new();
    let mut close = false;
    ui.horizontal_wrapped(|ui| {
        for t in Tool::ALL {
            let cmd = Command::Annotation(Ann::SetTool(t));
            let keys = cmd.shortcut().map(|sc| ui.ctx().format_shortcut(&sc)).unwrap_or_default();
            let b = ui.selectable_label(tool == t, lang.t(t.key())).on_hover_text(keys);
            if b.clicked() {
                pushed.push(Ann::SetTool(t));
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        match tool {
            Tool::Brush | Tool::Eraser => {
                let mut size = brush;
                let s = ui.add(
                    egui::Slider::new(&mut size, 1.0..=400.0)
                        .logarithmic(true)
                        .show_value(false)
                        .text(lang.f(T::BrushSize, &[("n", &format!("{brush:.0}"))])),
                );
                if s.changed() {
                    // The slider sets the size through the same two commands as [ and ].
                    let steps = (size / brush).ln() / 1.25f32.ln();
                    let n = steps.round() as i32;
                    for _ in 0..n.unsigned_abs() {
                        pushed.push(if n > 0 { Ann::BrushBigger } else { Ann::BrushSmaller });
                    }
                }
            }
            Tool::Wand => {
                let mut t = tolerance;
                if ui.add(egui::Slider::new(&mut t, 0..=128).text(lang.t(T::Tolerance))).changed() {
                    pushed.push(Ann::Tolerance(t));
                }
            }
            _ => {}
        }
        let mut o = opacity;
        if ui.add(egui::Slider::new(&mut o, 0.05..=1.0).show_value(false).text(lang.t(T::Opacity))).changed() {
            pushed.push(Ann::Opacity(o));
        }
        if ui.selectable_label(outline, lang.t(T::OutlineOnly)).clicked() {
            pushed.push(Ann::ToggleOutline);
        }
        ui.separator();
        if ui.add_enabled(can_undo, egui::Button::new(lang.t(T::MaskUndo))).clicked() {
            pushed.push(Ann::Undo);
        }
        if ui.add_enabled(can_redo, egui::Button::new(lang.t(T::MaskRedo))).clicked() {
            pushed.push(Ann::Redo);
        }
        if ui.button(lang.t(T::FillHoles)).clicked() {
            pushed.push(Ann::FillHoles);
        }
        let keys = Command::Annotation(Ann::Propose).shortcut().map(|sc| ui.ctx().format_shortcut(&sc));
        if ui.button(lang.t(T::ProposeLesion)).on_hover_text(keys.unwrap_or_default()).clicked() {
            pushed.push(Ann::Propose);
        }
        ui.separator();
        let (text, colour) =
            if saved { (T::AllSaved, Color32::from_gray(160)) } else { (T::Unsaved, Color32::from_rgb(230, 159, 0)) };
        ui.colored_label(colour, lang.t(text));
        if ui.button(lang.t(T::CloseAnnotator)).clicked() {
            close = true;
        }
    });
    if let Some(n) = notice {
        let (text, colour) = notice_text(&n, lang);
        ui.colored_label(colour, text);
    }
    if close {
        app.push(Command::CloseAnnotator);
    }
    for a in pushed {
        ann(app, a);
    }
}

fn lesions(app: &mut App, ui: &mut egui::Ui, lang: Lang) {
    let role = app.state.review_role;
    let Some(an) = app.annotator.as_mut() else { return };
    let mut pushed: Vec<Ann> = Vec::new();
    let mut role_change: Option<Option<Role>> = None;
    ui.horizontal(|ui| {
        ui.strong(lang.t(T::Lesions));
        if ui.button(lang.t(T::NewLesion)).clicked() {
            pushed.push(Ann::NewLesion);
        }
        if ui.small_button(lang.t(T::ShowAll)).clicked() {
            pushed.push(Ann::ShowAll(true));
        }
        if ui.small_button(lang.t(T::HideAll)).clicked() {
            pushed.push(Ann::ShowAll(false));
        }
    });
    if an.lesions.is_empty() {
        ui.label(lang.t(T::NoLesions));
    }
    let row_h = 22.0;
    let active_key = an.active_lesion().map(|l| l.key);
    egui::ScrollArea::vertical().max_height(ui.available_height() * 0.5).auto_shrink([false, true]).show_rows(
        ui,
        row_h,
        an.lesions.len(),
        |ui, range| {
            for l in &an.lesions[range] {
                ui.horizontal(|ui| {
                    let mut vis = l.visible;
                    if ui.checkbox(&mut vis, "").on_hover_text(lang.t(T::ShowAll)).changed() {
                        pushed.push(Ann::ToggleVisible(l.key));
                    }
                    let (r, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                    ui.painter().rect_filled(r, 2.0, PALETTE[l.colour]);
                    let number = l.row.as_ref().map(|r| format!("#{} ", r.number)).unwrap_or_default();
                    let text = format!("{number}{} · {}", l.label, lang.t(status_key(l.status)));
                    if ui.selectable_label(Some(l.key) == active_key, text).clicked() {
                        pushed.push(Ann::Select(l.key));
                    }
                });
            }
        },
    );
    ui.separator();
    if let Some(i) = an.active {
        let me = an.me.clone();
        let l = &mut an.lesions[i];
        let key = l.key;
        ui.label(lang.f(T::Pixels, &[("n", &l.pixels())]));
        if let Some(who) = &l.annotator {
            ui.label(lang.f(T::DrawnBy, &[("who", who)]));
        }
        let label_title = ui.label(lang.t(T::LesionLabel));
        ui.add(egui::TextEdit::singleline(&mut l.label).desired_width(f32::INFINITY)).labelled_by(label_title.id);
        label_suggestions(ui, lang, l, key, &mut pushed);
        let note_title = ui.label(lang.t(T::LesionNote));
        ui.add(egui::TextEdit::multiline(&mut l.note).desired_rows(2).desired_width(f32::INFINITY))
            .labelled_by(note_title.id);
        ui.horizontal(|ui| {
            if ui.button(lang.t(T::Apply)).clicked() {
                pushed.push(Ann::SetLabel(key, l.label.clone(), l.note.clone()));
            }
            if ui.button(lang.t(T::DeleteLesion)).clicked() {
                pushed.push(Ann::Delete(key));
            }
        });
        ui.separator();
        ui.label(format!("{}: {}", lang.t(T::RunStatus), lang.t(status_key(l.status))));
        match l.status {
            ReviewStatus::Draft | ReviewStatus::Returned => {
                if ui.add_enabled(l.pixels() > 0, egui::Button::new(lang.t(T::Submit))).clicked() {
                    pushed.push(Ann::Review(key, ReviewAction::Submit, None, String::new()));
                }
            }
            ReviewStatus::Submitted | ReviewStatus::Approved => {
                if ui.button(lang.t(T::Reopen)).clicked() {
                    pushed.push(Ann::Review(key, ReviewAction::Reopen, None, String::new()));
                }
            }
        }
        if l.status == ReviewStatus::Submitted {
            let own = l.annotator.as_deref() == Some(me.as_str());
            ui.separator();
            if own {
                ui.label(lang.t(T::OwnMask));
            }
            let mut picked = role;
            egui::ComboBox::from_label(lang.t(T::ReviewerRole))
                .selected_text(picked.map(|r| lang.t(role_key(r))).unwrap_or("—"))
                .show_ui(ui, |ui| {
                    for r in Role::ALL {
                        ui.selectable_value(&mut picked, Some(r), lang.t(role_key(r)));
                    }
                });
            if picked != role {
                role_change = Some(picked);
            }
            let c_title = ui.label(lang.t(T::ReviewComment));
            ui.add(egui::TextEdit::multiline(&mut an.comment).desired_rows(2).desired_width(f32::INFINITY))
                .labelled_by(c_title.id);
            let comment = an.comment.clone();
            ui.horizontal(|ui| {
                let can = !own && picked.is_some();
                if ui.add_enabled(can, egui::Button::new(lang.t(T::Approve))).clicked() {
                    pushed.push(Ann::Review(key, ReviewAction::Approve, picked, comment.clone()));
                }
                let can_return = can && !comment.trim().is_empty();
                if ui.add_enabled(can_return, egui::Button::new(lang.t(T::ReturnMask))).clicked() {
                    pushed.push(Ann::Review(key, ReviewAction::Return, picked, comment.clone()));
                }
            });
        }
    }
    for e in &an.errors {
        ui.colored_label(Color32::LIGHT_RED, e);
    }
    if let Some(r) = role_change {
        app.state.review_role = r;
    }
    for a in pushed {
        ann(app, a);
    }
}

fn canvas(app: &mut App, ui: &mut egui::Ui, lang: Lang) {
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    let Some(an) = app.annotator.as_mut() else { return };
    let avail = ui.available_rect_before_wrap();
    an.view = avail;
    let response = ui.allocate_rect(avail, Sense::click_and_drag());
    let painter = ui.painter_at(avail);
    painter.rect_filled(avail, 0.0, Color32::from_gray(24));
    let (w, h) = (an.width as f32, an.height as f32);
    an.last_fit = (avail.width() / w).min(avail.height() / h);
    if an.is_fit() {
        an.centre = Pos2::new(w / 2.0, h / 2.0);
    }
    let mut pushed: Vec<Ann> = Vec::new();
    // Wheel zooms about the pointer.
    if response.hovered() {
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = pinch * (scroll / 300.0).exp();
        if (factor - 1.0).abs() > 1e-4
            && let Some(p) = response.hover_pos()
        {
            let before = an.to_image(p, avail);
            an.zoom_by(factor);
            let after = an.to_image(p, avail);
            an.centre += before - after;
        }
    }
    let space = !typing && ui.input(|i| i.key_down(egui::Key::Space));
    let middle = ui.input(|i| i.pointer.middle_down());
    let pan = an.tool == Tool::Pan || space || middle;
    let pointer = response.interact_pointer_pos().or(response.hover_pos());
    let img_at = |an: &Annotator, p: Pos2| an.to_image(p, avail);
    let alt = ui.input(|i| i.modifiers.alt);
    if pan {
        if response.dragged() {
            an.centre -= response.drag_delta() / an.zoom();
        }
    } else if let Some(p) = pointer {
        let ip = img_at(an, p);
        let origin = ui.input(|i| i.pointer.press_origin()).map(|o| img_at(an, o)).unwrap_or(ip);
        match an.tool {
            Tool::Brush | Tool::Eraser => {
                if response.drag_started() {
                    pushed.push(Ann::StrokeBegin(origin));
                }
                if response.dragged() && response.drag_delta() != Vec2::ZERO {
                    pushed.push(Ann::StrokeTo(ip));
                }
                if response.drag_stopped() {
                    // Moves that came with the release still belong to the stroke.
                    pushed.push(Ann::StrokeTo(ip));
                    pushed.push(Ann::StrokeEnd);
                }
                if response.clicked() {
                    pushed.push(Ann::StrokeBegin(ip));
                    pushed.push(Ann::StrokeEnd);
                }
            }
            Tool::Polygon => {
                if response.double_clicked() {
                    pushed.push(Ann::PolygonClose);
                } else if response.clicked() {
                    pushed.push(Ann::PolygonPoint(ip));
                }
            }
            Tool::Lasso => {
                if response.drag_started() {
                    pushed.push(Ann::PolygonPoint(origin));
                }
                if response.dragged() && response.drag_delta().length() > 0.0 {
                    pushed.push(Ann::PolygonPoint(ip));
                }
                if response.drag_stopped() {
                    pushed.push(Ann::PolygonPoint(ip));
                    pushed.push(Ann::PolygonClose);
                }
            }
            Tool::Wand => {
                if response.clicked() {
                    pushed.push(Ann::Wand(ip, !alt));
                }
            }
            Tool::Smart => {
                if response.drag_started() {
                    an.drag_box = Some((origin, ip));
                }
                if response.dragged()
                    && let Some(b) = &mut an.drag_box
                {
                    b.1 = ip;
                }
                if response.drag_stopped() {
                    if let Some((a, _)) = an.drag_box.take() {
                        pushed.push(Ann::SmartBox(a, ip));
                    }
                } else if response.clicked() {
                    pushed.push(Ann::SmartClick(ip));
                }
            }
            Tool::Pan => {}
        }
    }
    // Overlay tiles not built yet: those on screen first, a few milliseconds a frame, before
    // drawing so that they show in this frame.
    let tl = an.to_image(avail.min, avail);
    let br = an.to_image(avail.max, avail);
    let visible = PixelRect::from_bounds(
        tl.x.max(0.0) as u32,
        tl.y.max(0.0) as u32,
        br.x.max(0.0) as u32 + 1,
        br.y.max(0.0) as u32 + 1,
    );
    if an.build_overlay(&ctx, visible) {
        ctx.request_repaint();
    }
    // The photo, then the overlay (tinted by the opacity), then what is being drawn.
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    for (rect, tex) in an.photo_tiles() {
        let screen = Rect::from_min_max(an.to_screen(rect.min, avail), an.to_screen(rect.max, avail));
        if screen.intersects(avail) {
            painter.image(tex.id(), screen, uv, Color32::WHITE);
        }
    }
    let tint = Color32::from_white_alpha((an.opacity * 255.0) as u8);
    let outline_tint = Color32::WHITE;
    for (r, tex) in an.overlay_tiles() {
        let min = an.to_screen(Pos2::new(r.x as f32, r.y as f32), avail);
        let max = an.to_screen(Pos2::new(r.right() as f32, r.bottom() as f32), avail);
        let screen = Rect::from_min_max(min, max);
        if screen.intersects(avail) {
            painter.image(tex.id(), screen, uv, if an.outline { outline_tint } else { tint });
        }
    }
    let line = Stroke::new(1.5, Color32::from_rgb(240, 228, 66));
    if !an.polygon.is_empty() {
        let pts: Vec<Pos2> = an.polygon.iter().map(|&p| an.to_screen(p, avail)).collect();
        painter.add(egui::Shape::line(pts, line));
    }
    if let Some((a, b)) = an.drag_box {
        painter.rect_stroke(
            Rect::from_two_pos(an.to_screen(a, avail), an.to_screen(b, avail)),
            0.0,
            line,
            egui::StrokeKind::Middle,
        );
    }
    if matches!(an.tool, Tool::Brush | Tool::Eraser)
        && !pan
        && let Some(p) = response.hover_pos()
    {
        painter.circle_stroke(p, an.brush / 2.0 * an.zoom(), Stroke::new(1.0, Color32::WHITE));
    }
    let hint = match an.tool {
        Tool::Brush | Tool::Eraser => T::BrushHint,
        Tool::Polygon => T::PolygonHint,
        Tool::Lasso => T::LassoHint,
        Tool::Wand => T::WandHint,
        Tool::Smart => T::SmartHint,
        Tool::Pan => T::ToolPan,
    };
    let pointer = response.hover_pos().map(|p| an.to_image(p, avail));
    super::viewer::status_line(ui, lang, avail, an.zoom(), (w, h), Some(lang.t(hint)), pointer);
    for a in pushed {
        ann(app, a);
    }
}

/// Diagnoses from the taxonomy that match the label typed so far; a click makes the label
/// the code and English title (the same in either language) and saves it.
fn label_suggestions(ui: &mut egui::Ui, lang: Lang, l: &mut super::annotator::Lesion, key: u64, pushed: &mut Vec<Ann>) {
    let tax = crate::taxonomy::Taxonomy::get();
    let picked = tax.entries().iter().any(|e| crate::taxonomy::Taxonomy::label_of(e) == l.label);
    // Nothing to suggest for an empty label, the plain default, or one already picked.
    if picked || l.label.trim().is_empty() || l.label == "lesion" {
        return;
    }
    let found = tax.suggest(&l.label, 6);
    if found.is_empty() {
        return;
    }
    ui.label(egui::RichText::new(lang.t(T::FromTaxonomy)).small().weak());
    for e in found {
        let title = match lang {
            Lang::Ja => e.ja.as_deref().unwrap_or(&e.en),
            Lang::En => &e.en,
        };
        if ui.small_button(format!("{}  {title}", e.code)).clicked() {
            l.label = crate::taxonomy::Taxonomy::label_of(e);
            pushed.push(Ann::SetLabel(key, l.label.clone(), l.note.clone()));
        }
    }
}
