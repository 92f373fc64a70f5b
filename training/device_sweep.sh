#!/bin/bash
# One call on a GPU machine (the project's `device` tool): every line of a sweep file is a
# train_ham7.py run, all started at once as processes on the one GPU; then sweep_collect.py ranks
# them by validation balanced accuracy with offsets and leaves the best checkpoints in $OUT (KEEP of
# them, 1 unless set: the device tool returns at most 8 files, and each soup takes one), and
# each `soup NAME MEMBERS` line of the file makes a greedy soup of those runs (training/soup.py).
#
#   training/device_sweep.sh SWEEP_FILE SECONDS_PER_RUN [SECONDS_PER_SOUP]
#
# Runs from the repository root with the data under .gpu/ (made by training/device_pack.sh, and
# carried: it is no part of the repository). The runs are the CPU recipe's own steps on
# `--device cuda`; each line must also fit the recipe's 3 hours on the 2 CPU cores (see the sweep file).
set -u
sweep=$1
budget=$2
soup_budget=${3:-200}
out=${OUT:-/tmp/out}
export PYTHONPATH=$PWD/.gpu/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())'
mkdir -p /tmp/runs /tmp/shared "$out"
tar -xzf .gpu/ham10000.tar.gz -C /tmp/shared
soups=()
while read -r name opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    opts=${opts%%#*} # the CPU estimate at the end of the line
    if [[ "$name" == soup ]]; then
        soups+=("$opts")
        continue
    fi
    # shellcheck disable=SC2086 # the options are words
    timeout "$budget" python3 training/train_ham7.py --shared /tmp/shared --out "/tmp/runs/$name" --device "${DEVICE:-cuda}" --threads 1 $opts >"/tmp/runs/$name.log" 2>&1 &
done <"$sweep"
start=$SECONDS
while [ -n "$(jobs -r)" ]; do
    sleep 30
    echo "--- $((SECONDS - start)) s"
    for f in /tmp/runs/*.log; do echo "$(basename "$f" .log): $(grep -E '^epoch [0-9]+:|^done|Error' "$f" | tail -n 1)"; done
done
# the ranking and the soups at once, each on its own CPU threads
python3 training/sweep_collect.py --shared /tmp/shared --runs /tmp/runs --out "$out" --keep "${KEEP:-1}" >/tmp/collect.log 2>&1 &
for s in "${soups[@]}"; do
    read -r sname members <<<"$s"
    timeout "$soup_budget" python3 training/soup.py --shared /tmp/shared --runs /tmp/runs --members "$members" --out "/tmp/soup-$sname" \
        --device "${DEVICE:-cuda}" --threads 2 >"/tmp/soup-$sname.log" 2>&1 &
done
wait
cat /tmp/collect.log /tmp/soup-*.log
names=()
for s in "${soups[@]}"; do
    read -r sname _ <<<"$s"
    [ -f "/tmp/soup-$sname/best.pt" ] || continue
    names+=("soup-$sname/soup.json" "soup-$sname/train.json" "soup-$sname/split.json")
    python3 -c 'import sys, torch; sys.path.insert(0, "training"); import sweep_collect as S; S.save_without_imagenet_head(torch.load(sys.argv[1], map_location="cpu"), sys.argv[2])' \
        "/tmp/soup-$sname/best.pt" "$out/soup-$sname.pt"
done
[ ${#names[@]} -gt 0 ] && tar -czf "$out/soups.tar.gz" -C /tmp "${names[@]}" # the device tool returns 8 files at most
ls -la "$out"
