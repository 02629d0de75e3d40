r"""Space-time spectra of activity on grids: the tapered k-omega power spectrum, the dominant wave
vector, the power travelling forward and backward along an axis, and complex SVD modes.

Sign convention (why the wave vector of a peak is the direction of TRAVEL)
-------------------------------------------------------------------------
NumPy's forward DFT is ``X[m] = sum_n x[n] exp(-2 pi i m n / N)``. A plane wave

.. math:: \cos(\omega t - k\cdot r) = \tfrac12 e^{i(\omega t - k\cdot r)}
          + \tfrac12 e^{-i(\omega t - k\cdot r)}

therefore puts its power at the DFT frequencies ``(f, nu_y, nu_x) = (+w / 2 pi, -k / 2 pi)`` and
``(-w / 2 pi, +k / 2 pi)``: at a positive temporal frequency the *spatial* DFT frequency is
``-k / 2 pi``. wavekit labels its spectra by the wave vector ``k = -2 pi nu`` and keeps only
``f >= 0`` (the half with ``f < 0`` is the mirror image ``P(-f, -k) = P(f, k)`` of a real
signal). So the power at ``(f > 0, kx, ky)`` belongs to a wave travelling *toward* ``(kx, ky)``:
the peak's wave vector is the direction of travel, in degrees CCW from +x toward +y, and the phase
speed is ``2 pi f / |k|`` (SPEC.md conventions).

NaN sites (channels with a NaN at any sample of the record) are excluded from every sum: they get
zero weight in the spatial taper, and powers are normalised by the taper energy of the valid
sites only. Their samples are never replaced by zeros and then counted.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from ..model import layout, to_grid

__all__ = [
    "complex_svd_modes",
    "directional_power",
    "dominant_wave_vector",
    "kw_spectrum",
]


# ----------------------------------------------------------------------------- helpers


def _grid(activity: xr.DataArray) -> xr.DataArray:
    if not isinstance(activity, xr.DataArray):
        raise UsageError(f"expected an xarray.DataArray, got {type(activity).__name__}")
    if layout(activity) != "grid":
        activity = to_grid(activity)  # raises InputError when the positions are not a lattice
    if "fs_hz" not in activity.attrs:
        raise UsageError("activity has no sampling rate (attribute fs_hz)")
    return activity.transpose(..., "time", "y", "x")


def _step(c: np.ndarray, name: str) -> float:
    c = np.asarray(c, dtype=np.float64)
    if c.size < 2:
        return 1.0  # a single row/column: the axis carries no spatial frequency
    d = np.diff(c)
    step = float(np.median(d))
    if step == 0 or not np.allclose(d, step, rtol=1e-3, atol=0):
        raise UsageError(f"spectra need a uniform {name} spacing; resample the grid first")
    return step


def _taper(n: int, kind: str) -> np.ndarray:
    if n < 3 or kind == "none":
        return np.ones(n)
    if kind == "hann":  # no zero end points: every valid site keeps some weight
        return np.hanning(n + 2)[1:-1]
    if kind == "hamming":
        return np.hamming(n)
    raise UsageError(f"taper must be 'hann', 'hamming' or 'none', got {kind!r}")


def _xp(a):
    """Array module of ``a`` (dask.array for dask arrays, else NumPy)."""
    if hasattr(a, "dask"):
        import dask.array as dsa

        return dsa
    return np


def _prepare(activity: xr.DataArray, taper: str):
    """Mean-removed data ``(L, T, Y, X)`` (NaN sites excluded: weight 0), time and space tapers."""
    a = _grid(activity)
    data = a.data
    if np.iscomplexobj(data):  # a complex analytic signal: its real part is the activity
        data = data.real
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    lead = data.shape[:-3]
    nt, ny, nx = data.shape[-3:]
    data = data.reshape((-1, nt, ny, nx))
    xp = _xp(data)
    finite = xp.isfinite(data).all(axis=(0, 1))
    if xp is not np:
        finite = np.asarray(finite.compute())
    valid = np.asarray(finite, dtype=bool)
    if valid.sum() < 2:
        raise UsageError("fewer than 2 channels without NaN: no spatial spectrum")
    st = np.outer(_taper(ny, taper), _taper(nx, taper)) * valid
    tt = _taper(nt, taper)
    clean = xp.where(valid[None, None], data, 0.0)
    clean = clean - clean.mean(axis=1, keepdims=True)
    return a, clean, tt, st, lead


# ----------------------------------------------------------------------------- k-omega spectrum


def kw_spectrum(
    activity: xr.DataArray,
    *,
    taper: str = "hann",
    pad_factor: int = 1,
    max_frequency_hz: float | None = None,
) -> xr.DataArray:
    r"""Tapered space-time (k-omega) power spectrum of grid activity.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity with dims ``(..., time, y, x)`` (irregular activity on a lattice is viewed
        as a grid; a complex analytic signal contributes its real part), uniform spacing,
        attribute ``fs_hz``. A grid with one row (or column) gives
        the 2-D ``(f, k)`` spectrum of a linear array. Leading dims (``trial``) are summed.
        NumPy or dask.
    taper : {"hann", "hamming", "none"}
        Separable taper applied along time, y and x.
    pad_factor : int
        Zero-padding of every axis (finer sampling of the same spectrum, no new resolution).
    max_frequency_hz : float, optional
        Keep frequencies up to this value only (smaller output).

    Returns
    -------
    xarray.DataArray
        Named ``kw_power``, dims ``("frequency_hz", "ky_rad_per_mm", "kx_rad_per_mm")``,
        ``frequency_hz >= 0`` and ``k`` ascending; power per bin in (units)^2.

    Notes
    -----
    With taper ``w(t, r) = h_t(t) h_y(y) h_x(x) v(r)`` (``v`` = 1 on valid sites, 0 on NaN
    sites), per-site mean removed, and the DFT over ``(t, y, x)`` of ``N`` points,

    .. math:: P(f, k) = \frac{c_f\,|X(f, \nu = -k/2\pi)|^2}{N \sum_{t,r} w^2},
              \quad c_f = 2 \text{ for } 0 < f < f_s/2, \text{ else } 1,

    so that ``sum P`` is the taper-weighted mean square of the activity (Parseval). Power at
    ``(f > 0, k)`` is a wave travelling toward ``k`` (module docstring for the derivation).

    References
    ----------
    Harris F. J. (1978) On the use of windows for harmonic analysis with the discrete Fourier
    transform. Proc. IEEE 66:51-83. doi:10.1109/PROC.1978.10837

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(256)[:, None, None] / 256.0
    >>> yy, xx = np.mgrid[0:16, 0:16] * 0.5
    >>> a = grid_activity(np.cos(2 * np.pi * (8 * t - xx / 4.0)), fs_hz=256.0, dx_mm=0.5)
    >>> p = kw_spectrum(a)
    >>> pk = p.where(p == p.max(), drop=True)
    >>> float(pk.frequency_hz[0]), round(float(pk.kx_rad_per_mm[0]), 3), float(pk.ky_rad_per_mm[0])
    (8.0, 1.571, 0.0)
    """
    a, xw, tt, st, _ = _prepare(activity, taper)
    xw = xw * (tt[None, :, None, None] * st[None, None])
    nt, ny, nx = xw.shape[-3:]
    p = max(1, int(pad_factor))
    shape = (nt * p, ny * p, nx * p)
    xp = _xp(xw)
    f = np.fft.rfftfreq(shape[0], 1.0 / float(a.attrs["fs_hz"]))
    nf = f.size if max_frequency_hz is None else int(np.sum(f <= float(max_frequency_hz)))
    # time FFT with space in chunks, then (frequencies in chunks) the spatial FFT: dask input
    # is transformed block by block, never as one array
    if xp is not np:
        xw = xw.rechunk({1: -1})
    spec = xp.fft.rfft(xw, n=shape[0], axis=1)[:, :nf]
    if xp is not np:
        spec = spec.rechunk({2: -1, 3: -1})
    spec = xp.fft.fft2(spec, s=shape[1:], axes=(2, 3))
    power = (abs(spec) ** 2).sum(axis=0)
    if xp is not np:
        power = power.compute()
    power = np.asarray(power)
    f = f[:nf]
    norm = float(np.prod(shape)) * float(np.sum(tt**2) * np.sum(st**2)) * xw.shape[0]
    power = power / norm
    double = (f > 0) & ~((shape[0] % 2 == 0) & (np.arange(f.size) == shape[0] // 2))
    power[double] *= 2.0
    dy = _step(a["y"].values, "y")
    dx = _step(a["x"].values, "x")
    # k = -2 pi nu: shift, then reverse each spatial axis so k ascends
    ky = -2 * np.pi * np.fft.fftshift(np.fft.fftfreq(shape[1], dy))[::-1]
    kx = -2 * np.pi * np.fft.fftshift(np.fft.fftfreq(shape[2], dx))[::-1]
    power = np.fft.fftshift(power, axes=(1, 2))[:, ::-1, ::-1]
    out = xr.DataArray(
        power,
        dims=("frequency_hz", "ky_rad_per_mm", "kx_rad_per_mm"),
        coords={
            "frequency_hz": ("frequency_hz", f, {"units": "Hz"}),
            "ky_rad_per_mm": ("ky_rad_per_mm", ky + 0.0, {"units": "rad/mm"}),
            "kx_rad_per_mm": ("kx_rad_per_mm", kx + 0.0, {"units": "rad/mm"}),
        },
        name="kw_power",
        attrs={
            "units": f"({activity.attrs.get('units', '')})^2",
            "taper": taper,
            "pad_factor": p,
            "convention": "power at (f > 0, k) travels toward k (k = -2 pi nu of numpy's DFT)",
        },
    )
    return out


# ----------------------------------------------------------------------------- dominant k


def _parabolic(y0: float, y1: float, y2: float) -> float:
    den = y0 - 2 * y1 + y2
    return 0.0 if den >= 0 else float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5))


def dominant_wave_vector(
    activity: xr.DataArray,
    *,
    band_hz: tuple[float, float] | None = None,
    taper: str = "hann",
) -> xr.Dataset:
    r"""Wave vector, frequency, direction of travel and speed of the strongest plane wave.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity ``(..., time, y, x)`` on a uniform grid (irregular activity on a lattice is
        viewed as a grid), attribute ``fs_hz``; NumPy or dask (two passes over the data).
    band_hz : (float, float), optional
        Search the temporal peak in this band (default: everything above the lowest non-zero
        DFT frequency).
    taper : {"hann", "hamming", "none"}
        Separable taper in time and space.

    Returns
    -------
    xarray.Dataset
        Scalars ``frequency_hz``, ``kx_rad_per_mm``, ``ky_rad_per_mm``, ``direction_deg``
        (of travel), ``wavelength_mm``, ``speed_mm_per_s`` and ``spectral_planarity`` (in
        [0, 1], the fraction of the spatial power at the peak frequency that the plane wave
        explains: 1 for a pure plane wave of uniform amplitude).

    Notes
    -----
    The continuous (zero-padded to the limit) spectrum is maximised, so the estimate is not
    limited to the DFT bins. First the frequency: the site-summed tapered power
    ``S(f) = sum_r |Z_r(f)|^2``, ``Z_r(f) = sum_t h_t x_r(t) e^{-2 pi i f t}``, is computed on an
    8-fold zero-padded grid and its peak refined by a parabola in ``log S``. Then the wave
    vector maximises

    .. math:: D(k) = \Bigl|\sum_r s_r Z_r(f^*) e^{+i k\cdot r}\Bigr|^2

    (``s_r`` the spatial taper; ``Z_r \propto e^{-i k \cdot r}`` for a wave travelling toward
    ``k`` at ``f > 0``), from the peak of a 4-fold zero-padded 2-D DFT refined by Nelder-Mead.
    Direction ``= atan2(k_y, k_x)``, speed ``= 2 pi f^* / |k|``, wavelength ``= 2 pi / |k|``.
    ``spectral_planarity = D(k^*) / ((sum s_r)(sum s_r |Z_r|^2))`` (Cauchy-Schwarz bound).
    The wave must be spatially resolved: ``|k| < pi / dx``.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(1000)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:32, 0:32] * 0.4
    >>> k = 2 * np.pi / 5.0                                   # 5 mm, toward 120 deg
    >>> kx, ky = k * np.cos(np.radians(120)), k * np.sin(np.radians(120))
    >>> a = grid_activity(np.cos(2 * np.pi * 10 * t - kx * xx - ky * yy), fs_hz=500., dx_mm=0.4)
    >>> d = dominant_wave_vector(a)
    >>> round(float(d.direction_deg), 1), round(float(d.wavelength_mm), 2)
    (120.0, 5.0)
    >>> round(float(d.speed_mm_per_s), 1)
    50.0
    """
    from scipy.optimize import minimize

    a, xw, tt, st, _ = _prepare(activity, taper)
    fs = float(a.attrs["fs_hz"])
    nl, nt, ny, nx = xw.shape
    xp = _xp(xw)
    if xp is not np:
        xw = xw.rechunk({1: -1})
    nfft = 8 * nt
    spec = xp.fft.rfft(xw * tt[None, :, None, None], n=nfft, axis=1)
    s_f = (abs(spec) ** 2).sum(axis=(0, 2, 3))
    if xp is not np:
        s_f = s_f.compute()
    f = np.fft.rfftfreq(nfft, 1.0 / fs)
    lo, hi = (fs / nt, fs / 2) if band_hz is None else (float(band_hz[0]), float(band_hz[1]))
    sel = np.flatnonzero((f >= lo) & (f <= hi) & (f > 0))
    if sel.size == 0:
        raise UsageError(f"band {band_hz} Hz holds no DFT frequency of this record")
    i = int(sel[np.argmax(s_f[sel])])
    if 0 < i < f.size - 1 and np.all(s_f[i - 1 : i + 2] > 0):
        lg = np.log(s_f[i - 1 : i + 2])
        fstar = f[i] + _parabolic(*lg) * (f[1] - f[0])
    else:
        fstar = f[i]
    # Z_r(f*) in one pass (tensordot over time)
    t = np.arange(nt) / fs
    kern = tt * np.exp(-2j * np.pi * fstar * t)
    z = xp.tensordot(kern, xw, axes=([0], [1]))  # (L, Y, X): Z_r(f*), zero at NaN sites
    if xp is not np:
        z = z.compute()
    z = np.asarray(z)
    y = np.asarray(a["y"].values, dtype=np.float64)
    x = np.asarray(a["x"].values, dtype=np.float64)
    dy, dx = _step(y, "y"), _step(x, "x")
    sz = st[None] * z
    py, px = 4 * ny, 4 * nx
    coarse = (abs(np.fft.fft2(sz, s=(py, px))) ** 2).sum(axis=0)
    iy, ix = np.unravel_index(int(np.argmax(coarse)), coarse.shape)
    k0 = np.array(
        [
            -2 * np.pi * np.fft.fftfreq(px, dx)[ix] if nx > 1 else 0.0,
            -2 * np.pi * np.fft.fftfreq(py, dy)[iy] if ny > 1 else 0.0,
        ]
    )
    yy, xx = np.meshgrid(y - y.mean(), x - x.mean(), indexing="ij")
    scale = float(np.abs(sz).sum() ** 2) or 1.0

    def neg(kv: np.ndarray) -> float:
        e = np.exp(1j * (kv[0] * xx + kv[1] * yy))
        return -float((abs((sz * e).sum(axis=(1, 2))) ** 2).sum()) / scale

    step = 0.5 * np.pi / np.array([px * dx, py * dy])
    simplex = np.array([k0, k0 + [step[0], 0], k0 + [0, step[1]]])
    res = minimize(
        neg,
        k0,
        method="Nelder-Mead",
        options={"initial_simplex": simplex, "xatol": 1e-7, "fatol": 1e-12, "maxiter": 400},
    )
    kx, ky = (float(v) for v in (res.x if res.fun <= neg(k0) else k0))
    if nx == 1:
        kx = 0.0
    if ny == 1:
        ky = 0.0
    dmax = -neg(np.array([kx, ky])) * scale
    planarity = dmax / float(st.sum() * (st[None] * abs(z) ** 2).sum())
    kk = float(np.hypot(kx, ky))
    direction = float(np.degrees(np.arctan2(ky, kx)))
    if direction <= -180.0:
        direction = 180.0
    with np.errstate(divide="ignore"):
        out = xr.Dataset(
            {
                "frequency_hz": ((), float(fstar), {"units": "Hz"}),
                "kx_rad_per_mm": ((), kx, {"units": "rad/mm"}),
                "ky_rad_per_mm": ((), ky, {"units": "rad/mm"}),
                "direction_deg": ((), direction, {"units": "deg", "long_name": "of travel"}),
                "wavelength_mm": ((), 2 * np.pi / kk if kk > 0 else np.inf, {"units": "mm"}),
                "speed_mm_per_s": (
                    (),
                    2 * np.pi * fstar / kk if kk > 0 else np.inf,
                    {"units": "mm/s"},
                ),
                "spectral_planarity": ((), float(min(planarity, 1.0)), {"units": "1"}),
            }
        )
    out.attrs.update(method="peak of the tapered k-omega spectrum (continuous refinement)")
    return out


# ----------------------------------------------------------------------------- forward/backward


def _axis_vector(axis: str | float) -> tuple[np.ndarray, float]:
    if isinstance(axis, str):
        named = {"x": 0.0, "+x": 0.0, "-x": 180.0, "y": 90.0, "+y": 90.0, "-y": -90.0}
        if axis not in named:
            raise UsageError(f"axis must be 'x', 'y', '-x', '-y' or an angle in degrees: {axis!r}")
        deg = named[axis]
    else:
        deg = float(axis)
    th = np.radians(deg)
    return np.array([np.cos(th), np.sin(th)]), deg


def directional_power(
    activity_or_spectrum: xr.DataArray,
    *,
    axis: str | float = "x",
    band_hz: tuple[float, float] | None = None,
    taper: str = "hann",
) -> xr.Dataset:
    r"""Power travelling forward and backward along an axis, from the k-omega spectrum.

    Parameters
    ----------
    activity_or_spectrum : xarray.DataArray
        Grid activity (its :func:`kw_spectrum` is computed) or a ``kw_power`` spectrum.
    axis : {"x", "y", "-x", "-y"} or float
        Axis direction; a number is an angle in degrees CCW from +x toward +y.
    band_hz : (float, float), optional
        Sum only over these temporal frequencies (default all ``f > 0``).
    taper : str
        Taper of :func:`kw_spectrum` when activity is given.

    Returns
    -------
    xarray.Dataset
        Scalars ``forward_power``, ``backward_power``, ``forward_backward_ratio`` and
        ``forward_fraction`` = forward / (forward + backward).

    Notes
    -----
    With ``u`` the unit vector of the axis and ``P(f, k)`` the one-sided spectrum,

    .. math:: P_{fwd} = \sum_{f>0,\ k\cdot u > 0} P(f, k), \qquad
              P_{bwd} = \sum_{f>0,\ k\cdot u < 0} P(f, k).

    Power at ``k . u = 0`` (standing, or travelling across the axis) counts in neither. Because
    power at ``f > 0`` travels toward ``k``, ``P_fwd`` is the power of waves whose direction of
    travel has a positive component along ``u`` (the standard up/down-going decomposition of
    seismic f-k filtering).

    References
    ----------
    Embree P., Burg J. P., Backus M. M. (1963) Wide-band velocity filtering: the pie-slice
    process. Geophysics 28:948-974. doi:10.1190/1.1439310

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(500)[:, None, None] / 500.0
    >>> xx = np.mgrid[0:16, 0:16][1] * 0.4
    >>> a = grid_activity(np.cos(2 * np.pi * (10 * t - xx / 3.0)), fs_hz=500.0, dx_mm=0.4)
    >>> bool(directional_power(a, axis="x").forward_backward_ratio > 100)
    True
    """
    if activity_or_spectrum.name == "kw_power" and "kx_rad_per_mm" in activity_or_spectrum.dims:
        p = activity_or_spectrum
    else:
        p = kw_spectrum(activity_or_spectrum, taper=taper)
    u, deg = _axis_vector(axis)
    f = p["frequency_hz"]
    keep = f > 0
    if band_hz is not None:
        keep = keep & (f >= float(band_hz[0])) & (f <= float(band_hz[1]))
    proj = p["kx_rad_per_mm"] * u[0] + p["ky_rad_per_mm"] * u[1]
    tol = 1e-9 * float(abs(proj).max())
    pk = p.where(keep, 0.0)
    fwd = float(pk.where(proj > tol, 0.0).sum())
    bwd = float(pk.where(proj < -tol, 0.0).sum())
    tot = fwd + bwd
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = fwd / bwd if bwd > 0 else (np.inf if fwd > 0 else np.nan)
    return xr.Dataset(
        {
            "forward_power": ((), fwd),
            "backward_power": ((), bwd),
            "forward_backward_ratio": ((), float(ratio)),
            "forward_fraction": ((), fwd / tot if tot > 0 else np.nan),
        },
        attrs={"axis_deg": deg, "band_hz": list(band_hz) if band_hz else "all f > 0"},
    )


# ----------------------------------------------------------------------------- complex SVD


def _pooled_mode_k(v: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Wave vector ``k = -grad(arg v)`` of a complex spatial mode on a uniform grid, from the
    amplitude-weighted sum of neighbour products (NaN pairs excluded)."""
    kx = ky = np.nan
    if v.shape[1] > 1:
        p = v[:, 1:] * np.conj(v[:, :-1])
        kx = -np.angle(np.nansum(p)) / _step(x, "x")
    if v.shape[0] > 1:
        p = v[1:, :] * np.conj(v[:-1, :])
        ky = -np.angle(np.nansum(p)) / _step(y, "y")
    return (0.0 if np.isnan(kx) else kx), (0.0 if np.isnan(ky) else ky)


def complex_svd_modes(
    signal: xr.DataArray,
    *,
    n_modes: int = 3,
    band_hz: tuple[float, float] | None = None,
) -> xr.Dataset:
    r"""Complex principal components (complex EOF / complex SVD) of the analytic signal.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex analytic signal ``(time, y, x)`` (from :mod:`wavekit.analysis.phase`), or real
        activity, whose analytic signal is then computed (band-passed to ``band_hz`` if given).
        Irregular layouts ``(time, channel)`` are accepted too (modes along ``channel``; the
        mode wave vectors are then NaN). Sites with any NaN sample are excluded (NaN in the
        modes). A leading ``trial`` dim is concatenated along time. Dask-backed input is
        decomposed by a tall-and-skinny QR (``dask.array.linalg.svd``), time in chunks.
    n_modes : int
        Number of modes returned.
    band_hz : (float, float), optional
        Pass band for real input.

    Returns
    -------
    xarray.Dataset
        ``spatial_mode`` (mode, y, x) complex, unit norm; ``temporal_coefficient`` (mode,
        time) complex; ``explained_variance_ratio`` (mode); per mode ``frequency_hz`` (from the
        phase increments of the coefficient), ``kx_rad_per_mm``, ``ky_rad_per_mm``,
        ``direction_deg`` (of travel), ``wavelength_mm``, ``speed_mm_per_s`` (grids only).

    Notes
    -----
    With ``Z`` the ``T x S`` matrix of the (temporal-mean removed) analytic signal,

    .. math:: Z = U \Sigma V^H, \qquad Z(t, r) = \sum_m a_m(t)\, v_m(r), \quad
              a_m = \sigma_m u_m, \quad v_m = (V^H)_{m,\cdot},

    ``explained_variance_ratio = sigma_m^2 / sum sigma^2``. A travelling wave
    ``A e^{i(w t - k.r)}`` is one mode with ``v(r) \propto e^{-i k.r}`` and
    ``a(t) \propto e^{i w t}``: the mode's wave vector is ``k = -grad arg v`` (pooled
    neighbour products) and its direction of travel that of ``sign(w) k``. The arbitrary phase
    ``e^{i alpha}`` shared by ``a`` and ``v`` is fixed so that the largest element of ``v`` is
    real and positive. Complex (Hilbert) EOFs capture propagating patterns that real EOFs
    split into a quadrature pair (Horel 1984).

    References
    ----------
    Horel J. D. (1984) Complex principal component analysis: theory and examples. J. Clim. Appl.
    Meteorol. 23:1660-1673. doi:10.1175/1520-0450(1984)023<1660:CPCATA>2.0.CO;2

    Feeny B. F. (2008) A complex orthogonal decomposition for wave motion analysis. J. Sound Vib.
    310:77-90. doi:10.1016/j.jsv.2007.07.047

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(1000)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:12, 0:12] * 0.4
    >>> a = grid_activity(np.cos(2 * np.pi * 8 * t + (2 * np.pi / 4.0) * xx), fs_hz=500., dx_mm=.4)
    >>> m = complex_svd_modes(a, n_modes=2)
    >>> float(m.explained_variance_ratio[0]) > 0.99, float(m.direction_deg[0])
    (True, 180.0)
    """
    if not isinstance(signal, xr.DataArray):
        raise UsageError(f"expected an xarray.DataArray, got {type(signal).__name__}")
    if not np.iscomplexobj(signal.dtype.type(0)):
        from .phase import analytic_signal

        signal = analytic_signal(signal, band_hz=band_hz)
    grid = layout(signal) == "grid"
    space = ("y", "x") if grid else ("channel",)
    z = signal.transpose(..., "time", *space)
    fs = float(z.attrs.get("fs_hz", np.nan))
    data = z.data
    is_dask = hasattr(data, "dask")
    sshape = data.shape[-len(space) :]
    nt = data.shape[-len(space) - 1]
    mat = data.reshape(-1, nt, int(np.prod(sshape)))
    valid = np.isfinite(mat).all(axis=(0, 1))
    if is_dask:
        valid = valid.compute()
    valid = np.asarray(valid)
    if valid.sum() < 2:
        raise UsageError("fewer than 2 channels without NaN: no SVD modes")
    m = mat[:, :, valid]
    m = m - m.mean(axis=1, keepdims=True)
    m2 = m.reshape(-1, m.shape[-1])
    if is_dask:  # tall-and-skinny QR (time in chunks, channels in one chunk)
        import warnings

        import dask
        import dask.array as dsa

        with warnings.catch_warnings():  # dask's meta inference casts complex to real
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            u, s, vh = dsa.linalg.svd(m2.rechunk({1: -1}))
            nm = int(min(n_modes, s.shape[0]))
            u, s, vh = dask.compute(u[:, :nm], s, vh)
    else:
        u, s, vh = np.linalg.svd(m2, full_matrices=False)
    nm = int(min(n_modes, s.size))
    tot = float(np.sum(s**2))
    modes = np.full((nm, valid.size), np.nan + 0j)
    coefs = (u[:, :nm] * s[:nm]).T.reshape(nm, m.shape[0], nt)
    for j in range(nm):
        v = vh[j]
        big = int(np.argmax(abs(v)))
        ph = np.exp(-1j * np.angle(v[big]))
        modes[j, valid] = v * ph
        coefs[j] = coefs[j] / ph
    modes = modes.reshape((nm, *sshape))
    lead = tuple(data.shape[: -len(space) - 1])
    coef_dims = ("mode", *[d for d in z.dims[: len(lead)]], "time")
    coefs = coefs.reshape((nm, *lead, nt))
    ds = xr.Dataset(coords={d: z[d] for d in (*space, "time") if d in z.coords})
    for c in ("x", "y"):
        if c in z.coords and c not in ds.coords:
            ds = ds.assign_coords({c: z[c]})
    ds = ds.assign_coords(mode=np.arange(nm))
    ds["spatial_mode"] = (("mode", *space), modes)
    ds["temporal_coefficient"] = (coef_dims, coefs)
    ds["explained_variance_ratio"] = ("mode", s[:nm] ** 2 / tot if tot > 0 else np.full(nm, np.nan))
    # per-mode frequency, wave vector, direction of travel, speed
    freq = np.full(nm, np.nan)
    kxs = np.full(nm, np.nan)
    kys = np.full(nm, np.nan)
    for j in range(nm):
        a = coefs[j].reshape(-1, nt)
        prod = np.sum(a[:, 1:] * np.conj(a[:, :-1]))
        freq[j] = np.angle(prod) * fs / (2 * np.pi)
        if grid:
            kxs[j], kys[j] = _pooled_mode_k(modes[j], z["x"].values, z["y"].values)
    sgn = np.where(freq < 0, -1.0, 1.0)
    kk = np.hypot(kxs, kys)
    direction = np.degrees(np.arctan2(sgn * kys, sgn * kxs))
    direction = np.where(direction <= -180.0, 180.0, direction)
    with np.errstate(divide="ignore", invalid="ignore"):
        ds["frequency_hz"] = ("mode", freq, {"units": "Hz"})
        ds["kx_rad_per_mm"] = ("mode", kxs, {"units": "rad/mm"})
        ds["ky_rad_per_mm"] = ("mode", kys, {"units": "rad/mm"})
        ds["direction_deg"] = ("mode", direction, {"units": "deg", "long_name": "of travel"})
        ds["wavelength_mm"] = ("mode", 2 * np.pi / kk, {"units": "mm"})
        ds["speed_mm_per_s"] = ("mode", 2 * np.pi * np.abs(freq) / kk, {"units": "mm/s"})
    ds.attrs.update(method="complex SVD (complex EOF) of the analytic signal", fs_hz=fs)
    return ds
