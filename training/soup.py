#!/usr/bin/env python3
"""A greedy model soup (Wortsman et al. 2022): the weights of several runs of train_ham7.py that
started from the same weights (`--init-seed`, the same frozen blocks, split and input size) are
averaged into one network. It costs nothing at inference, unlike an ensemble (training/ensemble.py),
and fine-tunes averaged this way are usually better on their own data and on shifted data.

    python3 training/soup.py --shared ../shared --runs DIR --members A,B,C --out DIR

Each member's last weights (the end of its cosine schedule) are ranked by validation balanced
accuracy with offsets (the recipe's own measure). Greedy: the best member first, then each next
one is kept if the average with it scores at least as well on validation. The batch-norm
statistics of an average are not the average of the members' statistics, so every candidate is
also scored with them measured again on augmented training photos (`--recal-batches`); the
better of the two ways, on validation, is kept. The test split chooses nothing; its figures are
written for the record.

OUT becomes a run folder that export_eval.py takes: best.pt, split.json, train.json (the first
member's arguments plus `soup`: the members kept, each candidate's figures) and soup.json."""
import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ham7 as T  # noqa: E402
from sweep_collect import score  # noqa: E402


def final_weights(run):
    """A finished member's weights at the end of its schedule, on the CPU."""
    if not (run / "train.json").exists():
        raise SystemExit(f"not finished (no train.json): {run}")
    return torch.load(run / "last.pt", map_location="cpu", weights_only=False)["net"]


def average(states):
    out = {}
    for k, v in states[0].items():
        if v.is_floating_point():
            out[k] = sum(s[k] for s in states) / len(states)
        else:  # e.g. num_batches_tracked
            out[k] = v.clone()
    return out


@torch.no_grad()
def recalibrate(net, imgs_d, masks_d, train_idx, batches, batch, seed, fmt):
    """The trained batch-norm layers' statistics measured again: a cumulative average over
    `batches` batches of augmented training photos, as in training (frozen layers keep ImageNet's)."""
    net.train()  # Net.train keeps the frozen blocks in eval mode
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    torch.manual_seed(seed)  # drop-connect in the blocks draws from it
    for _ in range(batches):
        pick = gen.choice(train_idx, size=batch)
        xs, _ = zip(*(T.augment(imgs_d[i], masks_d[i], rng) for i in pick))
        net(torch.stack(xs).contiguous(memory_format=fmt))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    net.eval()


class Scorer:
    def __init__(self, a, runs, dev):
        self.a, self.dev = a, dev
        args = json.loads((runs[0] / "args.json").read_text())
        self.args = args
        T.set_size(args["size"])
        T.SOG_P = int(args.get("shades_of_gray") or 0)
        rows, self.imgs, self.masks = T.read_ham(a.shared, 0)
        self.y = np.array([T.CLASSES.index(r["dx"]) for r in rows])
        pos = {r["image_id"]: i for i, r in enumerate(rows)}
        self.split_text = (runs[0] / "split.json").read_text()
        split = json.loads(self.split_text)
        self.idx = {s: np.array([pos[i] for i in ids]) for s, ids in split.items()}
        self.x = {s: T.inputs(self.imgs[self.idx[s]]) for s in ("val", "test")}
        self.imgs_d, self.masks_d = torch.from_numpy(self.imgs).to(dev), torch.from_numpy(self.masks).to(dev)
        self.fmt = torch.channels_last if args.get("channels_last") else torch.contiguous_format
        self.net, _ = T.build(args["freeze_blocks"])
        self.net = self.net.to(dev).to(memory_format=self.fmt)

    def load(self, state, recal):
        self.net.load_state_dict(state)
        if recal:
            recalibrate(self.net, self.imgs_d, self.masks_d, self.idx["train"], self.a.recal_batches, self.args["batch"], self.a.recal_seed, self.fmt)

    def val(self, state, recal):
        self.load(state, recal)
        vl, _ = T.predict(self.net, self.x["val"])
        return T.tune_shift(vl, self.y[self.idx["val"]])[1]

    def record(self, state, recal):
        """Validation and test figures, the test split scored with the offsets chosen on validation."""
        self.load(state, recal)
        return score(self.net, self.x["val"], self.y[self.idx["val"]], self.x["test"], self.y[self.idx["test"]])


def check_members(runs):
    """Members must be averageable: same split, size, frozen blocks and starting weights."""
    first = json.loads((runs[0] / "args.json").read_text())
    start = lambda a: a["init_seed"] if a.get("init_seed") is not None else a["seed"]  # noqa: E731
    for r in runs[1:]:
        a = json.loads((r / "args.json").read_text())
        for k in ("size", "freeze_blocks", "split_seed", "shades_of_gray"):
            if a.get(k) != first.get(k):
                raise SystemExit(f"{r.name}: {k} {a.get(k)} differs from {runs[0].name}'s {first.get(k)}; the runs cannot be averaged")
        if start(a) != start(first):
            raise SystemExit(f"{r.name}: started from other weights (init seed {start(a)}, {runs[0].name}: {start(first)}); give every member the same --init-seed")
        if (r / "split.json").read_text() != (runs[0] / "split.json").read_text():
            raise SystemExit(f"{r.name}: another lesion split than {runs[0].name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--runs", required=True, help="the folder holding the members' run folders")
    p.add_argument("--members", required=True, help="comma-separated run folder names, or * for every finished run")
    p.add_argument("--out", required=True)
    p.add_argument("--recal-batches", type=int, default=50)
    p.add_argument("--recal-seed", type=int, default=20261204)
    p.add_argument("--record-members", action="store_true", help="also score each member alone on the test split, for the record")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    root = Path(a.runs)
    if a.members == "*":
        runs = sorted(d for d in root.iterdir() if (d / "train.json").exists())
    else:
        runs = [root / m for m in a.members.split(",")]
        missing = [r.name for r in runs if not (r / "train.json").exists()]
        if missing:  # e.g. stopped by a sweep's time limit: the soup is made of the rest, and says so
            print(f"not finished, left out: {', '.join(missing)}", flush=True)
            runs = [r for r in runs if r.name not in missing]
    if len(runs) < 2:
        raise SystemExit(f"a soup needs at least two finished runs, found {len(runs)} in {root}")
    check_members(runs)
    states = {r.name: final_weights(r) for r in runs}
    sc = Scorer(a, runs, torch.device(a.device))

    single = {n: sc.val(s, recal=False) for n, s in states.items()}
    order = sorted(single, key=single.get, reverse=True)
    print("members alone (val BA with offsets):", json.dumps(single), flush=True)
    ways = {}
    for recal in (False, True):
        kept = [order[0]]
        best = sc.val(states[order[0]], recal)
        steps = [{"members": list(kept), "val": round(best, 4)}]
        for n in order[1:]:
            v = sc.val(average([states[k] for k in kept + [n]]), recal)
            steps.append({"try": n, "val": round(v, 4), "kept": v >= best})
            print(f"recal={recal} +{n}: {v:.4f} against {best:.4f}", flush=True)
            if v >= best:
                kept.append(n)
                best = v
        ways["recalibrated" if recal else "averaged"] = {"members": kept, "val": best, "steps": steps}
    uniform = {w: sc.val(average(list(states.values())), w == "recalibrated") for w in ways}
    way = max(ways, key=lambda w: ways[w]["val"])  # ties: the plain average (first)
    kept = ways[way]["members"]
    soup = average([states[k] for k in kept])
    chosen = {"bn_statistics": way, "members": kept, **sc.record(soup, way == "recalibrated")}
    soup_state = {k: v.cpu().clone() for k, v in sc.net.state_dict().items()}  # with the statistics it was scored with
    result = {
        "chosen": chosen,
        "greedy": ways,
        "uniform_all_val": uniform,
        "members_alone": {n: sc.record(states[n], False) for n in order} if a.record_members else {n: {"val_balanced_accuracy_with_offsets": round(single[n], 4)} for n in order},
        "candidates": [r.name for r in runs],
        "recal_batches": a.recal_batches,
        "device": a.device,
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(soup_state, out / "best.pt")
    (out / "split.json").write_text(sc.split_text)
    info = json.loads((runs[0] / "train.json").read_text())
    info["soup"] = {"members": kept, "candidates": [r.name for r in runs], "bn_statistics": way}
    info["args"] = sc.args
    info["best_epoch"] = sc.args["epochs"]  # every member's last epoch
    info["seconds"] = sum(json.loads((r / "train.json").read_text())["seconds"] for r in runs)  # the recipe trains every candidate
    (out / "train.json").write_text(json.dumps(info, indent=1))
    result["seconds"] = round(time.time() - t0)
    (out / "soup.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result["chosen"]), flush=True)
    print(f"soup of {len(kept)} of {len(runs)} runs in {time.time() - t0:.0f} s -> {out}", flush=True)


if __name__ == "__main__":
    main()
