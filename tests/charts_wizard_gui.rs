//! The chart import wizard fixed by typing and choosing (issue 16): a path typed and
//! previewed with Enter, the bad rows' reasons shown, the wrong date column replaced and a
//! column that holds something else set back to none in the wizard, the preview updated,
//! then the import, whose total (records per kind, bad rows and why) the wizard shows.
//! The CSV is invented here.

mod common;
use common::gui::*;
use dermdesk::charts::Field;
use dermdesk::ui::Overlay;
use dermdesk::ui::command::Command;
use egui::Key;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

/// 受診日 holds the reception desk's session (午前/午後), the real day is in 実日付 (not a
/// recognised header), 部位 holds the examination room rather than a body site, and one row's
/// chart number is a name: the one bad row left once the mapping is right.
const CSV: &str = "患者ID,受診日,実日付,病名,部位\n\
                   00123,午前,2010/04/01,色素性母斑,第2診察室\n\
                   00123,午後,H22.04.15,色素性母斑,第2診察室\n\
                   4567,午前,2011-01-20,基底細胞癌,第1診察室\n\
                   山田,午前,2011-01-21,脂漏性角化症,第1診察室\n";

fn preview_map(a: &dermdesk::ui::App) -> Option<dermdesk::charts::mapping::ColumnMap> {
    a.chart_import.shown.as_ref()?.preview.as_ref()?.map.clone()
}

#[test]
fn a_bad_mapping_is_fixed_in_the_wizard_and_the_import_shows_its_total() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.sqlite");
    let file = dir.path().join("外来.csv");
    std::fs::write(&file, CSV).unwrap();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the empty app", |_| true);
    h.state_mut().push(Command::ToggleChartImport);
    settle(&mut h, "the wizard", |a| a.is_open(Overlay::ChartImport));

    // The path typed, Enter previews it.
    h.get_by_label("File or SS-MIX2 folder").focus();
    h.run_steps(1);
    h.event(egui::Event::Text(file.display().to_string()));
    h.key_press(Key::Enter);
    settle(&mut h, "the first preview", |a| a.chart_import.shown.is_some() || a.chart_import.error.is_some());
    let shown = h.state().chart_import.shown.clone().expect("a preview");
    assert_eq!(shown.bad.len(), 4, "every row is bad with 受診日 as the date: {:?}", shown.bad);
    assert_eq!(shown.bad.iter().filter(|b| b.reason.contains("not a date")).count(), 3, "{:?}", shown.bad);
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("date: not a date: \"午前\"").next().is_some(), "the reason is on screen");
    save_screen(&mut h, "charts_wizard_bad_en");

    // date → column 3, chosen in its drop-down.
    h.get_by_role_and_label(Role::ComboBox, "date").click();
    h.run_steps(2);
    h.get_by_label("3 実日付").click();
    settle(&mut h, "the preview with the right date column", |a| {
        preview_map(a).and_then(|m| m.get(Field::Date)) == Some(2)
    });
    let shown = h.state().chart_import.shown.clone().unwrap();
    assert_eq!(shown.bad.len(), 1, "{:?}", shown.bad);
    assert!(shown.bad[0].at == "line 5" && shown.bad[0].reason.contains("not a chart number"), "{:?}", shown.bad);
    // site → no column: the recognised 部位 header holds rooms, not body sites.
    assert_eq!(preview_map(h.state()).and_then(|m| m.get(Field::Site)), Some(4));
    h.get_by_role_and_label(Role::ComboBox, "site").click();
    h.run_steps(2);
    h.get_by_label("(no column: not read)").click();
    settle(&mut h, "the preview without the site", |a| {
        preview_map(a).is_some_and(|m| m.get(Field::Site).is_none() && m.get(Field::Date) == Some(2))
    });
    h.run_steps(2);
    save_screen(&mut h, "charts_wizard_fixed_en");

    h.get_by_label("Import").click();
    settle(&mut h, "the import", |a| a.chart_import.total.is_some());
    let total = h.state().chart_import.total.clone().unwrap();
    let c = &total.counts;
    assert_eq!((c.rows, c.records_new, c.patients_new, c.bad_rows), (3, 3, 2, 1), "{c:?}");
    assert_eq!(c.by_kind.get(&dermdesk::charts::records::RecordKind::Visit), Some(&3), "{c:?}");
    h.run_steps(2);
    for shown in ["Import total", "Rows read", "Visit", "Bad rows", "line 5: not a chart number"] {
        assert!(h.query_all_by_label_contains(shown).next().is_some(), "{shown:?} is on screen");
    }
    save_screen(&mut h, "charts_wizard_total_en");

    // What went in: the days from 実日付 (an era date too), and no room as a site.
    let store = dermdesk::Store::open(&db).unwrap();
    let p = store.patient_by_chart_no("123").unwrap().expect("patient 00123");
    let recs = store.patient_records(p.id).unwrap();
    let days: Vec<&str> = recs.iter().map(|r| r.date.as_str()).collect();
    assert_eq!(days, ["2010-04-01", "2010-04-15"]);
    assert!(recs.iter().all(|r| r.site.is_none()), "{recs:?}");
}
