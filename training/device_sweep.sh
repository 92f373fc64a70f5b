#!/bin/bash
# One call on a GPU machine (the project's `device` tool): every line of a sweep file is a
# train_ham7.py run, all started at once as processes on the one GPU; then sweep_collect.py ranks
# them by validation balanced accuracy with offsets and leaves the best checkpoints in $OUT.
#
#   training/device_sweep.sh SWEEP_FILE SECONDS_PER_RUN
#
# Runs from the repository root with the data under .gpu/ (made by training/device_pack.sh, and
# carried: it is no part of the repository). The runs are the CPU recipe's own steps on
# `--device cuda`; each line must also fit the recipe's 3 hours on the 2 CPU cores (see the sweep file).
set -u
sweep=$1
budget=$2
export PYTHONPATH=$PWD/.gpu/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())'
mkdir -p /tmp/runs /tmp/shared
tar -xzf .gpu/ham10000.tar.gz -C /tmp/shared
while read -r name opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    opts=${opts%%#*} # the CPU estimate at the end of the line
    # shellcheck disable=SC2086 # the options are words
    timeout "$budget" python3 training/train_ham7.py --shared /tmp/shared --out "/tmp/runs/$name" --device "${DEVICE:-cuda}" --threads 1 $opts >"/tmp/runs/$name.log" 2>&1 &
done <"$sweep"
start=$SECONDS
while [ -n "$(jobs -r)" ]; do
    sleep 30
    echo "--- $((SECONDS - start)) s"
    for f in /tmp/runs/*.log; do echo "$(basename "$f" .log): $(grep -E '^epoch [0-9]+:|^done|Error' "$f" | tail -n 1)"; done
done
python3 training/sweep_collect.py --shared /tmp/shared --runs /tmp/runs --out "${OUT:-/tmp/out}" --keep 4
