#!/usr/bin/python3
"""DQN in PyTorch as Stable-Baselines3 runs it, with the rl-zoo's CartPole
settings (lr 2.3e-3, batch 64, learning_starts 1000, train_freq 256,
gradient_steps 128, target_update_interval 10, exploration 0.16 -> 0.04,
256x256 ReLU network, Huber loss, gradient clipping at 10), on the CartPole
of ../../classic/testdata/golden.py: an independent implementation to tell
DQN's own behaviour on these settings (docs/RL.md: it reaches 500 and then
oscillates) from kiln's. It prints the deterministic policy's mean return
over 10 episodes every 10,240 steps. Not used by the tests.

    /usr/bin/python3 rl/agent/testdata/dqn_torch.py STEPS SEED...   (from the repository root; torch 1.13)
"""
import os, sys, math, random, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "classic", "testdata"))
from golden import cartpole_step
torch.set_num_threads(1)

def run(seed, total=100000, double=False):
    T0 = time.time()
    rng = np.random.RandomState(seed); torch.manual_seed(seed)
    def reset(): return list(rng.uniform(-0.05, 0.05, 4)), 0
    mk = lambda: nn.Sequential(nn.Linear(4,256), nn.ReLU(), nn.Linear(256,256), nn.ReLU(), nn.Linear(256,2))
    q, qt = mk(), mk(); qt.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=2.3e-3)
    N = total + 256; O = np.zeros((N,4),np.float32); O2 = np.zeros((N,4),np.float32); A = np.zeros(N,np.int64); R = np.zeros(N,np.float32); D = np.zeros(N,np.float32)
    evs = []
    s, t = reset(); n = 0; eps = 1.0; ncalls = 0; rets = []; ret = 0
    while n < total:
        for _ in range(256):
            o = np.array(s, np.float32)
            if n < 1000: a = rng.randint(2)
            elif rng.rand() < eps: a = rng.randint(2)
            else:
                with torch.no_grad(): a = int(q(torch.from_numpy(o)[None]).argmax())
            s2, o2, r, term = cartpole_step(s, a); t += 1; ret += r
            trunc = t >= 500
            O[n], O2[n], A[n], R[n], D[n] = o, o2, a, r, float(term)
            n += 1; ncalls += 1
            if ncalls % 10 == 0: qt.load_state_dict(q.state_dict())
            frac = n / total
            eps = 0.04 if frac > 0.16 else 1 + frac * (0.04 - 1) / 0.16
            if term or trunc:
                rets.append(ret); ret = 0; s, t = reset()
            else: s = s2
        if n % 10240 == 0:
            evs.append(evaluate(q, np.random.RandomState(1000 + n), 10)); print(seed, n, evs[-1], time.time() - T0, flush=True)
        if n > 1000:
            for _ in range(128):
                idx = rng.randint(0, n, 64)
                o, o2, a, r, d = map(torch.from_numpy, (O[idx], O2[idx], A[idx], R[idx], D[idx]))
                with torch.no_grad():
                    nq = qt(o2)
                    if double: best = nq.gather(1, q(o2).argmax(1, keepdim=True)).squeeze(1)
                    else: best = nq.max(1)[0]
                    y = r + (1 - d) * 0.99 * best
                cur = q(o).gather(1, a[:,None]).squeeze(1)
                loss = F.smooth_l1_loss(cur, y)
                opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(q.parameters(), 10); opt.step()
    return np.mean(rets[-100:]), evaluate(q, rng, 20)

def evaluate(q, rng, n):
    reset = lambda: (list(rng.uniform(-0.05, 0.05, 4)), 0)
    ev = []
    for _ in range(n):
        s, t = reset(); ret = 0
        while True:
            with torch.no_grad(): a = int(q(torch.tensor([s], dtype=torch.float32)).argmax())
            s, _, r, term = cartpole_step(s, a); t += 1; ret += r
            if term or t >= 500: break
        ev.append(ret)
    return np.mean(ev)

if __name__ == "__main__":
    for seed in [int(a) for a in sys.argv[2:]]:
        print("final", seed, *run(seed, int(sys.argv[1])), flush=True)
