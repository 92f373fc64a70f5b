//! The link queue: photos the linker would not guess (ambiguous, or a chart number with no
//! visit), each shown beside the patient's chart rows around its day. A person confirms a
//! candidate visit, fixes the link (chart number and date, typed) or unlinks it, through the
//! store's own audited `confirm_link` / `fix_link` / `unlink`, as the command line does.
//! Keys: ↑/↓ move, ←/→ pick a visit, Enter confirms, U unlinks, Esc closes.

use super::app::App;
use super::chart_details::{kind_key, reason_key, status_key};
use super::command::{Command, LinkAct};
use super::i18n::{Lang, T};
use crate::charts::link::{DateSource, LinkReason, LinkStatus};
use crate::store::thread::{Pending, StoreThread};
use crate::store::{CandidateVisit, LinkRow};

/// How many queued links the panel reads at once.
const QUEUE_LIMIT: usize = 2000;

/// A queued link as the panel holds it: no chart number.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueRow {
    pub photo_id: i64,
    pub patient_id: Option<i64>,
    pub research_id: Option<String>,
    pub status: LinkStatus,
    pub reason: LinkReason,
    pub photo_date: Option<String>,
    pub date_source: Option<DateSource>,
    pub candidates: Vec<String>,
}

impl From<LinkRow> for QueueRow {
    fn from(l: LinkRow) -> QueueRow {
        QueueRow {
            photo_id: l.photo_id,
            patient_id: l.patient_id,
            research_id: l.research_id,
            status: l.status,
            reason: l.reason,
            photo_date: l.photo_date,
            date_source: l.date_source,
            candidates: l.candidates,
        }
    }
}

/// What is shown beside the selected row: the photo and the chart rows around its day.
#[derive(Clone, Debug)]
pub struct Side {
    pub photo_id: i64,
    pub hash: String,
    pub name: String,
    pub captured: Option<String>,
    /// The visits a person may pick, by date, with what the chart says on each.
    pub visits: Vec<CandidateVisit>,
}

#[derive(Default)]
pub struct LinkQueuePanel {
    loading: Option<Pending<Vec<QueueRow>>>,
    pub rows: Vec<QueueRow>,
    pub selected: usize,
    /// The candidate visit picked for the selected row.
    pub pick: usize,
    side_loading: Option<(i64, Pending<Side>)>,
    pub side: Option<Side>,
    pub fix_chart: String,
    pub fix_date: String,
    writing: Option<Pending<LinkRow>>,
    pub error: Option<String>,
    /// Bring the selected row into view on the next frame (after a key moved it), and only
    /// then, so that scrolling a long queue by hand is not pulled back.
    scroll_to_selected: bool,
}

impl LinkQueuePanel {
    pub fn open(&mut self, store: &StoreThread) {
        *self = LinkQueuePanel::default();
        self.reload(store);
    }

    fn reload(&mut self, store: &StoreThread) {
        self.loading = Some(store.ask(|s| Ok(s.link_queue(QUEUE_LIMIT)?.into_iter().map(QueueRow::from).collect())));
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some() || self.side_loading.is_some() || self.writing.is_some()
    }

    pub fn selected_row(&self) -> Option<&QueueRow> {
        self.rows.get(self.selected)
    }

    /// The visit date picked for the selected row, when its chart rows are in.
    pub fn picked_visit(&self) -> Option<String> {
        let side = self.side.as_ref().filter(|s| Some(s.photo_id) == self.selected_row().map(|r| r.photo_id))?;
        side.visits.get(self.pick).map(|v| v.date.clone())
    }

    /// Enter: confirm the picked visit of the selected row.
    pub fn confirm_command(&self) -> Option<Command> {
        let r = self.selected_row()?;
        Some(Command::LinkQueue(LinkAct::Confirm { photo_id: r.photo_id, visit: self.picked_visit() }))
    }

    pub fn unlink_command(&self) -> Option<Command> {
        self.selected_row().map(|r| Command::LinkQueue(LinkAct::Unlink(r.photo_id)))
    }

    /// Polls the answers; returns the link a write stored (or its error) once it is in.
    pub fn poll(&mut self, store: &StoreThread) -> Option<Result<LinkRow, String>> {
        if let Some(p) = &self.loading
            && p.ready().is_some()
        {
            let p = self.loading.take().expect("checked above");
            match p.block_and_take() {
                Ok(rows) => {
                    self.rows = rows;
                    self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
        if let Some((_, p)) = &self.side_loading
            && p.ready().is_some()
        {
            let (id, p) = self.side_loading.take().expect("checked above");
            match p.block_and_take() {
                Ok(side) if Some(id) == self.selected_row().map(|r| r.photo_id) => {
                    // The suggested visit first: the one on the photo's day, else the first candidate.
                    let row = self.selected_row().cloned();
                    self.pick = row
                        .and_then(|r| {
                            let want = r.candidates.first().cloned().or(r.photo_date.clone())?;
                            side.visits.iter().position(|v| v.date == want)
                        })
                        .unwrap_or(0);
                    self.side = Some(side);
                }
                Ok(_) => {}
                Err(e) => self.error = Some(e),
            }
        }
        let wanted = self.selected_row().cloned();
        let shown = self.side.as_ref().map(|s| s.photo_id);
        let asked = self.side_loading.as_ref().map(|(id, _)| *id);
        if let Some(r) = wanted
            && shown != Some(r.photo_id)
            && asked != Some(r.photo_id)
        {
            self.side = None;
            self.side_loading = Some((r.photo_id, store.ask(move |s| side_of(s, &r))));
        }
        if self.writing.as_ref().is_some_and(|p| p.ready().is_some()) {
            let done = self.writing.take().expect("checked above").block_and_take();
            if done.is_ok() {
                self.side = None;
                self.fix_chart.clear();
                self.fix_date.clear();
                self.reload(store);
            }
            return Some(done);
        }
        None
    }

    /// Runs one of the panel's actions (writes go to the store thread).
    pub fn run(&mut self, act: LinkAct, store: &StoreThread) {
        match act {
            LinkAct::Select(i) => {
                if i < self.rows.len() {
                    self.selected = i;
                }
            }
            LinkAct::Move(d) => {
                if !self.rows.is_empty() {
                    self.selected = (self.selected as isize + d).clamp(0, self.rows.len() as isize - 1) as usize;
                    self.scroll_to_selected = true;
                }
            }
            LinkAct::Pick(i) => self.pick = i,
            LinkAct::PickStep(d) => {
                let n = self.side.as_ref().map_or(0, |s| s.visits.len());
                if n > 0 {
                    self.pick = (self.pick as isize + d).clamp(0, n as isize - 1) as usize;
                }
            }
            LinkAct::Confirm { photo_id, visit } => {
                self.writing = Some(store.ask(move |s| s.confirm_link(photo_id, visit.as_deref())));
            }
            LinkAct::Fix { photo_id, chart, date } => {
                self.writing = Some(store.ask(move |s| s.fix_link(photo_id, &chart, &date)));
            }
            LinkAct::Unlink(photo_id) => {
                self.writing = Some(store.ask(move |s| s.unlink(photo_id)));
            }
        }
    }
}

/// The photo and the chart rows around its day (on the store thread).
fn side_of(s: &crate::store::Store, r: &QueueRow) -> crate::Result<Side> {
    let d = s.photo(r.photo_id)?;
    let (hash, name, captured) = match &d {
        Some(d) => (
            d.row.hash.clone(),
            d.row.paths.first().or(d.row.missing_paths.first()).map(|p| crate::store::file_name(p).to_owned()),
            d.row.captured_at.clone(),
        ),
        None => (String::new(), None, None),
    };
    let mut visits: Vec<CandidateVisit> = Vec::new();
    if let Some(pid) = r.patient_id {
        let window = s.link_window_days()?;
        let mut days: Vec<(String, i64)> = r.candidates.iter().map(|c| (c.clone(), 0)).collect();
        if let Some(day) = &r.photo_date {
            days.push((day.clone(), window));
        }
        for (day, w) in days {
            for v in s.visits_near(pid, &day, w)? {
                if !visits.iter().any(|x| x.date == v.date) {
                    visits.push(v);
                }
            }
        }
        visits.sort_by(|a, b| a.date.cmp(&b.date));
    }
    Ok(Side { photo_id: r.photo_id, hash, name: name.unwrap_or_default(), captured, visits })
}

fn source_key(s: DateSource) -> T {
    match s {
        DateSource::Exif => T::DateFromExif,
        DateSource::Path => T::DateFromPath,
        DateSource::File => T::DateFromFile,
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let mut open = true;
    let mut push: Vec<Command> = Vec::new();
    let side_hash = app.link_queue.side.as_ref().map(|s| s.hash.clone());
    let tex = side_hash.filter(|h| !h.is_empty()).and_then(|h| app.thumbs.get(&h));
    let q = &mut app.link_queue;
    egui::Window::new(lang.t(T::LinkQueue))
        .id(egui::Id::unique("link_queue"))
        .open(&mut open)
        .default_size([900.0, 560.0])
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(lang.t(T::LinkQueueHelp)).small());
            if let Some(e) = &q.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if q.rows.is_empty() {
                if q.loading.is_some() {
                    ui.spinner();
                } else {
                    ui.label(lang.t(T::LinkQueueEmpty));
                }
                return;
            }
            ui.label(lang.count(T::LinksWaiting, T::OneLinkWaiting, q.rows.len()));
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(300.0);
                    egui::ScrollArea::vertical().id_salt("queue_rows").max_height(440.0).show_rows(
                        ui,
                        20.0,
                        q.rows.len(),
                        |ui, range| {
                            for i in range {
                                let r = &q.rows[i];
                                let text = format!(
                                    "#{} · {} · {}",
                                    r.photo_id,
                                    lang.t(status_key(r.status)),
                                    lang.t(reason_key(r.reason))
                                );
                                let resp = ui.selectable_label(i == q.selected, text);
                                if resp.clicked() {
                                    push.push(Command::LinkQueue(LinkAct::Select(i)));
                                }
                                if i == q.selected && q.scroll_to_selected {
                                    resp.scroll_to_me(None);
                                    q.scroll_to_selected = false;
                                }
                            }
                        },
                    );
                });
                ui.separator();
                ui.vertical(|ui| side(ui, lang, q, tex.as_ref(), &mut push));
            });
        });
    if !open {
        push.push(Command::ToggleLinkQueue);
    }
    for c in push {
        app.push(c);
    }
}

fn side(
    ui: &mut egui::Ui,
    lang: Lang,
    q: &mut LinkQueuePanel,
    tex: Option<&egui::TextureHandle>,
    push: &mut Vec<Command>,
) {
    let Some(r) = q.selected_row().cloned() else { return };
    ui.horizontal_top(|ui| {
        let size = egui::vec2(180.0, 180.0);
        match tex {
            Some(t) => {
                ui.add(egui::Image::new((t.id(), t.size_vec2())).fit_to_exact_size(size).maintain_aspect_ratio(true));
            }
            None => {
                let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                ui.painter().rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
            }
        }
        ui.vertical(|ui| {
            if let Some(s) = q.side.as_ref().filter(|s| s.photo_id == r.photo_id) {
                ui.strong(&s.name);
                ui.label(format!("{}: {}", lang.t(T::Captured), s.captured.as_deref().unwrap_or("—")));
            }
            ui.label(format!("{}: {}", lang.t(T::ResearchId), r.research_id.as_deref().unwrap_or("—")));
            let src = r.date_source.map(|s| lang.t(source_key(s))).unwrap_or("—");
            ui.label(format!("{}: {} ({src})", lang.t(T::PhotoDay), r.photo_date.as_deref().unwrap_or("—")));
            ui.label(format!("{} — {}", lang.t(status_key(r.status)), lang.t(reason_key(r.reason))));
        });
    });
    ui.separator();
    ui.strong(lang.t(T::CandidateVisits));
    match q.side.as_ref().filter(|s| s.photo_id == r.photo_id) {
        None => {
            ui.spinner();
        }
        Some(s) if s.visits.is_empty() => {
            ui.label(lang.t(T::NoCandidates));
        }
        Some(s) => {
            egui::ScrollArea::vertical().id_salt("candidates").max_height(220.0).show(ui, |ui| {
                for (i, v) in s.visits.iter().enumerate() {
                    let title = if r.candidates.contains(&v.date) { format!("{} ★", v.date) } else { v.date.clone() };
                    if ui.radio(q.pick == i, egui::RichText::new(title).strong()).clicked() {
                        push.push(Command::LinkQueue(LinkAct::Pick(i)));
                    }
                    for rec in &v.records {
                        let code = rec.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
                        ui.label(
                            egui::RichText::new(format!(
                                "    {}: {}{code}",
                                lang.t(kind_key(rec.kind.as_str())),
                                rec.text
                            ))
                            .small(),
                        );
                    }
                }
            });
        }
    }
    ui.separator();
    ui.horizontal(|ui| {
        let can_confirm = r.patient_id.is_some() && q.picked_visit().is_some() && q.writing.is_none();
        if ui.add_enabled(can_confirm, egui::Button::new(lang.t(T::ConfirmLink))).clicked()
            && let Some(c) = q.confirm_command()
        {
            push.push(c);
        }
        if ui.add_enabled(q.writing.is_none(), egui::Button::new(lang.t(T::UnlinkPhoto))).clicked()
            && let Some(c) = q.unlink_command()
        {
            push.push(c);
        }
    });
    ui.add_space(4.0);
    ui.label(egui::RichText::new(lang.t(T::FixLinkHelp)).small());
    ui.horizontal(|ui| {
        let l = ui.label(lang.t(T::ChartNumber));
        ui.add(egui::TextEdit::singleline(&mut q.fix_chart).desired_width(110.0)).labelled_by(l.id);
        let l = ui.label(lang.t(T::VisitDate));
        ui.add(egui::TextEdit::singleline(&mut q.fix_date).desired_width(100.0).hint_text("YYYY-MM-DD"))
            .labelled_by(l.id);
        let ready = !q.fix_chart.trim().is_empty() && !q.fix_date.trim().is_empty() && q.writing.is_none();
        if ui.add_enabled(ready, egui::Button::new(lang.t(T::FixLink))).clicked() {
            push.push(Command::LinkQueue(LinkAct::Fix {
                photo_id: r.photo_id,
                chart: q.fix_chart.trim().to_owned(),
                date: q.fix_date.trim().to_owned(),
            }));
        }
    });
}
