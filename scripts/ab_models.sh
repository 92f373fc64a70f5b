#!/bin/bash
# Two dermdesk builds side by side on the demo models: runs `bench models --photos 2
# --threads 1 --repeats 40` with OLD, then NEW, N times over (alternating, so that a shared
# machine's drift falls on both), and prints each run's ratios to onnxruntime and their medians.
#
#   scripts/ab_models.sh OLD_BINARY NEW_BINARY [N]      (N defaults to 8)
#
# Needs what `bench models` needs (../shared or DERMDESK_SHARED; python3 with numpy and
# onnxruntime). Copy the two release binaries somewhere first: a build replaces
# target/release/dermdesk.
set -euo pipefail
old=${1:?usage: ab_models.sh OLD_BINARY NEW_BINARY [N]}
new=${2:?usage: ab_models.sh OLD_BINARY NEW_BINARY [N]}
n=${3:-8}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for _ in $(seq "$n"); do
  for which in old new; do
    bin=$old
    [ "$which" = new ] && bin=$new
    "$bin" bench models --photos 2 --threads 1 --repeats 40 --json 2>/dev/null |
      python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sys.argv[1], " ".join("%s %.3f %.2f %.2f" % (m["model"], m["ratio"], m["tract_ms"], m["onnxruntime_ms"]) for m in d["models"]))
' "$which" | tee -a "$rows"
  done
done
python3 - "$rows" <<'PY'
import collections, statistics, sys
ratios = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    for i in range(1, len(f), 4):
        ratios[(f[0], f[i])].append(float(f[i + 1]))
for (which, model), r in sorted(ratios.items()):
    print(f"{which} {model}: ratio median {statistics.median(r):.3f} (runs {min(r):.3f}-{max(r):.3f}, {len(r)} runs)")
PY
