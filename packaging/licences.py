#!/usr/bin/env python3
"""Writes the licence notices of every crate linked into dermdesk's release executable.

  python3 packaging/licences.py OUT.txt [--target TRIPLE]

The crates are those `cargo metadata` resolves from this Cargo.lock (offline, `--locked`) as
normal dependencies of dermdesk for the target (build scripts, proc macros' hosts and tests
are not linked into the executable, but proc-macro crates are listed with the rest: their
generated code is). For each crate: its name, version and SPDX licence expression, then the
licence files its package ships (LICENSE*, COPYING*, NOTICE*, COPYRIGHT*, UNLICENSE, and font
licences where a crate bundles fonts). A crate whose package ships no licence file gets the
standard text of its licence from `packaging/licence-texts/` (MIT where it offers MIT, else
Apache-2.0) under its authors' names; a crate with neither is an error: nothing is written
and the crate is named. Identical texts are printed once, with every crate that uses them.
Standard library only.
"""

import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
TEXTS = HERE / "licence-texts"
NAMES = re.compile(r"^(licen[cs]e|copying|notice|copyright|unlicense)", re.I)
# Licence files kept below a package's top folder (fonts a crate compiles in).
NESTED = {"epaint_default_fonts": ["fonts/OFL.txt", "fonts/UFL.txt", "fonts/Hack-Regular.txt",
                                   "fonts/emoji-icon-font-mit-license.txt", "fonts/egui-icons.txt"]}


def host() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("host: "))


def linked(meta: dict) -> list:
    """The packages reachable from the root through normal dependencies, root excluded."""
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    seen.discard(root)
    return sorted((packages[p] for p in seen), key=lambda p: (p["name"], p["version"]))


def files_of(pkg: dict) -> list:
    folder = pathlib.Path(pkg["manifest_path"]).parent
    found = sorted(f for f in folder.iterdir() if f.is_file() and NAMES.match(f.name))
    if pkg.get("license_file"):
        extra = folder / pkg["license_file"]
        if extra.is_file() and extra not in found:
            found.append(extra)
    found += [folder / rel for rel in NESTED.get(pkg["name"], []) if (folder / rel).is_file()]
    return found


def standard_text(pkg: dict) -> tuple:
    """(what, text) for a package that ships no licence file, or None."""
    expr = pkg.get("license") or ""
    ids = set(re.findall(r"[A-Za-z0-9.\-]+", expr))
    authors = ", ".join(a.split(" <")[0] for a in pkg.get("authors") or []) or f"the {pkg['name']} authors"
    if "MIT" in ids:
        body = (TEXTS / "MIT.txt").read_text()
        return "standard MIT text (the package ships none)", f"Copyright (c) {authors}\n\n{body}"
    if "Apache-2.0" in ids:
        body = (TEXTS / "Apache-2.0.txt").read_text()
        return "standard Apache-2.0 text (the package ships none)", f"Copyright {authors}\n\n{body}"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--target", default=None)
    a = ap.parse_args()
    target = a.target or host()
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", target],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    me = next(p for p in meta["packages"] if p["id"] == meta["resolve"]["root"])
    pkgs = linked(meta)
    texts = {}  # normalised text -> (text, [crate (file)])
    lacking = []
    for p in pkgs:
        label = f"{p['name']} {p['version']}"
        files = files_of(p)
        if files:
            for f in files:
                text = f.read_text(errors="replace")
                rel = f.relative_to(pathlib.Path(p["manifest_path"]).parent)
                key = " ".join(text.split())
                texts.setdefault(key, (text, []))[1].append(f"{label} ({rel})")
            continue
        std = standard_text(p)
        if std is None:
            lacking.append(f"{label}: licence {p.get('license')!r}, no licence file")
            continue
        what, text = std
        texts.setdefault(" ".join(text.split()), (text, []))[1].append(f"{label} ({what})")
    if lacking:
        print("no licence text for:\n  " + "\n  ".join(lacking), file=sys.stderr)
        return 2
    lines = [
        f"Third-party software in {me['name']} {me['version']} ({target})",
        "",
        f"{len(pkgs)} Rust crates are compiled into the executable. Each is listed with the licence",
        "it is used under (its SPDX expression), then every licence text, once, with the crates",
        f"that ship it. Written by packaging/licences.py from Cargo.lock, {datetime.date.today()}.",
        "The demo models, fonts and taxonomy data have their own files in this folder.",
        "",
        "== Crates ==",
        "",
    ]
    width = max(len(f"{p['name']} {p['version']}") for p in pkgs)
    lines += [f"{(p['name'] + ' ' + p['version']).ljust(width)}  {p.get('license') or '(none declared)'}" for p in pkgs]
    lines += ["", "== Licence texts ==", ""]
    for n, (text, users) in enumerate(sorted(texts.values(), key=lambda t: t[1][0]), 1):
        lines += [f"--- text {n}, used by: " + "; ".join(users), "", text.rstrip(), ""]
    pathlib.Path(a.out).write_text("\n".join(lines) + "\n")
    print(f"{a.out}: {len(pkgs)} crates, {len(texts)} distinct licence texts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
