//! SS-MIX2 standardized storage: `ROOT/123/456/1234567890/20030120/PPR-01/<file>`, i.e. the
//! first three and next three characters of the patient ID, the patient ID, the day (or `-`),
//! the data type, and one HL7 message per file named
//! `ID_DAY_TYPE_ORDER_TIMESTAMP_DEPT_FLAG`, where a FLAG of 1 marks a cancelled message.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One message file found in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFile {
    pub path: PathBuf,
    /// The patient ID from the folder names.
    pub patient_id: String,
    /// The data type folder, e.g. `PPR-01`, `OMP-01`, `ADT-00`.
    pub data_type: String,
}

/// The data types read: disease names (ADT, PPR) and prescriptions (OMP, RDE).
pub fn wanted(data_type: &str) -> bool {
    ["ADT-", "PPR-", "OMP-", "RDE-"].iter().any(|p| data_type.starts_with(p))
}

/// Whether a folder looks like an SS-MIX2 storage root (or the folder of one patient's hash).
pub fn looks_like_storage(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir)
        .min_depth(5)
        .max_depth(6)
        .into_iter()
        .filter_map(|e| e.ok())
        .take(2000)
        .any(|e| e.file_type().is_file() && layout(dir, e.path()).is_some())
}

/// The patient ID and data type of a file at the standard place below `root`.
fn layout(root: &Path, file: &Path) -> Option<(String, String)> {
    let rel = file.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.components().map(|c| c.as_os_str().to_str()).collect::<Option<_>>()?;
    if parts.len() != 6 {
        return None;
    }
    let (h1, h2, id, day, dtype) = (parts[0], parts[1], parts[2], parts[3], parts[4]);
    let day_ok = day == "-" || (day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()));
    let id_chars: Vec<char> = id.chars().collect();
    let hash_ok = id_chars.len() >= 3
        && id_chars[..3].iter().collect::<String>() == h1
        && (id_chars.len() < 6 || id_chars[3..6].iter().collect::<String>() == h2);
    (day_ok && hash_ok && dtype.contains('-')).then(|| (id.to_owned(), dtype.to_owned()))
}

/// Whether the file name marks a cancelled (logically deleted) message: its last `_` part is `1`.
pub fn cancelled(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit('_').next()).is_some_and(|flag| flag == "1")
}

/// Every message file of the wanted data types, in path order. Files outside the standard
/// layout are returned in `stray` for the report.
pub fn scan(root: &Path) -> Result<(Vec<MessageFile>, Vec<PathBuf>)> {
    if !root.is_dir() {
        return Err(Error::NotADirectory(root.to_path_buf()));
    }
    let mut files = Vec::new();
    let mut stray = Vec::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.map_err(|e| {
            let p = e.path().unwrap_or(root).to_path_buf();
            Error::io("cannot read the SS-MIX2 folder", e.into(), &p)
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        match layout(root, e.path()) {
            Some((patient_id, data_type)) if wanted(&data_type) => {
                files.push(MessageFile { path: e.path().to_path_buf(), patient_id, data_type });
            }
            Some(_) => {}
            None => stray.push(e.path().to_path_buf()),
        }
    }
    Ok((files, stray))
}

/// Where a message belongs in the tree (for the invented trees).
pub fn message_path(root: &Path, patient_id: &str, day: &str, data_type: &str, order: &str, stamp: &str) -> PathBuf {
    let c: Vec<char> = patient_id.chars().collect();
    let h1: String = c.iter().take(3).collect();
    let h2: String = c.iter().skip(3).take(3).collect();
    root.join(h1)
        .join(h2)
        .join(patient_id)
        .join(day)
        .join(data_type)
        .join(format!("{patient_id}_{day}_{data_type}_{order}_{stamp}_01_0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_messages_in_the_standard_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let a = message_path(root, "0012345678", "20030120", "PPR-01", "ORD1", "20030120103000000");
        let b = message_path(root, "0012345678", "20030120", "OMP-01", "ORD2", "20030120103000000");
        let c = message_path(root, "0012345678", "-", "ADT-00", "-", "20030120103000000");
        let skipped = message_path(root, "0012345678", "20030120", "OML-01", "ORD3", "20030120103000000");
        for p in [&a, &b, &c, &skipped] {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"MSH|").unwrap();
        }
        std::fs::write(root.join("README.txt"), b"x").unwrap();
        let (files, stray) = scan(root).unwrap();
        let types: Vec<&str> = files.iter().map(|f| f.data_type.as_str()).collect();
        assert_eq!(types, vec!["ADT-00", "OMP-01", "PPR-01"]);
        assert!(files.iter().all(|f| f.patient_id == "0012345678"));
        assert_eq!(stray, vec![root.join("README.txt")]);
        assert!(looks_like_storage(root));
        assert!(!cancelled(&a));
        assert!(cancelled(Path::new("x/1_2_PPR-01_o_t_01_1")));
    }
}
