"""Benchmark: phase pipeline (band-pass, analytic signal, gradients, PGD, local speed).

Compares, on a ``(time, 64, 64)`` float32 array (a noisy plane wave):

* ``wavekit``: :func:`wavekit.analysis.analytic_signal` (fused FFT band-pass + analytic signal,
  complex64), :func:`wavekit.analysis.phase_gradients` with ``fields=("speed",)`` (wave vector,
  instantaneous frequency, local speed; numba kernels) and
  :func:`wavekit.analysis.phase_gradient_directionality` (both PGDs);
* ``scipy``: the plain SciPy chain: ``scipy.signal.sosfiltfilt`` (same Butterworth), then
  ``scipy.signal.hilbert``, then complex-product gradients, instantaneous frequency, speed and
  PGD written with NumPy whole-array operations;
* ``floor``: a bare ``scipy.fft.rfft`` plus ``scipy.fft.irfft`` of the same array along time (same
  workers), the least any FFT-based route must spend; and ``floor_c2c``: ``scipy.fft.fft`` plus
  ``ifft`` (what "forward plus inverse transform" costs in complex arithmetic).

Targets: ``scipy / wavekit >= 4`` and ``wavekit / floor <= 2``. Each timing is the best of
``--repeat`` interleaved runs (the SciPy chain runs once: it is slow).

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_phase_pipeline.py --n-time 20000
    PYTHONPATH=. python benchmarks/bench_phase_pipeline.py --n-time 5000 --skip-scipy

Memory note: wavekit's outputs (a complex64 analytic signal and three float32 fields, 1.7 GB at
full size) are 2.5 times the floor's, and on virtual machines the first touch of fresh memory
can cost as much as the arithmetic (0.03 to 0.6 s per 330 MB here, depending on the host).
For steady-state numbers, as in a long-running analysis process, let glibc keep freed memory::

    MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 \
        PYTHONPATH=. python benchmarks/bench_phase_pipeline.py --n-time 20000 --repeat 5

Prints a table on standard error and one JSON line on standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def make_data(n_time: int, n: int = 64, fs: float = 1000.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = (np.arange(n_time, dtype=np.float32) / np.float32(fs))[:, None, None]
    yy, xx = (np.mgrid[0:n, 0:n] * 0.4).astype(np.float32)
    k = 2 * np.pi / 30.0  # 30 mm wavelength, 10 Hz: 300 mm/s toward 30 deg
    kx, ky = np.float32(k * np.cos(np.pi / 6)), np.float32(k * np.sin(np.pi / 6))
    x = np.empty((n_time, n, n), dtype=np.float32)
    for i0 in range(0, n_time, 1000):  # in blocks: keep the float64 temporaries small
        sl = slice(i0, min(n_time, i0 + 1000))
        x[sl] = np.cos(np.float32(2 * np.pi * 10.0) * t[sl] - kx * xx - ky * yy)
        x[sl] += rng.standard_normal(x[sl].shape, dtype=np.float32)
    return x


def run_wavekit(act, band):
    from wavekit.analysis import analytic_signal, phase_gradient_directionality, phase_gradients

    z = analytic_signal(act, band_hz=band)
    g = phase_gradients(z, fields=("speed",))
    p = phase_gradient_directionality(g)
    return g["speed_mm_per_s"].data, p["pgd_rubino2006"].data, p["pgd_unit_resultant"].data


def _diff_np(z, axis, step):
    """Complex-product phase derivative along ``axis``, one-sided at the edges (no NaN logic)."""
    z = np.moveaxis(z, axis, 0)
    out = np.empty(z.shape, dtype=np.float32)
    out[1:-1] = np.angle(z[2:] * np.conj(z[:-2])) / (2 * step)
    out[0] = np.angle(z[1] * np.conj(z[0])) / step
    out[-1] = np.angle(z[-1] * np.conj(z[-2])) / step
    return np.moveaxis(out, 0, axis)


def run_scipy(x, fs, band, dx):
    from scipy import signal

    sos = signal.butter(4, band, btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x, axis=0)
    z = signal.hilbert(y, axis=0).astype(np.complex64)
    del y
    gx = _diff_np(z, 2, dx)
    gy = _diff_np(z, 1, dx)
    w = _diff_np(z, 0, 1.0 / fs)
    kk = np.hypot(gx, gy)
    speed = np.abs(w) / kk
    m = gx.shape[0]
    sx = gx.reshape(m, -1).sum(1)
    sy = gy.reshape(m, -1).sum(1)
    rub = np.hypot(sx, sy) / kk.reshape(m, -1).sum(1)
    ux = (gx / kk).reshape(m, -1).mean(1)
    uy = (gy / kk).reshape(m, -1).mean(1)
    res = np.hypot(ux, uy)
    return speed, rub, res


def run_floor(x, workers, complex_=False):
    import scipy.fft as sfft

    if complex_:
        return sfft.ifft(sfft.fft(x, axis=0, workers=workers), axis=0, workers=workers)
    return sfft.irfft(sfft.rfft(x, axis=0, workers=workers), n=x.shape[0], axis=0, workers=workers)


def best_of(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-time", type=int, default=20000)
    ap.add_argument("--n", type=int, default=64, help="grid side")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-scipy", action="store_true", help="skip the slow SciPy chain")
    args = ap.parse_args(argv)

    from wavekit.analysis import phase_gradients  # noqa: F401  (compile numba outside timings)
    from wavekit.model import grid_activity

    fs, band, dx = 1000.0, (6.0, 14.0), 0.4
    x = make_data(args.n_time, args.n, fs)
    act = grid_activity(x, fs_hz=fs, dx_mm=dx)
    workers = os.cpu_count() or 1
    # warm-up: numba compilation / cache load, FFT plans, and one full-size run of each so
    # that first-touch page faults of fresh memory (expensive in VMs) hit neither side
    run_wavekit(act.isel(time=slice(0, 256)), band)
    run_wavekit(act, band)
    run_floor(x, workers)

    # interleaved repeats (floor, wavekit, complex floor): on a shared machine the load drifts,
    # so each ratio compares runs made under the same conditions
    t_wk = t_floor = t_floor_c = np.inf
    for _ in range(args.repeat):
        t, _out = best_of(lambda: run_floor(x, workers), 1)
        t_floor = min(t_floor, t)
        del _out
        t, out = best_of(lambda: run_wavekit(act, band), 1)
        t_wk = min(t_wk, t)
        speed_wk, rub_wk, _ = out
        del out
        t, _out = best_of(lambda: run_floor(x, workers, True), 1)
        t_floor_c = min(t_floor_c, t)
        del _out
    res = {
        "shape": list(x.shape),
        "dtype": "float32",
        "cpu_count": workers,
        "wavekit_s": round(t_wk, 3),
        "floor_rfft_irfft_s": round(t_floor, 3),
        "floor_fft_ifft_s": round(t_floor_c, 3),
        "wavekit_over_floor": round(t_wk / t_floor, 2),
        "wavekit_over_floor_c2c": round(t_wk / t_floor_c, 2),
    }
    if not args.skip_scipy:
        t_sp, (speed_sp, rub_sp, _) = best_of(lambda: run_scipy(x, fs, band, dx), 1)
        res["scipy_s"] = round(t_sp, 3)
        res["scipy_over_wavekit"] = round(t_sp / t_wk, 2)
        mid = slice(x.shape[0] // 4, 3 * x.shape[0] // 4)
        res["median_speed_wavekit_mm_per_s"] = float(np.nanmedian(speed_wk[mid]))
        res["median_speed_scipy_mm_per_s"] = float(np.nanmedian(speed_sp[mid]))
        res["median_pgd_rubino_wavekit"] = float(np.nanmedian(rub_wk[mid]))
        res["median_pgd_rubino_scipy"] = float(np.nanmedian(rub_sp[mid]))
    for k, v in res.items():
        print(f"{k:>34}: {v}", file=sys.stderr)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
