"""Global plane-wave fit: circular-linear regression of phase on electrode position.

One fit per frame, or per window of frames, over every valid channel of the array
(Zhang, Watrous, Patel & Jacobs 2018). The numerics live in :mod:`wavekit.analysis._kernels_fit`;
this module prepares phasors, layouts and search grids, maps the kernel over (dask) blocks with
:func:`xarray.apply_ufunc` and labels the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import UsageError
from ..model import channel_positions, layout
from . import _kernels_fit as K
from .circstats import adjusted_r2, angle_deg, wrap_angle

__all__ = ["plane_wave_fit", "phasors", "pooled_frequency", "FitLayout", "fit_layout"]

_SEARCH = {"auto": K.MODE_AUTO, "full": K.MODE_FULL, "grid": K.MODE_GRID}

#: variables of the result, in the order of the ufunc's ``param`` axis
_FIELDS = (
    "kx_rad_per_mm",
    "ky_rad_per_mm",
    "direction_deg",
    "spatial_frequency_rad_per_mm",
    "wavelength_mm",
    "frequency_hz",
    "speed_mm_per_s",
    "offset_rad",
    "resultant_length",
    "rho_cl",
    "r2_adj",
    "p_value",
    "n_channels",
)

_UNITS = {
    "kx_rad_per_mm": "rad/mm",
    "ky_rad_per_mm": "rad/mm",
    "direction_deg": "deg",
    "spatial_frequency_rad_per_mm": "rad/mm",
    "wavelength_mm": "mm",
    "frequency_hz": "Hz",
    "speed_mm_per_s": "mm/s",
    "offset_rad": "rad",
}

_DESCRIPTION = {
    "kx_rad_per_mm": "wave vector k, x component; fitted phase(r) = (-k.r + offset) mod 2pi",
    "ky_rad_per_mm": "wave vector k, y component",
    "direction_deg": "direction of travel (of sign(frequency) * k), CCW from +x, (-180, 180]",
    "spatial_frequency_rad_per_mm": "|k|",
    "wavelength_mm": "2 pi / |k|",
    "frequency_hz": "temporal frequency used for the speed (given, or from the phase increments)",
    "speed_mm_per_s": "phase speed 2 pi |f| / |k|",
    "offset_rad": "fitted phase at the coordinate origin",
    "resultant_length": "mean resultant length of the residuals (the maximised fit quality)",
    "rho_cl": "circular correlation of observed and fitted phase (Zhang 2018 rho_cc, Kempter 2012)",
    "r2_adj": "1 - (1 - rho_cl^2)(n - 1)/(n - 3)",
    "p_value": "permutation p-value of r2_adj under shuffled positions; NaN without permutations",
    "n_channels": "channels with a valid phase",
}


# ----------------------------------------------------------------------------- inputs


def phasors(phase: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Unit phasors ``(cos, sin, valid)`` of a complex analytic signal or a phase in radians.

    Grids are viewed as channels (row-major sites, holes kept with ``valid = 0``). Lazy for
    dask-backed input. NaN or zero-amplitude samples are invalid (weight 0), never zero-filled
    phases.
    """
    if not isinstance(phase, xr.DataArray):
        raise UsageError(f"expected an xarray.DataArray of phase, got {type(phase).__name__}")
    if phase.name == "activity" and not np.issubdtype(phase.dtype, np.complexfloating):
        raise UsageError(
            "got raw activity: pass a complex analytic signal or a phase in radians "
            "(wavekit.analysis.phase computes one)"
        )
    da = _as_channels(phase)
    empty = np.empty((0,) * da.ndim)
    c, s, w = xr.apply_ufunc(
        _phasors_np,
        da,
        output_core_dims=[[], [], []],
        dask="parallelized",
        dask_gufunc_kwargs={"meta": (empty, empty, empty)},
    )
    return c, s, w


def _phasors_np(a: np.ndarray):
    if np.iscomplexobj(a):
        mag = np.abs(a)
        ok = np.isfinite(mag) & (mag > 0)
        inv = np.divide(1.0, mag, out=np.zeros_like(mag), where=ok)
        return a.real * inv, a.imag * inv, ok.astype(np.float64)
    ok = np.isfinite(a)
    th = np.where(ok, a, 0.0).astype(np.float64)
    okf = ok.astype(np.float64)
    return np.cos(th) * okf, np.sin(th) * okf, okf


def _as_channels(da: xr.DataArray) -> xr.DataArray:
    if "channel" in da.dims:
        return da
    if "y" in da.dims and "x" in da.dims:
        x, y = channel_positions(da)
        st = da.stack(channel=("y", "x")).drop_vars(["channel", "y", "x"], errors="ignore")
        return st.assign_coords(x=("channel", x), y=("channel", y))
    raise UsageError(f"dims {da.dims} have neither 'channel' nor ('y', 'x')")


@dataclass(frozen=True)
class FitLayout:
    """Everything the plane-fit kernel needs about a layout (positions centred on the centroid)."""

    x: np.ndarray
    y: np.ndarray
    x0: float
    y0: float
    pi: np.ndarray
    pj: np.ndarray
    kgx: np.ndarray
    kgy: np.ndarray
    er: np.ndarray
    ei: np.ndarray
    k_max: float
    dk: float
    sep: tuple


def fit_layout(
    x_mm, y_mm, *, max_spatial_frequency=None, n_neighbours=4, max_grid_points=4000
) -> FitLayout:
    """Centred positions, neighbour pairs and the coarse wave-vector grid of a layout.

    The coarse grid is Cartesian with pitch ``dk = pi / L`` (``L`` the larger side of the
    layout's bounding box: half the main-lobe width of R(k), so a grid point falls inside the
    peak's basin) out to ``|k| <= k_max`` (default ``pi / d``, ``d`` the median nearest-neighbour
    distance: the largest unaliased spatial frequency). ``dk`` grows if the grid would exceed
    ``max_grid_points``.
    """
    from scipy.spatial import cKDTree

    x = np.asarray(x_mm, float)
    y = np.asarray(y_mm, float)
    n = x.size
    x0, y0 = float(x.mean()), float(y.mean())
    xc, yc = x - x0, y - y0
    pts = np.stack([xc, yc], 1)
    kq = min(n_neighbours + 1, n)
    d, idx = cKDTree(pts).query(pts, k=kq)
    dnn = float(np.median(d[:, 1])) if kq > 1 else 1.0
    pairs = {(min(i, j), max(i, j)) for i in range(n) for j in idx[i, 1:] if j != i and j < n}
    pr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    side = max(np.ptp(xc), np.ptp(yc), dnn)
    k_max = float(max_spatial_frequency) if max_spatial_frequency else np.pi / dnn
    dk = np.pi / side
    while (np.pi * (k_max / dk) ** 2) > max_grid_points:
        dk *= 1.25
    m = int(np.ceil(k_max / dk))
    g = np.arange(-m, m + 1) * dk
    kgx, kgy = np.meshgrid(g, g)
    keep = np.hypot(kgx, kgy) <= k_max + 1e-12
    kgx, kgy = kgx[keep].copy(), kgy[keep].copy()
    ph = np.outer(kgx, xc) + np.outer(kgy, yc)
    ux, ix = np.unique(xc, return_inverse=True)
    uy, iy = np.unique(yc, return_inverse=True)
    # lattice accelerations (see _kernels_fit.no_sep): separable rotations, pair classes
    dxy = np.round(np.stack([xc[pr[:, 0]] - xc[pr[:, 1]], yc[pr[:, 0]] - yc[pr[:, 1]]], 1), 9)
    cls, pcls = np.unique(dxy, axis=0, return_inverse=True)
    if ux.size + uy.size < n and cls.shape[0] <= pr.shape[0] // 4 and cls.shape[0] <= n:
        sep = (
            ux,
            ix.astype(np.int64).ravel(),
            uy,
            iy.astype(np.int64).ravel(),
            pcls.astype(np.int64).ravel(),
            cls[:, 0].copy(),
            cls[:, 1].copy(),
        )
    else:
        sep = K.no_sep()
    return FitLayout(
        xc,
        yc,
        x0,
        y0,
        pr[:, 0].copy(),
        pr[:, 1].copy(),
        kgx,
        kgy,
        np.cos(ph),
        np.sin(ph),
        k_max,
        dk,
        sep,
    )


def pooled_frequency(c: xr.DataArray, s: xr.DataArray, w: xr.DataArray, fs_hz: float):
    """Instantaneous frequency (Hz) per frame, pooled over channels.

    ``f_t = fs / (2 pi) * arg(sum_j [z_{t+1,j} conj z_{t,j} + z_{t,j} conj z_{t-1,j}])`` with unit
    phasors ``z``: the angle of the summed complex increments (never a difference of unwrapped
    phases), one-sided at the ends. Lazy for dask input.
    """
    # c, s are 0 where w == 0, so products with an invalid sample vanish
    cp, sp = c.shift(time=1, fill_value=0.0), s.shift(time=1, fill_value=0.0)
    re = (c * cp + s * sp).sum("channel")  # increment ending at t (0 at t = 0)
    im = (s * cp - c * sp).sum("channel")
    re = re + re.shift(time=-1, fill_value=0.0)
    im = im + im.shift(time=-1, fill_value=0.0)
    return xr.apply_ufunc(np.arctan2, im, re, dask="allowed") * (fs_hz / (2 * np.pi))


# ----------------------------------------------------------------------------- block functions


def _finish(raw, freq, lay: FitLayout, n_perm: int) -> np.ndarray:
    """Kernel columns + frequency -> the ``_FIELDS`` columns."""
    kx, ky, phi, r, rho, n, cnt = (raw[:, i] for i in range(K.N_OUT))
    sgn = np.where(freq < 0, -1.0, 1.0)
    kmag = np.hypot(kx, ky)
    with np.errstate(divide="ignore", invalid="ignore"):
        wl = 2 * np.pi / kmag
        speed = 2 * np.pi * np.abs(freq) / kmag
    direction = angle_deg(sgn * ky, sgn * kx)
    direction = np.where(np.isfinite(kx), direction, np.nan)
    offset = wrap_angle(phi + kx * lay.x0 + ky * lay.y0)
    r2 = adjusted_r2(rho, n)
    p = (1.0 + cnt) / (1.0 + n_perm) if n_perm > 0 else np.full_like(kx, np.nan)
    p = np.where(np.isfinite(kx), p, np.nan)
    return np.stack([kx, ky, direction, kmag, wl, freq, speed, offset, r, rho, r2, p, n], axis=-1)


def _frames_block(c, s, w, freq, *, lay, mode, grid_below, max_iter, tol, perms):
    lead = c.shape[:-1]
    n = c.shape[-1]
    c2 = np.ascontiguousarray(c.reshape(-1, n), dtype=np.float64)
    s2 = np.ascontiguousarray(s.reshape(-1, n), dtype=np.float64)
    w2 = np.ascontiguousarray(w.reshape(-1, n), dtype=np.float64)
    f = np.broadcast_to(freq, lead).reshape(-1).astype(np.float64)
    raw = K.plane_fit_frames(
        c2,
        s2,
        w2,
        lay.x,
        lay.y,
        lay.pi,
        lay.pj,
        lay.er,
        lay.ei,
        lay.kgx,
        lay.kgy,
        mode,
        grid_below,
        max_iter,
        tol,
        perms,
        lay.sep,
    )
    return _finish(raw, f, lay, perms.shape[0]).reshape(*lead, len(_FIELDS))


def align_window(z: np.ndarray, n_pass: int = 2) -> np.ndarray:
    """Phase-aligned average of a window's unit phasors ``z`` (..., frames, channels).

    Each frame is rotated by the phase of its overlap with a reference pattern
    (``arg sum_j z_tj conj(u_j)``), then averaged: ``u_j = mean_t z_tj exp(-i a_t)``. The
    reference starts as the middle frame and is replaced by the average (``n_pass`` passes).
    The result keeps the spatial phase pattern shared by the window; ``|u_j|`` is its
    consistency in [0, 1].
    """
    ref = z[..., z.shape[-2] // 2, :]
    u = ref
    for _ in range(n_pass):
        ov = np.einsum("...tj,...j->...t", z, np.conj(ref))
        mag = np.abs(ov)
        rot = np.where(mag > 0, np.conj(ov) / np.where(mag > 0, mag, 1.0), 0.0)
        u = np.mean(z * rot[..., None], axis=-2)
        ref = u
    return u


def _windows_block(c, s, w, *, fs, lay, mode, grid_below, max_iter, tol, perms, freq_given):
    z = (c + 1j * s) * w  # (..., nwin, W, n)
    u = align_window(z)
    mag = np.abs(u)
    ok = mag > 1e-12
    safe = np.where(ok, mag, 1.0)
    uc = np.where(ok, u.real / safe, 0.0)
    us = np.where(ok, u.imag / safe, 0.0)
    uw = np.where(ok, mag, 0.0)
    if freq_given is None:
        inc = np.sum(z[..., 1:, :] * np.conj(z[..., :-1, :]), axis=(-2, -1))
        freq = np.angle(inc) * fs / (2 * np.pi)
    else:
        freq = np.broadcast_to(np.asarray(freq_given, float), u.shape[:-1])
    return _frames_block(
        uc,
        us,
        uw,
        freq,
        lay=lay,
        mode=mode,
        grid_below=grid_below,
        max_iter=max_iter,
        tol=tol,
        perms=perms,
    )


# ----------------------------------------------------------------------------- public


def plane_wave_fit(
    phase: xr.DataArray,
    *,
    frequency_hz: float | xr.DataArray | None = None,
    window_s: float | None = None,
    search: str = "auto",
    max_spatial_frequency_rad_per_mm: float | None = None,
    n_permutations: int = 0,
    seed: int = 0,
    grid_below: float = 0.5,
    max_iter: int = 50,
) -> xr.Dataset:
    r"""Fit one plane wave per frame (or window) by circular-linear regression of phase on position.

    Parameters
    ----------
    phase : xarray.DataArray
        Complex analytic signal, or phase in radians (real), with dims ``(time, channel)`` (coords
        ``x``, ``y`` in mm) or ``(time, y, x)``, optionally after ``trial``. NumPy or dask.
        NaN samples are excluded from that frame's fit.
    frequency_hz : float or DataArray, optional
        Temporal frequency for the speed: a scalar, or a DataArray along ``time`` (per-frame mode
        only; spatial dims such as those of ``instantaneous_frequency`` are pooled by their
        median). Default: estimated from the phase increments, pooled over channels
        (:func:`pooled_frequency`); its sign decides the direction of travel.
    window_s : float, optional
        Fit non-overlapping windows of this length: the frames of a window are phase-aligned and
        averaged (:func:`align_window`) and the average is fitted once; ``time`` is then the
        window centre. Default: one fit per frame.
    search : {"auto", "full", "grid"}
        Starting points of the refinement: ``"auto"`` starts from the least-squares fit of wrapped
        neighbour phase differences and adds the coarse wave-vector grid only when the refined
        resultant length is below ``grid_below``; ``"full"`` always uses both; ``"grid"`` only the
        grid.
    max_spatial_frequency_rad_per_mm : float, optional
        Radius of the coarse grid; default ``pi / d`` with ``d`` the median neighbour distance.
    n_permutations : int
        Shuffles of positions for the p-value (0: no test, ``p_value`` is NaN). Each shuffle is a
        full fit, so this costs ``n_permutations`` fits per frame; prefer windows.
    seed : int
        Seed of ``numpy.random.default_rng`` for the permutations (recorded in ``attrs``).
    grid_below : float
        Resultant length below which ``"auto"`` also searches the grid.
    max_iter : int
        Newton iterations per start.

    Returns
    -------
    xarray.Dataset
        Along ``time`` (and ``trial``): ``kx_rad_per_mm``, ``ky_rad_per_mm``, ``direction_deg``,
        ``spatial_frequency_rad_per_mm``, ``wavelength_mm``, ``frequency_hz``,
        ``speed_mm_per_s``, ``offset_rad``, ``resultant_length``, ``rho_cl``, ``r2_adj``,
        ``p_value``, ``n_channels``.

    Notes
    -----
    Model (SPEC sign convention; a wave ``cos(w t - k.r)`` travels along ``+k`` when ``w > 0``):

    .. math:: \theta_j = (-\mathbf{k}\cdot\mathbf{r}_j + \phi_0) \bmod 2\pi

    For fixed :math:`\mathbf k` the maximum-likelihood offset (von Mises residuals) is
    :math:`\phi_0 = \arg S(\mathbf k)` and the fit maximises the mean resultant length

    .. math::

        R(\mathbf k) = \Big|\frac{1}{n}\sum_j e^{i(\theta_j + \mathbf{k}\cdot\mathbf{r}_j)}\Big|.

    Zhang et al. (2018) search a polar grid of directions and spatial frequencies; here a
    neighbour-difference estimate (and, when needed, a coarse Cartesian grid of pitch
    :math:`\pi/L`) starts Newton ascent of :math:`R` in compiled code, which lands on the
    continuous maximum instead of a grid node.

    Quality: ``rho_cl`` is the circular correlation of the observed and fitted phases
    (Jammalamadaka & SenGupta 2001; Zhang et al. 2018's :math:`\rho_{cc}`; for a 1-D position it
    is Kempter et al. 2012's circular-linear correlation), and
    :math:`R^2_{adj} = 1 - (1-\rho^2)(n-1)/(n-3)` (two predictors). The p-value is
    :math:`(1 + \#\{R^2_{adj,\pi} \ge R^2_{adj}\})/(1 + N)` over :math:`N` fits with positions
    shuffled (the same seeded permutations for every frame).

    Speed :math:`v = 2\pi |f| / |\mathbf k|`, wavelength :math:`2\pi/|\mathbf k|`. Failure modes:
    waves longer than a few array apertures give small, noisy :math:`|\mathbf k|` (large speed
    errors; use windows); spatial aliasing above :math:`\pi/d`; several simultaneous waves or
    rotating/radial patterns are not planes (low ``r2_adj``).

    References
    ----------
    Zhang H, Watrous AJ, Patel A, Jacobs J (2018) Theta and alpha oscillations are traveling waves
    in the human neocortex. Neuron 98:1269. doi:10.1016/j.neuron.2018.05.019

    Kempter R, Leibold C, Buzsaki G, Diba K, Schmidt R (2012) Quantifying circular-linear
    associations: hippocampal phase precession. J Neurosci Methods 207:113.
    doi:10.1016/j.jneumeth.2012.03.007

    Jammalamadaka SR, SenGupta A (2001) Topics in Circular Statistics. doi:10.1142/4031

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(200) / 1000.0
    >>> yy, xx = np.mgrid[0:8, 0:8] * 0.4
    >>> k = 2 * np.pi * 10 / 300.0 * np.array([np.cos(0.5), np.sin(0.5)])   # 10 Hz, 300 mm/s
    >>> z = np.exp(1j * (2 * np.pi * 10 * t[:, None, None] - k[0] * xx - k[1] * yy))
    >>> fit = plane_wave_fit(grid_activity(z, fs_hz=1000.0, dx_mm=0.4).rename("phase"))
    >>> round(float(fit.direction_deg.median()), 3), round(float(fit.speed_mm_per_s.median()), 3)
    (28.648, 300.0)
    """
    if search not in _SEARCH:
        raise UsageError(f"search must be one of {sorted(_SEARCH)}, got {search!r}")
    if n_permutations < 0:
        raise UsageError("n_permutations must be >= 0")
    fs = float(phase.attrs.get("fs_hz", np.nan))
    c, s, w = phasors(phase)
    if not np.isfinite(fs):
        t = phase["time"].values
        fs = 1.0 / float(np.median(np.diff(t))) if t.size > 1 else np.nan
    lay = fit_layout(
        c["x"].values, c["y"].values, max_spatial_frequency=max_spatial_frequency_rad_per_mm
    )
    rng = np.random.default_rng(seed)
    n = c.sizes["channel"]
    perms = np.array([rng.permutation(n) for _ in range(n_permutations)], dtype=np.int64)
    perms = perms.reshape(n_permutations, n)
    opts = dict(
        lay=lay,
        mode=_SEARCH[search],
        grid_below=float(grid_below),
        max_iter=int(max_iter),
        tol=1e-6 * lay.dk,
        perms=perms,
    )
    if c.chunks is not None:
        c, s, w = (a.chunk({"channel": -1}) for a in (c, s, w))
    common = dict(
        output_core_dims=[["param"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"param": len(_FIELDS)}},
    )
    if window_s is None:
        if frequency_hz is None:
            freq = pooled_frequency(c, s, w, fs)
        elif np.isscalar(frequency_hz):
            freq = xr.DataArray(float(frequency_hz))
        else:  # e.g. wavekit.analysis.instantaneous_frequency: pool its space dims (median)
            space = [d for d in ("channel", "y", "x") if d in frequency_hz.dims]
            freq = frequency_hz.median(space, skipna=True) if space else frequency_hz
            freq = freq.drop_vars([v for v in ("x", "y", "channel") if v in freq.coords])
        out = xr.apply_ufunc(
            _frames_block,
            c,
            s,
            w,
            freq,
            input_core_dims=[["channel"], ["channel"], ["channel"], []],
            kwargs=opts,
            **common,
        )
    else:
        nw = int(round(float(window_s) * fs))
        if nw < 2 or nw > c.sizes["time"]:
            raise UsageError(f"window_s={window_s} gives {nw} samples: need 2..{c.sizes['time']}")
        if frequency_hz is not None and not np.isscalar(frequency_hz):
            raise UsageError("with window_s, frequency_hz must be a scalar (or None)")

        def win(a):
            a = a.coarsen(time=nw, boundary="trim").construct(time=("window", "wtime"))
            return a.chunk({"wtime": -1}) if a.chunks is not None else a

        cw, sw_, ww = win(c), win(s), win(w)
        tw = c["time"].coarsen(time=nw, boundary="trim").mean().values
        out = xr.apply_ufunc(
            _windows_block,
            cw,
            sw_,
            ww,
            input_core_dims=[["wtime", "channel"]] * 3,
            kwargs=dict(opts, fs=fs, freq_given=frequency_hz),
            **common,
        )
        out = out.drop_vars(
            [v for v in out.coords if "window" in out[v].dims or v == "time"], errors="ignore"
        )
        out = out.rename(window="time").assign_coords(time=("time", tw, {"units": "s"}))
    ds = xr.Dataset()
    for i, name in enumerate(_FIELDS):
        v = out.isel(param=i, drop=True)
        v.attrs = {"long_name": _DESCRIPTION[name]}
        if name in _UNITS:
            v.attrs["units"] = _UNITS[name]
        ds[name] = v
    ds = ds.drop_vars([v for v in ("x", "y", "channel") if v in ds.coords])
    ds.attrs = {
        "method": "circular-linear plane fit (Zhang et al. 2018, doi:10.1016/j.neuron.2018.05.019)",
        "search": search,
        "window_s": float(window_s) if window_s is not None else "none (per frame)",
        "n_permutations": int(n_permutations),
        "seed": int(seed),
        "k_grid_pitch_rad_per_mm": lay.dk,
        "k_grid_max_rad_per_mm": lay.k_max,
        "k_grid_points": int(lay.kgx.size),
        "layout": layout(phase) if "time" in phase.dims else "unknown",
    }
    return ds
