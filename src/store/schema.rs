//! Versioned migrations. Each entry moves the schema from version `i` to `i + 1` and runs in
//! one transaction; `PRAGMA user_version` records how far a database has come. Never edit a
//! migration that has shipped: add a new one.

pub const MIGRATIONS: &[&str] = &[
    // 1: the foundation: roots, photos, locations, import runs, refusals, audit, rules, settings.
    r#"
CREATE TABLE roots (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL UNIQUE,
    added_at  TEXT NOT NULL
);

CREATE TABLE import_runs (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    heartbeat_at  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running','finished','cancelled','interrupted','failed')),
    roots         TEXT NOT NULL,             -- JSON array of absolute folder paths
    actor         TEXT NOT NULL,
    pid           INTEGER NOT NULL,          -- the importing process, to tell a dead run
    scanned       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    new_photos    INTEGER NOT NULL DEFAULT 0,
    new_locations INTEGER NOT NULL DEFAULT 0, -- known content found at a new path
    refused       INTEGER NOT NULL DEFAULT 0,
    missing       INTEGER NOT NULL DEFAULT 0,
    message       TEXT
);

CREATE TABLE photos (
    id               INTEGER PRIMARY KEY,
    hash             TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),  -- BLAKE3 of the file, hex
    byte_size        INTEGER NOT NULL,
    width            INTEGER NOT NULL CHECK (width > 0),
    height           INTEGER NOT NULL CHECK (height > 0),
    format           TEXT NOT NULL,
    captured_at      TEXT,                   -- ISO 8601, local time unless an offset is given
    captured_source  TEXT,                   -- exif:DateTimeOriginal, exif:DateTime, file:mtime, ...
    camera_make      TEXT,
    camera_model     TEXT,
    orientation      INTEGER NOT NULL DEFAULT 1 CHECK (orientation BETWEEN 1 AND 8),
    modality         TEXT NOT NULL CHECK (modality IN ('clinical','dermoscopy','visia','histopathology','other')),
    modality_source  TEXT NOT NULL CHECK (modality_source IN ('rule','cue','person')),
    modality_detail  TEXT,                   -- the rule's pattern, the cue's reason, or who set it
    exif             TEXT,                   -- JSON [[ifd, tag, value], ...]
    exif_thumb       TEXT,                   -- 'WxH' of an embedded EXIF thumbnail
    cues             TEXT,                   -- JSON of the image cue measurements
    imported_at      TEXT NOT NULL,
    import_run       INTEGER REFERENCES import_runs(id)
);
CREATE INDEX photos_captured ON photos(captured_at);
CREATE INDEX photos_modality ON photos(modality);

-- One photo may sit at several paths. A file that vanishes is marked missing, never deleted.
CREATE TABLE locations (
    id              INTEGER PRIMARY KEY,
    photo_id        INTEGER NOT NULL REFERENCES photos(id),
    root_id         INTEGER NOT NULL REFERENCES roots(id),
    path            TEXT NOT NULL UNIQUE,
    byte_size       INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    first_seen_run  INTEGER NOT NULL REFERENCES import_runs(id),
    last_seen_run   INTEGER NOT NULL REFERENCES import_runs(id),
    missing_since   TEXT,                    -- NULL while the file is there
    missing_run     INTEGER REFERENCES import_runs(id)
);
CREATE INDEX locations_photo ON locations(photo_id);

-- Files the import could not take, as they are now (so an unchanged one is not retried).
CREATE TABLE refusals (
    id             INTEGER PRIMARY KEY,
    root_id        INTEGER NOT NULL REFERENCES roots(id),
    path           TEXT NOT NULL UNIQUE,
    byte_size      INTEGER NOT NULL,
    mtime_ns       INTEGER NOT NULL,
    hash           TEXT,
    reason_code    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES import_runs(id),
    last_seen_run  INTEGER NOT NULL REFERENCES import_runs(id)
);

-- Every refusal of every run, kept as history.
CREATE TABLE import_errors (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES import_runs(id),
    path         TEXT NOT NULL,
    reason_code  TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX import_errors_run ON import_errors(run_id);

-- Append-only: the database itself refuses to change or remove a row.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    photo_id  INTEGER REFERENCES photos(id),
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_photo ON audit(photo_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Folder-name patterns that decide a photo's modality before any image cue.
CREATE TABLE modality_rules (
    id        INTEGER PRIMARY KEY,
    position  INTEGER NOT NULL,
    pattern   TEXT NOT NULL,
    modality  TEXT NOT NULL CHECK (modality IN ('clinical','dermoscopy','visia','histopathology','other')),
    enabled   INTEGER NOT NULL DEFAULT 1
);
INSERT INTO modality_rules (position, pattern, modality) VALUES
    (1, '*dermoscop*', 'dermoscopy'),
    (2, '*dermatoscop*', 'dermoscopy'),
    (3, '*ダーモ*', 'dermoscopy'),
    (4, '*visia*', 'visia'),
    (5, '*histopath*', 'histopathology'),
    (6, '*病理*', 'histopathology'),
    (7, '*clinical*', 'clinical'),
    (8, '*臨床*', 'clinical');

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"#,
    // privacy screening (issue 15): what each detector found, reviews, redaction shapes.
    r#"
-- Which detector screened a photo, at which version: an upgrade re-screens only what it changes.
CREATE TABLE screenings (
    photo_id     INTEGER NOT NULL REFERENCES photos(id),
    detector     TEXT NOT NULL CHECK (detector IN ('face','text','metadata')),
    version      TEXT NOT NULL,
    screened_at  TEXT NOT NULL,
    PRIMARY KEY (photo_id, detector)
);

CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    photo_id       INTEGER NOT NULL REFERENCES photos(id),
    detector_kind  TEXT NOT NULL CHECK (detector_kind IN ('face','text','metadata')),
    kind           TEXT NOT NULL CHECK (kind IN ('face','text','metadata')),
    detector       TEXT NOT NULL,
    version        TEXT NOT NULL,
    score          REAL NOT NULL,
    x0 REAL, y0 REAL, x1 REAL, y1 REAL,      -- box in the photo as shown, full size; NULL for metadata
    text           TEXT,
    field          TEXT,
    level          TEXT NOT NULL CHECK (level IN ('clear','unsure','identifiable'))
);
CREATE INDEX findings_photo ON findings(photo_id);

-- A photo's verdict (from its findings) and the reviewers' decision.
CREATE TABLE privacy (
    photo_id          INTEGER PRIMARY KEY REFERENCES photos(id),
    verdict           TEXT CHECK (verdict IN ('clear','unsure','identifiable')),
    review            TEXT NOT NULL DEFAULT 'pending' CHECK (review IN ('pending','cleared','excluded','redacted')),
    reviewer          TEXT,
    reviewed_at       TEXT,
    reviewed_verdict  TEXT,                 -- the verdict the reviewer saw
    screened_at       TEXT,
    CHECK (review = 'pending' OR (reviewer IS NOT NULL AND length(trim(reviewer)) > 0))
);
CREATE INDEX privacy_review ON privacy(review);

-- Shapes burned into exported pixels (rect, polygon) or cropped to; JSON in the photo's
-- shown, full-size pixels.
CREATE TABLE redactions (
    id          INTEGER PRIMARY KEY,
    photo_id    INTEGER NOT NULL REFERENCES photos(id),
    kind        TEXT NOT NULL CHECK (kind IN ('rect','polygon','crop')),
    shape       TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX redactions_photo ON redactions(photo_id);
"#,
];
