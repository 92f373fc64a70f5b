//! One error type for the core. Messages put file paths last, so that a log line reads
//! "what went wrong: where".

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),

    #[error("the database failed its integrity check ({detail}); restore it from a backup or move it aside: {}", path.display())]
    Corrupt { detail: String, path: PathBuf },

    #[error("not a database file ({detail}): {}", path.display())]
    NotADatabase { detail: String, path: PathBuf },

    #[error("the database was written by a newer dermdesk (schema {found}, this build knows {known}): {}", path.display())]
    TooNew { found: i64, known: i64, path: PathBuf },

    // The cause is in the message, not a `source`: shown once, with the path last.
    #[error("{what}: {cause}: {}", path.display())]
    Io { what: &'static str, cause: std::io::Error, path: PathBuf },

    #[error("not a folder: {}", .0.display())]
    NotADirectory(PathBuf),

    #[error("{0}")]
    Invalid(String),

    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub fn io(what: &'static str, source: std::io::Error, path: &Path) -> Self {
        Error::Io { what, cause: source, path: path.to_path_buf() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
