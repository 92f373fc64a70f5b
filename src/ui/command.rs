//! Everything a person can do goes through one `Command`: buttons, menus, shortcuts and
//! the command palette push commands onto a queue, and `App::logic` drains it.

use super::app::Overlay;
use super::i18n::{Lang, T};
use super::privacy_review::DrawTool;
use crate::masks::{ReviewAction, Role};
use crate::modality::Modality;
use crate::store::{PhotoFilter, Shape};
use egui::{Key, KeyboardShortcut, Modifiers, Pos2};
use std::path::PathBuf;

/// How a click on a grid cell changes the selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// The cell alone (a plain click).
    Only,
    /// Add or remove the cell (Ctrl+click).
    Toggle,
    /// Add the cells from the anchor to this one (Shift+click).
    Range,
    /// Keep the selection when it holds the cell, else the cell alone (a right-click, whose
    /// menu then acts on what is selected and shown).
    KeepIfSelected,
}

/// The annotation panel's tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    Brush,
    Eraser,
    Polygon,
    Lasso,
    Wand,
    Smart,
    Pan,
}

impl Tool {
    pub const ALL: [Tool; 7] =
        [Tool::Brush, Tool::Eraser, Tool::Polygon, Tool::Lasso, Tool::Wand, Tool::Smart, Tool::Pan];

    pub fn key(self) -> T {
        match self {
            Tool::Brush => T::ToolBrush,
            Tool::Eraser => T::ToolEraser,
            Tool::Polygon => T::ToolPolygon,
            Tool::Lasso => T::ToolLasso,
            Tool::Wand => T::ToolWand,
            Tool::Smart => T::ToolSmart,
            Tool::Pan => T::ToolPan,
        }
    }
}

/// What the annotation panel does. Positions are in image pixels; lesions go by the
/// panel's key (new ones have no database id until the writer answers).
#[derive(Clone, Debug, PartialEq)]
pub enum Ann {
    SetTool(Tool),
    BrushBigger,
    BrushSmaller,
    Undo,
    Redo,
    NewLesion,
    Select(u64),
    ToggleVisible(u64),
    ShowAll(bool),
    ToggleOutline,
    Opacity(f32),
    Tolerance(u8),
    StrokeBegin(Pos2),
    StrokeTo(Pos2),
    StrokeEnd,
    PolygonPoint(Pos2),
    PolygonClose,
    PolygonCancel,
    /// The wand at a point: add (true) or take away (false) the region.
    Wand(Pos2, bool),
    SmartClick(Pos2),
    SmartBox(Pos2, Pos2),
    FillHoles,
    /// The newest segmentation model proposes the lesion (an undoable edit).
    Propose,
    SetLabel(u64, String, String),
    Review(u64, ReviewAction, Option<Role>, String),
    Delete(u64),
}

/// What the link queue does (charts): the row and candidate visit shown, and a person's
/// decision, written through the store's audited confirm / fix / unlink.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkAct {
    Select(usize),
    Move(isize),
    /// Pick a candidate visit of the selected row.
    Pick(usize),
    PickStep(isize),
    /// Confirm the photo's link to its patient at this visit (None: the suggested one).
    Confirm {
        photo_id: i64,
        visit: Option<String>,
    },
    /// Link the photo by hand to the patient with this (typed) chart number at a date.
    Fix {
        photo_id: i64,
        chart: String,
        date: String,
    },
    Unlink(i64),
}

/// What the privacy review panel does (`privacy_review.rs`). Decisions act on the current
/// photo, or in the grid on every ticked one. Shapes are in the upright photo's pixels.
#[derive(Clone, Debug, PartialEq)]
pub enum Pv {
    Clear,
    Exclude,
    /// Black out every face and text box found (those no shape covers yet), then mark the
    /// photo redacted.
    Redact,
    /// Mark the photo redacted with the shapes on it as they are, adding nothing.
    RedactAsDrawn,
    /// Add every face and telling text box found as a redaction (adjustable), deciding nothing.
    AcceptFound,
    /// Add one found box as a redaction.
    AcceptBox([f32; 4]),
    Next,
    Prev,
    /// Undo the last decision (back to pending) or shape added, changed or removed.
    Undo,
    ToggleGrid,
    /// Tick or untick the current photo (grid).
    ToggleCheck,
    CheckAll,
    Reload,
    /// Make a queue entry current.
    Select(usize),
    /// Tick or untick a photo by id (its checkbox).
    Check(i64),
    SetFilter(super::privacy_review::PvFilter),
    /// What a drag or clicks on the photo draw: rectangles, polygons, the crop.
    SetTool(DrawTool),
    /// Black or pixelate: the selected shape's fill and that of the shapes drawn next.
    ToggleFill,
    /// A shape drawn on the current photo; a crop replaces the photo's crop.
    AddShape(Shape),
    /// A redaction moved, resized or refilled.
    ChangeShape(i64, Shape),
    /// Show a redaction's handles (None: no redaction).
    SelectShape(Option<i64>),
    RemoveSelected,
    RemoveRedaction(i64),
    /// A corner of the polygon being drawn.
    PolygonPoint([f32; 2]),
    /// Close the polygon (three corners at least) and add it.
    PolygonClose,
    /// Take back the polygon's last corner.
    PolygonBack,
    PolygonCancel,
}

impl Pv {
    /// The panel's commands that stand alone, in the order the palette lists them (Shift+R
    /// before R: a shortcut without Shift also matches with it).
    pub const KEYED: [Pv; 16] = [
        Pv::Clear,
        Pv::Exclude,
        Pv::RedactAsDrawn,
        Pv::Redact,
        Pv::AcceptFound,
        Pv::SetTool(DrawTool::Rect),
        Pv::SetTool(DrawTool::Polygon),
        Pv::SetTool(DrawTool::Crop),
        Pv::ToggleFill,
        Pv::RemoveSelected,
        Pv::Next,
        Pv::Prev,
        Pv::Undo,
        Pv::ToggleGrid,
        Pv::ToggleCheck,
        Pv::CheckAll,
    ];
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    AddFolder,
    /// The system's folder picker (from the Add-folder window).
    BrowseFolder,
    Import(Vec<PathBuf>),
    ResumeImports,
    MakeThumbnails,
    CancelJob(u64),
    Refresh,
    Quit,
    ToggleCommandPalette,
    ToggleImportLog,
    ToggleRules,
    /// Save the rule editor's rules (and apply them).
    SaveRules,
    ToggleDetails,
    ToggleFilters,
    ToggleHelp,
    CloseOverlay(Overlay),
    ToggleLanguage,
    SetLanguage(Lang),
    Open(i64),
    OpenFocused,
    CloseViewer,
    Next,
    Prev,
    /// Focus a grid cell and change the selection.
    Focus {
        index: usize,
        select: Select,
    },
    SelectAll,
    ClearSelection,
    SetModality(Modality),
    /// Back to the automatic modality (folder rules, then image cues).
    ResetModality,
    /// Undo the last modality change.
    Undo,
    ZoomIn,
    ZoomOut,
    ZoomFit,
    ZoomActual,
    ClearFilters,
    SetFilter(Box<PhotoFilter>),
    FocusSearch,
    LargerThumbs,
    SmallerThumbs,
    /// Write the import log's refused files as CSV.
    ExportImportLog(PathBuf),
    /// Draw lesion masks on the viewed (or focused) photo.
    Annotate,
    CloseAnnotator,
    Annotation(Ann),
    ToggleReviewQueue,
    /// Open a photo in the annotation panel with one of its lesions active (review queue).
    OpenLesion {
        photo_id: i64,
        lesion_id: i64,
    },
    /// The link queue (charts): ambiguous and missing links beside the chart rows.
    ToggleLinkQueue,
    LinkQueue(LinkAct),
    /// The patient timeline of the photo on screen.
    ToggleTimeline,
    /// The chart import wizard.
    ToggleChartImport,
    ChartImport(ChartImportAct),
    /// Link every photo to the charts (`dermdesk link`), as a background job.
    RunLinking,
    /// Run every registered classifier and segmenter over the photos the release gate allows
    /// (`dermdesk infer`), as a background job.
    RunModels,
    /// The Models window: registered models with their cards, and adding one's own.
    ToggleModels,
    /// Check and add the model whose card the Models window names (`dermdesk models add`).
    AddModel,
    /// Remove a model version of one's own and its results (`dermdesk models remove`), as the
    /// Models window's confirmation asks.
    RemoveModel {
        name: String,
        version: String,
    },
    /// Show, hide (or, while it is computed, cancel) the classifier's occlusion heatmap over
    /// the photo in the viewer (`ui/occlusion.rs`).
    ToggleHeatmap,
    /// Start the privacy screening job in the background.
    ScreenPhotos,
    /// Run the modality model over photos imported before it (or without it, or guessed by an
    /// older version of it) and decide their modality again, as a background job
    /// (`dermdesk modality redetect`).
    RedetectModality,
    TogglePrivacyReview,
    Privacy(Pv),
}

/// What the chart import wizard does.
#[derive(Clone, Debug, PartialEq)]
pub enum ChartImportAct {
    /// The system's file picker.
    Browse,
    /// Read the file at the typed path: encoding, columns, first rows, bad rows.
    Preview,
    /// Map a field to a column, to none, or back to what the headers say; then preview again.
    Map(crate::charts::Field, super::chart_import::MapTo),
    SetEncoding(crate::charts::EncodingChoice),
    /// Import the previewed file as a background job.
    Import,
}

impl Command {
    /// Commands that stand alone (no argument), in the order the palette lists them.
    pub fn palette() -> Vec<Command> {
        let mut all = vec![
            Command::AddFolder,
            Command::ResumeImports,
            Command::MakeThumbnails,
            Command::Refresh,
            Command::OpenFocused,
            Command::CloseViewer,
            Command::Next,
            Command::Prev,
            Command::SelectAll,
            Command::ClearSelection,
        ];
        all.extend(Modality::ALL.iter().map(|&m| Command::SetModality(m)));
        all.extend([Command::ResetModality, Command::Undo]);
        all.extend([
            Command::ZoomIn,
            Command::ZoomOut,
            Command::ZoomFit,
            Command::ZoomActual,
            Command::LargerThumbs,
            Command::SmallerThumbs,
            Command::ClearFilters,
            Command::FocusSearch,
            Command::ToggleFilters,
            Command::ToggleDetails,
            Command::ToggleImportLog,
            Command::ToggleRules,
            Command::ToggleLanguage,
            Command::ToggleCommandPalette,
            Command::ToggleHelp,
            Command::Annotate,
            Command::CloseAnnotator,
            Command::ToggleReviewQueue,
            Command::ToggleLinkQueue,
            Command::ToggleTimeline,
            Command::ToggleChartImport,
            Command::RunLinking,
            Command::RunModels,
            Command::ToggleModels,
            Command::ToggleHeatmap,
            Command::ScreenPhotos,
            Command::TogglePrivacyReview,
            Command::RedetectModality,
        ]);
        all.extend(Pv::KEYED.into_iter().map(Command::Privacy));
        all.extend(Tool::ALL.iter().map(|&t| Command::Annotation(Ann::SetTool(t))));
        all.extend(
            [
                Ann::BrushBigger,
                Ann::BrushSmaller,
                Ann::Redo,
                Ann::Undo,
                Ann::NewLesion,
                Ann::FillHoles,
                Ann::Propose,
                Ann::ToggleOutline,
            ]
            .into_iter()
            .map(Command::Annotation),
        );
        all.push(Command::Quit);
        all
    }

    /// Commands that only mean something while the annotation panel is open.
    pub fn needs_annotator(&self) -> bool {
        matches!(self, Command::Annotation(_) | Command::CloseAnnotator)
    }

    /// Commands that only mean something while the privacy review panel is the topmost window.
    pub fn needs_privacy_review(&self) -> bool {
        matches!(self, Command::Privacy(_))
    }

    pub fn label(&self, lang: Lang) -> String {
        let key = match self {
            Command::AddFolder => T::AddFolder,
            Command::BrowseFolder => T::Browse,
            Command::Import(_) => T::JobImport,
            Command::ResumeImports => T::ResumeImports,
            Command::MakeThumbnails => T::MakeThumbnails,
            Command::CancelJob(_) => T::Cancel,
            Command::Refresh => T::Refresh,
            Command::Quit => T::Quit,
            Command::ToggleCommandPalette => T::CommandPalette,
            Command::ToggleImportLog => T::ImportLog,
            Command::ToggleRules => T::ModalityRules,
            Command::SaveRules => T::Save,
            Command::ToggleDetails => T::Details,
            Command::ToggleFilters => T::Filters,
            Command::ToggleHelp => T::Shortcuts,
            Command::CloseOverlay(_) => T::Close,
            Command::Focus { .. } => T::OpenPhoto,
            Command::ResetModality => T::ResetModality,
            Command::Undo => T::Undo,
            Command::SetFilter(_) => T::Filters,
            Command::ExportImportLog(_) => T::ExportCsv,
            Command::ToggleLanguage | Command::SetLanguage(_) => T::ToggleLanguage,
            Command::Open(_) | Command::OpenFocused => T::OpenPhoto,
            Command::CloseViewer => T::CloseViewer,
            Command::Next => T::NextPhoto,
            Command::Prev => T::PrevPhoto,
            Command::SelectAll => T::SelectAll,
            Command::ClearSelection => T::ClearSelection,
            Command::SetModality(m) => {
                return lang.f(T::SetModalityTo, &[("m", &lang.t(modality_key(*m)))]);
            }
            Command::ZoomIn => T::ZoomIn,
            Command::ZoomOut => T::ZoomOut,
            Command::ZoomFit => T::ZoomFit,
            Command::ZoomActual => T::ZoomActual,
            Command::ClearFilters => T::ClearFilters,
            Command::FocusSearch => T::FocusSearch,
            Command::LargerThumbs => T::LargerThumbs,
            Command::SmallerThumbs => T::SmallerThumbs,
            Command::Annotate | Command::OpenLesion { .. } => T::Annotate,
            Command::CloseAnnotator => T::CloseAnnotator,
            Command::ToggleReviewQueue => T::ReviewQueue,
            Command::ToggleLinkQueue => T::LinkQueue,
            Command::LinkQueue(a) => match a {
                LinkAct::Confirm { .. } => T::ConfirmLink,
                LinkAct::Fix { .. } => T::FixLink,
                LinkAct::Unlink(_) => T::UnlinkPhoto,
                _ => T::LinkQueue,
            },
            Command::ToggleTimeline => T::Timeline,
            Command::ToggleChartImport | Command::ChartImport(_) => T::ChartImport,
            Command::RunLinking => T::RunLinking,
            Command::RunModels => T::RunModels,
            Command::ToggleModels => T::ModelsWindow,
            Command::AddModel => T::Add,
            Command::RemoveModel { .. } => T::Remove,
            Command::ToggleHeatmap => T::HeatmapShow,
            Command::ScreenPhotos => T::ScreenPhotos,
            Command::RedetectModality => T::RedetectModality,
            Command::TogglePrivacyReview => T::PrivacyReview,
            Command::Privacy(p) => match p {
                Pv::Clear => T::PvClear,
                Pv::Exclude => T::PvExclude,
                Pv::Redact => T::PvRedact,
                Pv::RedactAsDrawn => T::PvRedactAsDrawn,
                Pv::AcceptFound | Pv::AcceptBox(_) => T::PvAcceptFound,
                Pv::Next | Pv::Select(_) => T::PvNext,
                Pv::Prev => T::PvPrev,
                Pv::Undo => T::PvUndo,
                Pv::ToggleGrid => T::PvGrid,
                Pv::ToggleCheck | Pv::Check(_) => T::PvCheck,
                Pv::CheckAll => T::PvCheckAll,
                Pv::Reload | Pv::SetFilter(_) => T::PvReload,
                Pv::SetTool(DrawTool::Rect) => T::PvToolRect,
                Pv::SetTool(DrawTool::Polygon) => T::PvToolPolygon,
                Pv::SetTool(DrawTool::Crop) => T::PvToolCrop,
                Pv::ToggleFill => T::PvToggleFill,
                Pv::AddShape(_) | Pv::SelectShape(_) | Pv::ChangeShape(..) => T::PvDrawHint,
                Pv::RemoveSelected => T::PvRemoveSelected,
                Pv::RemoveRedaction(_) => T::Remove,
                Pv::PolygonPoint(_) | Pv::PolygonClose | Pv::PolygonBack | Pv::PolygonCancel => T::PvPolygonHint,
            },
            Command::Annotation(a) => match a {
                Ann::SetTool(t) => t.key(),
                Ann::BrushBigger => T::BrushBigger,
                Ann::BrushSmaller => T::BrushSmaller,
                Ann::Undo => T::MaskUndo,
                Ann::Redo => T::MaskRedo,
                Ann::NewLesion => T::NewLesion,
                Ann::FillHoles => T::FillHoles,
                Ann::Propose => T::ProposeLesion,
                Ann::ToggleOutline => T::OutlineOnly,
                _ => T::Annotate,
            },
        };
        lang.t(key).to_owned()
    }

    /// Global shortcuts (grid and viewer keys that depend on focus are handled by the panels).
    pub fn shortcut(&self) -> Option<KeyboardShortcut> {
        let cmd = Modifiers::COMMAND;
        let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
        Some(match self {
            Command::AddFolder => KeyboardShortcut::new(cmd, Key::O),
            Command::ToggleCommandPalette => KeyboardShortcut::new(cmd_shift, Key::P),
            Command::Refresh => KeyboardShortcut::new(Modifiers::NONE, Key::F5),
            Command::SelectAll => KeyboardShortcut::new(cmd, Key::A),
            Command::FocusSearch => KeyboardShortcut::new(cmd, Key::F),
            Command::ToggleLanguage => KeyboardShortcut::new(cmd_shift, Key::L),
            Command::ToggleImportLog => KeyboardShortcut::new(cmd_shift, Key::I),
            Command::ToggleDetails => KeyboardShortcut::new(cmd_shift, Key::D),
            Command::Undo => KeyboardShortcut::new(cmd, Key::Z),
            Command::ResetModality => KeyboardShortcut::new(Modifiers::ALT, Key::Num0),
            Command::ToggleHelp => KeyboardShortcut::new(Modifiers::NONE, Key::F1),
            Command::Quit => KeyboardShortcut::new(cmd, Key::Q),
            Command::Annotate => KeyboardShortcut::new(Modifiers::NONE, Key::M),
            Command::ToggleHeatmap => KeyboardShortcut::new(Modifiers::NONE, Key::H),
            Command::ToggleLinkQueue => KeyboardShortcut::new(cmd_shift, Key::K),
            Command::ToggleTimeline => KeyboardShortcut::new(cmd_shift, Key::T),
            Command::Privacy(p) => {
                let none = Modifiers::NONE;
                match p {
                    Pv::Clear => KeyboardShortcut::new(none, Key::C),
                    Pv::Exclude => KeyboardShortcut::new(none, Key::X),
                    Pv::RedactAsDrawn => KeyboardShortcut::new(Modifiers::SHIFT, Key::R),
                    Pv::Redact => KeyboardShortcut::new(none, Key::R),
                    Pv::AcceptFound => KeyboardShortcut::new(none, Key::A),
                    Pv::SetTool(DrawTool::Rect) => KeyboardShortcut::new(none, Key::B),
                    Pv::SetTool(DrawTool::Polygon) => KeyboardShortcut::new(none, Key::P),
                    Pv::SetTool(DrawTool::Crop) => KeyboardShortcut::new(none, Key::L),
                    Pv::ToggleFill => KeyboardShortcut::new(none, Key::F),
                    Pv::RemoveSelected => KeyboardShortcut::new(none, Key::Delete),
                    // → is the same (privacy_review::keys).
                    Pv::Next => KeyboardShortcut::new(none, Key::S),
                    Pv::Prev => KeyboardShortcut::new(none, Key::ArrowLeft),
                    Pv::Undo => KeyboardShortcut::new(cmd, Key::Z),
                    Pv::ToggleGrid => KeyboardShortcut::new(none, Key::G),
                    Pv::ToggleCheck => KeyboardShortcut::new(none, Key::Space),
                    Pv::CheckAll => KeyboardShortcut::new(cmd, Key::A),
                    _ => return None,
                }
            }
            Command::Annotation(a) => {
                let none = Modifiers::NONE;
                match a {
                    Ann::SetTool(Tool::Brush) => KeyboardShortcut::new(none, Key::B),
                    Ann::SetTool(Tool::Eraser) => KeyboardShortcut::new(none, Key::E),
                    Ann::SetTool(Tool::Polygon) => KeyboardShortcut::new(none, Key::P),
                    Ann::SetTool(Tool::Lasso) => KeyboardShortcut::new(none, Key::L),
                    Ann::SetTool(Tool::Wand) => KeyboardShortcut::new(none, Key::W),
                    Ann::SetTool(Tool::Smart) => KeyboardShortcut::new(none, Key::S),
                    // Held, it pans with any tool (annotate.rs); pressed in the palette, it
                    // picks the hand.
                    Ann::SetTool(Tool::Pan) => KeyboardShortcut::new(none, Key::Space),
                    Ann::BrushBigger => KeyboardShortcut::new(none, Key::CloseBracket),
                    Ann::BrushSmaller => KeyboardShortcut::new(none, Key::OpenBracket),
                    // Ctrl+Shift+Z before Ctrl+Z: consume_shortcut ignores extra Shift.
                    Ann::Redo => KeyboardShortcut::new(cmd_shift, Key::Z),
                    Ann::Undo => KeyboardShortcut::new(cmd, Key::Z),
                    Ann::NewLesion => KeyboardShortcut::new(none, Key::N),
                    Ann::FillHoles => KeyboardShortcut::new(none, Key::F),
                    Ann::Propose => KeyboardShortcut::new(none, Key::M),
                    Ann::ToggleOutline => KeyboardShortcut::new(none, Key::O),
                    _ => return None,
                }
            }
            Command::SetModality(m) => {
                let key = match m {
                    Modality::Clinical => Key::Num1,
                    Modality::Dermoscopy => Key::Num2,
                    Modality::Visia => Key::Num3,
                    Modality::Histopathology => Key::Num4,
                    Modality::Other => Key::Num5,
                };
                KeyboardShortcut::new(Modifiers::ALT, key)
            }
            _ => return None,
        })
    }
}

impl Command {
    /// Shortcuts that still work while a text field has the keyboard: they have Ctrl (or
    /// are function keys) and a text field has no use for them.
    pub fn works_while_typing(&self) -> bool {
        matches!(
            self,
            Command::AddFolder
                | Command::ToggleCommandPalette
                | Command::ToggleLanguage
                | Command::ToggleImportLog
                | Command::ToggleDetails
                | Command::ToggleHelp
                | Command::ToggleLinkQueue
                | Command::ToggleTimeline
                | Command::Refresh
                | Command::FocusSearch
                | Command::Quit
        )
    }

    /// Commands that act on the photos in the grid: never run from a key while a window
    /// covers the grid (the person cannot see what they would change).
    pub fn acts_on_photos(&self) -> bool {
        matches!(
            self,
            Command::SelectAll
                | Command::ClearSelection
                | Command::SetModality(_)
                | Command::ResetModality
                | Command::Undo
                | Command::OpenFocused
                | Command::Next
                | Command::Prev
                | Command::Annotate
                | Command::ToggleHeatmap
        )
    }
}

pub fn modality_key(m: Modality) -> T {
    match m {
        Modality::Clinical => T::Clinical,
        Modality::Dermoscopy => T::Dermoscopy,
        Modality::Visia => T::Visia,
        Modality::Histopathology => T::Histopathology,
        Modality::Other => T::Other,
    }
}
