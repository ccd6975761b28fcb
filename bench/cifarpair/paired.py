#!/usr/bin/env python3
"""The PyTorch half of a paired check of kiln's seed-CNN training against the
seed program on real data: the seed's CNN (dropout off unless asked for, so that both
sides compute the same function), PyTorch's initial weights for torch.manual_seed(SEED),
Adam at lr 1e-3, batch 32, the first STEPS batches of one fixed random order
of DATA/train. It writes into OUT the initial weights (init.bin, float32 in
state_dict order), the order (perm.bin, int32), the first batch's inputs
(x0.bin), the loss of every step (losses_torch.bin) and the final weights
(final_torch.bin); the Go half,
`go run ./bench/cifarpair -data DATA -dir OUT`, trains kiln from the same
weights on the same batches and compares.

usage: paired.py DATA STEPS OUT [SEED [DROPOUT]]    (DATA holds train/ in ImageFolder layout)
SEED (default 0) seeds the weights (torch.manual_seed) and the order; DROPOUT
(default 0) is the dropout probability, whose masks the two sides draw
independently, so with it only window means over many steps can be compared.
"""
import sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
import torchvision.transforms as transforms, torchvision.datasets as datasets

root, steps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
drop = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0


class CNN(nn.Module):  # ../shared/bench/seed_pytorch.py's CNN
    def __init__(self, in_ch=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, classes)
        self.dropout = nn.Dropout(drop)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 64 * 5 * 5)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


torch.manual_seed(seed)
torch.set_num_threads(1)
model = CNN()
with open(f"{out}/init.bin", "wb") as f:
    for v in model.state_dict().values():
        f.write(v.numpy().astype("<f4").tobytes())
tf = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
train = datasets.ImageFolder(root=f"{root}/train", transform=tf)
gen = torch.Generator().manual_seed(123 + seed)
perm = []
while len(perm) < steps * 32:  # a new order every epoch
    perm += torch.randperm(len(train), generator=gen).tolist()
perm = perm[: steps * 32]
np.array(perm, dtype="<i4").tofile(f"{out}/perm.bin")
opt = torch.optim.Adam(model.parameters(), lr=0.001)
crit = nn.CrossEntropyLoss()
losses = []
for k in range(steps):
    batch = [train[i] for i in perm[k * 32:(k + 1) * 32]]
    x = torch.stack([t for t, _ in batch])
    y = torch.tensor([c for _, c in batch])
    if k == 0:
        x.numpy().astype("<f4").tofile(f"{out}/x0.bin")
    opt.zero_grad()
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
np.array(losses, dtype="<f4").tofile(f"{out}/losses_torch.bin")
with open(f"{out}/final_torch.bin", "wb") as f:
    for v in model.state_dict().values():
        f.write(v.numpy().astype("<f4").tobytes())
