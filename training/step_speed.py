#!/usr/bin/env python3
"""Images per second of train_ham7.py's joint training step (forward, both losses as
train_ham7.joint_loss computes them, backward, AdamW), on random inputs, as the options would
run it: the median of 5 steps after 2 warm-up steps, batch 32 at 224x160 (or --size).

    python3 training/step_speed.py [--channels-last] [--bf16] [--freeze-blocks N] [--threads 2] [--size WxH]
"""
import argparse
import time

import torch

import train_ham7 as T

p = argparse.ArgumentParser()
p.add_argument("--channels-last", action="store_true")
p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (not a train_ham7.py option: measured, not kept)")
p.add_argument("--freeze-blocks", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--size", default=f"{T.W}x{T.H}", help="model input WxH, as train_ham7.py --size")
a = p.parse_args()
T.set_size(a.size)
torch.set_num_threads(a.threads)
torch.manual_seed(0)
net, _ = T.build(a.freeze_blocks)
net.train()
opt = torch.optim.AdamW([q for q in net.parameters() if q.requires_grad], lr=1e-4)
x = torch.randn(32, 3, T.H, T.W)
m = (torch.rand(32, 1, T.H, T.W) > 0.5).float()
y = torch.randint(0, len(T.CLASSES), (32,))
if a.channels_last:
    net = net.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
times = []
for _ in range(7):
    t0 = time.time()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        loss, _, _ = T.joint_loss(net, x, m, y, None, 1.0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    times.append(time.time() - t0)
times = sorted(times[2:])
print(f"{vars(a)}: {32 / times[len(times) // 2]:.1f} images/s")
