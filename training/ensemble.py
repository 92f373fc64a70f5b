#!/usr/bin/env python3
"""Combine several trained 7-class classifiers into one ONNX file, measured as export_eval.py
measures a single one, and (with --export) ship it as the demo classifier.

    python3 training/ensemble.py --shared ../shared \
        --member assets/models/ham7-lite0/model.onnx=assets/models/DEMO_MODELS_EVAL.json \
        --member training/runs/ham7-s2/best.pt \
        --out training/runs/ensemble [--export assets/models --version 1.1.0]

A member is either an exported classifier ONNX file (`FILE.onnx`, or `FILE.onnx=EVAL.json` when its
logits include the offsets that JSON records: the shipped network, whose PyTorch weights were not
kept), or a training checkpoint (`RUN/best.pt`, or `RUN/last.pt:ema` for the weight average in a resumable
state). Each member's offsets are taken off, its log-probabilities are averaged (the geometric mean
of the members' probabilities) and new per-class offsets are chosen on the validation split, as
export_eval.py does for one model. Every subset of the members is reported on the validation split;
the test split and the external sets are reported for all of them. The ensemble exported is chosen on
the validation split alone: the highest balanced accuracy with offsets, except that a subset with
fewer members within 0.005 of it wins (each member costs one more network's time per photo); at
most --max-members. --members-kept overrides the choice.
Inputs are preprocessed as the app does (the HAM10000 arrays through train_ham7.plain, the external
photos stretched to 224x160), and every member runs in onnxruntime, so the figures are the file's.
"""
import argparse
import csv
import itertools
import json
import os
import time
import tomllib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

import export_eval as E
import train_ham7 as T
from metrics import auc_ci


def log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def member_onnx(spec, work):
    """(ONNX file giving logits, the offsets included in those logits, a label) for a member spec."""
    if spec.endswith(".onnx") or ".onnx=" in spec:
        path, _, ev = spec.partition("=")
        offsets = np.zeros(len(T.CLASSES), np.float32)
        if ev:
            d = json.loads(Path(ev).read_text())
            offsets = np.array(d["logit_offsets"] if "logit_offsets" in d else d["held_out"]["logit_offsets"], np.float32)
        return Path(path), offsets, f"{Path(path).parent.name}/{Path(path).name}"
    ckpt, _, key = spec.partition(":")
    size = json.loads((Path(ckpt).parent / "args.json").read_text()).get("size") if (Path(ckpt).parent / "args.json").exists() else None
    if size and size != f"{T.W}x{T.H}":
        # the inputs are made once for all members, at 224x160
        raise SystemExit(f"ensemble.py combines 224x160 members only; {ckpt} was trained at {size}")
    st = torch.load(ckpt, map_location="cpu")  # a run on a GPU (--device cuda) saved its tensors there
    if key:
        st = st[key]
    net, _ = T.build(0)
    net.load_state_dict(st)
    cls = T.Classifier(net, torch.zeros(len(T.CLASSES))).eval()
    run = Path(ckpt).parent
    label = f"{run.name}/{Path(ckpt).stem}" + (f":{key}" if key else "")
    info = json.loads((run / "train.json").read_text()) if (run / "train.json").exists() else {}
    if info:
        args = info.get("args", {})
        extras = [f"{k} {args[k]}" for k in ("zoom_out", "colour", "ema") if args.get(k)]
        label += f" (seed {args.get('seed')}, {args.get('epochs')} epochs, best epoch {info.get('best_epoch')}{', ' + ', '.join(extras) if extras else ''})"
    out = work / (run.name + "-" + Path(ckpt).stem + (f"-{key}" if key else "") + ".onnx")
    torch.onnx.export(cls, torch.zeros(1, 3, T.H, T.W), out, input_names=["input"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, dynamo=False)
    return out, np.zeros(len(T.CLASSES), np.float32), label


def run_onnx(path, xs, threads, batch=32):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), so)
    out = []
    for i in range(0, len(xs), batch):
        out.append(sess.run(None, {"input": np.stack(xs[i : i + batch])})[0])
    return np.concatenate(out)


def merged_model(paths, offsets, shift):
    """One ONNX graph: every member on the same input, offsets off, log-softmax, mean, new offsets."""
    nodes, inits, outs = [], [], []
    opset = None
    for i, (path, off) in enumerate(zip(paths, offsets)):
        m = onnx.load(str(path))
        opset = opset or m.opset_import
        pre = f"m{i}_"
        g = onnx.compose.add_prefix(m, pre, rename_inputs=True, rename_outputs=True).graph
        for n in g.node:
            n.input[:] = ["input" if x == pre + "input" else x for x in n.input]
        nodes += list(g.node)
        inits += list(g.initializer)
        inits.append(numpy_helper.from_array(off.astype(np.float32), pre + "offsets"))
        nodes.append(helper.make_node("Sub", [pre + "logits", pre + "offsets"], [pre + "raw"]))
        nodes.append(helper.make_node("LogSoftmax", [pre + "raw"], [pre + "logp"], axis=1))
        outs.append(pre + "logp")
    inits.append(numpy_helper.from_array(np.array(1.0 / len(paths), np.float32), "ens_scale"))
    inits.append(numpy_helper.from_array(shift.astype(np.float32), "ens_offsets"))
    nodes.append(helper.make_node("Sum", outs, ["ens_sum"]))
    nodes.append(helper.make_node("Mul", ["ens_sum", "ens_scale"], ["ens_mean"]))
    nodes.append(helper.make_node("Add", ["ens_mean", "ens_offsets"], ["logits"]))
    graph = helper.make_graph(
        nodes, "ensemble",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, T.H, T.W])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(T.CLASSES)])],
        inits)
    model = helper.make_model(graph, opset_imports=opset, producer_name="dermdesk training/ensemble.py")
    onnx.checker.check_model(model)
    return model


def figures(c, yv, yt, ph2_y, isic_y, lesions):
    """Offsets chosen on validation, then the figures export_eval.py gives a single network."""
    shift, val_ba = T.tune_shift(c["val"], yv)
    held = {"images": int(len(yt)), "lesions": lesions, **E.classification_figures(yt, c["test"], shift),
            "logit_offsets": [float(s) for s in shift]}
    external = {
        "ph2": {"images": len(ph2_y), **E.melanoma_vs_naevus(E.softmax(c["ph2"] + shift), ph2_y)},
        "isic_cc0": {"images": len(isic_y), **E.melanoma_vs_naevus(E.softmax(c["isic"] + shift), isic_y)},
    }
    return shift, {"val_balanced_accuracy_with_offsets": val_ba,
                   "val_melanoma_vs_rest_auc": auc_ci(E.softmax(c["val"])[:, 4], yv == 4)[0],
                   "held_out": held, "external": external}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--member", action="append", required=True)
    p.add_argument("--members-kept", default="", help="comma-separated member numbers (from 0) to export instead of the validation choice")
    p.add_argument("--max-members", type=int, default=3)
    p.add_argument("--split-seed", type=int, default=20261201, help="the members' common lesion split (train_ham7.py --split-seed)")
    p.add_argument("--out", default="training/runs/ensemble")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--export", default="", help="assets/models: write ham7-lite0's model.onnx, card and reference output there")
    p.add_argument("--version", default="1.1.0")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    shared = Path(a.shared)
    rows, imgs, _ = T.read_ham(a.shared, 0)
    split = T.split_by_lesion(rows, a.split_seed)
    idx = {s: np.array([i for i, v in enumerate(split) if v == s]) for s in ("val", "test")}
    y = np.array([T.CLASSES.index(r["dx"]) for r in rows])
    with torch.no_grad():
        ham_x = {s: [T.plain(torch.from_numpy(imgs[j])).numpy() for j in idx[s]] for s in idx}
    ph2 = list(csv.DictReader(open(shared / "data/ph2/PH2_metadata.csv", newline="")))
    isic = [r for r in csv.DictReader(open(shared / "data/isic-cc0/isic_cc0_metadata.csv", newline="")) if r["diagnosis"] in ("melanoma", "nevus")]
    ext_x = {
        "ph2": [E.app_input(shared / "data/ph2" / r["image_file"])[0].numpy() for r in ph2],
        "isic": [E.app_input(shared / "data/isic-cc0" / r["file"])[0].numpy() for r in isic],
    }
    ph2_y = np.array([r["diagnosis"] == "melanoma" for r in ph2])
    isic_y = np.array([r["diagnosis"] == "melanoma" for r in isic])
    print(f"inputs ready in {time.time() - t0:.0f} s", flush=True)

    members = []
    for spec in a.member:
        path, off, label = member_onnx(spec, out)
        raw = {}
        for s, xs in (*ham_x.items(), *ext_x.items()):
            raw[s] = run_onnx(path, xs, a.threads) - off
        members.append({"spec": label, "path": path, "offsets": off, "logp": {s: log_softmax(v) for s, v in raw.items()}})
        print(f"member {len(members) - 1}: {label} ({time.time() - t0:.0f} s)", flush=True)

    def combine(ks):
        return {s: np.mean([members[k]["logp"][s] for k in ks], 0) for s in members[0]["logp"]}

    lesions = len({rows[j]["lesion_id"] for j in idx["test"]})

    def measure(c):
        return figures(c, y[idx["val"]], y[idx["test"]], ph2_y, isic_y, lesions)

    report = {}
    for r in range(1, len(members) + 1):
        for ks in itertools.combinations(range(len(members)), r):
            c = combine(ks)
            _, f = measure(c)
            report[",".join(map(str, ks))] = f
            h, ph2, isic = f["held_out"], f["external"]["ph2"], f["external"]["isic_cc0"]
            print(f"members {ks}: val BA {f['val_balanced_accuracy_with_offsets']:.3f} mel AUC {f['val_melanoma_vs_rest_auc']:.3f} | test BA {h['balanced_accuracy']:.3f} "
                  f"mel AUC {h['melanoma_vs_rest_auc'][0]:.3f} mal AUC {h['malignant_vs_benign_auc'][0]:.3f} | "
                  f"PH2 {ph2['melanoma_vs_naevus_auc'][0]:.3f}/{ph2['melanoma_vs_naevus_auc_given_mel_or_nv'][0]:.3f} "
                  f"ISIC {isic['melanoma_vs_naevus_auc'][0]:.3f}/{isic['melanoma_vs_naevus_auc_given_mel_or_nv'][0]:.3f}", flush=True)
    allowed = {k: v for k, v in report.items() if len(k.split(",")) <= a.max_members}
    best = max(v["val_balanced_accuracy_with_offsets"] for v in allowed.values())
    near = [k for k, v in allowed.items() if v["val_balanced_accuracy_with_offsets"] >= best - 0.005]
    chosen = min(near, key=lambda k: (len(k.split(",")), -allowed[k]["val_balanced_accuracy_with_offsets"]))
    print(f"chosen on validation: members {chosen}", flush=True)
    result = {"members": [m["spec"] for m in members], "subsets": report, "chosen_on_validation": chosen, "seconds": time.time() - t0}
    (out / "ensemble.json").write_text(json.dumps(result, indent=1))
    if not a.export:
        return

    kept = [int(k) for k in (a.members_kept or chosen).split(",")]
    c = combine(kept)
    shift, f = measure(c)
    model = merged_model([members[k]["path"] for k in kept], [members[k]["offsets"] for k in kept], shift)
    d = Path(a.export) / "ham7-lite0"
    if any(Path(members[k]["path"]).resolve() == (d / "model.onnx").resolve() for k in kept):
        raise SystemExit(f"a member is the file --export replaces: copy it elsewhere first and name the copy ({d / 'model.onnx'})")
    onnx.save(model, str(d / "model.onnx"))
    # the file gives what was measured: its logits on the test inputs against the numpy combination
    got = run_onnx(d / "model.onnx", ham_x["test"][:64], a.threads)
    diff = float(np.abs(E.softmax(got) - E.softmax(c["test"][:64] + shift)).max())
    ref = E.synthetic_reference()
    ref_x = ((np.asarray(ref, np.float32) - T.MEAN) / T.STD).transpose(2, 0, 1)[None]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    np.save(d / "reference" / "synthetic_logits.npy", ort.InferenceSession(str(d / "model.onnx"), so).run(None, {"input": ref_x})[0].astype(np.float32))
    print(f"exported {d / 'model.onnx'}; max probability difference to the measured combination {diff:.2e}", flush=True)
    ev_path = Path(a.export) / "DEMO_MODELS_EVAL.json"
    ev = json.loads(ev_path.read_text())
    ev["classifier"] = {"version": a.version, "members": [members[k]["spec"] for k in kept], "figures": f, "subsets_measured": report,
                        "onnx_vs_combination_max_prob_diff": diff}
    ev_path.write_text(json.dumps(ev, indent=1))
    write_classifier_card(d / "card.toml", a.version, f, [members[k]["spec"] for k in kept], ev.get("linear_probe"))
    print(f"done in {time.time() - t0:.0f} s", flush=True)


def write_classifier_card(path, version, f, members, probe):
    """The shipped card, as export_eval.py wrote it, with the ensemble's version, members and figures."""
    card = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    card["version"] = version
    card["description"] = card["description"].replace(
        "Trained by", f"{len(members)} EfficientNet-Lite0 networks averaged, trained by")
    card["training"]["members"] = f"{len(members)} networks, their log-probabilities averaged: {'; '.join(members)}"
    card["training"]["recipe"] = card["training"]["recipe"].replace(
        "training/train_ham7.py then training/export_eval.py",
        "training/train_ham7.py, training/export_eval.py, then training/ensemble.py")
    card["metrics"] = E.card_metrics(f["held_out"], f["external"], probe)
    E.write_card(path, card)


if __name__ == "__main__":
    main()
