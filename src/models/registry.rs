//! The model registry: which model versions this database knows, with their cards, and
//! their files copied into `<database folder>/models/<name>/<version>/` (so that a model
//! keeps working when the folder it was added from goes away).
//!
//! A model is checked before it is recorded (`net::load`: the card, the file, the input and
//! output against the card, a test run); a refusal says which check failed. The demo models
//! (`assets/models/*/card.toml` in the repository, compiled into the executable) are
//! registered by [`open`], once per version.

use super::card::Card;
use super::{ModelError, compare_versions, net};
use crate::store::{ModelRow, NewModel, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A demo model compiled into the executable (see build.rs).
pub(crate) struct Builtin {
    /// Its folder under `assets/models/`.
    pub folder: &'static str,
    pub card: &'static str,
    pub model: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin_models.rs"));

/// The card text and model bytes of a model compiled in from `assets/models/<folder>/`.
pub(crate) fn builtin_files(folder: &str) -> Option<(&'static str, &'static [u8])> {
    BUILTIN.iter().find(|b| b.folder == folder).map(|b| (b.card, b.model))
}

/// A registered model version.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub id: i64,
    pub card: Card,
    /// The folder holding `card.toml` and the model file.
    pub dir: PathBuf,
    pub model_path: PathBuf,
    /// BLAKE3 of the model file; the worker refuses a file that no longer matches.
    pub model_hash: String,
    pub builtin: bool,
    pub added_at: String,
    pub added_by: String,
}

impl ModelInfo {
    pub fn name(&self) -> &str {
        &self.card.name
    }

    pub fn version(&self) -> &str {
        &self.card.version
    }

    fn of(row: ModelRow) -> Result<ModelInfo, ModelError> {
        let card = Card::parse(&row.card)?;
        let dir = PathBuf::from(&row.dir);
        Ok(ModelInfo {
            id: row.id,
            model_path: dir.join(&row.file),
            dir,
            card,
            model_hash: row.model_hash,
            builtin: row.builtin,
            added_at: row.added_at,
            added_by: row.added_by,
        })
    }
}

/// Where this database keeps its models: `models/` beside the database file.
pub fn models_dir(store: &Store) -> PathBuf {
    let db = std::path::absolute(store.path()).unwrap_or_else(|_| store.path().to_path_buf());
    db.parent().map(|p| p.join("models")).unwrap_or_else(|| PathBuf::from("models"))
}

/// Opens the registry: registers the demo models shipped in the executable that this
/// database does not have yet (each checked as `add` checks). Returns what went wrong with
/// any of them (the others, and the models added by hand, stay usable).
pub fn open(store: &mut Store) -> Result<Vec<String>, ModelError> {
    open_with(store, BUILTIN)
}

fn open_with(store: &mut Store, builtins: &[Builtin]) -> Result<Vec<String>, ModelError> {
    let mut problems = Vec::new();
    // The modality model serves the import, not research: it is not a registered model.
    for b in builtins.iter().filter(|b| b.folder != crate::modality::model::FOLDER) {
        if let Err(e) = register_builtin(store, b) {
            match e {
                ModelError::Store(e) => return Err(ModelError::Store(e)),
                other => problems.push(format!("the built-in model in assets/models/{}: {other}", b.folder)),
            }
        }
    }
    Ok(problems)
}

fn register_builtin(store: &mut Store, b: &Builtin) -> Result<(), ModelError> {
    let card = Card::parse(b.card)?;
    let hash = blake3::hash(b.model).to_hex().to_string();
    if let Some(row) = store.model_row(&card.name, &card.version)? {
        if row.model_hash == hash {
            return Ok(());
        }
        return Err(ModelError::Conflict { name: card.name, version: card.version });
    }
    if b.model.is_empty() {
        return Err(ModelError::File {
            what: "the model file the card names was not there when dermdesk was built",
            cause: card.file.clone(),
            path: PathBuf::from(format!("assets/models/{}", b.folder)),
        });
    }
    net::load(&card, b.model)?;
    record(store, &card, b.card, b.model, &hash, true)?;
    Ok(())
}

/// The model file's name inside its registry folder.
fn file_name(card: &Card) -> String {
    Path::new(&card.file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "card.toml")
        .unwrap_or_else(|| "model.onnx".into())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let tmp = path.with_extension("part");
    let fail = |what: &'static str, e: std::io::Error, p: &Path| ModelError::File {
        what,
        cause: e.to_string(),
        path: p.to_path_buf(),
    };
    std::fs::write(&tmp, bytes).map_err(|e| fail("cannot write into the model folder", e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| fail("cannot write into the model folder", e, path))
}

fn record(
    store: &mut Store,
    card: &Card,
    card_text: &str,
    model: &[u8],
    hash: &str,
    builtin: bool,
) -> Result<ModelInfo, ModelError> {
    let dir = models_dir(store).join(&card.name).join(&card.version);
    std::fs::create_dir_all(&dir).map_err(|e| ModelError::File {
        what: "cannot create the model folder",
        cause: e.to_string(),
        path: dir.clone(),
    })?;
    let file = file_name(card);
    write_file(&dir.join(&file), model)?;
    write_file(&dir.join("card.toml"), card_text.as_bytes())?;
    let dir_text = dir.to_string_lossy().into_owned();
    let row = store.insert_model(&NewModel {
        name: &card.name,
        version: &card.version,
        task: card.task.as_str(),
        card: card_text,
        dir: &dir_text,
        file: &file,
        model_hash: hash,
        builtin,
    })?;
    ModelInfo::of(row)
}

/// Adds a model: reads the card at `card_path` and the model file (`model` when given, else
/// the card's `file`, relative to the card), checks them (see the module notes), copies
/// both into the registry folder and records them. Adding the same name, version, card and
/// file again is a no-op; the same name and version with anything different is refused.
pub fn add(store: &mut Store, card_path: &Path, model: Option<&Path>) -> Result<ModelInfo, ModelError> {
    let card_text = std::fs::read_to_string(card_path).map_err(|e| ModelError::File {
        what: "cannot read the model card",
        cause: e.to_string(),
        path: card_path.to_path_buf(),
    })?;
    let card = Card::parse(&card_text)?;
    let model_path = match model {
        Some(m) => m.to_path_buf(),
        None => card_path.parent().unwrap_or(Path::new(".")).join(&card.file),
    };
    let bytes = std::fs::read(&model_path).map_err(|e| ModelError::File {
        what: "cannot read the model file",
        cause: e.to_string(),
        path: model_path.clone(),
    })?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if let Some(row) = store.model_row(&card.name, &card.version)? {
        if row.model_hash == hash && row.card == card_text {
            return ModelInfo::of(row);
        }
        return Err(ModelError::Conflict { name: card.name, version: card.version });
    }
    net::load(&card, &bytes)?;
    record(store, &card, &card_text, &bytes, &hash, false)
}

/// Every registered model version: by name, newest version first.
pub fn list(store: &Store) -> Result<Vec<ModelInfo>, ModelError> {
    let mut all: Vec<ModelInfo> = store.model_rows()?.into_iter().map(ModelInfo::of).collect::<Result<_, _>>()?;
    all.sort_by(|a, b| a.name().cmp(b.name()).then_with(|| compare_versions(b.version(), a.version())));
    Ok(all)
}

/// A model by name: the given version, or the newest (older versions stay, with their
/// results).
pub fn get(store: &Store, name: &str, version: Option<&str>) -> Result<ModelInfo, ModelError> {
    if let Some(v) = version {
        return match store.model_row(name, v)? {
            Some(row) => ModelInfo::of(row),
            None => Err(ModelError::Unknown(format!("{name} at version {v}"))),
        };
    }
    list(store)?.into_iter().find(|m| m.name() == name).ok_or_else(|| ModelError::Unknown(name.to_owned()))
}

/// What `remove` did.
#[derive(Clone, Debug, Serialize)]
pub struct Removed {
    pub name: String,
    pub version: String,
    /// Results of that version deleted with it (other versions keep theirs).
    pub results: u64,
    /// The registry's copy of the card and model, when it could not be deleted (the
    /// registration is gone all the same; the files are only a leftover).
    pub files_left: Option<String>,
}

/// Removes a registered model version and the results it stored, and deletes the registry's
/// copy of its files (only inside this database's `models/` folder: never the folder it was
/// added from). The built-in demo models cannot be removed.
pub fn remove(store: &mut Store, name: &str, version: &str) -> Result<Removed, ModelError> {
    let info = get(store, name, Some(version))?;
    if info.builtin {
        return Err(ModelError::BuiltIn { name: name.to_owned(), version: version.to_owned() });
    }
    let results = store.delete_model(info.id)?;
    let ours = models_dir(store);
    let files_left = if info.dir.starts_with(&ours) && info.dir != ours {
        std::fs::remove_dir_all(&info.dir)
            .err()
            .filter(|e| e.kind() != std::io::ErrorKind::NotFound)
            .map(|e| format!("{e}: {}", info.dir.display()))
    } else {
        None
    };
    Ok(Removed { name: name.to_owned(), version: version.to_owned(), results, files_left })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedder() -> Option<&'static [u8]> {
        let shared = std::env::var_os("DERMDESK_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let bytes = std::fs::read(shared.join("models/embed-efficientnet-lite0/efficientnet_lite0_embed.onnx")).ok()?;
        Some(Box::leak(bytes.into_boxed_slice()))
    }

    const CARD: &str = r#"
name = "demo-embed"
version = "1.0.0"
task = "embedding"
file = "model.onnx"
not_for_clinical_use = true
modalities = ["dermoscopy", "clinical"]
[input]
name = "input"
layout = "NCHW"
height = 224
width = 224
colour = "RGB"
resize = "stretch"
mean = [127.0, 127.0, 127.0]
std = [128.0, 128.0, 128.0]
[output]
name = "embedding"
kind = "embedding"
[training]
data = "ImageNet-1k"
licence = "Apache-2.0"
"#;

    #[test]
    fn built_in_models_register_once_and_a_changed_one_is_reported() {
        let Some(model) = embedder() else {
            panic!("the shared models folder is needed (set DERMDESK_SHARED)");
        };
        let tmp = tempfile::tempdir().unwrap();
        let mut store = Store::open(&tmp.path().join("a.sqlite")).unwrap();
        let b = [Builtin { folder: "demo-embed", card: CARD, model }];
        assert!(open_with(&mut store, &b).unwrap().is_empty());
        assert!(open_with(&mut store, &b).unwrap().is_empty(), "idempotent");
        let all = list(&store).unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].builtin && all[0].model_path.is_file());
        assert_eq!(all[0].model_path, tmp.path().join("models/demo-embed/1.0.0/model.onnx"));
        // The same version built with another file: said, and the registered one kept.
        let other = [Builtin { folder: "demo-embed", card: CARD, model: &model[..model.len() - 1] }];
        let problems = open_with(&mut store, &other).unwrap();
        assert!(problems.len() == 1 && problems[0].contains("another version"), "{problems:?}");
        // A card whose file was missing at build time.
        let missing = [Builtin { folder: "x", card: &*CARD.replace("demo-embed", "x").leak(), model: &[] }];
        let problems = open_with(&mut store, &missing).unwrap();
        assert!(problems.len() == 1 && problems[0].contains("was not there"), "{problems:?}");
        assert_eq!(list(&store).unwrap().len(), 1);
        assert_eq!(get(&store, "demo-embed", None).unwrap().id, all[0].id);
        assert!(matches!(get(&store, "nope", None), Err(ModelError::Unknown(_))));
    }
}
