#!/usr/bin/env python3
"""PyTorch's figures for the seed CNN on a device, to set beside `kiln bench --device cuda`.

The model is the seed CNN of ../shared/bench/seed_pytorch.py (two 5x5 convolutions with
ReLU and 2x2 max pooling, fc 1600-128-10, dropout 0.2), trained with Adam (lr 1e-3) on
random 3x32x32 batches already on the device, as kiln bench does: each training step
reads its loss back to the host (loss.item()), each inference step copies its logits
back, so both sides pay the same synchronisation. Prints one JSON line.

usage: torch_seed_bench.py [--device cuda] [--train-batches 32,256,1024]
                           [--infer-batches 256,4096] [--images 20480] [--tf32]
       torch_seed_bench.py --data DIR [--epochs 1] [--batch 256] [--workers 8]

With --data (an ImageFolder dataset with train/ and test/), it times whole
epochs instead: JPEG decoding by the DataLoader's worker processes, Resize(32)
and ToTensor, the batches copied to the device and trained, then the test
accuracy: the end-to-end figure to set beside kiln train --device cuda.
"""
import argparse, json, time
import torch, torch.nn as nn, torch.nn.functional as F


class SeedCNN(nn.Module):
    def __init__(self, in_ch=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, classes)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


def batches(s):
    return [int(v) for v in s.split(",") if v]


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def train_rate(dev, b, images):
    torch.manual_seed(0)
    model = SeedCNN().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    x = torch.randn(b, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (b,), device=dev)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    for _ in range(5):
        step()
    sync(dev)
    n, t = 0, time.perf_counter()
    while n < images:
        step()
        n += b
    sync(dev)
    return n / (time.perf_counter() - t)


def infer_rate(dev, b, images):
    torch.manual_seed(0)
    model = SeedCNN().to(dev).eval()
    x = torch.randn(b, 3, 32, 32, device=dev)
    with torch.no_grad():
        for _ in range(3):
            model(x).cpu()
        sync(dev)
        n, t = 0, time.perf_counter()
        while n < images:
            model(x).cpu()
            n += b
        sync(dev)
    return n / (time.perf_counter() - t)


def epochs(dev, a):
    import torchvision.datasets as datasets, torchvision.transforms as transforms
    tf = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
    train = datasets.ImageFolder(root=f"{a.data}/train", transform=tf)
    test = datasets.ImageFolder(root=f"{a.data}/test", transform=tf)
    pin = dev.type == "cuda"
    tl = torch.utils.data.DataLoader(train, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                     pin_memory=pin, persistent_workers=a.workers > 0)
    vl = torch.utils.data.DataLoader(test, batch_size=256, num_workers=a.workers, pin_memory=pin)
    torch.manual_seed(0)
    model = SeedCNN(classes=len(train.classes)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    out = {"epochs": a.epochs, "batch": a.batch, "workers": a.workers, "train_images": len(train)}
    t0, seen = time.perf_counter(), 0
    for e in range(a.epochs):
        model.train()
        run = 0.0
        for x, y in tl:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            run += loss.item()
            seen += len(y)
        print(f"epoch {e + 1}/{a.epochs} loss {run / len(tl):.4f}", flush=True)
    sync(dev)
    secs = time.perf_counter() - t0
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in vl:
            correct += (model(x.to(dev)).argmax(1).cpu() == y).sum().item()
            total += len(y)
    out.update(train_img_per_s=round(seen / secs, 1), train_s=round(secs, 2), test_accuracy=correct / total)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--train-batches", default="32,256,1024")
    p.add_argument("--infer-batches", default="256,4096")
    p.add_argument("--images", type=int, default=20480)
    p.add_argument("--tf32", action="store_true", help="allow TF32 in matmuls and convolutions")
    p.add_argument("--data", help="time whole epochs of this ImageFolder dataset (train/, test/) instead")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--workers", type=int, default=8)
    a = p.parse_args()
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    out = {"torch": torch.__version__, "device": str(dev), "tf32": a.tf32}
    if dev.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(dev)
        out["cudnn"] = torch.backends.cudnn.version()
    if a.data:
        out.update(epochs(dev, a))
        print(json.dumps(out), flush=True)
        return
    for b in batches(a.train_batches):
        out[f"train_b{b}_img_per_s"] = round(train_rate(dev, b, a.images), 1)
    for b in batches(a.infer_batches):
        out[f"infer_b{b}_img_per_s"] = round(infer_rate(dev, b, a.images), 1)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
