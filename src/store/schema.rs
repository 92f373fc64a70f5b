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
    // 2: a million photos. What the grid sorts and filters by is stored on the photo and
    // indexed (display name and presence kept by triggers on locations; pixel count and the
    // capture-or-file time as expression indexes). One zone rule for times: a capture time
    // is the wall-clock time where it was taken (EXIF's offset, when given, kept apart); the
    // file time is this computer's local time; both compare as plain local times. File times
    // are no longer passed off as capture times.
    r#"
ALTER TABLE photos ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE photos ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
ALTER TABLE photos ADD COLUMN file_time TEXT;
ALTER TABLE photos ADD COLUMN captured_offset TEXT;

UPDATE photos SET file_time = (SELECT strftime('%Y-%m-%dT%H:%M:%S', l.mtime_ns / 1000000000, 'unixepoch', 'localtime')
                               FROM locations l WHERE l.photo_id = photos.id ORDER BY l.id LIMIT 1);
UPDATE photos SET captured_at = NULL, captured_source = NULL WHERE captured_source = 'file:mtime';
UPDATE photos SET captured_offset = substr(captured_at, 20), captured_at = substr(captured_at, 1, 19)
    WHERE length(captured_at) > 19;
UPDATE photos SET
        display_name = coalesce((SELECT substr(replace(l.path, '\', '/'), length(rtrim(replace(l.path, '\', '/'), replace(replace(l.path, '\', '/'), '/', ''))) + 1) FROM locations l WHERE l.photo_id = photos.id
                                 ORDER BY l.missing_since IS NOT NULL, l.id LIMIT 1), ''),
        present = EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = photos.id AND l.missing_since IS NULL);

CREATE INDEX photos_name ON photos(display_name COLLATE NOCASE);
CREATE INDEX photos_pixels ON photos(width * height);
CREATE INDEX photos_when ON photos(coalesce(captured_at, file_time));
CREATE INDEX refusals_run ON refusals(run_id DESC, path);

-- Lesion masks found beside the photos (IMD003_lesion.png, ISIC_..._segmentation.png, masks/
-- folders): kept apart for the masks capability instead of being imported as photos.
CREATE TABLE mask_files (
    id             INTEGER PRIMARY KEY,
    root_id        INTEGER NOT NULL REFERENCES roots(id),
    path           TEXT NOT NULL UNIQUE,
    stem           TEXT NOT NULL,            -- the photo's name it belongs to (IMD003)
    byte_size      INTEGER NOT NULL,
    mtime_ns       INTEGER NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES import_runs(id),
    last_seen_run  INTEGER NOT NULL REFERENCES import_runs(id)
);
CREATE INDEX mask_files_stem ON mask_files(stem);
ALTER TABLE import_runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN masks INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER locations_after_insert AFTER INSERT ON locations BEGIN
    UPDATE photos SET
        display_name = coalesce((SELECT substr(replace(l.path, '\', '/'), length(rtrim(replace(l.path, '\', '/'), replace(replace(l.path, '\', '/'), '/', ''))) + 1) FROM locations l WHERE l.photo_id = photos.id
                                 ORDER BY l.missing_since IS NOT NULL, l.id LIMIT 1), ''),
        present = EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = photos.id AND l.missing_since IS NULL) WHERE id = NEW.photo_id;
END;
CREATE TRIGGER locations_after_update AFTER UPDATE OF photo_id, path, missing_since ON locations BEGIN
    UPDATE photos SET
        display_name = coalesce((SELECT substr(replace(l.path, '\', '/'), length(rtrim(replace(l.path, '\', '/'), replace(replace(l.path, '\', '/'), '/', ''))) + 1) FROM locations l WHERE l.photo_id = photos.id
                                 ORDER BY l.missing_since IS NOT NULL, l.id LIMIT 1), ''),
        present = EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = photos.id AND l.missing_since IS NULL) WHERE id IN (NEW.photo_id, OLD.photo_id);
END;
CREATE TRIGGER locations_after_delete AFTER DELETE ON locations BEGIN
    UPDATE photos SET
        display_name = coalesce((SELECT substr(replace(l.path, '\', '/'), length(rtrim(replace(l.path, '\', '/'), replace(replace(l.path, '\', '/'), '/', ''))) + 1) FROM locations l WHERE l.photo_id = photos.id
                                 ORDER BY l.missing_since IS NOT NULL, l.id LIMIT 1), ''),
        present = EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = photos.id AND l.missing_since IS NULL) WHERE id = OLD.photo_id;
END;
"#,
    // Charts (issue 16): chart imports, patients and research IDs, chart records, column-map
    // profiles, path rules, photo links, the opt-out registry, diagnosis synonyms.
    r#"
-- One row per chart file read (an SS-MIX2 tree gives one per message file). The content
-- hash makes re-importing the same file a no-op.
CREATE TABLE chart_imports (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    format       TEXT NOT NULL CHECK (format IN ('csv','tsv','xlsx','hl7')),
    encoding     TEXT CHECK (encoding IN ('utf_8','utf_8_bom','cp932','iso_2022_jp')),
    rows         INTEGER NOT NULL DEFAULT 0,
    records      INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    bad_rows     INTEGER NOT NULL DEFAULT 0,
    imported_at  TEXT NOT NULL,
    actor        TEXT NOT NULL
);

CREATE TABLE chart_import_errors (
    id         INTEGER PRIMARY KEY,
    import_id  INTEGER NOT NULL REFERENCES chart_imports(id),
    at         TEXT NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX chart_import_errors_import ON chart_import_errors(import_id);

-- A patient is a normalised chart number with a stable pseudonymous research ID.
CREATE TABLE patients (
    id           INTEGER PRIMARY KEY,
    chart_no     TEXT NOT NULL UNIQUE,
    research_id  TEXT NOT NULL UNIQUE,
    sex          TEXT CHECK (sex IN ('female','male','other')),
    birth_date   TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE chart_records (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients(id),
    kind        TEXT NOT NULL CHECK (kind IN ('visit','pathology','prescription','treatment','adverse_event','note')),
    date        TEXT NOT NULL,
    end_date    TEXT,
    text        TEXT NOT NULL,
    code        TEXT,
    specimen    TEXT,
    site        TEXT,
    dose        TEXT,
    import_id   INTEGER NOT NULL REFERENCES chart_imports(id),
    line        INTEGER,
    key         BLOB NOT NULL                  -- hash of the record's content
);
-- The same record twice (one visit exported twice, or in two files) is kept once. Keyed by
-- patient first, so an export sorted by patient inserts near where it last did.
CREATE UNIQUE INDEX chart_records_unique ON chart_records(patient_id, kind, date, key);

CREATE TABLE chart_profiles (
    name      TEXT PRIMARY KEY,
    spec      TEXT NOT NULL,                   -- JSON {"columns": {field: column}}
    encoding  TEXT CHECK (encoding IN ('auto','utf_8','cp932'))
);

-- Patterns with named groups (chart, date) that pull identifiers from folder and file names.
CREATE TABLE path_rules (
    id        INTEGER PRIMARY KEY,
    position  INTEGER NOT NULL,
    pattern   TEXT NOT NULL UNIQUE,
    enabled   INTEGER NOT NULL DEFAULT 1
);
INSERT INTO path_rules (position, pattern) VALUES
    (1, '(?:^|/)(?P<chart>[0-9０-９]{6,10})_(?P<date>[0-9０-９]{8})(?:[_./]|$)'),
    (2, '(?:^|/)(?P<chart>[0-9０-９]{6,10})/(?P<date>[0-9０-９]{8})(?:[_/]|$)'),
    (3, '(?:^|/)(?P<chart>[0-9０-９]{6,10})/(?P<date>[0-9０-９]{4}-[0-9０-９]{2}-[0-9０-９]{2})(?:[_/]|$)'),
    (4, '(?:^|/)(?:19|20)[0-9]{2}/(?P<chart>[0-9０-９]{6,10})_');

-- One row per photo the linker has seen. chart_no is local only (never exported).
CREATE TABLE photo_links (
    photo_id     INTEGER PRIMARY KEY REFERENCES photos(id),
    chart_no     TEXT,
    patient_id   INTEGER REFERENCES patients(id),
    visit_date   TEXT,
    status       TEXT NOT NULL CHECK (status IN ('linked','ambiguous','missing','confirmed','unlinked')),
    reason       TEXT NOT NULL,
    confidence   REAL NOT NULL,
    photo_date   TEXT,
    date_source  TEXT CHECK (date_source IN ('exif','path','file')),
    rule         TEXT,
    candidates   TEXT NOT NULL DEFAULT '[]',   -- JSON array of candidate visit dates
    dx_text      TEXT,
    dx_code      TEXT,
    dx_source    TEXT CHECK (dx_source IN ('pathology','chart')),
    by_person    INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL
);
CREATE INDEX photo_links_patient ON photo_links(patient_id);
CREATE INDEX photo_links_status ON photo_links(status);

-- Patients who refused (or asked to suspend) the use of their data, by chart number.
CREATE TABLE optouts (
    chart_no  TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('refused','suspended')),
    added_at  TEXT NOT NULL,
    actor     TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT ''
);

-- Free-text diagnoses mapped to taxonomy codes by people (seeded with common ones).
CREATE TABLE diagnosis_synonyms (
    text        TEXT PRIMARY KEY,              -- normalised: halfwidth ASCII, no spaces
    code        TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
INSERT INTO diagnosis_synonyms (text, code, added_by, updated_at) VALUES
    ('悪性黒色腫', 'C43.9', 'seed', '2026-12-01'),
    ('メラノーマ', 'C43.9', 'seed', '2026-12-01'),
    ('黒色腫', 'C43.9', 'seed', '2026-12-01'),
    ('MM', 'C43.9', 'seed', '2026-12-01'),
    ('MELANOMA', 'C43.9', 'seed', '2026-12-01'),
    ('基底細胞癌', 'C44.9', 'seed', '2026-12-01'),
    ('基底細胞がん', 'C44.9', 'seed', '2026-12-01'),
    ('BCC', 'C44.9', 'seed', '2026-12-01'),
    ('有棘細胞癌', 'C44.9', 'seed', '2026-12-01'),
    ('扁平上皮癌', 'C44.9', 'seed', '2026-12-01'),
    ('SCC', 'C44.9', 'seed', '2026-12-01'),
    ('ボーエン病', 'D04.9', 'seed', '2026-12-01'),
    ('日光角化症', 'L57.0', 'seed', '2026-12-01'),
    ('光線角化症', 'L57.0', 'seed', '2026-12-01'),
    ('老人性角化症', 'L57.0', 'seed', '2026-12-01'),
    ('脂漏性角化症', 'L82', 'seed', '2026-12-01'),
    ('老人性疣贅', 'L82', 'seed', '2026-12-01'),
    ('SK', 'L82', 'seed', '2026-12-01'),
    ('色素性母斑', 'D22.9', 'seed', '2026-12-01'),
    ('母斑細胞母斑', 'D22.9', 'seed', '2026-12-01'),
    ('ほくろ', 'D22.9', 'seed', '2026-12-01'),
    ('ホクロ', 'D22.9', 'seed', '2026-12-01'),
    ('黒子', 'D22.9', 'seed', '2026-12-01'),
    ('NEVUS', 'D22.9', 'seed', '2026-12-01'),
    ('皮膚線維腫', 'D23.9', 'seed', '2026-12-01'),
    ('血管腫', 'D18.0', 'seed', '2026-12-01'),
    ('老人性血管腫', 'D18.0', 'seed', '2026-12-01'),
    ('化膿性肉芽腫', 'L98.0', 'seed', '2026-12-01'),
    ('アトピー性皮膚炎', 'L20.9', 'seed', '2026-12-01'),
    ('乾癬', 'L40.9', 'seed', '2026-12-01'),
    ('尋常性乾癬', 'L40.0', 'seed', '2026-12-01'),
    ('じんま疹', 'L50.9', 'seed', '2026-12-01'),
    ('蕁麻疹', 'L50.9', 'seed', '2026-12-01'),
    ('湿疹', 'L30.9', 'seed', '2026-12-01'),
    ('接触皮膚炎', 'L25.9', 'seed', '2026-12-01'),
    ('尋常性ざ瘡', 'L70.0', 'seed', '2026-12-01'),
    ('にきび', 'L70.0', 'seed', '2026-12-01'),
    ('円形脱毛症', 'L63.9', 'seed', '2026-12-01'),
    ('白斑', 'L80', 'seed', '2026-12-01'),
    ('尋常性白斑', 'L80', 'seed', '2026-12-01'),
    ('粉瘤', 'L72.0', 'seed', '2026-12-01'),
    ('アテローム', 'L72.0', 'seed', '2026-12-01'),
    ('表皮嚢腫', 'L72.0', 'seed', '2026-12-01');
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
    // lesion masks (issue 17): lesions on a photo's content, versioned masks, reviews.
    r#"
-- A lesion drawn on a photo. The photo is its content (hash), never a path.
CREATE TABLE lesions (
    id          INTEGER PRIMARY KEY,
    photo_hash  TEXT NOT NULL REFERENCES photos(hash),
    number      INTEGER NOT NULL CHECK (number > 0),  -- 1, 2, ... within the photo
    label       TEXT NOT NULL DEFAULT 'lesion',       -- a taxonomy code, or plain 'lesion'
    note        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','submitted','approved','returned')),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  TEXT,                                 -- removed from view; its versions stay
    UNIQUE (photo_hash, number)
);
CREATE INDEX lesions_status ON lesions(status) WHERE deleted_at IS NULL;

-- Every saved state of a lesion's mask. An editing session's autosaves (one per stroke)
-- update that session's own version; the next session, or another person, starts a new one
-- whose parent is the last. Older versions can never change or go.
CREATE TABLE mask_versions (
    id             INTEGER PRIMARY KEY,
    lesion_id      INTEGER NOT NULL REFERENCES lesions(id),
    parent_id      INTEGER REFERENCES mask_versions(id),
    annotator      TEXT NOT NULL,
    session        TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    saved_at       TEXT NOT NULL,
    saves          INTEGER NOT NULL DEFAULT 1,        -- autosaves folded into this version
    source         TEXT NOT NULL CHECK (source IN ('drawn','imported')),
    source_detail  TEXT,                              -- the file an import came from
    width          INTEGER NOT NULL CHECK (width > 0),
    height         INTEGER NOT NULL CHECK (height > 0),
    pixels         INTEGER NOT NULL,
    bbox_x INTEGER NOT NULL, bbox_y INTEGER NOT NULL, bbox_w INTEGER NOT NULL, bbox_h INTEGER NOT NULL,
    data           BLOB NOT NULL                      -- masks::codec form, lossless
);
CREATE INDEX mask_versions_lesion ON mask_versions(lesion_id, id);
CREATE TRIGGER mask_versions_keep BEFORE DELETE ON mask_versions
BEGIN SELECT RAISE(ABORT, 'mask versions are kept'); END;
CREATE TRIGGER mask_versions_only_latest BEFORE UPDATE ON mask_versions
WHEN OLD.id <> (SELECT max(id) FROM mask_versions WHERE lesion_id = OLD.lesion_id)
  OR NEW.session <> OLD.session OR NEW.annotator <> OLD.annotator OR NEW.lesion_id <> OLD.lesion_id
BEGIN SELECT RAISE(ABORT, 'only the latest version, by its own session, may be saved over'); END;

-- Review history: every status change with who, their role, and why. Append-only.
CREATE TABLE mask_reviews (
    id           INTEGER PRIMARY KEY,
    lesion_id    INTEGER NOT NULL REFERENCES lesions(id),
    version_id   INTEGER REFERENCES mask_versions(id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT CHECK (role IN ('dermatologist','resident','research_assistant')),
    action       TEXT NOT NULL CHECK (action IN ('submit','approve','return','reopen','edit','import')),
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mask_reviews_lesion ON mask_reviews(lesion_id);
CREATE TRIGGER mask_reviews_no_update BEFORE UPDATE ON mask_reviews
BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
CREATE TRIGGER mask_reviews_no_delete BEFORE DELETE ON mask_reviews
BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END;
"#,
    // research models (issue 18): registered models and their results per photo content.
    r#"
-- A registered model version: the card as added and where its files were copied to.
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    task        TEXT NOT NULL CHECK (task IN ('classification','segmentation','embedding')),
    card        TEXT NOT NULL,                    -- the card's TOML as added
    dir         TEXT NOT NULL,                    -- absolute folder holding card.toml and the model
    file        TEXT NOT NULL,                    -- the model's file name in dir
    model_hash  TEXT NOT NULL,                    -- BLAKE3 of the model file, checked before each run
    builtin     INTEGER NOT NULL DEFAULT 0,       -- one of the demo models shipped in the executable
    added_at    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    UNIQUE (name, version)
);

-- What a model version said about a photo's content. A new version adds rows; it never
-- replaces another version's. Agreement with the chart is not stored: it is worked out when
-- read, from the links and synonyms as they are then (see models::agree).
CREATE TABLE model_results (
    id             INTEGER PRIMARY KEY,
    photo_hash     TEXT NOT NULL REFERENCES photos(hash),
    model_id       INTEGER NOT NULL REFERENCES models(id),
    inferred_at    TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('classes','mask','embedding')),
    probabilities  TEXT,                          -- classes: JSON array in label order
    top_index      INTEGER,                       -- classes: the most probable label
    width          INTEGER,                       -- mask: size at the model's resolution
    height         INTEGER,
    pixels         INTEGER,                       -- mask: pixels in it
    data           BLOB,                          -- mask: masks::codec form; embedding: f32 little-endian
    UNIQUE (photo_hash, model_id)
);
CREATE INDEX model_results_model ON model_results(model_id);
"#,
    // 7: the modality model (issue 18): photos.modality_source may be 'model'. SQLite cannot
    // alter a CHECK constraint; widening one changes no stored row, so the table's recorded
    // SQL is edited in place (SQLite's documented writable_schema procedure) instead of
    // copying the photos table and everything that refers to it. RESET reloads the schema;
    // the index that follows is a real schema change, so other connections reload it too.
    r#"
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'modality_source IN (''rule'',''cue'',''person'')',
                          'modality_source IN (''rule'',''cue'',''person'',''model'')')
 WHERE type = 'table' AND name = 'photos';
PRAGMA writable_schema = RESET;
CREATE INDEX photos_modality_source ON photos(modality_source);
"#,
];
