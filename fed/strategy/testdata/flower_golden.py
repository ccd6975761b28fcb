#!/usr/bin/env python3
"""Golden values for kiln's fed/strategy, from Flower's aggregation code
re-implemented in numpy (flwr is not installed here).

Read from adap/flower, src/py/flwr/server/strategy/:
  aggregate.py: aggregate, aggregate_median, aggregate_krum,
                _compute_distances, _trim_mean, aggregate_trimmed_avg
  fedavgm.py:   FedAvgM.aggregate_fit (server momentum)
  fedadam.py:   FedAdam.aggregate_fit (Flower >= 1.5, eta_norm with
                server_round + 1)
Parameters are float32 arrays, as Flower receives them; one flat layer.

Run: /usr/bin/python3 flower_golden.py > flower_golden.json
"""
import json
from functools import reduce

import numpy as np


# ---- aggregate.py ----
def aggregate(results):
    num_examples_total = sum(n for (_, n) in results)
    weighted = [[layer * n for layer in w] for w, n in results]
    return [reduce(np.add, lu) / num_examples_total for lu in zip(*weighted)]


def aggregate_median(results):
    weights = [w for w, _ in results]
    return [np.median(np.asarray(layer), axis=0) for layer in zip(*weights)]


def _compute_distances(weights):
    flat_w = np.array([np.concatenate(p, axis=None).ravel() for p in weights])
    d = np.zeros((len(weights), len(weights)))
    for i, wi in enumerate(flat_w):
        for j, wj in enumerate(flat_w):
            d[i, j] = np.linalg.norm(wi - wj) ** 2
    return d


def aggregate_krum(results, num_malicious, to_keep):
    weights = [w for w, _ in results]
    dm = _compute_distances(weights)
    num_closest = max(1, len(weights) - num_malicious - 2)
    closest = [np.argsort(dist)[1 : num_closest + 1].tolist() for dist in dm]
    scores = [np.sum(dm[i, closest[i]]) for i in range(len(dm))]
    if to_keep > 0:
        best = np.argsort(scores)[::-1][len(scores) - to_keep :]
        return aggregate([results[i] for i in best])
    return weights[np.argmin(scores)]


def _trim_mean(array, proportiontocut):
    nobs = array.shape[0]
    lowercut = int(proportiontocut * nobs)
    uppercut = nobs - lowercut
    if lowercut > uppercut:
        raise ValueError("Proportion too big.")
    atmp = np.partition(array, (lowercut, uppercut - 1), 0)
    return np.mean(atmp[lowercut:uppercut], axis=0)


def aggregate_trimmed_avg(results, proportiontocut):
    weights = [w for w, _ in results]
    return [_trim_mean(np.asarray(layer), proportiontocut) for layer in zip(*weights)]


# ---- fedavgm.py ----
class FedAvgM:
    def __init__(self, initial, server_learning_rate, server_momentum):
        self.initial = [initial]
        self.lr = server_learning_rate
        self.mu = server_momentum
        self.server_opt = (self.mu != 0.0) or (self.lr != 1.0)
        self.momentum_vector = None

    def aggregate_fit(self, server_round, results):
        fedavg_result = aggregate(results)
        if self.server_opt:
            initial_weights = self.initial
            pseudo_gradient = [x - y for x, y in zip(self.initial, fedavg_result)]
            if self.mu > 0.0:
                if server_round > 1:
                    self.momentum_vector = [
                        self.mu * x + y for x, y in zip(self.momentum_vector, pseudo_gradient)
                    ]
                else:
                    self.momentum_vector = pseudo_gradient
                pseudo_gradient = self.momentum_vector
            fedavg_result = [x - self.lr * y for x, y in zip(initial_weights, pseudo_gradient)]
            self.initial = fedavg_result
        return fedavg_result


# ---- fedadam.py (FedOpt's current_weights, m_t, v_t) ----
class FedAdam:
    def __init__(self, initial, eta=1e-1, eta_l=1e-1, beta_1=0.9, beta_2=0.99, tau=1e-9):
        self.current_weights = [initial]
        self.eta, self.eta_l, self.beta_1, self.beta_2, self.tau = eta, eta_l, beta_1, beta_2, tau
        self.m_t = None
        self.v_t = None

    def aggregate_fit(self, server_round, results):
        fedavg = aggregate(results)
        delta_t = [x - y for x, y in zip(fedavg, self.current_weights)]
        if not self.m_t:
            self.m_t = [np.zeros_like(x) for x in delta_t]
        self.m_t = [np.multiply(self.beta_1, x) + (1 - self.beta_1) * y for x, y in zip(self.m_t, delta_t)]
        if not self.v_t:
            self.v_t = [np.zeros_like(x) for x in delta_t]
        self.v_t = [self.beta_2 * x + (1 - self.beta_2) * np.multiply(y, y) for x, y in zip(self.v_t, delta_t)]
        eta_norm = (
            self.eta
            * np.sqrt(1 - np.power(self.beta_2, server_round + 1.0))
            / (1 - np.power(self.beta_1, server_round + 1.0))
        )
        new = [x + eta_norm * y / (np.sqrt(z) + self.tau) for x, y, z in zip(self.current_weights, self.m_t, self.v_t)]
        self.current_weights = new
        return new


rng = np.random.default_rng(18)
DIM = 7


def draw_updates(n, around, spread=1.0):
    params = [(around + rng.normal(0, spread, DIM)).astype(np.float32) for _ in range(n)]
    weights = [int(w) for w in rng.integers(1, 60, n)]
    return params, weights


def fl(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


cases = []


def one_shot(name, opts, n, fn):
    g = rng.normal(0, 1, DIM).astype(np.float32)
    params, weights = draw_updates(n, g)
    res = fn([([p], w) for p, w in zip(params, weights)])
    cases.append({
        "strategy": name, "options": opts,
        "global": fl(g),
        "rounds": [{"updates": [fl(p) for p in params], "weights": weights, "want": fl(res[0] if isinstance(res, list) else res)}],
    })


one_shot("fedavg", {}, 5, aggregate)
one_shot("fedprox", {"ProximalMu": 0.1}, 4, aggregate)
one_shot("fedmedian", {}, 5, aggregate_median)
one_shot("fedmedian", {}, 6, aggregate_median)
one_shot("trimmedmean", {"TrimBeta": 0.2}, 10, lambda r: aggregate_trimmed_avg(r, 0.2))
one_shot("trimmedmean", {"TrimBeta": 0.2}, 7, lambda r: aggregate_trimmed_avg(r, 0.2))
one_shot("trimmedmean", {"TrimBeta": 0.3}, 9, lambda r: aggregate_trimmed_avg(r, 0.3))
one_shot("krum", {"NumMalicious": 1, "NumToKeep": 0}, 6, lambda r: aggregate_krum(r, 1, 0))
one_shot("krum", {"NumMalicious": 2, "NumToKeep": 3}, 8, lambda r: aggregate_krum(r, 2, 3))
one_shot("krum", {"NumMalicious": 0, "NumToKeep": 0}, 3, lambda r: aggregate_krum(r, 0, 0))


def multi(name, opts, make, rounds=4, n=5):
    g = rng.normal(0, 1, DIM).astype(np.float32)
    s = make(g)
    cur = g
    rs = []
    for rnd in range(1, rounds + 1):
        target = cur + 0.5  # clients move the model the same way each round
        params, weights = draw_updates(n, target, spread=0.3)
        out = s.aggregate_fit(rnd, [([p], w) for p, w in zip(params, weights)])
        rs.append({"updates": [fl(p) for p in params], "weights": weights, "want": fl(out[0])})
        cur = np.asarray(out[0], dtype=np.float32)
    cases.append({"strategy": name, "options": opts, "global": fl(g), "rounds": rs})


multi("fedavgm", {"ServerLR": 1.0, "ServerMomentum": 0.9}, lambda g: FedAvgM(g, 1.0, 0.9))
multi("fedavgm", {"ServerLR": 0.5, "ServerMomentum": 0.0}, lambda g: FedAvgM(g, 0.5, 0.0))
multi("fedavgm", {"ServerLR": 0.7, "ServerMomentum": 0.5}, lambda g: FedAvgM(g, 0.7, 0.5))
multi("fedadam", {}, lambda g: FedAdam(g))
multi("fedadam", {"Eta": 0.05, "Beta1": 0.5, "Beta2": 0.9, "Tau": 1e-3}, lambda g: FedAdam(g, eta=0.05, beta_1=0.5, beta_2=0.9, tau=1e-3))

print(json.dumps({"numpy": np.__version__, "cases": cases}, indent=1))
