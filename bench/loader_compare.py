#!/usr/bin/env python3
"""torchvision's side of the loader benchmark in docs/PERFORMANCE.md: one
shuffled epoch of ImageFolder + Resize((32, 32)) + ToTensor through a
DataLoader, the input pipeline of ../shared/bench/seed_pytorch.py, timed the
way bench.Loader times kiln's (folder listing not timed).

usage: loader_compare.py DIR [--workers N] [--batch 32]   (Debian's python3-torchvision)
Prints one JSON line.
"""
import argparse, json, time
import torch, torchvision.datasets as datasets, torchvision.transforms as transforms

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--workers", type=int, default=0)
p.add_argument("--batch", type=int, default=32)
a = p.parse_args()
torch.set_num_threads(1)
ds = datasets.ImageFolder(a.dir, transform=transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()]))
dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers)
t = time.perf_counter(); n = 0
for x, y in dl:
    n += len(y)
s = time.perf_counter() - t
print(json.dumps({"dir": a.dir, "workers": a.workers, "batch": a.batch, "images": n, "seconds": s, "img_per_s": n / s}))
