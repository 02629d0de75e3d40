"""Small ground-truth generator for the phase/gradient tests: plane waves on a grid, with noise.

(The full simulator lives in ``wavekit.simulate``; this one is deliberately tiny and independent.)
"""

from __future__ import annotations

import numpy as np

from wavekit.model import grid_activity


def plane_wave(
    *,
    n: int = 16,
    pitch_mm: float = 0.4,
    freq_hz: float = 10.0,
    speed_mm_per_s: float = 300.0,
    direction_deg: float = 30.0,
    fs_hz: float = 500.0,
    duration_s: float = 2.0,
    snr_db: float | None = None,
    phase0: float = 0.0,
    seed: int = 0,
    dtype=np.float64,
    ny: int | None = None,
):
    """``cos(2 pi f t - k.r + phase0)`` plus white Gaussian noise at ``snr_db`` (signal power /
    noise power over the full band, per channel); ``k`` points along ``direction_deg`` (CCW from
    +x toward +y) with ``|k| = 2 pi f / speed``. Returns ``(activity, truth)``."""
    ny = n if ny is None else ny
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    yy, xx = np.mgrid[0:ny, 0:n] * pitch_mm
    kk = 2 * np.pi * freq_hz / speed_mm_per_s
    th = np.deg2rad(direction_deg)
    kx, ky = kk * np.cos(th), kk * np.sin(th)
    x = np.cos(2 * np.pi * freq_hz * t[:, None, None] - kx * xx - ky * yy + phase0)
    if snr_db is not None:
        sigma = np.sqrt(0.5 / 10 ** (snr_db / 10))
        x = x + rng.normal(0.0, sigma, x.shape)
    act = grid_activity(x.astype(dtype), fs_hz=fs_hz, dx_mm=pitch_mm)
    truth = {
        "kx": kx,
        "ky": ky,
        "direction_deg": float(direction_deg),
        "speed_mm_per_s": float(speed_mm_per_s),
        "wavelength_mm": 2 * np.pi / kk,
        "freq_hz": float(freq_hz),
    }
    return act, truth


def angle_error_deg(a, b):
    """Absolute circular difference in degrees, in [0, 180]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)
