//! What a file in an archive folder is, by its name and place, before any byte is read:
//! a photo to import, a lesion mask that belongs to a photo (kept for the masks capability),
//! or a document that is no photo at all (passed over quietly, and counted).

use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Photo,
    /// A lesion mask; the name of the photo it belongs to (`IMD003`, `ISIC_0024306`).
    Mask {
        stem: String,
    },
    /// A document, table, archive or sidecar: never a photo.
    Other,
}

/// Extensions of files that are never photos. Anything else is read and sniffed: a `.jpg`
/// that holds text is refused as "not an image", so nothing that claims to be one slips by.
const NOT_PHOTOS: &[&str] = &[
    "txt", "md", "csv", "tsv", "xlsx", "xls", "xlsm", "ods", "json", "xml", "yaml", "yml", "html", "htm", "pdf", "doc",
    "docx", "odt", "rtf", "ppt", "pptx", "log", "ini", "cfg", "py", "r", "ipynb", "zip", "gz", "tar", "7z", "rar",
    "lnk", "url", "db", "sqlite", "xmp", "aae", "thm", "mp4", "mov", "avi", "wav", "mp3",
];

/// Name endings of mask files: `IMD003_lesion.png`, `ISIC_0024306_segmentation.png`.
const MASK_SUFFIXES: &[&str] = &["_lesion", "_segmentation", "_seg", "_mask", "_masks"];

/// Folder names that hold masks: `masks/`, `segmentation/`, and PH2's `IMD003_lesion/`.
fn mask_folder(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["mask", "masks", "segmentation", "segmentations", "ground_truth", "groundtruth"].contains(&n.as_str())
        || MASK_SUFFIXES.iter().any(|s| n.ends_with(s))
}

/// Decides a file's kind from its path below `root` (folders above the root do not count:
/// an archive kept in a folder named "masks" is still photos).
pub fn kind(path: &Path, root: &Path) -> Kind {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if NOT_PHOTOS.contains(&ext.as_str()) {
        return Kind::Other;
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = stem.to_ascii_lowercase();
    if let Some(suffix) = MASK_SUFFIXES.iter().find(|s| lower.ends_with(*s)) {
        return Kind::Mask { stem: stem[..stem.len() - suffix.len()].to_owned() };
    }
    let below = path.parent().and_then(|p| p.strip_prefix(root).ok());
    if below.is_some_and(|b| b.components().any(|c| mask_folder(&c.as_os_str().to_string_lossy()))) {
        return Kind::Mask { stem };
    }
    Kind::Photo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(p: &str) -> Kind {
        kind(Path::new(p), Path::new("/arc"))
    }

    #[test]
    fn masks_documents_and_photos() {
        let mask = |s: &str| Kind::Mask { stem: s.to_owned() };
        assert_eq!(k("/arc/ph2/masks/IMD003_lesion.png"), mask("IMD003"));
        assert_eq!(k("/arc/ham/ISIC_0024306_segmentation.png"), mask("ISIC_0024306"));
        assert_eq!(k("/arc/IMD003/IMD003_lesion/IMD003_lesion.bmp"), mask("IMD003"));
        assert_eq!(k("/arc/study/masks/ISIC_0000001.png"), mask("ISIC_0000001"));
        assert_eq!(k("/arc/README.md"), Kind::Other);
        assert_eq!(k("/arc/labels.CSV"), Kind::Other);
        assert_eq!(k("/arc/2012/IMG_0001.JPG"), Kind::Photo);
        assert_eq!(k("/arc/2012/no_extension"), Kind::Photo, "sniffed, not guessed");
        assert_eq!(kind(Path::new("/masks/2012/IMG_1.jpg"), Path::new("/masks")), Kind::Photo, "the root's own name");
    }
}
