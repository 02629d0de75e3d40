"""Analytic wave patterns with known ground truth for the pattern, flow and event tests.

Phase conventions (SPEC.md): a wave ``cos(w t - k.r)`` travels along +k; the phase gradient is -k.

* plane:        w t - k (cos d x + sin d y)
* source:       w t - k |r - c|          (waves leave c: diverging direction field)
* sink:         w t + k |r - c|          (waves converge on c)
* spiral_ccw:   w t - atan2(y - cy, x - cx) - k |r - c|   (turns from +x toward +y; charge -1)
* spiral_cw:    w t + atan2(y - cy, x - cx) - k |r - c|   (charge +1)
* saddle:       w t - a ((x - cx)^2 - (y - cy)^2)         (direction field (x, -y) about c)
* synchronous:  w t
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import signal as sps

KINDS = ("plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle", "synchronous")


def grid(ny: int = 16, nx: int = 16, dx: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (x_mm, y_mm) centred on 0."""
    return (np.arange(nx) - (nx - 1) / 2) * dx, (np.arange(ny) - (ny - 1) / 2) * dx


def phase_field(
    kind: str,
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    f_hz: float = 10.0,
    k: float = 2 * np.pi / 6.0,
    direction_deg: float = 0.0,
    centre: tuple[float, float] = (0.0, 0.0),
    saddle_a: float = 0.15,
) -> np.ndarray:
    """Phase (nt, ny, nx) of one analytic pattern."""
    tt = np.asarray(t, float)[:, None, None]
    yy, xx = np.meshgrid(y, x, indexing="ij")
    cx, cy = centre
    r = np.hypot(xx - cx, yy - cy)
    th = np.arctan2(yy - cy, xx - cx)
    w = 2 * np.pi * f_hz
    d = np.radians(direction_deg)
    space = {
        "plane": -k * (np.cos(d) * xx + np.sin(d) * yy),
        "source": -k * r,
        "sink": k * r,
        "spiral_ccw": -th - k * r,
        "spiral_cw": th - k * r,
        "saddle": -saddle_a * ((xx - cx) ** 2 - (yy - cy) ** 2),
        "synchronous": np.zeros_like(r),
    }[kind]
    return w * tt + space[None]


def add_noise(act: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise at ``snr_db`` = 10 log10(signal power / noise power)."""
    p = np.mean(act**2)
    return act + rng.normal(0.0, np.sqrt(p / 10 ** (snr_db / 10)), act.shape)


def pink_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Independent 1/f (power ~ 1/f) noise along axis 0, unit variance."""
    n = shape[0]
    spec = rng.normal(size=(n // 2 + 1, *shape[1:])) + 1j * rng.normal(
        size=(n // 2 + 1, *shape[1:])
    )
    f = np.arange(n // 2 + 1, dtype=float)
    f[0] = 1.0
    spec = spec / np.sqrt(f).reshape((-1,) + (1,) * (len(shape) - 1))
    spec[0] = 0
    x = np.fft.irfft(spec, n=n, axis=0)
    return x / x.std(axis=0, keepdims=True)


def analytic(act: np.ndarray, fs: float, band: tuple[float, float]) -> np.ndarray:
    """Band-pass (zero-phase Butterworth, order 4) then Hilbert transform along axis 0."""
    sos = sps.butter(4, band, btype="bandpass", fs=fs, output="sos")
    return sps.hilbert(sps.sosfiltfilt(sos, act, axis=0), axis=0)


def to_da(data: np.ndarray, x: np.ndarray, y: np.ndarray, fs: float) -> xr.DataArray:
    t = np.arange(data.shape[0]) / fs
    return xr.DataArray(
        data,
        dims=("time", "y", "x"),
        coords={"time": ("time", t), "y": ("y", y), "x": ("x", x)},
        attrs={"fs_hz": fs},
    )


def episode_sequence(
    rng: np.random.Generator,
    *,
    kinds=KINDS,
    reps: int = 2,
    n_frames: int = 40,
    snr_db: float = 5.0,
    fs: float = 200.0,
    f_hz: float = 10.0,
    ny: int = 16,
    nx: int = 16,
    dx: float = 0.5,
    margin: int = 60,
    noise: str = "white",
) -> tuple[xr.DataArray, np.ndarray, np.ndarray]:
    """Concatenated episodes; each is simulated, noised and band-passed on its own with
    ``margin`` extra frames on both sides (cropped), so labels are unambiguous at every frame.

    ``noise="white"``: the SNR is signal power over broadband white-noise power (band-passing
    then removes most of the noise); ``"inband"``: the noise is band-passed to the analysis band
    before scaling, so the SNR holds inside the band (a much harder test).

    Returns (complex signal, true labels per frame, true centres (n, 2) with NaN for
    plane/synchronous).
    """
    x, y = grid(ny, nx, dx)
    order = [k for _ in range(reps) for k in kinds]
    rng.shuffle(order)
    zs, labels, centres = [], [], []
    t = np.arange(n_frames + 2 * margin) / fs
    for kind in order:
        span = 0.25 * (nx - 1) * dx
        c = tuple(rng.uniform(-span, span, 2))
        ph = phase_field(
            kind,
            t,
            x,
            y,
            f_hz=f_hz,
            k=2 * np.pi / rng.uniform(5.0, 8.0),
            direction_deg=rng.uniform(-180, 180),
            centre=c,
        )
        band = (0.5 * f_hz, 1.5 * f_hz)
        sig = np.cos(ph)
        if noise == "inband":
            sos = sps.butter(4, band, btype="bandpass", fs=fs, output="sos")
            nz = sps.sosfiltfilt(sos, rng.normal(size=sig.shape), axis=0)
            act = sig + nz * np.sqrt(np.mean(sig**2) / np.mean(nz**2) / 10 ** (snr_db / 10))
        else:
            act = add_noise(sig, snr_db, rng)
        z = analytic(act, fs, band)[margin:-margin]
        zs.append(z)
        labels += [kind] * n_frames
        has_c = kind not in ("plane", "synchronous")
        centres += [c if has_c else (np.nan, np.nan)] * n_frames
    return to_da(np.concatenate(zs), x, y, fs), np.array(labels), np.array(centres)


def mean_wave(z: np.ndarray, dx: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame phase speed w/|k| (mm/s) and direction of travel (deg) of a plane wave, from
    array-summed complex products of neighbours (no unwrapping); ``z`` is (time, y, x)."""
    kx = -np.angle(np.nansum(z[:, :, 1:] * np.conj(z[:, :, :-1]), axis=(1, 2))) / dx
    ky = -np.angle(np.nansum(z[:, 1:, :] * np.conj(z[:, :-1, :]), axis=(1, 2))) / dx
    w = np.angle(np.nansum(z[2:] * np.conj(z[:-2]), axis=(1, 2))) * fs / 2
    w = np.concatenate([[w[0]], w, [w[-1]]])
    s = np.sign(w)
    return np.abs(w) / np.hypot(kx, ky), np.degrees(np.arctan2(s * ky, s * kx))


def f1_per_class(truth: np.ndarray, pred: np.ndarray, classes) -> dict[str, float]:
    out = {}
    for c in classes:
        tp = np.sum((truth == c) & (pred == c))
        fp = np.sum((truth != c) & (pred == c))
        fn = np.sum((truth == c) & (pred != c))
        out[c] = 2 * tp / max(2 * tp + fp + fn, 1)
    return out
