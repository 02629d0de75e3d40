"""Choosing the frequency band of the waves from the recording's own spectrum.

Neural field potentials have a 1/f-like background, so the largest power is always at the lowest
frequencies; the oscillation that carries the waves shows as a *peak above the background*. The
channel-averaged Welch spectrum is fitted in log-log coordinates by a straight line (the
aperiodic component, as in the "fitting oscillations and one-over-f" approach of Donoghue et al.
2020, Nat. Neurosci. 23:1655, doi:10.1038/s41593-020-00744-x, reduced here to a robust line), and
the band is one octave centred (geometrically) on the frequency with the largest excess power.
Frequencies more than 30 dB below the spectrum's maximum (anti-alias roll-off) are left out of
both the fit and the search.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import AnalysisError


def mean_spectrum(
    activity: xr.DataArray, *, max_seconds: float = 120.0, segment_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Channel-averaged Welch power spectrum ``(freqs_hz, power)``.

    At most ``max_seconds`` of the recording are read, as evenly spaced segments, so long or
    lazily loaded recordings cost little. Welch segments are ``segment_s`` long (default 8 s,
    or the whole record when shorter). Channels with NaN are skipped.

    Examples
    --------
    >>> from wavekit.simulate import simulate
    >>> activity, _ = simulate("plane", frequency_hz=12.0, snr_db=0.0, duration_s=8.0)
    >>> f, power = mean_spectrum(activity)
    >>> float(f[power.argmax()]), float(f[1] - f[0])      # peak at 12 Hz; 8 s segments
    (12.0, 0.125)
    """
    fs = float(activity.attrs["fs_hz"])
    n = activity.sizes["time"]
    nper = int(min(n, max(16, round((segment_s or 8.0) * fs))))  # default: 8 s, 0.125 Hz bins
    nper = min(nper, n)
    take = int(min(n, max_seconds * fs))
    if take < n:  # evenly spaced blocks of nper samples
        nblocks = max(1, take // nper)
        starts = np.linspace(0, n - nper, nblocks).astype(int)
        idx = np.concatenate([np.arange(s, s + nper) for s in starts])
        part = activity.isel(time=idx)
    else:
        part = activity
    part = part.transpose("time", ...)
    x = np.asarray(part.values, dtype=np.float64).reshape(part.sizes["time"], -1)
    finite = np.isfinite(x).all(axis=0)
    good = finite & (np.std(np.where(finite, x, 0.0), axis=0) > 0)
    if not good.any():
        raise AnalysisError("no channel without NaN and with variance: cannot estimate a spectrum")
    f, p = welch_linear(x[:, good], fs, nper)
    return f, p.mean(axis=1)


def welch_linear(x: np.ndarray, fs: float, nperseg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of the columns of ``x`` (time, channel): periodic Hann
    window, half-overlapping segments, each with its least-squares line removed, one-sided
    density (V**2/Hz). The same numbers as ``scipy.signal.welch(x, fs, nperseg=nperseg, axis=0,
    detrend="linear")`` (``tests/test_preprocess.py`` compares them), without importing
    ``scipy.signal`` (about 0.9 s, most of it ``scipy.stats``, on the activation-only route).

    Welch P. (1967) The use of fast Fourier transform for the estimation of power spectra.
    IEEE Trans. Audio Electroacoust. 15:70-73. doi:10.1109/TAU.1967.1161901
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    nper = int(min(nperseg, n))
    step = nper - nper // 2
    win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nper) / nper)
    tt = np.arange(nper, dtype=np.float64) - (nper - 1) / 2.0  # centred: slope and mean apart
    tss = float(tt @ tt)
    acc = np.zeros((nper // 2 + 1,) + x.shape[1:])
    starts = range(0, n - nper + 1, step)
    for a in starts:
        seg = x[a : a + nper]
        slope = np.tensordot(tt, seg, axes=(0, 0)) / tss if tss > 0 else 0.0
        seg = seg - seg.mean(axis=0) - np.multiply.outer(tt, slope)
        spec = np.fft.rfft(seg * win.reshape((-1,) + (1,) * (x.ndim - 1)), axis=0)
        acc += spec.real**2 + spec.imag**2
    acc /= len(starts) * fs * float(win @ win)
    if nper % 2 == 0:
        acc[1:-1] *= 2.0
    else:
        acc[1:] *= 2.0
    return np.fft.rfftfreq(nper, 1.0 / fs), acc


def choose_band(
    activity: xr.DataArray, *, fmin_hz: float | None = None, fmax_hz: float | None = None
) -> tuple[tuple[float, float], float, str]:
    """Pick the band of the dominant oscillation above the 1/f background.

    Returns
    -------
    band_hz : (float, float)
        One octave, ``(f0 / sqrt 2, f0 * sqrt 2)``.
    peak_hz : float
        ``f0``, the frequency of largest power above the fitted aperiodic line.
    reason : str
        One sentence for the report.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(5000)[:, None, None] / 500.0
    >>> rng = np.random.default_rng(0)
    >>> x = np.cos(2 * np.pi * 12 * t + np.zeros((1, 4, 4))) + rng.normal(size=(5000, 4, 4))
    >>> band, f0, _ = choose_band(grid_activity(x, fs_hz=500.0, dx_mm=1.0))
    >>> round(f0)
    12
    """
    fs = float(activity.attrs["fs_hz"])
    duration = activity.sizes["time"] / fs
    seg = min(duration, max(8.0, duration / 8)) if duration < 64 else 8.0
    f, p = mean_spectrum(activity, segment_s=seg)
    lo = fmin_hz if fmin_hz is not None else max(f[1] if f.size > 1 else 0, 2.0 / duration)
    hi = fmax_hz if fmax_hz is not None else 0.4 * fs
    if fmax_hz is None:  # ignore the deep tail (anti-alias filters, amplifier roll-off)
        inband = (f >= lo) & (f <= hi)
        if inband.any():
            floor = 1e-3 * p[inband].max()
            above = f[inband & (p >= floor)]
            hi = float(above.max()) if above.size else hi
    sel = (f >= lo) & (f <= hi) & (p > 0)
    if sel.sum() < 4:
        raise AnalysisError(f"recording too short ({duration:g} s) to choose a band: pass --band")
    lf, lp = np.log10(f[sel]), np.log10(p[sel])
    # robust line: least squares, then refit without the points far above it (the peaks)
    coef = np.polyfit(lf, lp, 1)
    for _ in range(3):
        res = lp - np.polyval(coef, lf)
        keep = res < np.median(res) + 1.0 * np.std(res)
        if keep.sum() >= 3:
            coef = np.polyfit(lf[keep], lp[keep], 1)
    excess = lp - np.polyval(coef, lf)
    i = int(np.argmax(excess))
    f0 = float(f[sel][i])
    band = (f0 / math.sqrt(2), min(f0 * math.sqrt(2), 0.45 * fs))
    reason = (
        f"spectral peak at {f0:.3g} Hz, {10 * excess[i]:.1f} dB above the 1/f background "
        f"(slope {coef[0]:.2f}); band one octave around it"
    )
    return (round(band[0], 6), round(band[1], 6)), f0, reason
