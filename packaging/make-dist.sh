#!/usr/bin/env bash
# Builds a self-contained folder (and a .tar.gz) of the release build under dist/.
# Usage: packaging/make-dist.sh [--with-demo [SHARED_DIR]]
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
target=$(rustc -vV | sed -n 's/^host: //p')
out="dist/dermdesk-$version-$target"

cargo build --release
rm -rf "$out"
mkdir -p "$out/LICENSES"
exe=target/release/dermdesk
[ -f "$exe.exe" ] && exe="$exe.exe"
cp "$exe" "$out/"
cp README.md "$out/"
cp assets/fonts/LICENSE-BIZUDGothic.txt "$out/LICENSES/"
# Everything compiled into the executable keeps its notice: dermdesk's own licence, every
# crate's (packaging/licences.py), the models' and the taxonomy's.
{ echo "Copyright (c) the dermdesk developers"; echo; cat packaging/licence-texts/MIT.txt; } > "$out/LICENSES/dermdesk-MIT.txt"
cp packaging/licence-texts/Apache-2.0.txt "$out/LICENSES/dermdesk-Apache-2.0.txt"
python3 packaging/licences.py "$out/LICENSES/THIRD-PARTY-LICENSES.txt" --target "$target"
for card in assets/models/*/LICENSE.md; do
  cp "$card" "$out/LICENSES/model-$(basename "$(dirname "$card")").md"
done
cp assets/models/LICENSE-*.txt assets/models/NOTICE-*.txt assets/models/PROVENANCE-*.md "$out/LICENSES/"
cp assets/taxonomy/LICENSES.md "$out/LICENSES/taxonomy.md"

if [ "${1:-}" = "--with-demo" ]; then
  shared="${2:-${DERMDESK_SHARED:-../shared}}"
  for d in isic-cc0 ph2 clinical-padufes histopathology-he ham10000; do
    [ -d "$shared/data/$d" ] || { echo "missing $shared/data/$d" >&2; exit 1; }
  done
  mkdir -p "$out/demo/data"
  # The same selection the first run imports (see src/demo.rs): whole folders, plus the
  # HAM10000 metadata (the app picks its per-diagnosis sample from it at run time).
  for d in isic-cc0 ph2 clinical-padufes histopathology-he; do
    cp -r "$shared/data/$d" "$out/demo/data/"
  done
  mkdir -p "$out/demo/data/ham10000/images"
  cp "$shared/data/ham10000/README.md" "$shared/data/ham10000/HAM10000_metadata.csv" "$out/demo/data/ham10000/"
  cut -d, -f2,3 "$shared/data/ham10000/HAM10000_metadata.csv" | tail -n +2 | sort -t, -k1 \
    | awk -F, '{ if (++n[$2] <= 43) print $1 }' \
    | while read -r id; do cp "$shared/data/ham10000/images/$id.jpg" "$out/demo/data/ham10000/images/"; done
fi
tar -C dist -czf "$out.tar.gz" "$(basename "$out")"
echo "built $out.tar.gz"
