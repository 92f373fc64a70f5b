//! The shipped demo models (assets/models/ham7-lite0, lesion-seg-lite0): each loads in tract
//! through the same checks as `models add`, and on the reference input recorded by
//! training/export_eval.py (a synthetic picture of exactly the card's input size) gives the
//! outputs onnxruntime gave, within 1e-4; the preprocessing is the card's own.

use dermdesk::models::{Card, net, preprocess};
use std::path::Path;

fn check(folder: &str, reference: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models").join(folder);
    let card = Card::parse(&std::fs::read_to_string(dir.join("card.toml")).unwrap()).unwrap();
    assert!(card.not_for_clinical_use);
    let loaded = net::load(&card, &std::fs::read(dir.join(&card.file)).unwrap()).unwrap();
    let img = image::open(dir.join("reference/synthetic.png")).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (card.input.width, card.input.height));
    // The card's preprocessing: RGB planes, (p - 127) / 128, no resampling at the input size.
    let t = preprocess::tensor(&img, &card.input);
    let plane = (img.width() * img.height()) as usize;
    let p = img.get_pixel(10, 7);
    for c in 0..3 {
        let at = c * plane + (7 * img.width() + 10) as usize;
        assert!((t[at] - (p.0[c] as f32 - 127.0) / 128.0).abs() < 1e-6, "channel {c}");
    }
    let ours = loaded.raw(&img).unwrap();
    let (shape, want) =
        dermdesk::privacy::npy::read(&std::fs::read(dir.join("reference").join(reference)).unwrap()).unwrap();
    assert_eq!(ours.len(), want.len(), "output shape {shape:?}");
    let diff = ours.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff <= 1e-4, "{folder}: max |tract - onnxruntime| = {diff}");
}

#[test]
fn the_demo_classifier_gives_onnxruntimes_outputs() {
    check("ham7-lite0", "synthetic_logits.npy");
}

#[test]
fn the_demo_segmenter_gives_onnxruntimes_outputs() {
    check("lesion-seg-lite0", "synthetic_mask.npy");
}
