"""Pulse (slow-wave / action-potential-like) waves with known fronts, for the trigger tests.

Each wave is an up state of ``width_s`` whose onset sweeps the array as a plane front:
channel ``j`` turns on at ``t0 + (r_j - r_c) . u / speed`` (``u`` the unit vector of
``direction_deg``, ``r_c`` the array centre), with a ``tanh`` rise and recovery of ``rise_s``
(:func:`wavekit.simulate.waves.pulse_train`).
"""

from __future__ import annotations

import numpy as np

from wavekit.model import grid_activity, irregular_activity
from wavekit.simulate.waves import pulse_train


def pulse_signal(x, y, t, waves, *, width_s=0.2, rise_s=0.004):
    """(time, channel) signal of ``waves``: a list of ``(t0_s, direction_deg, speed_mm_per_s)``."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    signal, _ = pulse_train(
        np.asarray(t, float)[:, None],
        x,
        y,
        waves=waves,
        width_s=width_s,
        rise_s=rise_s,
        centre_x_mm=x.mean(),
        centre_y_mm=y.mean(),
    )
    return signal


def pulse_activity(
    x,
    y,
    waves,
    *,
    fs=500.0,
    duration_s=4.0,
    noise_sd=0.0,
    seed=0,
    grid_shape=None,
    width_s=0.2,
    rise_s=0.004,
):
    """Activity in the data model: irregular, or a grid when ``grid_shape=(ny, nx)`` (then
    ``x``, ``y`` are the row-major site positions of a lattice)."""
    t = np.arange(int(round(duration_s * fs))) / fs
    v = pulse_signal(x, y, t, waves, width_s=width_s, rise_s=rise_s)
    v = v + np.random.default_rng(seed).normal(0.0, noise_sd, v.shape) if noise_sd else v
    if grid_shape is None:
        return irregular_activity(v, fs_hz=fs, x_mm=x, y_mm=y)
    ny, nx = grid_shape
    xs = np.asarray(x).reshape(ny, nx)[0]
    ys = np.asarray(y).reshape(ny, nx)[:, 0]
    return grid_activity(v.reshape(-1, ny, nx), fs_hz=fs, x_mm=xs, y_mm=ys)
