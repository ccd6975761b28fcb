#!/usr/bin/python3
"""Golden trajectories of the classic-control environments for kiln's tests.

Written from the equations of Gymnasium's gymnasium/envs/classic_control
(cartpole.py, acrobot.py, mountain_car.py, pendulum.py), step by step in the
same order of operations, in numpy float64. Each case starts from a fixed
state (no random reset), applies a fixed action sequence (stored in the
file; some were chosen by a simple controller here so that episodes reach
their terminal states) and records, after every step, the float64 state,
the float32 observation, the reward and the terminated and truncated flags.
The episode stops at termination or truncation.

Run from this folder with Debian's python3-numpy (numpy 1.24; Gymnasium not needed):
    /usr/bin/python3 golden.py > golden.json
"""
import json
import math

import numpy as np

# ---------------------------------------------------------------- CartPole-v1
GRAVITY, MASSCART, MASSPOLE = 9.8, 1.0, 0.1
TOTAL_MASS = MASSPOLE + MASSCART
LENGTH = 0.5
POLEMASS_LENGTH = MASSPOLE * LENGTH
FORCE_MAG, TAU = 10.0, 0.02
THETA_LIM = 12 * 2 * math.pi / 360
X_LIM = 2.4


def cartpole_step(state, action):
    x, x_dot, theta, theta_dot = state
    force = FORCE_MAG if action == 1 else -FORCE_MAG
    costheta, sintheta = math.cos(theta), math.sin(theta)
    temp = (force + POLEMASS_LENGTH * theta_dot**2 * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        LENGTH * (4.0 / 3.0 - MASSPOLE * costheta**2 / TOTAL_MASS))
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    x = x + TAU * x_dot
    x_dot = x_dot + TAU * xacc
    theta = theta + TAU * theta_dot
    theta_dot = theta_dot + TAU * thetaacc
    state = [x, x_dot, theta, theta_dot]
    term = x < -X_LIM or x > X_LIM or theta < -THETA_LIM or theta > THETA_LIM
    return state, np.array(state, dtype=np.float32), 1.0, bool(term)


# ---------------------------------------------------------------- Acrobot-v1
M1 = M2 = L1 = 1.0
LC1 = LC2 = 0.5
I1 = I2 = 1.0
MAX_VEL_1, MAX_VEL_2 = 4 * np.pi, 9 * np.pi
DT = 0.2


def dsdt(s_aug):
    g = 9.8
    a = s_aug[-1]
    theta1, theta2, dtheta1, dtheta2 = s_aug[:-1]
    d1 = M1 * LC1**2 + M2 * (L1**2 + LC2**2 + 2 * L1 * LC2 * np.cos(theta2)) + I1 + I2
    d2 = M2 * (LC2**2 + L1 * LC2 * np.cos(theta2)) + I2
    phi2 = M2 * LC2 * g * np.cos(theta1 + theta2 - np.pi / 2.0)
    phi1 = (-M2 * L1 * LC2 * dtheta2**2 * np.sin(theta2)
            - 2 * M2 * L1 * LC2 * dtheta2 * dtheta1 * np.sin(theta2)
            + (M1 * LC1 + M2 * L1) * g * np.cos(theta1 - np.pi / 2) + phi2)
    ddtheta2 = (a + d2 / d1 * phi1 - M2 * L1 * LC2 * dtheta1**2 * np.sin(theta2) - phi2) / (
        M2 * LC2**2 + I2 - d2**2 / d1)
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0


def rk4(y0, dt):
    dt2 = dt / 2.0
    k1 = np.asarray(dsdt(y0))
    k2 = np.asarray(dsdt(y0 + dt2 * k1))
    k3 = np.asarray(dsdt(y0 + dt2 * k2))
    k4 = np.asarray(dsdt(y0 + dt * k3))
    return (y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))[:4]


def wrap(x, m, M):
    diff = M - m
    while x > M:
        x = x - diff
    while x < m:
        x = x + diff
    return x


def acrobot_step(state, action):
    torque = [-1.0, 0.0, 1.0][action]
    ns = rk4(np.append(np.asarray(state, dtype=np.float64), torque), DT - 0.0)
    ns[0] = wrap(ns[0], -np.pi, np.pi)
    ns[1] = wrap(ns[1], -np.pi, np.pi)
    ns[2] = min(max(ns[2], -MAX_VEL_1), MAX_VEL_1)
    ns[3] = min(max(ns[3], -MAX_VEL_2), MAX_VEL_2)
    term = bool(-np.cos(ns[0]) - np.cos(ns[1] + ns[0]) > 1.0)
    obs = np.array([np.cos(ns[0]), np.sin(ns[0]), np.cos(ns[1]), np.sin(ns[1]), ns[2], ns[3]], dtype=np.float32)
    return [float(v) for v in ns], obs, (0.0 if term else -1.0), term


# ---------------------------------------------------------------- MountainCar-v0
def mountaincar_step(state, action):
    position, velocity = state
    velocity += (action - 1) * 0.001 + math.cos(3 * position) * (-0.0025)
    velocity = float(np.clip(velocity, -0.07, 0.07))
    position += velocity
    position = float(np.clip(position, -1.2, 0.6))
    if position == -1.2 and velocity < 0:
        velocity = 0.0
    term = bool(position >= 0.5 and velocity >= 0)
    state = [position, velocity]
    return state, np.array(state, dtype=np.float32), -1.0, term


# ---------------------------------------------------------------- Pendulum-v1
def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def pendulum_step(state, u):
    th, thdot = state
    g, m, l, dt = 10.0, 1.0, 1.0, 0.05
    u = float(np.clip(np.float64(np.float32(u)), -2.0, 2.0))
    costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
    newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
    newthdot = float(np.clip(newthdot, -8, 8))
    newth = th + newthdot * dt
    state = [float(newth), newthdot]
    obs = np.array([np.cos(newth), np.sin(newth), newthdot], dtype=np.float32)
    return state, obs, float(-costs), False


def run(step, start, limit, policy):
    """Steps from start until termination or the limit; policy(state, t)
    gives each action."""
    state = list(start)
    out = {"start": [float(v) for v in start], "actions": [], "states": [], "obs": [],
           "rewards": [], "terminated": [], "truncated": []}
    for t in range(limit):
        a = policy(state, t)
        state, obs, r, term = step(state, a)
        trunc = t + 1 >= limit
        out["actions"].append(a)
        out["states"].append([float(v) for v in state])
        out["obs"].append([float(v) for v in obs])
        out["rewards"].append(float(r))
        out["terminated"].append(term)
        out["truncated"].append(trunc)
        if term or trunc:
            break
    return out


def main():
    rs = np.random.RandomState(17)
    rand_disc = lambda n: (lambda s, t: int(rs.randint(n)))
    f32 = lambda xs: [float(np.float32(x)) for x in xs]
    golden = {
        "CartPole-v1": [
            run(cartpole_step, [0.01, -0.02, 0.03, 0.04], 500, rand_disc(2)),
            # push against the pole's lean: balances until the cart drifts out
            run(cartpole_step, [0.0, 0.0, 0.0, 0.0], 500,
                lambda s, t: 1 if s[2] + 0.5 * s[3] > 0 else 0),
            run(cartpole_step, [-0.04, 0.03, -0.02, 0.01], 500, lambda s, t: 1),
        ],
        "Acrobot-v1": [
            run(acrobot_step, f32([0.05, -0.03, 0.02, 0.01]), 500, rand_disc(3)),
            # pump energy: torque with the second link's velocity
            run(acrobot_step, f32([-0.08, 0.06, -0.01, 0.04]), 500,
                lambda s, t: 2 if s[3] > 0 else 0),
        ],
        "MountainCar-v0": [
            run(mountaincar_step, [-0.5, 0.0], 200, rand_disc(3)),
            run(mountaincar_step, [-0.45, 0.0], 200, lambda s, t: 2 if s[1] >= 0 else 0),
            run(mountaincar_step, [-1.15, -0.01], 200, lambda s, t: 0 if t < 30 else 2),
        ],
        "Pendulum-v1": [
            run(pendulum_step, [2.5, 0.5], 200, lambda s, t: float(np.float32(rs.uniform(-3, 3)))),
            run(pendulum_step, [-3.0, -0.9], 200, lambda s, t: 2.0 if s[1] >= 0 else -2.0),
        ],
    }
    print(json.dumps(golden, indent=None, separators=(",", ":")))


if __name__ == "__main__":
    main()
