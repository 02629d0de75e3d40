r"""Null models and uncertainty: surrogates, thresholds at a quantile, bootstrap intervals.

Surrogates (:func:`surrogate`, :func:`iter_surrogates`) destroy the spatial coordination of
activity while keeping what a wave detector should not be fooled by:

``"shuffle"``
    Permute the channels (grid sites) among themselves, the same permutation at every time:
    each channel's time series is intact, its position is random. NaN sites stay in place.
``"phase"``
    Fourier phase randomisation of each channel independently: ``X_c(f) -> |X_c(f)| e^{i
    theta_c(f)}`` with ``theta_c(f)`` uniform on the circle, independent across channels and
    frequencies (Hermitian symmetry kept, so the result is real). Each channel keeps its power
    spectrum (and autocorrelation); cross-channel phase relations, hence waves, are destroyed.
``"shift"``
    Independent circular time shifts of each channel by at least ``min_shift_s``: keeps each
    channel's full time structure (spectrum and non-linear features) and breaks the alignment
    between channels.

Thresholds are quantiles of a measure computed on surrogates (:func:`quantile_threshold`), so
a detector fires on a fraction ``alpha`` of surrogate frames by construction. Circular
statistics (mean direction, resultant length, Rayleigh test) are those of
:mod:`wavekit.analysis.circstats`; :func:`circular_dispersion` adds the circular standard
deviation. Every random number comes from ``numpy.random.default_rng(seed)``.

References
----------
Theiler J., Eubank S., Longtin A., Galdrikian B., Farmer J. D. (1992) Testing for nonlinearity
in time series: the method of surrogate data. Physica D 58:77-94.
doi:10.1016/0167-2789(92)90102-S

Efron B., Tibshirani R. J. (1993) An Introduction to the Bootstrap. Chapman & Hall.
doi:10.1201/9780429246593

Kunsch H. R. (1989) The jackknife and the bootstrap for general stationary observations. Ann.
Stat. 17:1217-1241. doi:10.1214/aos/1176347265

Politis D. N., White H. (2004) Automatic block-length selection for the dependent bootstrap.
Econometric Rev. 23:53-70. doi:10.1081/ETC-120028836

Patton A., Politis D. N., White H. (2009) Correction to "Automatic block-length selection for
the dependent bootstrap". Econometric Rev. 28:372-375. doi:10.1080/07474930802459016

Fisher N. I. (1993) Statistical Analysis of Circular Data. Cambridge University Press.
doi:10.1017/CBO9780511564345
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import xarray as xr

from ..errors import UsageError
from .circstats import circ_mean, rayleigh_test, resultant_length

__all__ = [
    "SURROGATE_METHODS",
    "block_length",
    "bootstrap_ci",
    "circular_dispersion",
    "circular_summary",
    "iter_surrogates",
    "quantile_threshold",
    "surrogate",
]

SURROGATE_METHODS = ("shuffle", "phase", "shift")


def _space_axes(da: xr.DataArray) -> tuple[str, ...]:
    return ("y", "x") if ("y" in da.dims and "x" in da.dims) else ("channel",)


def _as_time_channels(da: xr.DataArray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Values as (lead..., time, channels) with the space dims stacked."""
    sp = _space_axes(da)
    if "time" not in da.dims:
        raise UsageError(f"surrogates need a time dim, got {da.dims}")
    lead = [d for d in da.dims if d not in ("time", *sp)]
    order = (*lead, "time", *sp)
    a = np.asarray(da.transpose(*order).values)
    return a.reshape(a.shape[: len(lead) + 1] + (-1,)), order


def _phase_randomize(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """a: (..., T, C) real; independent random Fourier phases per channel."""
    nt = a.shape[-2]
    fin = np.isfinite(a)
    # NaN samples: the channel mean stands in for the transform only; NaN is put back after
    cnt = fin.sum(axis=-2, keepdims=True)
    tot = np.where(fin, a, 0.0).sum(axis=-2, keepdims=True)
    mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)
    filled = np.where(fin, a, mean)
    spec = np.fft.rfft(filled - mean, axis=-2)
    theta = rng.uniform(-np.pi, np.pi, spec.shape)
    theta[..., 0, :] = 0.0
    if nt % 2 == 0:
        theta[..., -1, :] = 0.0  # Nyquist bin stays real
    out = np.fft.irfft(spec * np.exp(1j * theta), n=nt, axis=-2)
    out = out + mean
    return np.where(fin, out, np.nan)


def _shift(a: np.ndarray, rng: np.random.Generator, min_shift: int) -> np.ndarray:
    nt, nc = a.shape[-2], a.shape[-1]
    lo = min(max(min_shift, 0), nt // 2)
    shifts = rng.integers(lo, nt - lo + 1, size=nc) if nt - lo >= lo else np.zeros(nc, int)
    idx = (np.arange(nt)[:, None] - shifts[None, :]) % nt
    return np.take_along_axis(a, np.broadcast_to(idx, a.shape), axis=-2)


def _shuffle(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    present = np.flatnonzero(~np.all(np.isnan(a), axis=tuple(range(a.ndim - 1))))
    perm = np.arange(a.shape[-1])
    perm[present] = rng.permutation(present)
    return a[..., perm]


def surrogate(
    activity: xr.DataArray,
    *,
    method: str = "phase",
    seed: int | np.random.Generator | None = None,
    min_shift_s: float = 0.0,
) -> xr.DataArray:
    r"""One surrogate of real activity, same dims, coordinates and attrs.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity ``(..., time, y, x)`` or ``(..., time, channel)``.
    method : {"phase", "shuffle", "shift"}
        See the module docstring.
    seed : int or numpy.random.Generator, optional
        Seed for ``numpy.random.default_rng``.
    min_shift_s : float
        Smallest circular shift for ``"shift"`` (default 0; use at least the autocorrelation
        time of the activity).

    Returns
    -------
    xarray.DataArray
        The surrogate, with attrs ``surrogate_method``.

    Notes
    -----
    Phase randomisation, per channel ``c``:

    .. math:: \tilde x_c = \mathcal{F}^{-1}\left[ |\mathcal{F} x_c(f)|\, e^{i\theta_c(f)} \right],
              \qquad \theta_c(f) \sim U(-\pi, \pi)

    (zero and Nyquist frequencies keep phase 0). All-NaN channels stay NaN; NaN samples inside
    a channel are replaced by the channel mean for the transform only and are NaN again in the
    surrogate. The arrays are loaded into memory (one recording at a time).

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> a = grid_activity(np.random.default_rng(0).normal(size=(64, 3, 3)), fs_hz=100., dx_mm=1.)
    >>> s = surrogate(a, method="phase", seed=1)
    >>> p0 = np.abs(np.fft.rfft(a.values[:, 1, 1])) ** 2
    >>> p1 = np.abs(np.fft.rfft(s.values[:, 1, 1])) ** 2
    >>> bool(np.allclose(p0[1:], p1[1:]))
    True
    """
    if method not in SURROGATE_METHODS:
        raise UsageError(f"unknown surrogate method {method!r}; choose from {SURROGATE_METHODS}")
    if np.iscomplexobj(activity.dtype.type(0)):
        raise UsageError("surrogates are made from real activity, not from the complex signal")
    rng = np.random.default_rng(seed)
    a, order = _as_time_channels(activity)
    a = a.astype(np.float64)
    if method == "phase":
        out = _phase_randomize(a, rng)
    elif method == "shift":
        fs = float(activity.attrs.get("fs_hz", 1.0))
        out = _shift(a, rng, int(round(min_shift_s * fs)))
    else:
        out = _shuffle(a, rng)
    shaped = activity.transpose(*order)
    res = shaped.copy(data=out.reshape(shaped.shape).astype(activity.dtype, copy=False))
    res.attrs["surrogate_method"] = method
    return res.transpose(*activity.dims)


def iter_surrogates(
    activity: xr.DataArray,
    *,
    n: int,
    method: str = "phase",
    seed: int | None = None,
    min_shift_s: float = 0.0,
) -> Iterator[xr.DataArray]:
    """Yield ``n`` independent surrogates (one in memory at a time), reproducible from ``seed``.

    The i-th surrogate uses the i-th child of ``numpy.random.SeedSequence(seed)``, so the same
    seed gives the same surrogates whatever ``n`` is.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> a = grid_activity(np.random.default_rng(0).normal(size=(32, 2, 2)), fs_hz=100., dx_mm=1.)
    >>> [s.shape for s in iter_surrogates(a, n=2, method="shift", seed=3)]
    [(32, 2, 2), (32, 2, 2)]
    """
    children = np.random.SeedSequence(seed).spawn(n)
    for child in children:
        yield surrogate(
            activity, method=method, seed=np.random.default_rng(child), min_shift_s=min_shift_s
        )


def quantile_threshold(null, *, alpha: float = 0.05) -> float:
    r"""Threshold exceeded by a fraction ``alpha`` of the null values: their ``1 - alpha`` quantile.

    Parameters
    ----------
    null : array_like or xarray.DataArray
        Values of a measure on surrogates (any shape; NaN ignored).
    alpha : float
        Nominal false-positive rate per value, in (0, 1).

    Returns
    -------
    float

    Notes
    -----
    The quantile is the ``ceil((1 - alpha)(n + 1))``-th smallest of the ``n`` null values (the
    conservative rank rule of permutation tests), so a new value drawn from the null exceeds it
    with probability at most ``alpha``; with fewer than ``1/alpha - 1`` values it is the maximum.

    Examples
    --------
    >>> quantile_threshold(np.arange(1, 101), alpha=0.05)
    96.0
    """
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must be in (0, 1), got {alpha}")
    v = np.asarray(getattr(null, "values", null), dtype=np.float64).ravel()
    v = np.sort(v[np.isfinite(v)])
    if v.size == 0:
        raise UsageError("no finite null values to set a threshold from")
    r = int(np.ceil((1 - alpha) * (v.size + 1)))
    return float(v[min(max(r, 1), v.size) - 1])


def block_length(values) -> int:
    r"""Block length for the block bootstrap of a serially correlated series (Politis & White 2004).

    Parameters
    ----------
    values : array_like
        1-D series; NaN excluded.

    Returns
    -------
    int
        Between 1 (uncorrelated: the ordinary bootstrap) and ``n // 2``.

    Notes
    -----
    With ``R(k)`` the sample autocovariances and ``rho(k)`` the autocorrelations, ``m`` is the
    smallest lag after which ``K_n = max(5, ceil(sqrt(log10 n)))`` consecutive ``|rho|`` stay
    below ``2 sqrt(log10(n) / n)``; with ``M = 2 m`` and the flat-top window
    ``lambda(t) = min(1, 2 (1 - |t|))^+``,

    .. math:: G = \sum_{|k| \le M} \lambda(k/M) |k| R(k), \quad
              g = \sum_{|k| \le M} \lambda(k/M) R(k), \quad
              b = \left(\frac{2 G^2}{(4/3) g^2}\right)^{1/3} n^{1/3}

    (the circular-block constant as corrected by Patton, Politis & White 2009,
    doi:10.1080/07474930802459016).

    Examples
    --------
    >>> from scipy.signal import lfilter
    >>> ar1 = lfilter([1.0], [1.0, -0.9], np.random.default_rng(0).normal(size=400))
    >>> block_length(ar1) > 5, block_length(np.tile([1.0, -1.0], 50))
    (True, 1)
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    n = v.size
    if n < 8:
        return 1
    d = v - v.mean()
    acov = np.correlate(d, d, "full")[n - 1 :] / n
    if acov[0] <= 0:
        return 1
    rho = acov / acov[0]
    kn = max(5, int(np.ceil(np.sqrt(np.log10(n)))))
    crit = 2.0 * np.sqrt(np.log10(n) / n)
    m_max = max(min(int(np.ceil(np.sqrt(n))) + kn, n - kn - 1), 1)
    m_hat = m_max
    for m in range(m_max):
        if np.all(np.abs(rho[m + 1 : m + 1 + kn]) < crit):
            m_hat = m
            break
    if m_hat == 0:
        return 1
    big_m = min(2 * m_hat, n - 1)
    k = np.arange(-big_m, big_m + 1)
    lam = np.clip(2.0 * (1.0 - np.abs(k) / big_m), 0.0, 1.0)
    r = acov[np.abs(k)]
    g_cap = np.sum(lam * np.abs(k) * r)
    g0 = np.sum(lam * r)
    if g0 <= 0:
        return 1
    b = (2.0 * g_cap**2 / ((4.0 / 3.0) * g0**2)) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return int(min(max(np.ceil(b), 1), max(n // 2, 1)))


def bootstrap_ci(
    values,
    *,
    statistic: Callable[[np.ndarray], float] | str = "median",
    confidence: float = 0.95,
    n_boot: int = 2000,
    block: int | str | None = "auto",
    interval: str = "t",
    seed: int | np.random.Generator | None = None,
) -> tuple[float, float, float]:
    r"""Statistic of a sample with a percentile bootstrap interval.

    Parameters
    ----------
    values : array_like
        1-D sample (for example the per-frame speeds of one event); NaN excluded.
    statistic : callable or {"median", "mean"}
        Statistic of a 1-D array.
    confidence : float
        Coverage of the interval.
    n_boot : int
        Bootstrap resamples.
    block : int, "auto" or None
        Moving-block length for serially correlated samples (Kunsch 1989): ``"auto"`` is twice
        :func:`block_length` (at most half the sample; see Notes); ``None`` or 1 is the ordinary
        (i.i.d.) bootstrap.
    interval : {"t", "percentile"}
        ``"t"`` (default): ``estimate +- t_{(1+c)/2, B-1} * SE_boot`` with ``SE_boot`` the
        standard deviation of the bootstrap statistics and ``B = n / b`` the number of blocks;
        ``"percentile"``: the ``(1-c)/2`` and ``(1+c)/2`` quantiles of the bootstrap statistics.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (estimate, low, high) : tuple of float
        NaN when no finite value; ``low == high == estimate`` with one value.

    Notes
    -----
    Resample ``ceil(n / b)`` blocks of ``b`` consecutive values (start uniform over the
    ``n - b + 1`` possible starts; Kunsch 1989), truncate to ``n``, take the statistic. Frame-wise
    estimates within a wave are strongly correlated (band-pass filtering), so i.i.d. resampling
    gives intervals that are far too narrow, and even with blocks an event holds only a few
    independent blocks: percentile intervals then under-cover (about 80 % for a nominal 95 %
    on 1-s simulated events, ``tests/test_stats.py``). The default ``"t"`` interval widens the
    bootstrap standard error by the Student quantile with ``B - 1`` degrees of freedom, the
    small-sample correction for ``B`` independent blocks (Efron & Tibshirani 1993, ch. 12-13),
    which restored 90-98 % coverage in those simulations. Politis & White's length minimises the
    error of the bootstrap *variance*; for a confidence interval from a handful of blocks it is
    too short (the variance of a dependent median is underestimated when blocks are shorter than
    the correlation time), so ``"auto"`` doubles it: nominal 95 % intervals of the median speed
    of simulated plane-wave events then cover 94-97 % (0.5-2 s events, 0-15 dB;
    ``wavekit validate``), where the plain length gave 89-93 %.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(10.0, 1.0, 200)
    >>> est, lo, hi = bootstrap_ci(x, seed=1)
    >>> bool(lo < 10.0 < hi), round(est, 1)
    (True, 10.0)
    """
    stat = {"median": np.median, "mean": np.mean}.get(statistic, statistic)
    if not callable(stat):
        raise UsageError(f"unknown statistic {statistic!r}")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    est = float(stat(v))
    if n == 1:
        return est, est, est
    b = min(2 * block_length(v), max(n // 2, 1)) if block == "auto" else int(block or 1)
    b = min(max(b, 1), n)
    rng = np.random.default_rng(seed)
    nb = -(-n // b)
    # resamples in batches of about 2e6 values, so memory does not grow with n_boot * n (a
    # long event has ~1e5 frames); rows are drawn in order, so batching changes no value
    per = max(1, int(2_000_000 // (nb * b)))
    boots = np.empty(n_boot)
    for i0 in range(0, n_boot, per):
        rows = min(per, n_boot - i0)
        starts = rng.integers(0, n - b + 1, size=(rows, nb))
        idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(rows, -1)[:, :n]
        samples = v[idx]
        if stat is np.median:
            boots[i0 : i0 + rows] = np.median(samples, axis=1)
        elif stat is np.mean:
            boots[i0 : i0 + rows] = samples.mean(axis=1)
        else:
            boots[i0 : i0 + rows] = [stat(s) for s in samples]
    q = (1 - confidence) / 2
    if interval == "percentile":
        lo, hi = np.quantile(boots, [q, 1 - q])
    elif interval == "t":
        from scipy.special import stdtrit  # Student-t quantile, without importing scipy.stats

        half = float(stdtrit(max(n // b - 1, 1), 1 - q)) * float(np.std(boots, ddof=1))
        lo, hi = est - half, est + half
    else:
        raise UsageError(f"interval must be 't' or 'percentile', got {interval!r}")
    return est, float(lo), float(hi)


def circular_dispersion(angles, *, axis=-1):
    r"""Circular standard deviation ``sqrt(-2 ln R)`` in radians (Fisher 1993, eq. 2.12).

    Examples
    --------
    >>> float(circular_dispersion(np.zeros(4)))
    0.0
    """
    r = resultant_length(angles, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.abs(-2.0 * np.log(np.clip(r, 0.0, 1.0))))


def circular_summary(angles_deg) -> dict[str, float]:
    """Mean direction (deg, (-180, 180]), resultant length, circular SD (deg), Rayleigh z and p.

    NaN angles are excluded.

    Examples
    --------
    >>> s = circular_summary([170.0, -170.0])
    >>> s["mean_deg"], round(s["resultant_length"], 3)
    (180.0, 0.985)
    """
    a = np.radians(np.asarray(angles_deg, dtype=np.float64).ravel())
    a = a[np.isfinite(a)]
    if a.size == 0:
        nan = float("nan")
        return dict(
            mean_deg=nan,
            resultant_length=nan,
            circular_sd_deg=nan,
            rayleigh_z=nan,
            rayleigh_p=nan,
            n=0,
        )
    m = float(np.degrees(circ_mean(a)))
    m = 180.0 if m <= -180.0 + 1e-12 else m
    z, p = rayleigh_test(a)
    return dict(
        mean_deg=m,
        resultant_length=float(resultant_length(a)),
        circular_sd_deg=float(np.degrees(circular_dispersion(a))),
        rayleigh_z=float(z),
        rayleigh_p=float(p),
        n=int(a.size),
    )
