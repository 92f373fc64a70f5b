#!/usr/bin/env python3
"""Melanoma-vs-naevus AUC of a shipped 7-class classifier on the external sets (PH2, the ISIC CC0
originals), run with onnxruntime on the ONNX file as dermdesk preprocesses (whole photo stretched
to the card's size, bilinear, (p - 127) / 128), without retraining or re-exporting anything.

    python3 training/eval_external.py --shared ../shared --model assets/models/ham7-lite0/model.onnx

Two scores per photo: P(melanoma) over all seven classes (the card's figure), and
P(melanoma | melanoma or naevus) = p_mel / (p_mel + p_nv), the two-class question these sets ask
(the other five classes take no share). Both with 95 % bootstrap intervals (1,000 resamples).
"""
import argparse
import csv
import os
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

from metrics import auc_ci, mel_given_nv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--model", default="assets/models/ham7-lite0/model.onnx")
    p.add_argument("--width", type=int, default=224)
    p.add_argument("--height", type=int, default=160)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    data = Path(a.shared) / "data"
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(a.model, so)
    name = sess.get_inputs()[0].name

    # The card beside the model says whether its input takes colour constancy.
    card_path = Path(a.model).parent / "card.toml"
    cc = tomllib.loads(card_path.read_text()).get("input", {}).get("colour_constancy") if card_path.exists() else None
    sog_p = int(cc["p"]) if cc else 0

    def probs(path):
        im = ImageOps.exif_transpose(Image.open(path)).convert("RGB").resize((a.width, a.height), Image.BILINEAR)
        px = np.asarray(im, np.float32)
        if sog_p:  # Shades of Gray, as dermdesk's preprocess::tensor
            e = ((px / 255.0) ** sog_p).mean((0, 1)) ** (1.0 / sog_p)
            px = np.minimum(px * (e.mean() / np.maximum(e, 1e-6)), 255.0)
        x = ((px - 127.0) / 128.0).transpose(2, 0, 1)[None]
        z = sess.run(None, {name: x})[0][0].astype(np.float64)
        e = np.exp(z - z.max())
        return e / e.sum()

    ph2 = list(csv.DictReader(open(data / "ph2/PH2_metadata.csv", newline="")))
    isic = [r for r in csv.DictReader(open(data / "isic-cc0/isic_cc0_metadata.csv", newline="")) if r["diagnosis"] in ("melanoma", "nevus")]
    sets = {
        "PH2": ([data / "ph2" / r["image_file"] for r in ph2], [r["diagnosis"] == "melanoma" for r in ph2]),
        "ISIC CC0": ([data / "isic-cc0" / r["file"] for r in isic], [r["diagnosis"] == "melanoma" for r in isic]),
    }
    for set_name, (paths, y) in sets.items():
        pr = np.array([probs(q) for q in paths])
        mel = auc_ci(pr[:, 4], y)
        given = auc_ci(mel_given_nv(pr), y)
        print(f"{set_name:<9} {len(y)} photos ({sum(y)} melanoma): AUC P(mel) {mel[0]:.3f} ({mel[1]:.3f}-{mel[2]:.3f}); "
              f"P(mel | mel or nv) {given[0]:.3f} ({given[1]:.3f}-{given[2]:.3f})")


if __name__ == "__main__":
    main()
