//! The chart section of the details panel: the photo's link (status, reason, confidence),
//! the patient's research ID (never the chart number), the visit, the chart and pathology
//! diagnoses (named in the person's language where the taxonomy has the code) and whether
//! the patient opted out. Read on the store thread.

use super::i18n::{Lang, T};
use super::photo_answer::PhotoAnswer;
use crate::charts::link::{LinkReason, LinkStatus};
use crate::charts::records::RecordKind;
use crate::store::thread::StoreThread;
use crate::store::{PATHOLOGY_WINDOW_DAYS, Store};
use crate::taxonomy::Taxonomy;

/// A diagnosis as the panel shows it: the chart's text, the taxonomy's code and names.
#[derive(Clone, Debug, PartialEq)]
pub struct Dx {
    pub text: String,
    pub code: Option<String>,
    pub en: Option<String>,
    pub ja: Option<String>,
}

impl Dx {
    /// The name in the person's language where the taxonomy has one, else the chart's text.
    pub fn shown(&self, lang: Lang) -> String {
        let name = match lang {
            Lang::Ja => self.ja.as_ref().or(self.en.as_ref()),
            Lang::En => self.en.as_ref(),
        };
        match (name, &self.code) {
            (Some(n), Some(c)) if *n != self.text => format!("{n} ({c}) — {}", self.text),
            (Some(n), Some(c)) => format!("{n} ({c})"),
            _ => self.text.clone(),
        }
    }
}

/// What the charts say about one photo. No chart number: only the research ID.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartFacts {
    pub status: LinkStatus,
    pub reason: LinkReason,
    pub confidence: f64,
    pub research_id: Option<String>,
    pub visit_date: Option<String>,
    pub chart_dx: Option<Dx>,
    pub pathology_dx: Option<Dx>,
    pub opted_out: bool,
}

fn dx(text: &str, code: Option<&str>, synonyms: &std::collections::HashMap<String, String>) -> Dx {
    let tax = Taxonomy::get();
    let code = tax.map(text, code, synonyms).map(|(c, _)| c);
    let entry = code.as_deref().and_then(|c| tax.entry(c));
    Dx { text: text.to_owned(), en: entry.map(|e| e.en.clone()), ja: entry.and_then(|e| e.ja.clone()), code }
}

/// Reads the chart facts of a photo (on the store thread): None when it was never linked.
pub fn load(s: &Store, photo_id: i64) -> crate::Result<Option<ChartFacts>> {
    let Some(l) = s.link_of(photo_id)? else { return Ok(None) };
    let synonyms = s.diagnosis_synonyms()?;
    let (mut chart_dx, mut pathology_dx) = (None, None);
    if let (true, Some(pid), Some(visit)) = (l.status.is_linked(), l.patient_id, l.visit_date.as_deref()) {
        let day = crate::charts::dates::Date::from_iso(visit).map(|d| d.days());
        let records = s.patient_records(pid)?;
        chart_dx = records
            .iter()
            .find(|r| r.kind == RecordKind::Visit && r.date == visit && (!r.text.is_empty() || r.code.is_some()))
            .map(|r| dx(&r.text, r.code.as_deref(), &synonyms));
        // The biopsy nearest the visit within the pathology window (the store's own rule).
        pathology_dx = records
            .iter()
            .filter(|r| r.kind == RecordKind::Pathology && !r.text.is_empty())
            .filter_map(|r| {
                let gap = (crate::charts::dates::Date::from_iso(&r.date)?.days() - day?).abs();
                (gap <= PATHOLOGY_WINDOW_DAYS).then_some((gap, r))
            })
            .min_by_key(|(gap, r)| (*gap, r.id))
            .map(|(_, r)| dx(&r.text, r.code.as_deref(), &synonyms));
    }
    Ok(Some(ChartFacts {
        status: l.status,
        reason: l.reason,
        confidence: l.confidence,
        research_id: l.research_id,
        visit_date: l.visit_date.filter(|_| l.status.is_linked()),
        chart_dx,
        pathology_dx,
        opted_out: s.photo_opted_out(photo_id)?,
    }))
}

/// The photo whose chart facts are shown, and the answer on its way.
pub type ChartDetails = PhotoAnswer<ChartFacts>;

impl ChartDetails {
    pub fn show(&mut self, want: Option<i64>, store: &StoreThread) {
        self.follow(want, |id| store.ask(move |s| load(s, id)));
    }
}

pub fn status_key(s: LinkStatus) -> T {
    match s {
        LinkStatus::Linked => T::LinkLinked,
        LinkStatus::Ambiguous => T::LinkAmbiguous,
        LinkStatus::Missing => T::LinkMissing,
        LinkStatus::Confirmed => T::LinkConfirmed,
        LinkStatus::Unlinked => T::LinkUnlinked,
    }
}

pub fn reason_key(r: LinkReason) -> T {
    match r {
        LinkReason::SameDay => T::LinkWhySameDay,
        LinkReason::WithinWindow => T::LinkWhyWithinWindow,
        LinkReason::Person => T::LinkWhyPerson,
        LinkReason::NoChartNumber => T::LinkWhyNoChartNumber,
        LinkReason::ConflictingChartNumbers => T::LinkWhyConflicting,
        LinkReason::UnknownPatient => T::LinkWhyUnknownPatient,
        LinkReason::NoDate => T::LinkWhyNoDate,
        LinkReason::DatesDisagree => T::LinkWhyDatesDisagree,
        LinkReason::NoVisitInWindow => T::LinkWhyNoVisit,
        LinkReason::SeveralVisits => T::LinkWhySeveralVisits,
    }
}

pub fn kind_key(k: &str) -> T {
    match k {
        "visit" => T::KindVisit,
        "pathology" => T::KindPathology,
        "prescription" => T::KindPrescription,
        "treatment" => T::KindTreatment,
        "adverse_event" => T::KindAdverseEvent,
        "photo" => T::KindPhoto,
        _ => T::KindNote,
    }
}

/// The chart section, inside the details panel's scroll area.
pub fn section(ui: &mut egui::Ui, lang: Lang, c: &ChartDetails, width: f32) {
    egui::CollapsingHeader::new(lang.t(T::Chart)).default_open(true).show(ui, |ui| {
        if let Some(e) = &c.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some(f) = c.value() else {
            if c.is_loading() {
                ui.spinner();
            } else {
                ui.label(lang.t(T::NotLinkedYet));
            }
            return;
        };
        egui::Grid::new("chart_facts").num_columns(2).striped(true).max_col_width(width * 0.62).show(ui, |ui| {
            ui.label(lang.t(T::LinkStatusLabel));
            ui.label(format!(
                "{} — {} ({:.0}%)",
                lang.t(status_key(f.status)),
                lang.t(reason_key(f.reason)),
                f.confidence * 100.0
            ));
            ui.end_row();
            ui.label(lang.t(T::ResearchId));
            ui.label(egui::RichText::new(f.research_id.as_deref().unwrap_or("—")).monospace());
            ui.end_row();
            ui.label(lang.t(T::VisitDate));
            ui.label(f.visit_date.as_deref().unwrap_or("—"));
            ui.end_row();
            ui.label(lang.t(T::OptedOut));
            if f.opted_out {
                ui.colored_label(ui.visuals().error_fg_color, lang.t(T::OptedOutYes));
            } else {
                ui.label(lang.t(T::OptedOutNo));
            }
            ui.end_row();
        });
        // The diagnoses under the grid, each the panel's full width: an ICD-10 name with its
        // Japanese beside it is too long for the grid's value column.
        for (label, dx) in [(T::ChartDiagnosis, &f.chart_dx), (T::PathologyDiagnosis, &f.pathology_dx)] {
            ui.add_space(2.0);
            ui.label(egui::RichText::new(lang.t(label)).weak());
            ui.add(egui::Label::new(dx.as_ref().map(|d| d.shown(lang)).unwrap_or_else(|| "—".into())).wrap());
        }
    });
}
