//! Everything a person can do goes through one `Command`: buttons, menus, shortcuts and
//! the command palette push commands onto a queue, and `App::logic` drains it.

use super::i18n::{Lang, T};
use crate::masks::{ReviewAction, Role};
use crate::modality::Modality;
use egui::{Key, KeyboardShortcut, Modifiers, Pos2};
use std::path::PathBuf;

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
    SetLabel(u64, String, String),
    Review(u64, ReviewAction, Option<Role>, String),
    Delete(u64),
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
    ToggleDetails,
    ToggleFilters,
    ToggleLanguage,
    SetLanguage(Lang),
    Open(i64),
    OpenFocused,
    CloseViewer,
    Next,
    Prev,
    SelectAll,
    ClearSelection,
    SetModality(Modality),
    ZoomIn,
    ZoomOut,
    ZoomFit,
    ZoomActual,
    ClearFilters,
    FocusSearch,
    LargerThumbs,
    SmallerThumbs,
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
            Command::Annotate,
            Command::CloseAnnotator,
            Command::ToggleReviewQueue,
        ]);
        all.extend(Tool::ALL.iter().map(|&t| Command::Annotation(Ann::SetTool(t))));
        all.extend(
            [
                Ann::BrushBigger,
                Ann::BrushSmaller,
                Ann::Redo,
                Ann::Undo,
                Ann::NewLesion,
                Ann::FillHoles,
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
            Command::ToggleDetails => T::Details,
            Command::ToggleFilters => T::Filters,
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
            Command::Annotation(a) => match a {
                Ann::SetTool(t) => t.key(),
                Ann::BrushBigger => T::BrushBigger,
                Ann::BrushSmaller => T::BrushSmaller,
                Ann::Undo => T::Undo,
                Ann::Redo => T::Redo,
                Ann::NewLesion => T::NewLesion,
                Ann::FillHoles => T::FillHoles,
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
            Command::Quit => KeyboardShortcut::new(cmd, Key::Q),
            Command::Annotate => KeyboardShortcut::new(Modifiers::NONE, Key::M),
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

pub fn modality_key(m: Modality) -> T {
    match m {
        Modality::Clinical => T::Clinical,
        Modality::Dermoscopy => T::Dermoscopy,
        Modality::Visia => T::Visia,
        Modality::Histopathology => T::Histopathology,
        Modality::Other => T::Other,
    }
}
