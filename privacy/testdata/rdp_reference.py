#!/usr/bin/env python3
"""Golden values for kiln's RDP accountant (package privacy).

Opacus and TensorFlow Privacy are not installed here, so this script
re-implements the published formulas of opacus/accountants/analysis/rdp.py
(Mironov, Talwar and Zhang, "Renyi Differential Privacy of the Sampled
Gaussian Mechanism", 2019) with Python's math module only: no numpy, no
scipy. scipy.special.binom and scipy.special.log_ndtr are replaced by a
product formula and a log-erfc with a continued fraction for large
arguments. As an independent check, log A_alpha is also computed by
numerical quadrature of its defining integral for a few orders, and the
script stops if the two disagree.

Run from the repository root:

    python3 privacy/testdata/rdp_reference.py > privacy/testdata/rdp_golden.json
"""

import json
import math

ORDERS = [1 + x / 10.0 for x in range(1, 100)] + [float(x) for x in range(12, 64)]


def log_add(x, y):
    a, b = min(x, y), max(x, y)
    if a == -math.inf:
        return b
    return math.log1p(math.exp(a - b)) + b


def log_sub(x, y):
    if x < y:
        raise ValueError("log_sub: negative result")
    if y == -math.inf:
        return x
    if x == y:
        return -math.inf
    try:
        return math.log(math.expm1(x - y)) + y
    except OverflowError:
        return x


def log_erfc(x):
    """log(erfc(x)), what Opacus computes as log(2) + log_ndtr(-x*sqrt(2))."""
    if x < 5:
        return math.log(math.erfc(x))
    # erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    f = x
    for k in range(60, 0, -1):
        f = x + (k / 2.0) / f
    return -x * x - 0.5 * math.log(math.pi) - math.log(f)


def log_binom_int(n, k):
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def log_a_int(q, sigma, alpha):
    log_a = -math.inf
    for i in range(alpha + 1):
        c = log_binom_int(alpha, i) + i * math.log(q) + (alpha - i) * math.log(1 - q)
        log_a = log_add(log_a, c + (i * i - i) / (2 * sigma ** 2))
    return log_a


def log_a_frac(q, sigma, alpha):
    log_a0, log_a1 = -math.inf, -math.inf
    i = 0
    z0 = sigma ** 2 * math.log(1 / q - 1) + 0.5
    coef = 1.0  # binom(alpha, i), by the product formula
    while True:
        log_coef = math.log(abs(coef))
        j = alpha - i
        log_t0 = log_coef + i * math.log(q) + j * math.log(1 - q)
        log_t1 = log_coef + j * math.log(q) + i * math.log(1 - q)
        log_e0 = math.log(0.5) + log_erfc((i - z0) / (math.sqrt(2) * sigma))
        log_e1 = math.log(0.5) + log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        log_s0 = log_t0 + (i * i - i) / (2 * sigma ** 2) + log_e0
        log_s1 = log_t1 + (j * j - j) / (2 * sigma ** 2) + log_e1
        if coef > 0:
            log_a0 = log_add(log_a0, log_s0)
            log_a1 = log_add(log_a1, log_s1)
        else:
            log_a0 = log_sub(log_a0, log_s0)
            log_a1 = log_sub(log_a1, log_s1)
        i += 1
        if max(log_s0, log_s1) < -30:
            break
        coef *= (alpha - (i - 1)) / i
    return log_add(log_a0, log_a1)


def log_a(q, sigma, alpha):
    if float(alpha).is_integer():
        return log_a_int(q, sigma, int(alpha))
    return log_a_frac(q, sigma, alpha)


def log_a_quadrature(q, sigma, alpha, h=0.002):
    """log of the integral of mu0(z) * ((1-q) + q*mu1(z)/mu0(z))**alpha dz,
    mu0 = N(0, sigma^2), mu1 = N(1, sigma^2): the definition of A_alpha."""
    lo, hi = -40.0 * sigma - 5, 40.0 * sigma + alpha + 5
    n = int((hi - lo) / h)
    terms = []
    for k in range(n + 1):
        z = lo + k * h
        log_mu0 = -z * z / (2 * sigma ** 2) - 0.5 * math.log(2 * math.pi * sigma ** 2)
        r = (2 * z - 1) / (2 * sigma ** 2)  # log(mu1/mu0)
        inner = log_add(math.log1p(-q), math.log(q) + r)
        w = 0.5 if k in (0, n) else 1.0
        terms.append(log_mu0 + alpha * inner + math.log(w))
    m = max(terms)
    return m + math.log(sum(math.exp(t - m) for t in terms)) + math.log(h)


def compute_rdp(q, sigma, steps, orders):
    out = []
    for a in orders:
        if q == 0:
            r = 0.0
        elif sigma == 0:
            r = math.inf
        elif q == 1.0:
            r = a / (2 * sigma ** 2)
        else:
            r = log_a(q, sigma, a) / (a - 1)
        out.append(r * steps)
    return out


def eps_opacus(orders, rdp, delta):
    """Opacus's conversion (Balle et al. 2020)."""
    best = (math.inf, None)
    for a, r in zip(orders, rdp):
        e = r - (math.log(delta) + math.log(a)) / (a - 1) + math.log((a - 1) / a)
        if e < best[0]:
            best = (e, a)
    return best


def eps_classic(orders, rdp, delta):
    """The original conversion (Mironov 2017), TensorFlow Privacy before 2020."""
    best = (math.inf, None)
    for a, r in zip(orders, rdp):
        e = r - math.log(delta) / (a - 1)
        if e < best[0]:
            best = (e, a)
    return best


def get_noise_multiplier(target_eps, delta, q, steps, tol=0.01):
    """Opacus's opacus.accountants.utils.get_noise_multiplier (RDP)."""
    eps_high = math.inf
    sigma_low, sigma_high = 0.0, 10.0
    while eps_high > target_eps:
        sigma_high = 2 * sigma_high
        eps_high, _ = eps_opacus(ORDERS, compute_rdp(q, sigma_high, steps, ORDERS), delta)
        if sigma_high > 1e6:
            raise ValueError("privacy budget too low")
    while target_eps - eps_high > tol:
        sigma = (sigma_low + sigma_high) / 2
        eps, _ = eps_opacus(ORDERS, compute_rdp(q, sigma, steps, ORDERS), delta)
        if eps < target_eps:
            sigma_high, eps_high = sigma, eps
        else:
            sigma_low = sigma
    return sigma_high


def main():
    # Independent check of the series against the integral.
    for q, sigma, a in [(0.01, 1.1, 2.5), (0.04, 1.5, 7.0), (0.00427, 1.1, 13.7), (0.1, 0.8, 3.3), (0.04, 1.5, 32.0)]:
        s, i = log_a(q, sigma, a), log_a_quadrature(q, sigma, a)
        if abs(s - i) > 1e-6 * max(1.0, abs(s)):
            raise SystemExit("series %r and quadrature %r disagree at q=%g sigma=%g alpha=%g" % (s, i, q, sigma, a))

    log_a_cases = []
    for q, sigma in [(0.01, 1.1), (0.04, 1.5), (256 / 60000, 1.1), (0.1, 0.7), (0.5, 2.0), (0.001, 0.5)]:
        for a in [1.1, 1.5, 2.0, 2.7, 4.0, 8.5, 10.9, 12.0, 32.0, 63.0]:
            log_a_cases.append({"q": q, "sigma": sigma, "alpha": a, "log_a": log_a(q, sigma, a)})

    eps_cases = []
    for n, batch, sigma, epochs, delta in [
        (60000, 256, 1.1, 60, 1e-5),
        (60000, 256, 1.1, 15, 1e-5),
        (60000, 256, 0.7, 45, 1e-5),
        (50000, 512, 1.0, 10, 1e-5),
        (10000, 100, 2.0, 5, 1e-6),
        (60000, 2000, 0.6, 30, 1e-5),
    ]:
        q = batch / n
        steps = int(epochs / q)  # Opacus's steps for epochs
        rdp = compute_rdp(q, sigma, steps, ORDERS)
        e, a = eps_opacus(ORDERS, rdp, delta)
        ec, ac = eps_classic(ORDERS, rdp, delta)
        eps_cases.append({"n": n, "batch": batch, "sigma": sigma, "epochs": epochs, "delta": delta,
                          "q": q, "steps": steps, "eps": e, "order": a, "eps_classic": ec, "order_classic": ac})

    sigma_cases = []
    for target, delta, q, epochs in [(1.0, 1e-5, 256 / 60000, 60), (3.0, 1e-5, 256 / 60000, 60),
                                     (7.0, 1e-5, 256 / 60000, 60), (3.0, 1e-5, 0.04, 90), (0.5, 1e-6, 0.01, 20)]:
        steps = int(epochs / q)
        sigma_cases.append({"target_eps": target, "delta": delta, "q": q, "steps": steps,
                            "sigma": get_noise_multiplier(target, delta, q, steps)})

    json.dump({"orders": ORDERS, "log_a": log_a_cases, "eps": eps_cases, "noise_multiplier": sigma_cases},
              __import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
