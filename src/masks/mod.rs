//! Lesion masks: the teacher data people draw on photos.
//!
//! - `mask`: the full-resolution binary mask, pixel rectangles, stamps (a tool's footprint);
//! - `codec`: the compact lossless stored form, COCO RLE, PNG;
//! - `tools`: brush, eraser, polygon/lasso, magic wand, fill holes, as pure functions;
//! - `smart`: a lesion proposed from a click or a box (GrabCut-style, imageproc);
//! - `history`: unlimited undo/redo for the mask being edited, with dirty rectangles;
//! - `metrics`: Dice, IoU and pairing two people's lesions;
//! - `import`, `export`: masks from other tools (PNG, labelme, COCO) in; PNG and COCO out,
//!   through the one gate (`release`).
//!
//! Masks belong to a photo's content (its hash), never to a path. No SQL here: the store
//! (`store::masks`) keeps lesions, versions and reviews.

pub mod agreement;
pub mod codec;
pub mod export;
pub mod history;
pub mod import;
pub mod layer;
pub mod mask;
pub mod metrics;
pub mod smart;
pub mod tools;

pub use codec::Encoded;
pub use history::History;
pub use mask::{Mask, PixelRect, Stamp};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The largest mask accepted (the same bound as the largest photo imported).
pub const MAX_PIXELS: u64 = 200_000_000;

/// What a lesion is called when nobody has said more.
pub const DEFAULT_LABEL: &str = "lesion";

/// Where a lesion's mask stands in review. Approved masks are the teacher data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Draft,
    Submitted,
    Approved,
    Returned,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] =
        [ReviewStatus::Draft, ReviewStatus::Submitted, ReviewStatus::Approved, ReviewStatus::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "draft",
            ReviewStatus::Submitted => "submitted",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        ReviewStatus::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// The status a review action leads to, or why it cannot be taken from here.
    pub fn after(self, action: ReviewAction) -> Result<ReviewStatus> {
        use ReviewAction as A;
        use ReviewStatus as S;
        match (self, action) {
            (S::Draft | S::Returned, A::Submit) => Ok(S::Submitted),
            (S::Submitted, A::Approve) => Ok(S::Approved),
            (S::Submitted, A::Return) => Ok(S::Returned),
            // A submitted mask can be taken back; an approved one reopened for changes.
            (S::Submitted | S::Approved, A::Reopen) => Ok(S::Draft),
            _ => Err(Error::Invalid(format!(
                "a {} mask cannot be {} (allowed: draft or returned → submitted → approved or returned)",
                self.as_str(),
                action.past()
            ))),
        }
    }

    /// The status after the pixels change: approved or submitted masks go back to draft
    /// (what a reviewer passed must not change behind their back); the others stay.
    pub fn after_edit(self) -> ReviewStatus {
        match self {
            ReviewStatus::Submitted | ReviewStatus::Approved => ReviewStatus::Draft,
            s => s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Submit,
    Approve,
    Return,
    Reopen,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Submit => "submit",
            ReviewAction::Approve => "approve",
            ReviewAction::Return => "return",
            ReviewAction::Reopen => "reopen",
        }
    }

    fn past(self) -> &'static str {
        match self {
            ReviewAction::Submit => "submitted",
            ReviewAction::Approve => "approved",
            ReviewAction::Return => "returned",
            ReviewAction::Reopen => "reopened",
        }
    }

    /// Whether the action is a reviewer's (and so needs a role, and someone other than the
    /// annotator).
    pub fn by_reviewer(self) -> bool {
        matches!(self, ReviewAction::Approve | ReviewAction::Return)
    }
}

/// One line of a lesion's review log: the review actions, plus edits that sent a reviewed
/// mask back to draft and imports that set a first status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewEvent {
    Submit,
    Approve,
    Return,
    Reopen,
    Edit,
    Import,
}

impl ReviewEvent {
    pub const ALL: [ReviewEvent; 6] = [
        ReviewEvent::Submit,
        ReviewEvent::Approve,
        ReviewEvent::Return,
        ReviewEvent::Reopen,
        ReviewEvent::Edit,
        ReviewEvent::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewEvent::Submit => "submit",
            ReviewEvent::Approve => "approve",
            ReviewEvent::Return => "return",
            ReviewEvent::Reopen => "reopen",
            ReviewEvent::Edit => "edit",
            ReviewEvent::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewEvent> {
        ReviewEvent::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

impl From<ReviewAction> for ReviewEvent {
    fn from(a: ReviewAction) -> ReviewEvent {
        match a {
            ReviewAction::Submit => ReviewEvent::Submit,
            ReviewAction::Approve => ReviewEvent::Approve,
            ReviewAction::Return => ReviewEvent::Return,
            ReviewAction::Reopen => ReviewEvent::Reopen,
        }
    }
}

/// Where a mask version came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskSource {
    Drawn,
    Imported,
}

impl MaskSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MaskSource::Drawn => "drawn",
            MaskSource::Imported => "imported",
        }
    }

    pub fn parse(s: &str) -> Option<MaskSource> {
        [MaskSource::Drawn, MaskSource::Imported].into_iter().find(|v| v.as_str() == s)
    }
}

/// The size masks of a photo have: the photo as shown, EXIF orientation applied (5–8 turn
/// it a quarter, swapping width and height).
pub fn displayed_size(width: u32, height: u32, orientation: u8) -> (u32, u32) {
    if (5..=8).contains(&orientation) { (height, width) } else { (width, height) }
}

/// Reads photos' pixels at full resolution through a worker process (the per-photo seam:
/// a damaged file or a decoder crash costs that photo, never the app). What the wand and the
/// smart tool read, what masks are drawn on and what exports send.
pub struct PixelReader {
    worker: crate::work::Worker,
    limits: crate::decode::Limits,
}

impl PixelReader {
    pub fn new(worker_exe: &std::path::Path) -> PixelReader {
        let limits = crate::decode::Limits::default();
        let worker = crate::work::Worker::new(worker_exe, std::time::Duration::from_secs(120))
            .with_max_blob(limits.max_pixels * 3);
        PixelReader { worker, limits }
    }

    /// A photo's pixels as shown (orientation applied). The file must still be the photo
    /// (`hash`): masks belong to content, and a changed file would put them on other pixels.
    pub fn read(&mut self, path: &std::path::Path, orientation: u8, hash: &str) -> Result<image::RgbImage> {
        use crate::decode::tasks::{FullDecode, FullRequest};
        let req = FullRequest { path: path.to_path_buf(), orientation, limits: self.limits };
        let (img, rgb) = match self.worker.call::<FullDecode>(&req) {
            Ok(Ok(answer)) => answer,
            Ok(Err(refusal)) => return Err(Error::Invalid(format!("{}: {}", refusal.message, path.display()))),
            Err(e) => return Err(Error::Invalid(format!("the decoder failed ({e}): {}", path.display()))),
        };
        if img.hash != hash {
            return Err(Error::Invalid(format!(
                "the file has changed since it was imported (import its folder again): {}",
                path.display()
            )));
        }
        image::RgbImage::from_raw(img.width, img.height, rgb)
            .ok_or_else(|| Error::Invalid(format!("the decoder sent a damaged image: {}", path.display())))
    }
}

/// The reviewer's role, recorded with every review (as the ISIC archive records a reviewer's
/// skill), so teacher data can be filtered by who passed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Dermatologist,
    Resident,
    ResearchAssistant,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Dermatologist, Role::Resident, Role::ResearchAssistant];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dermatologist => "dermatologist",
            Role::Resident => "resident",
            Role::ResearchAssistant => "research_assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

/// Checks a lesion label: a taxonomy code or plain words, one line, not empty.
pub fn check_label(label: &str) -> Result<String> {
    let l = label.trim();
    if l.is_empty() || l.len() > 300 || l.contains(['\n', '\r']) {
        return Err(Error::Invalid(format!("a lesion label is one line of 1–300 bytes: {label:?}")));
    }
    Ok(l.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_moves() {
        use ReviewAction as A;
        use ReviewStatus as S;
        assert_eq!(S::Draft.after(A::Submit).unwrap(), S::Submitted);
        assert_eq!(S::Submitted.after(A::Approve).unwrap(), S::Approved);
        assert_eq!(S::Submitted.after(A::Return).unwrap(), S::Returned);
        assert_eq!(S::Returned.after(A::Submit).unwrap(), S::Submitted);
        assert_eq!(S::Approved.after(A::Reopen).unwrap(), S::Draft);
        assert!(S::Draft.after(A::Approve).is_err());
        assert!(S::Approved.after(A::Approve).is_err());
        assert!(S::Returned.after(A::Approve).is_err());
        assert_eq!(S::Approved.after_edit(), S::Draft);
        assert_eq!(S::Returned.after_edit(), S::Returned);
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(check_label("  ").is_err());
        assert_eq!(check_label(" melanoma ").unwrap(), "melanoma");
    }
}
