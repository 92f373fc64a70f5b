//! The egui app. `App` holds a small serialisable state plus handles to background work;
//! `logic` (commands, jobs, queries) is apart from `ui` (panels, one file each).

mod add_folder;
pub mod annotate;
pub mod annotator;
mod app;
mod browser;
pub mod chart_details;
pub mod chart_import;
pub mod command;
mod details;
mod filters;
pub mod fonts;
mod help;
pub mod i18n;
mod import_log;
pub mod link_queue;
mod menu;
pub mod model_compare;
pub mod models_page;
pub mod occlusion;
mod outside_writes;
mod palette;
pub mod photo_answer;
pub mod predictions;
pub mod privacy_review;
mod privacy_review_ui;
mod query;
mod review_queue;
mod rules;
mod status;
mod thumb_cache;
pub mod timeline;
pub mod viewer;

pub use app::{App, AppConfig, DemoCharts, Overlay, UiState};

use crate::store::Store;
use std::path::PathBuf;

/// How the app is started (the command line's `dermdesk [gui]` options).
#[derive(Clone, Debug, Default)]
pub struct GuiOptions {
    /// Where the demo images are (default: DERMDESK_SHARED, then ../shared).
    pub demo: Option<PathBuf>,
    /// Do not import the demo archive on first run.
    pub no_demo: bool,
}

/// Opens the app window on the database; on first run (no database yet) imports the demo.
pub fn run(db: PathBuf, args: GuiOptions) -> anyhow::Result<()> {
    let first_run = !db.exists();
    let mut cfg = AppConfig::new(db.clone());
    if first_run && !args.no_demo {
        match crate::demo::shared_dir(args.demo.as_deref()) {
            Some(shared) => {
                cfg.import_on_start = crate::demo::sources(&shared);
                let out = db.parent().unwrap_or(std::path::Path::new(".")).join("demo-charts");
                cfg.demo_charts = Some(DemoCharts { shared, out });
            }
            None => eprintln!(
                "dermdesk: no demo images found (set DERMDESK_SHARED or --demo DIR); starting with an empty archive"
            ),
        }
    }
    let opened = Store::open_for_app(&db);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("dermdesk")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([640.0, 400.0]),
        ..Default::default()
    };
    let result = match opened {
        Ok(store) => eframe::run_native(
            "dermdesk",
            options,
            Box::new(move |cc| Ok(Box::new(App::new(&cc.egui_ctx, store, cfg)))),
        ),
        Err(e) => {
            let message = e.to_string();
            eprintln!("dermdesk: {message}");
            eframe::run_native(
                "dermdesk",
                options,
                Box::new(move |cc| Ok(Box::new(app::ErrorApp::new(&cc.egui_ctx, message)))),
            )
        }
    };
    result.map_err(|e| anyhow::anyhow!("the window could not open: {e}"))
}
