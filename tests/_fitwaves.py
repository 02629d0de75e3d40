"""Small ground-truth wave generators for the fit tests (the full simulator lives elsewhere).

SNR convention: ``snr_db = 10 log10(P_signal / P_noise)`` per channel over the full band
(0..fs/2), with white Gaussian noise, before any filtering. The analytic signal the fits see is
the brick-wall FFT band-pass (``f +- half_bw_hz``) of signal plus noise, so the in-band SNR is
higher by ``(fs / 2) / (2 half_bw_hz)``.
"""

from __future__ import annotations

import numpy as np

from wavekit.model import grid_activity, irregular_activity


def grid_positions(n: int = 16, pitch: float = 0.4):
    yy, xx = np.mgrid[0:n, 0:n] * pitch
    return xx.ravel(), yy.ravel()


def random_positions(n: int, side_mm: float, rng):
    return rng.uniform(0, side_mm, n), rng.uniform(0, side_mm, n)


def plane_wave(
    x,
    y,
    *,
    f_hz,
    speed,
    direction_deg,
    fs=500.0,
    duration_s=2.0,
    snr_db=np.inf,
    rng=None,
    phi0=0.0,
):
    """Real signal ``cos(2 pi f t - k.r + phi0)`` plus white noise, shape (time, channel)."""
    rng = np.random.default_rng(0) if rng is None else rng
    t = np.arange(int(round(duration_s * fs))) / fs
    kmag = 2 * np.pi * f_hz / speed
    th = np.radians(direction_deg)
    kx, ky = kmag * np.cos(th), kmag * np.sin(th)
    ph = 2 * np.pi * f_hz * t[:, None] - (kx * np.asarray(x) + ky * np.asarray(y))[None, :] + phi0
    sig = np.cos(ph)
    if np.isfinite(snr_db):
        sig = sig + rng.normal(0.0, np.sqrt(0.5 / 10 ** (snr_db / 10)), sig.shape)
    return t, sig


def analytic_band(sig, fs, f_hz, half_bw_hz=1.0):
    """Analytic signal of the brick-wall band ``f +- half_bw`` (FFT along axis 0)."""
    n = sig.shape[0]
    spec = np.fft.fft(sig, axis=0)
    fr = np.fft.fftfreq(n, 1 / fs)
    keep = (fr >= f_hz - half_bw_hz) & (fr <= f_hz + half_bw_hz) & (fr > 0)
    spec = np.where(keep[:, None], 2 * spec, 0)
    return np.fft.ifft(spec, axis=0)


def grid_case(
    *, f_hz, speed, direction_deg, snr_db, seed, n=16, pitch=0.4, fs=500.0, duration_s=2.0, phi0=0.0
):
    """Analytic-signal DataArray (time, y, x) of a noisy plane wave on an n x n grid."""
    rng = np.random.default_rng(seed)
    x, y = grid_positions(n, pitch)
    _, sig = plane_wave(
        x,
        y,
        f_hz=f_hz,
        speed=speed,
        direction_deg=direction_deg,
        fs=fs,
        duration_s=duration_s,
        snr_db=snr_db,
        rng=rng,
        phi0=phi0,
    )
    z = analytic_band(sig, fs, f_hz).reshape(-1, n, n)
    return grid_activity(z, fs_hz=fs, dx_mm=pitch).rename("phase")


def irregular_case(
    *,
    f_hz,
    speed,
    direction_deg,
    snr_db,
    seed,
    n=64,
    side_mm=6.0,
    fs=500.0,
    duration_s=2.0,
    missing=0.1,
    x=None,
    y=None,
    phi0=0.0,
):
    """Analytic-signal DataArray (time, channel) on random positions, ``missing`` channels NaN."""
    rng = np.random.default_rng(seed)
    if x is None:
        x, y = random_positions(n, side_mm, rng)
    _, sig = plane_wave(
        x,
        y,
        f_hz=f_hz,
        speed=speed,
        direction_deg=direction_deg,
        fs=fs,
        duration_s=duration_s,
        snr_db=snr_db,
        rng=rng,
        phi0=phi0,
    )
    z = analytic_band(sig, fs, f_hz)
    bad = rng.choice(len(x), int(round(missing * len(x))), replace=False)
    z[:, bad] = np.nan
    return irregular_activity(z, fs_hz=fs, x_mm=x, y_mm=y).rename("phase")


def ang_err(a_deg, b_deg):
    """Absolute angular difference in degrees."""
    return np.abs((np.asarray(a_deg) - np.asarray(b_deg) + 180.0) % 360.0 - 180.0)
