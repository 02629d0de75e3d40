r"""Additive noise for simulations, scaled to a signal-to-noise ratio in dB.

Noise models (``noise=``):

``"white"``
    Independent standard normal samples for every channel and time step.
``"pink"``
    1/f noise in time: for each channel, white Gaussian noise whose Fourier amplitudes are
    multiplied by ``f^{-1/2}`` (power spectral density proportional to ``1/f``, the DC bin set
    to 0); independent between channels.
``"spatial"``
    White in time, spatially correlated: a white field smoothed by a Gaussian kernel of standard
    deviation ``corr_mm``, ``n_i = sum_j exp(-|r_i - r_j|^2 / (2 corr^2)) w_j`` (on grids through
    ``scipy.ndimage.gaussian_filter``, the same sum on the lattice). The correlation between two
    channels then falls off as ``exp(-d^2 / (4 corr^2))``.
``"pink+spatial"``
    Pink in time, then smoothed in space.

Signal-to-noise ratio. Over the whole recording (all time steps and all channels whose samples are
finite),

.. math::

    \mathrm{SNR_{dB}} = 10 \log_{10} \frac{P_s}{P_n}, \qquad
    P_s = \langle s^2 \rangle, \quad P_n = \langle n^2 \rangle,

the mean squares of the noise-free signal and of the noise. The generated noise is rescaled so
that this holds exactly for the realisation (not only in expectation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "NOISE_KINDS",
    "white_noise",
    "pink_noise",
    "spatially_correlated_noise",
    "make_noise",
    "scale_to_snr",
    "snr_db",
    "add_noise",
]

NOISE_KINDS = ("white", "pink", "spatial", "pink+spatial")


def white_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Independent standard normal samples.

    Examples
    --------
    >>> white_noise((3, 2), np.random.default_rng(0)).shape
    (3, 2)
    """
    return rng.standard_normal(shape)


def pink_noise(shape: tuple[int, ...], rng: np.random.Generator, *, axis: int = 0) -> np.ndarray:
    r"""Gaussian noise with power spectral density ``S(f) ~ 1/f`` along ``axis`` (unit variance).

    White noise is transformed with a real FFT along ``axis``, each bin ``f > 0`` is multiplied by
    ``f^{-1/2}``, the DC bin is zeroed, and the result is transformed back and scaled to unit
    variance.

    Examples
    --------
    >>> n = pink_noise((4096, 2), np.random.default_rng(0))
    >>> p = np.abs(np.fft.rfft(n[:, 0])) ** 2
    >>> bool(p[1:50].mean() > 10 * p[1000:1050].mean())
    True
    """
    w = rng.standard_normal(shape)
    n = shape[axis]
    spec = np.fft.rfft(w, axis=axis)
    f = np.arange(spec.shape[axis], dtype=np.float64)
    gain = np.zeros_like(f)
    gain[1:] = 1.0 / np.sqrt(f[1:])
    bshape = [1] * len(shape)
    bshape[axis] = f.size
    out = np.fft.irfft(spec * gain.reshape(bshape), n=n, axis=axis)
    sd = out.std()
    return out / sd if sd > 0 else out


def spatially_correlated_noise(
    base: np.ndarray,
    *,
    corr_mm: float,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    grid: bool,
) -> np.ndarray:
    r"""Smooth noise ``base`` in space with a Gaussian kernel of s.d. ``corr_mm``.

    Parameters
    ----------
    base : numpy.ndarray
        ``(time, y, x)`` for grids (with ``x_mm``, ``y_mm`` the 1-D axes) or ``(time, channel)``
        (with ``x_mm``, ``y_mm`` per channel).
    corr_mm : float
        Standard deviation of the Gaussian smoothing kernel in mm.
    grid : bool
        Whether ``base`` is on a grid.

    Returns
    -------
    numpy.ndarray
        ``n_i = sum_j exp(-|r_i - r_j|^2 / (2 corr_mm^2)) base_j`` (grids: ``gaussian_filter`` with
        reflecting edges), same shape as ``base``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = np.arange(8) * 0.4, np.arange(8) * 0.4
    >>> n = spatially_correlated_noise(rng.standard_normal((500, 8, 8)), corr_mm=0.8,
    ...                                x_mm=x, y_mm=y, grid=True)
    >>> bool(np.corrcoef(n[:, 3, 3], n[:, 3, 4])[0, 1] > 0.8)
    True
    """
    corr = float(corr_mm)
    if corr <= 0:
        return base
    if grid:
        from scipy.ndimage import gaussian_filter

        dx = float(np.median(np.diff(x_mm))) if len(x_mm) > 1 else corr
        dy = float(np.median(np.diff(y_mm))) if len(y_mm) > 1 else dx
        return gaussian_filter(base, sigma=(0.0, corr / abs(dy), corr / abs(dx)), mode="reflect")
    x = np.asarray(x_mm, float)
    y = np.asarray(y_mm, float)
    d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    kernel = np.exp(-d2 / (2.0 * corr**2))
    return base @ kernel.T


def make_noise(
    kind: str,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    *,
    x_mm: Any = None,
    y_mm: Any = None,
    grid: bool = True,
    corr_mm: float = 1.0,
) -> np.ndarray:
    """Unscaled noise of ``kind`` (one of :data:`NOISE_KINDS`), time along axis 0.

    Examples
    --------
    >>> make_noise("pink", (100, 5), np.random.default_rng(0), grid=False).shape
    (100, 5)
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {', '.join(NOISE_KINDS)}; got {kind!r}")
    parts = kind.split("+")
    base = pink_noise(shape, rng, axis=0) if "pink" in parts else white_noise(shape, rng)
    if "spatial" in parts:
        base = spatially_correlated_noise(
            base, corr_mm=corr_mm, x_mm=np.asarray(x_mm), y_mm=np.asarray(y_mm), grid=grid
        )
    return base


def snr_db(signal: Any, noise: Any) -> float:
    r"""``10 log10(<s^2> / <n^2>)`` over all finite samples (see the module docstring).

    Examples
    --------
    >>> round(snr_db(np.ones(10), 0.1 * np.ones(10)), 6)
    20.0
    """
    s = np.asarray(signal, float)
    n = np.asarray(noise, float)
    ok = np.isfinite(s) & np.isfinite(n)
    return float(10.0 * np.log10(np.mean(s[ok] ** 2) / np.mean(n[ok] ** 2)))


def scale_to_snr(signal: Any, noise: np.ndarray, snr_db_target: float) -> np.ndarray:
    r"""Rescale ``noise`` so that ``snr_db(signal, noise) == snr_db_target`` exactly.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = np.sin(np.linspace(0, 20, 1000))
    >>> round(snr_db(s, scale_to_snr(s, rng.standard_normal(1000), 3.0)), 9)
    3.0
    """
    s = np.asarray(signal, float)
    ok = np.isfinite(s) & np.isfinite(noise)
    ps = np.mean(s[ok] ** 2)
    pn = np.mean(noise[ok] ** 2)
    if pn == 0 or ps == 0:
        return np.zeros_like(noise)
    return noise * np.sqrt(ps / (pn * 10.0 ** (float(snr_db_target) / 10.0)))


def add_noise(
    signal: np.ndarray,
    snr_db_target: float,
    *,
    kind: str = "white",
    rng: np.random.Generator,
    x_mm: Any = None,
    y_mm: Any = None,
    grid: bool = True,
    corr_mm: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Add noise of ``kind`` at ``snr_db_target`` dB; return ``(noisy, noise)``.

    Examples
    --------
    >>> s = np.cos(np.linspace(0, 40, 2000))[:, None] * np.ones((1, 4))
    >>> noisy, n = add_noise(s, 10.0, rng=np.random.default_rng(1), grid=False)
    >>> round(snr_db(s, n), 6)
    10.0
    """
    noise = make_noise(kind, signal.shape, rng, x_mm=x_mm, y_mm=y_mm, grid=grid, corr_mm=corr_mm)
    noise = scale_to_snr(signal, noise, snr_db_target)
    return signal + noise, noise
