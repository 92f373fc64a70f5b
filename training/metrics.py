"""Figures shared by export_eval.py and eval_external.py, with numpy only (eval_external.py runs
without torch)."""
import numpy as np


def softmax(z):
    """Row-wise softmax of logits (N x classes)."""
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def auc(scores, positive):
    """Mann-Whitney AUC; ties count half."""
    scores, positive = np.asarray(scores, np.float64), np.asarray(positive, bool)
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(allv))
    r[order] = ranks
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def auc_ci(scores, positive, n=1000, seed=7):
    rng = np.random.default_rng(seed)
    scores, positive = np.asarray(scores), np.asarray(positive, bool)
    vals = []
    for _ in range(n):
        k = rng.integers(0, len(scores), len(scores))
        if positive[k].any() and (~positive[k]).any():
            vals.append(auc(scores[k], positive[k]))
    return [auc(scores, positive), float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def mel_given_nv(p):
    """P(melanoma | melanoma or naevus): the two-class score, where the other five classes take no share."""
    return p[:, 4] / np.maximum(p[:, 4] + p[:, 5], 1e-12)
