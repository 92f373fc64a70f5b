//! Research models end to end: the registry's checks (real ONNX files: the shared
//! EfficientNet-Lite0 embedder and tiny models built here with tract's own protobuf types),
//! inference over a small real archive (HAM10000 photos imported through the normal path)
//! through the release gate, resumable runs, versions, and agreement with the chart.

mod common;
use common::*;
use dermdesk::models::{ModelError, registry};
use dermdesk::privacy::Review;
use dermdesk::store::{Fill, Shape, Store};
use prost::Message;
use std::path::{Path, PathBuf};
use tract_onnx::pb;

// ---------------------------------------------------------------------------------------
// Tiny ONNX models.

fn dims(d: &[Option<i64>]) -> pb::TypeProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    pb::TypeProto {
        value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
            elem_type: 1,
            shape: Some(pb::TensorShapeProto {
                dim: d
                    .iter()
                    .map(|x| Dimension {
                        value: Some(match x {
                            Some(n) => Value::DimValue(*n),
                            None => Value::DimParam("N".into()),
                        }),
                        ..Default::default()
                    })
                    .collect(),
            }),
        })),
        ..Default::default()
    }
}

fn value(name: &str, d: &[Option<i64>]) -> pb::ValueInfoProto {
    pb::ValueInfoProto { name: name.into(), r#type: Some(dims(d)), ..Default::default() }
}

fn tensor(name: &str, shape: &[i64], data: Vec<f32>) -> pb::TensorProto {
    pb::TensorProto { name: name.into(), dims: shape.to_vec(), data_type: 1, float_data: data, ..Default::default() }
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<pb::AttributeProto>) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        name: format!("{op}_{output}"),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), i, r#type: 2, ..Default::default() }
}

fn model(
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    input: pb::ValueInfoProto,
    output: pb::ValueInfoProto,
) -> Vec<u8> {
    pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "dermdesk-tests".into(),
        graph: Some(pb::GraphProto {
            name: "g".into(),
            node: nodes,
            initializer: inits,
            input: vec![input],
            output: vec![output],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Image [N,3,H,W] -> mean per channel -> linear -> `logits` [N,K] (and `probs` with softmax).
/// `seed` changes the weights (a "new version").
fn tiny_classifier(k: usize, h: i64, w: i64, softmax: bool, seed: u32) -> Vec<u8> {
    let weights: Vec<f32> = (0..3 * k).map(|i| (((i as u32 * 7 + seed * 3) % 11) as f32 - 5.0) * 0.4).collect();
    let bias: Vec<f32> = (0..k).map(|i| ((i as u32 + seed) % 3) as f32 * 0.1).collect();
    let mut nodes = vec![
        node("GlobalAveragePool", &["input"], "pooled", vec![]),
        node("Flatten", &["pooled"], "flat", vec![int_attr("axis", 1)]),
        node("Gemm", &["flat", "w", "b"], "logits", vec![]),
    ];
    let out = if softmax {
        nodes.push(node("Softmax", &["logits"], "probs", vec![int_attr("axis", 1)]));
        "probs"
    } else {
        "logits"
    };
    model(
        nodes,
        vec![tensor("w", &[3, k as i64], weights), tensor("b", &[k as i64], bias)],
        value("input", &[None, Some(3), Some(h), Some(w)]),
        value(out, &[None, Some(k as i64)]),
    )
}

/// Image [N,3,H,W] -> 1x1 convolution (channel mean) -> `mask` [N,1,H,W].
fn tiny_segmenter(h: i64, w: i64) -> Vec<u8> {
    model(
        vec![node("Conv", &["input", "w", "b"], "mask", vec![])],
        vec![tensor("w", &[1, 3, 1, 1], vec![1.0 / 3.0; 3]), tensor("b", &[1], vec![0.0])],
        value("input", &[None, Some(3), Some(h), Some(w)]),
        value("mask", &[None, Some(1), Some(h), Some(w)]),
    )
}

// ---------------------------------------------------------------------------------------
// Cards.

const DEMO_LABELS: &str = r#"
[[labels]]
key = "akiec"
en = "Actinic keratosis / intraepithelial carcinoma"
ja = "日光角化症・表皮内癌"
code = "L57.0"
group = "premalignant"
[[labels]]
key = "bcc"
en = "Basal cell carcinoma"
code = "C44.9"
group = "malignant"
[[labels]]
key = "bkl"
en = "Benign keratosis"
code = "L82"
group = "benign"
[[labels]]
key = "df"
en = "Dermatofibroma"
code = "D23.9"
group = "benign"
[[labels]]
key = "mel"
en = "Melanoma"
code = "C43.9"
group = "malignant"
[[labels]]
key = "nv"
en = "Melanocytic nevus"
code = "D22.9"
group = "benign"
[[labels]]
key = "vasc"
en = "Vascular lesion"
code = "D18.0"
group = "benign"
"#;

struct CardSpec<'a> {
    name: &'a str,
    version: &'a str,
    task: &'a str,
    file: &'a str,
    h: u32,
    w: u32,
    output: &'a str,
    kind: &'a str,
    labels: &'a str,
    clinical_ok: bool,
}

impl Default for CardSpec<'_> {
    fn default() -> Self {
        CardSpec {
            name: "tiny7",
            version: "1.0.0",
            task: "classification",
            file: "model.onnx",
            h: 32,
            w: 48,
            output: "logits",
            kind: "logits",
            labels: DEMO_LABELS,
            clinical_ok: true,
        }
    }
}

fn card_text(c: &CardSpec<'_>) -> String {
    format!(
        r#"name = "{}"
version = "{}"
task = "{}"
file = "{}"
not_for_clinical_use = {}
modalities = ["dermoscopy"]
description = "a test model"
[input]
name = "input"
layout = "NCHW"
height = {}
width = {}
colour = "RGB"
resize = "stretch"
mean = [127.0, 127.0, 127.0]
std = [128.0, 128.0, 128.0]
[output]
name = "{}"
kind = "{}"
{}
[training]
data = "none: made in a test"
licence = "test only"
[metrics]
accuracy = 0.0
"#,
        c.name, c.version, c.task, c.file, c.clinical_ok, c.h, c.w, c.output, c.kind, c.labels
    )
}

/// Writes `model` and its card into a fresh folder `dir/sub`; returns the card's path.
fn write_model(dir: &Path, sub: &str, card: &CardSpec<'_>, model: &[u8]) -> PathBuf {
    let d = dir.join(sub);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(card.file), model).unwrap();
    let p = d.join("card.toml");
    std::fs::write(&p, card_text(card)).unwrap();
    p
}

fn embed_model() -> Vec<u8> {
    std::fs::read(shared().join("models/embed-efficientnet-lite0/efficientnet_lite0_embed.onnx")).unwrap()
}

fn refusal(store: &mut Store, card: &Path) -> ModelError {
    match registry::add(store, card, None) {
        Ok(m) => panic!("{} {} was registered but should have been refused", m.name(), m.version()),
        Err(e) => e,
    }
}

#[test]
fn the_registry_checks_models_against_their_cards() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db/a.sqlite");
    let mut store = Store::open(&db).unwrap();
    let dir = tmp.path().join("models-in");

    // A classifier whose card agrees with it registers, and is copied beside the database.
    let good = write_model(&dir, "good", &CardSpec::default(), &tiny_classifier(7, 32, 48, false, 1));
    let m = registry::add(&mut store, &good, None).unwrap();
    assert_eq!((m.name(), m.version(), m.card.labels.len()), ("tiny7", "1.0.0", 7));
    assert!(m.model_path.starts_with(tmp.path().join("db/models/tiny7/1.0.0")), "{}", m.model_path.display());
    assert!(m.model_path.is_file() && m.dir.join("card.toml").is_file());
    // Again: a no-op. The same version with another model: refused.
    assert_eq!(registry::add(&mut store, &good, None).unwrap().id, m.id);
    let other = write_model(&dir, "other", &CardSpec::default(), &tiny_classifier(7, 32, 48, false, 2));
    let e = refusal(&mut store, &other);
    assert!(matches!(e, ModelError::Conflict { .. }) && e.to_string().contains("another version"), "{e}");

    // Wrong input size: the real embedder is fixed at 224x224.
    let spec = CardSpec {
        name: "embed",
        task: "embedding",
        output: "embedding",
        kind: "embedding",
        labels: "",
        h: 160,
        w: 224,
        ..Default::default()
    };
    let e = refusal(&mut store, &write_model(&dir, "embed-160", &spec, &embed_model()));
    assert!(matches!(e, ModelError::InputShape { .. }), "{e}");
    assert!(e.to_string().contains("[?, 3, 224, 224]") && e.to_string().contains("224x160"), "{e}");
    // ...and at the right size it registers as an embedder.
    let spec = CardSpec { h: 224, ..spec };
    let emb = registry::add(&mut store, &write_model(&dir, "embed-224", &spec, &embed_model()), None).unwrap();
    assert_eq!(emb.card.task, dermdesk::models::ModelTask::Embedding);

    // Wrong number of labels.
    let e = refusal(
        &mut store,
        &write_model(&dir, "k5", &CardSpec { name: "k5", ..Default::default() }, &tiny_classifier(5, 32, 48, false, 1)),
    );
    assert!(e.to_string().contains("5 class scores, but the card lists 7 labels"), "{e}");
    // A missing output name, with the names there are.
    let e = refusal(
        &mut store,
        &write_model(
            &dir,
            "noout",
            &CardSpec { name: "noout", output: "probs", ..Default::default() },
            &tiny_classifier(7, 32, 48, false, 1),
        ),
    );
    assert!(e.to_string().contains("no output named \"probs\" (its outputs: logits)"), "{e}");
    // A missing input name.
    let bytes = tiny_classifier(7, 32, 48, false, 1);
    let p = write_model(&dir, "noin", &CardSpec { name: "noin", ..Default::default() }, &bytes);
    std::fs::write(&p, std::fs::read_to_string(&p).unwrap().replacen("name = \"input\"", "name = \"image\"", 1))
        .unwrap();
    let e = refusal(&mut store, &p);
    assert!(e.to_string().contains("no input named \"image\" (its inputs: input)"), "{e}");
    // Not for clinical use must be said.
    let e = refusal(
        &mut store,
        &write_model(&dir, "clin", &CardSpec { name: "clin", clinical_ok: false, ..Default::default() }, &bytes),
    );
    assert!(matches!(e, ModelError::ClinicalUse) && e.to_string().contains("not_for_clinical_use = true"), "{e}");
    // Truncated and garbage files.
    let embed = embed_model();
    let e = refusal(
        &mut store,
        &write_model(&dir, "cut", &CardSpec { name: "cut", ..spec_embed() }, &embed[..embed.len() / 2]),
    );
    assert!(matches!(e, ModelError::NotOnnx(_)), "{e}");
    let e = refusal(
        &mut store,
        &write_model(
            &dir,
            "junk",
            &CardSpec { name: "junk", ..Default::default() },
            b"this is not a model at all, just text",
        ),
    );
    assert!(matches!(e, ModelError::NotOnnx(_)), "{e}");
    let e = refusal(&mut store, &write_model(&dir, "empty", &CardSpec { name: "empty", ..Default::default() }, b""));
    assert!(matches!(e, ModelError::NotOnnx(_)), "{e}");
    // The card says probabilities, but the output is raw logits: the test run catches it.
    let e = refusal(
        &mut store,
        &write_model(&dir, "probs", &CardSpec { name: "probs", kind: "probabilities", ..Default::default() }, &bytes),
    );
    assert!(matches!(e, ModelError::TestRun(_)) && e.to_string().contains("sum to"), "{e}");
    // With a softmax inside, probabilities are right.
    let p = write_model(
        &dir,
        "probs2",
        &CardSpec { name: "probs2", kind: "probabilities", output: "probs", ..Default::default() },
        &tiny_classifier(7, 32, 48, true, 1),
    );
    registry::add(&mut store, &p, None).unwrap();
    // A segmenter: its mask must be the card's size.
    let seg = CardSpec {
        name: "seg",
        task: "segmentation",
        output: "mask",
        kind: "mask-logits",
        labels: "",
        ..Default::default()
    };
    registry::add(&mut store, &write_model(&dir, "seg", &seg, &tiny_segmenter(32, 48)), None).unwrap();
    let e = refusal(
        &mut store,
        &write_model(&dir, "seg2", &CardSpec { name: "seg2", h: 24, ..seg }, &tiny_segmenter(32, 48)),
    );
    assert!(matches!(e, ModelError::InputShape { .. }), "{e}");
    // A missing file, with its path last.
    let p = write_model(&dir, "nofile", &CardSpec { name: "nofile", ..Default::default() }, &bytes);
    std::fs::remove_file(dir.join("nofile/model.onnx")).unwrap();
    let e = refusal(&mut store, &p);
    assert!(e.to_string().ends_with(&dir.join("nofile/model.onnx").display().to_string()), "{e}");

    // Nothing refused was recorded or copied.
    let names: Vec<String> = registry::list(&store).unwrap().iter().map(|m| m.name().to_owned()).collect();
    assert!(
        names.iter().all(|n| ["tiny7", "embed", "probs2", "seg"].contains(&n.as_str()) || is_builtin(n)),
        "{names:?}"
    );
    assert!(!tmp.path().join("db/models/k5").exists());
    drop(store);

    // The CLI: a refusal exits 1 with the reason; list and show.
    let out = cli(
        &db,
        &[
            "models",
            "add",
            dir.join("k5/model.onnx").to_str().unwrap(),
            "--card",
            dir.join("k5/card.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the card lists 7 labels"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // MODEL.onnx given on the command line overrides the card's file.
    let v2 = dir.join("v2.toml");
    std::fs::write(&v2, card_text(&CardSpec { version: "1.1.0", file: "nowhere.onnx", ..Default::default() })).unwrap();
    let v2_model = dir.join("v2-model.onnx");
    std::fs::write(&v2_model, tiny_classifier(7, 32, 48, false, 2)).unwrap();
    cli_ok(&db, &["models", "add", v2_model.to_str().unwrap(), "--card", v2.to_str().unwrap()]);
    let rows = json_lines(&cli_ok(&db, &["models", "list", "--json"]));
    let tiny: Vec<&serde_json::Value> = rows.iter().filter(|r| r["name"] == "tiny7").collect();
    assert_eq!(tiny.len(), 2);
    assert_eq!(tiny[0]["version"], "1.1.0", "newest first");
    assert_eq!(tiny[0]["task"], "classification");
    assert_eq!(tiny[0]["labels"].as_array().unwrap().len(), 7);
    assert_eq!(tiny[0]["labels"][4]["code"], "C43.9");
    assert_eq!(tiny[0]["input"]["width"], 48);
    assert_eq!(tiny[0]["modalities"], serde_json::json!(["dermoscopy"]));
    let show = json(&cli_ok(&db, &["models", "show", "tiny7", "--json"]));
    assert_eq!(show["version"], "1.1.0");
    assert_eq!(show["versions"], serde_json::json!(["1.1.0", "1.0.0"]));
    assert_eq!(show["training"]["licence"], "test only");
    let text = cli_ok(&db, &["models", "show", "tiny7", "--version", "1.0.0"]);
    assert!(text.contains("tiny7 1.0.0") && text.contains("mel\tC43.9\tmalignant"), "{text}");
}

fn spec_embed<'a>() -> CardSpec<'a> {
    CardSpec {
        task: "embedding",
        output: "embedding",
        kind: "embedding",
        labels: "",
        h: 224,
        w: 224,
        ..Default::default()
    }
}

/// The demo models shipped in assets/models/ (registered by every registry open).
fn is_builtin(name: &str) -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models").join(name).join("card.toml").is_file()
}

// ---------------------------------------------------------------------------------------
// Inference over a small real archive.

fn ids_by_name(db: &Path) -> std::collections::HashMap<String, i64> {
    json_lines(&cli_ok(db, &["list", "--json"]))
        .iter()
        .map(|r| {
            let p = r["paths"][0].as_str().unwrap();
            (Path::new(p).file_name().unwrap().to_string_lossy().into_owned(), r["id"].as_i64().unwrap())
        })
        .collect()
}

#[test]
fn inference_runs_only_on_released_photos_and_keeps_every_version() {
    let tmp = tempfile::tempdir().unwrap();
    let images = files_in(&shared().join("data/ham10000/images"), "jpg", 10);
    assert_eq!(images.len(), 10);
    let archive = tmp.path().join("archive");
    // Patient 11111111 (melanoma in the chart), 22222222 (opted out), and unlinked photos.
    let a = copy_files(&images[0..3], &archive.join("11111111_20150101"));
    let b = copy_files(&images[3..5], &archive.join("22222222_20150102"));
    let c = copy_files(&images[5..10], &archive.join("other"));
    let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    let db = tmp.path().join("a.sqlite");
    let progress = dermdesk::jobs::Progress::new();
    let r = dermdesk::archive::import(&db, std::slice::from_ref(&archive), &import_opts(), &progress).unwrap();
    assert_eq!(r.counts.refused, 0, "{:?}", r.refusals);
    let charts = tmp.path().join("visits.csv");
    std::fs::write(&charts, "患者ID,受診日,病名\n11111111,2015-01-01,悪性黒色腫\n22222222,2015-01-02,色素性母斑\n")
        .unwrap();
    cli_ok(&db, &["charts", "import", charts.to_str().unwrap()]);
    cli_ok(&db, &["link"]);
    cli_ok(&db, &["optout", "add", "22222222"]);
    let ids = ids_by_name(&db);
    let id = |p: &PathBuf| ids[&name(p)];
    // Every photo dermoscopy by hand, but one clinical.
    let all: Vec<String> = ids.values().map(|i| i.to_string()).collect();
    let mut args = vec!["set-modality", "dermoscopy"];
    args.extend(all.iter().map(String::as_str));
    cli_ok(&db, &args);
    cli_ok(&db, &["set-modality", "clinical", &id(&c[4]).to_string()]);

    let mut store = Store::open(&db).unwrap();
    // c[0] is never screened; c[1] screened, not reviewed; c[2] excluded; the rest cleared.
    for (n, &i) in &ids {
        if *n != name(&c[0]) {
            screened_clear(&mut store, i);
        }
    }
    store.set_review(&[id(&c[2])], Review::Excluded, "dr.sato").unwrap();
    let cleared: Vec<i64> = [&a[0], &a[1], &a[2], &b[0], &b[1], &c[3], &c[4]].iter().map(|p| id(p)).collect();
    store.set_review(&cleared, Review::Cleared, "dr.sato").unwrap();
    let release = store.release(None).unwrap();
    let allowed: std::collections::BTreeSet<i64> = release.allowed_ids().into_iter().collect();
    let expected: std::collections::BTreeSet<i64> = [&a[0], &a[1], &a[2], &c[3], &c[4]].iter().map(|p| id(p)).collect();
    assert_eq!(allowed, expected, "{:?}", release.withheld);

    let dir = tmp.path().join("models-in");
    let card = write_model(&dir, "v1", &CardSpec::default(), &tiny_classifier(7, 32, 48, false, 1));
    registry::add(&mut store, &card, None).unwrap();
    drop(store);

    // The run: only the released dermoscopy photos; every other photo counted with its reason.
    let rep = json(&cli_ok(&db, &["infer", "--model", "tiny7", "--threads", "2", "--json"]));
    assert_eq!(rep["inferred"], 4, "{rep}");
    assert_eq!(rep["version"], "1.0.0");
    let skipped = &rep["skipped"];
    assert_eq!(skipped["unscreened"], 1, "{rep}");
    assert_eq!(skipped["unreviewed"], 1, "{rep}");
    assert_eq!(skipped["excluded"], 1, "{rep}");
    assert_eq!(skipped["modality_not_intended"], 1, "{rep}");
    let opted: u64 = ["opted_out_patient", "opted_out_number_in_path"].iter().filter_map(|k| skipped[k].as_u64()).sum();
    assert_eq!(opted, 2, "{rep}");
    assert!(rep["failed"].as_array().unwrap().is_empty(), "{rep}");

    // list --json: predictions on exactly the inferred photos; every class, most probable first.
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let with: std::collections::BTreeSet<i64> = rows
        .iter()
        .filter(|r| r["predictions"].as_object().is_some_and(|o| !o.is_empty()))
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let want: std::collections::BTreeSet<i64> = [&a[0], &a[1], &a[2], &c[3]].iter().map(|p| id(p)).collect();
    assert_eq!(with, want);
    for r in &rows {
        let Some(p) = r["predictions"].get("tiny7") else { continue };
        assert_eq!(p["version"], "1.0.0");
        let top = p["top"].as_array().unwrap();
        assert_eq!(top.len(), 7, "{p}");
        let ps: Vec<f64> = top.iter().map(|t| t["p"].as_f64().unwrap()).collect();
        assert!(ps.windows(2).all(|w| w[0] >= w[1]), "{ps:?}");
        assert!((ps.iter().sum::<f64>() - 1.0).abs() < 1e-3, "{ps:?}");
        assert!(top.iter().all(|t| t["label"].is_string() && t["code"].is_string()), "{p}");
        // Linked to a melanoma visit: agreement is known (mel is top, or not); unlinked: null.
        let linked = a.iter().any(|x| id(x) == r["id"].as_i64().unwrap());
        assert_eq!(r["diagnosis"]["code"].as_str().is_some(), linked, "{r}");
        if linked {
            assert_eq!(p["agrees_with_chart"].as_bool(), Some(top[0]["label"] == "mel"), "{p}");
        } else {
            assert!(p["agrees_with_chart"].is_null(), "{p}");
        }
    }
    // The browser's filter agrees with list --json.
    let store = Store::open(&db).unwrap();
    let dis = dermdesk::models::agree::disagreeing_photos(&store, "tiny7").unwrap();
    let dis_list: Vec<i64> = rows
        .iter()
        .filter(|r| r["predictions"]["tiny7"]["agrees_with_chart"] == false)
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(dis, dis_list);
    drop(store);

    // Resumable: a second run does nothing new.
    let rep = json(&cli_ok(&db, &["infer", "--model", "tiny7", "--json"]));
    assert_eq!((rep["inferred"].as_u64(), rep["skipped"]["already_inferred"].as_u64()), (Some(0), Some(4)), "{rep}");
    // Forced: the clinical photo too (and still nothing the gate holds back).
    let rep = json(&cli_ok(&db, &["infer", "--model", "tiny7", "--force-modality", "--all", "--json"]));
    assert_eq!(rep["inferred"], 5, "{rep}");
    assert_eq!(rep["skipped"]["unscreened"], 1, "{rep}");

    // Trying to break the gate: a cleared photo that is then excluded, a photo whose patient
    // opts out after linking, a reviewed photo re-screened by a new detector version: none is
    // inferred again, whatever the flags.
    let mut store = Store::open(&db).unwrap();
    store.set_review(&[id(&c[3])], Review::Excluded, "dr.sato").unwrap();
    cli_ok(&db, &["optout", "add", "11111111"]);
    let before = store.model_results_of(&hash_of(&store, id(&a[0]))).unwrap().len();
    drop(store);
    let v2 = write_model(
        &dir,
        "v2",
        &CardSpec { version: "1.1.0", ..Default::default() },
        &tiny_classifier(7, 32, 48, false, 5),
    );
    cli_ok(&db, &["models", "add", "--card", v2.to_str().unwrap()]);
    let rep = json(&cli_ok(&db, &["infer", "--model", "tiny7", "--all", "--force-modality", "--json"]));
    assert_eq!(rep["version"], "1.1.0", "the newest version by default");
    assert_eq!(rep["inferred"], 1, "only the clinical photo is still released: {rep}");
    assert_eq!(rep["skipped"]["excluded"], 2, "{rep}");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.model_results_of(&hash_of(&store, id(&a[0]))).unwrap().len(), before, "no new result");
    // A new version keeps the old one's results; list shows the newest per model.
    let res = store.model_results_of(&hash_of(&store, id(&c[4]))).unwrap();
    let versions: Vec<&str> = res.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"]);
    drop(store);
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let row = rows.iter().find(|r| r["id"] == id(&c[4])).unwrap();
    assert_eq!(row["predictions"]["tiny7"]["version"], "1.1.0", "{row}");
    let row = rows.iter().find(|r| r["id"] == id(&a[0])).unwrap();
    assert_eq!(row["predictions"]["tiny7"]["version"], "1.0.0", "{row}");
    // And the old version can still be asked for by name.
    let rep = json(&cli_ok(&db, &["infer", "--model", "tiny7", "--version", "1.0.0", "--force-modality", "--json"]));
    assert_eq!((rep["version"].as_str(), rep["inferred"].as_u64()), (Some("1.0.0"), Some(0)), "{rep}");

    // Removing a version: it goes with its results (the clinical photo's one 1.1.0 result),
    // the registry's copy of its files goes, the folder it was added from and the other
    // version's results stay, and the audit says so.
    let registered = tmp.path().join("models/tiny7/1.1.0");
    assert!(registered.join("card.toml").is_file());
    let source = fingerprint(&dir);
    let rep = json(&cli_ok(&db, &["models", "remove", "tiny7", "--version", "1.1.0", "--json"]));
    assert_eq!((rep["results"].as_u64(), rep["files_left"].is_null()), (Some(1), true), "{rep}");
    assert!(!registered.exists(), "the registry's copy is deleted");
    assert_eq!(fingerprint(&dir), source, "the folder it was added from is untouched");
    let store = Store::open(&db).unwrap();
    let versions: Vec<String> =
        store.model_results_of(&hash_of(&store, id(&c[4]))).unwrap().into_iter().map(|r| r.version).collect();
    assert_eq!(versions, ["1.0.0"]);
    assert_eq!(store.model_results_of(&hash_of(&store, id(&a[0]))).unwrap().len(), before);
    let audit = store.audit_recent(5).unwrap();
    assert!(audit.iter().any(|r| r.action == "model_removed" && r.detail.contains("tiny7 1.1.0")), "{audit:?}");
    drop(store);
    let listed = json_lines(&cli_ok(&db, &["models", "list", "--json"]));
    let tiny: Vec<&str> =
        listed.iter().filter(|m| m["name"] == "tiny7").map(|m| m["version"].as_str().unwrap()).collect();
    assert_eq!(tiny, ["1.0.0"]);
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let row = rows.iter().find(|r| r["id"] == id(&c[4])).unwrap();
    assert_eq!(row["predictions"]["tiny7"]["version"], "1.0.0", "{row}");
    // Refused, with the reason, and nothing changed: a built-in model, a version that is not
    // there (any more).
    for (args, says) in [
        (["models", "remove", "ham7-lite0", "--version", "1.0.0"], "built into dermdesk"),
        (["models", "remove", "tiny7", "--version", "1.1.0"], "no model named tiny7 at version 1.1.0"),
    ] {
        let out = cli(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(json_lines(&cli_ok(&db, &["models", "list", "--json"])).len(), listed.len());
}

/// `models compare`: two versions of a classifier on the photos both looked at, counted here
/// again from the stored results (each version's most probable label, and agreement with the
/// chart by hand: melanoma or naevus in the chart, each some label's category, agree only
/// with that label); the refusals name their reason.
#[test]
fn two_versions_of_a_classifier_are_compared_on_the_photos_both_saw() {
    const KEYS: [&str; 7] = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"];
    let tmp = tempfile::tempdir().unwrap();
    // Four photos each of melanoma and naevus (charted so) and of basal cell carcinoma.
    let rows = ham_rows();
    let of =
        |dx: &str| -> Vec<PathBuf> { rows.iter().filter(|r| r.0 == dx).take(4).map(|r| ham_image(&r.1)).collect() };
    let archive = tmp.path().join("archive");
    let mel = copy_files(&of("mel"), &archive.join("11111111_20150101"));
    let nv = copy_files(&of("nv"), &archive.join("33333333_20150103"));
    copy_files(&of("bcc"), &archive.join("other"));
    let db = tmp.path().join("a.sqlite");
    dermdesk::archive::import(&db, std::slice::from_ref(&archive), &import_opts(), &dermdesk::jobs::Progress::new())
        .unwrap();
    let charts = tmp.path().join("visits.csv");
    std::fs::write(&charts, "患者ID,受診日,病名\n11111111,2015-01-01,悪性黒色腫\n33333333,2015-01-03,色素性母斑\n")
        .unwrap();
    cli_ok(&db, &["charts", "import", charts.to_str().unwrap()]);
    cli_ok(&db, &["link"]);
    let ids = ids_by_name(&db);
    let all: Vec<String> = ids.values().map(|i| i.to_string()).collect();
    let mut args = vec!["set-modality", "dermoscopy"];
    args.extend(all.iter().map(String::as_str));
    cli_ok(&db, &args);
    let mut store = Store::open(&db).unwrap();
    for &i in ids.values() {
        screened_clear(&mut store, i);
    }
    let every: Vec<i64> = ids.values().copied().collect();
    store.set_review(&every, Review::Cleared, "dr.sato").unwrap();
    let dir = tmp.path().join("models-in");
    let v1 = write_model(&dir, "v1", &CardSpec::default(), &tiny_classifier(7, 32, 48, false, 1));
    registry::add(&mut store, &v1, None).unwrap();
    drop(store);
    cli_ok(&db, &["infer", "--model", "tiny7", "--json"]);
    // The second version does not see one photo (excluded after the first version ran).
    let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    let excluded = ids[&name(&nv[3])];
    Store::open(&db).unwrap().set_review(&[excluded], Review::Excluded, "dr.sato").unwrap();
    // The second version: the demo classifier under this name, so that the two answers differ
    // on some photos (the tiny one says "bcc" whatever it sees).
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/ham7-lite0");
    let card = std::fs::read_to_string(demo.join("card.toml"))
        .unwrap()
        .replacen("name = \"ham7-lite0\"", "name = \"tiny7\"", 1)
        .replacen("version = \"1.0.0\"", "version = \"1.1.0\"", 1);
    let v2 = dir.join("v2");
    std::fs::create_dir_all(&v2).unwrap();
    std::fs::write(v2.join("card.toml"), card).unwrap();
    std::fs::copy(demo.join("model.onnx"), v2.join("model.onnx")).unwrap();
    let v2 = v2.join("card.toml");
    cli_ok(&db, &["models", "add", "--card", v2.to_str().unwrap()]);
    cli_ok(&db, &["infer", "--model", "tiny7", "--json"]);

    // Counted again from the stored results.
    let store = Store::open(&db).unwrap();
    let chart_of = |id: i64| -> Option<&str> {
        if mel.iter().any(|p| ids[&name(p)] == id) {
            Some("mel")
        } else if nv.iter().any(|p| ids[&name(p)] == id) {
            Some("nv")
        } else {
            None
        }
    };
    let top = |p: &[f32]| KEYS[p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0];
    let (mut photos, mut same, mut charted, mut agree1, mut agree2, mut fixed, mut broke) = (0, 0, 0, 0, 0, 0, 0);
    let mut changed = Vec::new();
    let mut sorted: Vec<i64> = every.clone();
    sorted.sort();
    for &id in &sorted {
        let res = store.model_results_of(&hash_of(&store, id)).unwrap();
        let of = |v: &str| {
            res.iter().find(|r| r.name == "tiny7" && r.version == v).map(|r| match &r.prediction {
                dermdesk::models::Prediction::Classes { probabilities } => top(probabilities),
                other => panic!("{other:?}"),
            })
        };
        let (Some(a), Some(b)) = (of("1.0.0"), of("1.1.0")) else { continue };
        photos += 1;
        if a == b {
            same += 1;
        } else {
            changed.push((id, a, b));
        }
        if let Some(c) = chart_of(id) {
            charted += 1;
            agree1 += usize::from(a == c);
            agree2 += usize::from(b == c);
            fixed += usize::from(a != c && b == c);
            broke += usize::from(a == c && b != c);
        }
    }
    drop(store);
    eprintln!("{photos} photos, {same} same, changed {changed:?}");
    assert_eq!(photos, 11, "one photo was not seen by 1.1.0");
    assert!(same > 0 && same < photos, "the two tiny versions should differ on some photos only: {changed:?}");

    let v = json(&cli_ok(&db, &["models", "compare", "tiny7", "--json"]));
    assert_eq!(
        (v["model"].as_str(), v["from"].as_str(), v["to"].as_str()),
        (Some("tiny7"), Some("1.0.0"), Some("1.1.0")),
        "{v}"
    );
    let n = |k: &str| v[k].as_u64().unwrap() as usize;
    assert_eq!((n("photos"), n("same_top"), n("only_from"), n("only_to")), (photos, same, 1, 0), "{v}");
    assert_eq!(
        (n("charted"), n("from_agrees"), n("to_agrees"), n("now_agrees"), n("now_disagrees")),
        (charted, agree1, agree2, fixed, broke),
        "{v}"
    );
    let got: Vec<(i64, String, String)> = v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["photo_id"].as_i64().unwrap(),
                c["from"]["label"].as_str().unwrap().into(),
                c["to"]["label"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(i64, String, String)> = changed.iter().map(|(i, a, b)| (*i, a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
    for c in v["changed"].as_array().unwrap() {
        let id = c["photo_id"].as_i64().unwrap();
        match chart_of(id) {
            Some(k) => {
                assert_eq!(c["chart_code"].as_str(), Some(if k == "mel" { "C43.9" } else { "D22.9" }), "{c}");
                assert_eq!(c["from_agrees"].as_bool(), Some(c["from"]["label"] == k), "{c}");
                assert_eq!(c["to_agrees"].as_bool(), Some(c["to"]["label"] == k), "{c}");
            }
            None => assert!(c["chart_code"].is_null() && c["from_agrees"].is_null(), "{c}"),
        }
    }
    // `list --json`: the newest version's answer, with the older one's under `earlier`.
    let listed = json_lines(&cli_ok(&db, &["list", "--json"]));
    for (id, a, b) in &changed {
        let p = &listed.iter().find(|r| r["id"] == *id).unwrap()["predictions"]["tiny7"];
        assert_eq!((p["version"].as_str(), p["top"][0]["label"].as_str()), (Some("1.1.0"), Some(*b)), "{p}");
        let e = &p["earlier"];
        assert_eq!(
            (e.as_array().map(Vec::len), e[0]["version"].as_str(), e[0]["top"]["label"].as_str()),
            (Some(1), Some("1.0.0"), Some(*a)),
            "{p}"
        );
        let agrees = chart_of(*id).map(|k| k == *a);
        assert_eq!(e[0]["agrees_with_chart"].as_bool(), agrees, "{p}");
    }
    let seen_once = &listed.iter().find(|r| r["id"] == excluded).unwrap()["predictions"]["tiny7"];
    assert!(seen_once["earlier"].is_null(), "one version only: no `earlier`: {seen_once}");
    // `list --changed-between`: exactly the photos whose answer changed.
    let only: Vec<i64> = json_lines(&cli_ok(&db, &["list", "--changed-between", "tiny7:1.0.0:1.1.0", "--json"]))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let mut want_ids: Vec<i64> = changed.iter().map(|c| c.0).collect();
    want_ids.sort_unstable();
    let mut got_ids = only.clone();
    got_ids.sort_unstable();
    assert_eq!(got_ids, want_ids);
    let out = cli(&db, &["list", "--changed-between", "tiny7:1.0.0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("expected MODEL:FROM:TO"), "{err}");
    // Named the other way round, the same photos with the roles swapped.
    let back = json(&cli_ok(&db, &["models", "compare", "tiny7", "--from", "1.1.0", "--to", "1.0.0", "--json"]));
    assert_eq!(
        (back["photos"].as_u64(), back["only_from"].as_u64(), back["only_to"].as_u64()),
        (Some(11), Some(0), Some(1))
    );
    assert_eq!((back["from_agrees"].as_u64(), back["now_agrees"].as_u64()), (Some(agree2 as u64), Some(broke as u64)));
    // The text form says the same.
    let text = cli_ok(&db, &["models", "compare", "tiny7"]);
    assert!(text.contains(&format!("same most probable class: {same} of {photos}")), "{text}");
    assert!(text.contains(&format!("answer changed on {} photo(s)", changed.len())), "{text}");
    // Refused, with the reason.
    for (args, says) in [
        (vec!["models", "compare", "tiny7", "--from", "1.1.0", "--to", "1.1.0"], "two different versions"),
        (vec!["models", "compare", "tiny7", "--from", "2.0.0"], "no model named tiny7 at version 2.0.0"),
        (vec!["models", "compare", "ham7-lite0"], "no version older than 1.0.0"),
        (vec!["models", "compare", "lesion-seg-lite0"], "no version older than 1.0.0"),
        (vec!["models", "compare", "nosuch"], "no model named nosuch"),
    ] {
        let out = cli(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
    }
}

fn hash_of(store: &Store, id: i64) -> String {
    store.grid_rows(&[id]).unwrap()[0].hash.clone()
}

#[test]
fn segmenters_and_embedders_store_masks_and_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let images = files_in(&shared().join("data/ham10000/images"), "jpg", 2);
    let archive = tmp.path().join("archive");
    copy_files(&images, &archive);
    let db = tmp.path().join("a.sqlite");
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, &[archive], &import_opts(), &progress).unwrap();
    let mut store = Store::open(&db).unwrap();
    let ids: Vec<i64> = store.grid_ids(&Default::default()).unwrap();
    for &i in &ids {
        screened_clear(&mut store, i);
    }
    store.set_review(&ids[1..], Review::Cleared, "dr.sato").unwrap();
    // The first photo leaves redacted: blacked out whole, which is all the model may see of it.
    let g = &store.grid_rows(&ids[..1]).unwrap()[0];
    let all = [0.0, 0.0, g.width as f32, g.height as f32];
    store.add_redaction(ids[0], &Shape::Rect { rect: all, fill: Fill::Black }, "dr.sato").unwrap();
    store.set_review(&ids[..1], Review::Redacted, "dr.sato").unwrap();
    let redacted_hash = g.hash.clone();
    let dir = tmp.path().join("in");
    let seg = CardSpec {
        name: "seg",
        task: "segmentation",
        output: "mask",
        kind: "mask-logits",
        labels: "",
        ..Default::default()
    };
    registry::add(&mut store, &write_model(&dir, "seg", &seg, &tiny_segmenter(32, 48)), None).unwrap();
    registry::add(
        &mut store,
        &write_model(&dir, "emb", &CardSpec { name: "emb", ..spec_embed() }, &embed_model()),
        None,
    )
    .unwrap();
    drop(store);
    for m in ["seg", "emb"] {
        let rep = json(&cli_ok(&db, &["infer", "--model", m, "--force-modality", "--json"]));
        assert_eq!(rep["inferred"], 2, "{rep}");
    }
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let store = Store::open(&db).unwrap();
    for r in &rows {
        let p = &r["predictions"];
        assert_eq!(p["seg"]["mask"]["width"], 48, "{p}");
        assert_eq!(p["seg"]["mask"]["height"], 32, "{p}");
        assert_eq!(p["emb"]["embedding_dim"], 1280, "{p}");
        let res = store.model_results_of(r["hash"].as_str().unwrap()).unwrap();
        for x in res {
            match x.prediction {
                dermdesk::models::Prediction::Mask { width, height, pixels, data } => {
                    let mask = dermdesk::masks::codec::decode(&data).unwrap();
                    assert_eq!((mask.width(), mask.height()), (width, height));
                    assert_eq!(mask.count(), pixels);
                    if r["hash"] == redacted_hash.as_str() {
                        assert_eq!(pixels, 0, "the model saw the photo redacted (all black)");
                    } else {
                        // Dermoscopy: the lesion is darker than the skin, so not everything is in.
                        assert!(pixels > 0 && pixels < 48 * 32, "{pixels}");
                    }
                }
                dermdesk::models::Prediction::Embedding { values } => {
                    assert_eq!(values.len(), 1280);
                    assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0), "ReLU6 features");
                }
                other => panic!("{other:?}"),
            }
        }
    }
    drop(store);

    // A second version of the segmenter at half the resolution, compared with the first: its
    // masks brought to the first's size (each pixel a 2×2 block), Dice and IoU counted again
    // here from the stored masks. The redacted photo's two masks are both empty: they agree.
    let seg2 = CardSpec { version: "1.1.0", h: 16, w: 24, ..seg };
    cli_ok(
        &db,
        &["models", "add", "--card", write_model(&dir, "seg2", &seg2, &tiny_segmenter(16, 24)).to_str().unwrap()],
    );
    cli_ok(&db, &["infer", "--model", "seg", "--force-modality"]);
    let store = Store::open(&db).unwrap();
    let mut dice = Vec::new();
    for r in &rows {
        let res = store.model_results_of(r["hash"].as_str().unwrap()).unwrap();
        let mask = |v: &str| match &res.iter().find(|x| x.name == "seg" && x.version == v).unwrap().prediction {
            dermdesk::models::Prediction::Mask { data, .. } => dermdesk::masks::codec::decode(data).unwrap(),
            other => panic!("{other:?}"),
        };
        let (a, b) = (mask("1.0.0"), mask("1.1.0"));
        assert_eq!((b.width(), b.height()), (24, 16));
        let (mut both, mut na, mut nb) = (0u64, 0u64, 0u64);
        for y in 0..32usize {
            for x in 0..48usize {
                let (pa, pb) = (a.data()[y * 48 + x], b.data()[(y / 2) * 24 + x / 2]);
                both += u64::from(pa & pb);
                na += u64::from(pa);
                nb += u64::from(pb);
            }
        }
        dice.push((r["id"].as_i64().unwrap(), if na + nb == 0 { 1.0 } else { 2.0 * both as f64 / (na + nb) as f64 }));
    }
    drop(store);
    let v = json(&cli_ok(&db, &["models", "compare", "seg", "--json"]));
    assert_eq!(
        (v["task"].as_str(), v["from"].as_str(), v["to"].as_str()),
        (Some("segmentation"), Some("1.0.0"), Some("1.1.0")),
        "{v}"
    );
    assert_eq!(
        (v["photos"].as_u64(), v["only_from"].as_u64(), v["only_to"].as_u64()),
        (Some(2), Some(0), Some(0)),
        "{v}"
    );
    let lowest = dice.iter().map(|d| d.1).fold(f64::INFINITY, f64::min);
    assert!((v["dice"]["min"].as_f64().unwrap() - lowest).abs() < 1e-9, "{v} against {dice:?}");
    let mean = dice.iter().map(|d| d.1).sum::<f64>() / 2.0;
    assert!((v["dice"]["mean"].as_f64().unwrap() - mean).abs() < 1e-9, "{v} against {dice:?}");
    assert!(
        dice.iter().any(|d| d.1 == 1.0) && lowest < 1.0,
        "the empty pair agrees, the other differs a little: {dice:?}"
    );
    let differ: Vec<i64> = v["differ"].as_array().unwrap().iter().map(|d| d["photo_id"].as_i64().unwrap()).collect();
    let want: Vec<i64> = dice.iter().filter(|d| d.1 < 0.8).map(|d| d.0).collect();
    assert_eq!(differ, want, "{v}");
    assert!(cli_ok(&db, &["models", "compare", "seg"]).contains("Dice of the two masks: median"));
    // An embedder's versions are not compared, with the reason.
    let emb2 = write_model(&dir, "emb2", &CardSpec { name: "emb", version: "1.1.0", ..spec_embed() }, &embed_model());
    cli_ok(&db, &["models", "add", "--card", emb2.to_str().unwrap()]);
    let out = cli(&db, &["models", "compare", "emb"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("classifiers and segmenters only"), "{err}");

    // A file changed after it was reviewed: not inferred, said with its path last; the old
    // result stays. A model file changed after it was registered: the job stops.
    let copied = files_in(&tmp.path().join("archive"), "jpg", 1).remove(0);
    std::fs::write(&copied, std::fs::read(&images[1]).unwrap()).unwrap();
    let rep = json(&cli_ok(&db, &["infer", "--model", "seg", "--force-modality", "--all", "--json"]));
    assert_eq!(rep["inferred"], 1, "{rep}");
    let failed = rep["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{rep}");
    let why = failed[0][1].as_str().unwrap();
    assert!(why.contains("changed") && why.ends_with(&copied.display().to_string()), "{why}");
    let store = Store::open(&db).unwrap();
    let emb = registry::get(&store, "emb", None).unwrap();
    drop(store);
    std::fs::write(&emb.model_path, tiny_segmenter(224, 224)).unwrap();
    let out = cli(&db, &["infer", "--model", "emb", "--force-modality", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the model file changed since it was registered"), "{err}");
}

#[test]
fn preprocessing_and_tract_match_the_onnxruntime_reference() {
    // The shared embedder's reference: chelsea_224.png through (x - 127) / 128, NCHW, RGB,
    // computed by onnxruntime.
    let dir = shared().join("models/embed-efficientnet-lite0");
    let card = dermdesk::models::Card::parse(&card_text(&CardSpec { name: "emb", ..spec_embed() })).unwrap();
    let model = std::fs::read(dir.join("efficientnet_lite0_embed.onnx")).unwrap();
    let loaded = dermdesk::models::net::load(&card, &model).unwrap();
    let img = image::open(dir.join("reference/chelsea_224.png")).unwrap().to_rgb8();
    let got = loaded.raw(&img).unwrap();
    let npy = std::fs::read(dir.join("reference/chelsea_embedding.npy")).unwrap();
    let (shape, want) = dermdesk::privacy::npy::read(&npy).unwrap();
    assert_eq!((shape, got.len()), (vec![1, 1280], 1280));
    let max = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(max < 1e-3, "max |tract - onnxruntime| = {max}");
}

/// The shipped demo classifier (assets/models/ham7-lite0), compiled in and registered when a
/// database opens the registry; run over three HAM10000 photos of each diagnosis.
#[test]
fn the_demo_classifier_is_built_in_and_names_ham10000_diagnoses() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/ham7-lite0");
    if !assets.join("card.toml").is_file() {
        eprintln!("assets/models/ham7-lite0 is not in this checkout yet: nothing to test");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let meta = std::fs::read_to_string(shared().join("data/ham10000/HAM10000_metadata.csv")).unwrap();
    let mut picked: Vec<(String, String)> = Vec::new();
    for line in meta.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (image, dx) = (f[1], f[2]);
        if picked.iter().filter(|(_, d)| d == dx).count() < 3 {
            picked.push((image.to_owned(), dx.to_owned()));
        }
    }
    assert_eq!(picked.len(), 21);
    let files: Vec<PathBuf> =
        picked.iter().map(|(i, _)| shared().join(format!("data/ham10000/images/{i}.jpg"))).collect();
    let archive = tmp.path().join("archive");
    copy_files(&files, &archive);
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, &[archive], &import_opts(), &progress).unwrap();
    let mut store = Store::open(&db).unwrap();
    let ids = store.grid_ids(&Default::default()).unwrap();
    for &i in &ids {
        screened_clear(&mut store, i);
    }
    store.set_review(&ids, Review::Cleared, "dr.sato").unwrap();
    drop(store);

    let models = json_lines(&cli_ok(&db, &["models", "list", "--json"]));
    let demo = models.iter().find(|m| m["name"] == "ham7-lite0").expect("the demo model is registered");
    assert_eq!(demo["builtin"], true);
    assert_eq!(demo["task"], "classification");
    let keys: Vec<&str> = demo["labels"].as_array().unwrap().iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]);
    let rep = json(&cli_ok(&db, &["infer", "--model", "ham7-lite0", "--force-modality", "--json"]));
    assert_eq!(rep["inferred"], 21, "{rep}");
    let mut right = 0;
    for r in json_lines(&cli_ok(&db, &["list", "--json"])) {
        let name = Path::new(r["paths"][0].as_str().unwrap()).file_stem().unwrap().to_string_lossy().into_owned();
        let truth = &picked.iter().find(|(i, _)| *i == name).unwrap().1;
        let top = &r["predictions"]["ham7-lite0"]["top"];
        assert_eq!(top.as_array().unwrap().len(), 7, "{r}");
        if top[0]["label"] == truth.as_str() {
            right += 1;
        }
    }
    eprintln!("ham7-lite0: {right} of 21 HAM10000 photos named right");
    assert!(right >= 7, "{right} of 21: no better than a guess (1 in 7)");
}

/// `dermdesk bench models --rounds 2 --nodes N` (the developer's view of where inference time goes):
/// both demo models against onnxruntime, tract's N slowest nodes and onnxruntime's N slowest
/// from its own profiler, and the batch over real photos, in its JSON.
#[test]
fn bench_models_lists_the_slowest_nodes_of_both_runtimes() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = shared();
    const NODES: usize = 5;
    let nodes_arg = NODES.to_string();
    let args = ["--photos", "2", "--threads", "1", "--repeats", "2", "--rounds", "2", "--nodes", &nodes_arg, "--json"];
    // Its own temporary folder, to see that the bench leaves nothing behind (it once left
    // 28 MB a run).
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let run = std::process::Command::new(bin())
        .arg("--db")
        .arg(tmp.path().join("unused.sqlite"))
        .args(["bench", "models", "--shared", shared.to_str().unwrap()])
        .args(args)
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // (Only dermdesk's own: the Python peer's libraries leave a `.ses` file there.)
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("dermdesk")))
        .collect();
    assert!(left.is_empty(), "the bench left {left:?} behind");
    let out = String::from_utf8(run.stdout).unwrap();
    let v = json(&out[out.find('{').expect("a JSON object")..]);
    let names = |key: &str| -> Vec<String> {
        v[key].as_array().unwrap().iter().map(|m| m["model"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names("models"), ["ham7-lite0", "lesion-seg-lite0"]);
    for m in v["models"].as_array().unwrap() {
        assert!(m["max_abs_diff"].as_f64().unwrap() <= 1e-4, "{m}");
        // Two rounds, each its own ratio; the figure is their median (here, the mean).
        let ratios: Vec<f64> = m["ratios"].as_array().unwrap().iter().map(|r| r.as_f64().unwrap()).collect();
        assert_eq!((m["rounds"].as_u64(), ratios.len()), (Some(2), 2), "{m}");
        assert!(ratios.iter().all(|&r| r > 0.0), "{m}");
        assert!((m["ratio"].as_f64().unwrap() - (ratios[0] + ratios[1]) / 2.0).abs() < 1e-9, "{m}");
    }
    for key in ["tract_profile", "onnxruntime_profile"] {
        let nodes = v[key].as_array().unwrap();
        assert_eq!(names(key), [["ham7-lite0"; NODES], ["lesion-seg-lite0"; NODES]].concat(), "{key}");
        for (i, n) in nodes.iter().enumerate() {
            assert!(n["ms"].as_f64().unwrap() > 0.0, "{key} {n}");
            if i % NODES > 0 {
                assert!(n["ms"].as_f64() <= nodes[i - 1]["ms"].as_f64(), "{key}: slowest first: {nodes:?}");
            }
        }
    }
    // Among onnxruntime's slowest nodes of the segmenter: its 3×3 64→64 decoder convolution
    // over 40×56 pixels (three times the next when the machine is quiet), named with its
    // shapes. Among the five, not first: two runs a profile, and on a busy machine one stalled
    // run can put another node above it (seen: a 1×1 at 10 ms while a build ran).
    let decoder = serde_json::json!([[1, 64, 40, 56], [64, 64, 3, 3], [1, 64, 40, 56]]);
    let peers = &v["onnxruntime_profile"].as_array().unwrap()[NODES..];
    assert!(peers.iter().any(|n| n["op"] == "Conv" && n["shapes"] == decoder), "{peers:?}");
    assert!(v["tract_profile"].as_array().unwrap().iter().all(|n| !n["op"].as_str().unwrap().is_empty()));
    let batch = v["batch"].as_array().unwrap();
    assert_eq!(batch.len(), 2);
    assert!(batch.iter().all(|b| b["photos"] == 2), "{batch:?}");
}
