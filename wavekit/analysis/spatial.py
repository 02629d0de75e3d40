r"""Spatial structure of phase and activity: sources and rotation centres, the phase-distance
correlation (the rho statistic of radial waves), the phase-rotation correlation, correlation as a
function of distance with a fitted correlation length, and lag maps.

Sign conventions (SPEC.md)
--------------------------
For ``cos(w t - k.r)`` with ``w > 0`` the phase, at a fixed time, *decreases* in the direction of
travel. Hence

* a **source** (waves travelling outward) has phase decreasing with distance from it: the
  phase-distance correlation ``rho`` is **negative**; a **sink** has ``rho > 0``;
* a wave rotating **anticlockwise** (``ccw``: from +x toward +y) has phase decreasing with the
  polar angle about its centre: the phase-rotation correlation is **negative**; clockwise
  (``cw``) positive.

Every function also reports the sense (``outward``/``inward``, ``ccw``/``cw``) after correcting for
the sign of the temporal frequency of each frame, so the reported sense is the direction of travel
even for phases that run backwards. The vector-field conventions (divergence positive at sources,
curl positive for ``ccw`` rotation) are those of :mod:`wavekit.analysis.vectorfield`.

NaN channels are excluded from every statistic (never zero-filled).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import UsageError
from ..model import channel_positions, layout, to_grid

__all__ = [
    "correlation_vs_distance",
    "find_rotation_centre",
    "find_source",
    "lag_map",
    "phase_distance_correlation",
    "phase_rotation_correlation",
]


# ----------------------------------------------------------------------------- helpers


def _check(da: Any) -> xr.DataArray:
    if not isinstance(da, xr.DataArray):
        raise UsageError(f"expected an xarray.DataArray, got {type(da).__name__}")
    if "time" not in da.dims:
        raise UsageError(f"expected a time dim, got dims {da.dims}")
    return da


class _Frames:
    """Frames of a phase or complex signal as rows ``(F, S)`` (frames = all leading dims and
    time, flattened), read block by block so dask-backed input is never loaded whole."""

    def __init__(self, signal: xr.DataArray, frequency_sign=None):
        space = ("y", "x") if layout(signal) == "grid" else ("channel",)
        self.sig = signal.transpose(..., "time", *space)
        self.frame_shape = self.sig.shape[: self.sig.ndim - len(space)]
        self.n = int(np.prod(self.frame_shape))
        self.data = self.sig.data.reshape(self.n, -1)
        self.sign = self._sign(space, frequency_sign)

    def _sign(self, space, given) -> np.ndarray:
        if given is not None:
            g = np.broadcast_to(np.sign(np.asarray(given, dtype=float)), self.frame_shape)
            return np.where(g == 0, 1.0, g).reshape(-1)
        z = self.sig
        if not np.iscomplexobj(z.dtype.type(0)):
            z = np.exp(1j * z)
        z = xr.where(np.isfinite(z.real) & np.isfinite(z.imag), z, 0)
        if z.sizes["time"] < 2:
            return np.ones(self.n)
        nxt = z.shift(time=-1).fillna(z)  # one-sided at the ends of the record
        prv = z.shift(time=1).fillna(z)
        prod = (nxt * np.conj(prv)).sum(list(space))
        sgn = np.sign(np.angle(np.asarray(prod.values)))
        return np.where(sgn == 0, 1.0, sgn).reshape(-1)

    def phase(self, i0: int, i1: int) -> np.ndarray:
        blk = self.data[i0:i1]
        if hasattr(blk, "compute"):
            blk = blk.compute()
        blk = np.asarray(blk)
        if np.iscomplexobj(blk):
            ok = np.isfinite(blk)
            return np.where(ok, np.angle(np.where(ok, blk, 1)), np.nan)
        return blk.astype(np.float64)


def _frame_coords(signal: xr.DataArray, frame_shape: tuple) -> dict:
    sig = signal.transpose(..., "time", *[d for d in signal.dims if d in ("y", "x", "channel")])
    lead = list(sig.dims[: len(frame_shape)])
    return {"dims": lead, "coords": {d: sig[d] for d in lead if d in sig.coords}}


def _fisher_lee(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Fisher & Lee (1983) circular-circular correlation along the last axis (NaN excluded).

    .. math:: \rho_T = \frac{\sum_{i<j} \sin(a_i - a_j)\sin(b_i - b_j)}
              {\sqrt{\sum_{i<j}\sin^2(a_i - a_j)\,\sum_{i<j}\sin^2(b_i - b_j)}}
              = \frac{4(AB - CD)}{\sqrt{(n^2 - E^2 - F^2)(n^2 - G^2 - H^2)}}

    with ``A = sum cos a cos b``, ``B = sum sin a sin b``, ``C = sum cos a sin b``,
    ``D = sum sin a cos b``, ``E + iF = sum e^{2ia}``, ``G + iH = sum e^{2ib}``. Unlike the
    Jammalamadaka-SenGupta coefficient it needs no mean direction, so it stays defined when the
    angles cover the circle uniformly (polar angles about a centre).
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    ok = np.isfinite(a) & np.isfinite(b)
    ca, sa = np.where(ok, np.cos(a), 0), np.where(ok, np.sin(a), 0)
    cb, sb = np.where(ok, np.cos(b), 0), np.where(ok, np.sin(b), 0)
    n = ok.sum(-1).astype(float)
    A = (ca * cb).sum(-1)
    B = (sa * sb).sum(-1)
    C = (ca * sb).sum(-1)
    D = (sa * cb).sum(-1)
    e2a = (np.where(ok, np.exp(2j * np.where(ok, a, 0)), 0)).sum(-1)
    e2b = (np.where(ok, np.exp(2j * np.where(ok, b, 0)), 0)).sum(-1)
    den = (n**2 - abs(e2a) ** 2) * (n**2 - abs(e2b) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 4 * (A * B - C * D) / np.sqrt(np.clip(den, 0, None)), np.nan)


def _nan_box3(a: np.ndarray) -> np.ndarray:
    """NaN-aware 3x3 mean over the last two axes."""
    ok = np.isfinite(a)
    v = np.where(ok, a, 0.0)
    w = ok.astype(float)
    pad = [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)]
    vp, wp = np.pad(v, pad), np.pad(w, pad)
    ny, nx = a.shape[-2:]
    s = sum(vp[..., i : i + ny, j : j + nx] for i in range(3) for j in range(3))
    c = sum(wp[..., i : i + ny, j : j + nx] for i in range(3) for j in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, s / c, np.nan)


def _grid(signal: xr.DataArray) -> xr.DataArray:
    if layout(signal) != "grid":
        signal = to_grid(signal)
    return signal


# ----------------------------------------------------------------------------- critical points


def _locate(field: np.ndarray, x: np.ndarray, y: np.ndarray, sign: float):
    """Extremum of ``sign * field`` (after a 3x3 NaN-aware mean) with a weighted-centroid
    refinement over its 3x3 neighbourhood; returns ``(x_mm, y_mm, value)`` per leading index."""
    sm = _nan_box3(sign * field)
    lead = sm.shape[:-2]
    flat = sm.reshape(-1, *sm.shape[-2:])
    out = np.full((flat.shape[0], 3), np.nan)
    for n, fr in enumerate(flat):
        if not np.isfinite(fr).any():
            continue
        iy, ix = np.unravel_index(int(np.nanargmax(fr)), fr.shape)
        sl = (slice(max(iy - 1, 0), iy + 2), slice(max(ix - 1, 0), ix + 2))
        w = np.clip(np.nan_to_num(fr[sl], nan=0.0), 0, None)
        yy, xx = np.meshgrid(y[sl[0]], x[sl[1]], indexing="ij")
        if w.sum() > 0:
            out[n] = ((w * xx).sum() / w.sum(), (w * yy).sum() / w.sum(), fr[iy, ix])
        else:
            out[n] = (x[ix], y[iy], fr[iy, ix])
    return out.reshape(*lead, 3)


def _refine_focus(
    ux: np.ndarray, uy: np.ndarray, x: np.ndarray, y: np.ndarray, loc: np.ndarray, rotate: bool
) -> np.ndarray:
    """Least-squares meeting point of the lines through each site along ``u`` (along ``u``
    turned by 90 deg for rotations), over sites within ``max(3 pitches, extent / 4)`` of the
    coarse location. Keeps the coarse location when the lines are (nearly) parallel or the
    refined point moves by more than the window radius."""
    yy, xx = np.meshgrid(y, x, indexing="ij")
    pitch = float(np.median(np.abs(np.diff(x)))) if x.size > 1 else 1.0
    radius = max(3 * pitch, 0.25 * max(np.ptp(x), np.ptp(y)))
    lead = ux.shape[:-2]
    u1 = ux.reshape(-1, *ux.shape[-2:])
    u2 = uy.reshape(u1.shape)
    out = loc.reshape(-1, 3).copy()
    for n in range(u1.shape[0]):
        x0, y0 = out[n, 0], out[n, 1]
        if not np.isfinite(x0):
            continue
        a, b = (-u2[n], u1[n]) if rotate else (u1[n], u2[n])
        w = np.hypot(a, b)  # mean unit vectors: shorter where directions disagree
        ok = np.isfinite(w) & (w > 0) & (np.hypot(xx - x0, yy - y0) <= radius)
        if ok.sum() < 3:
            continue
        ax, ay, ww = a[ok] / w[ok], b[ok] / w[ok], w[ok]
        # sum w (I - u u^T) p = sum w (I - u u^T) r
        m11 = np.sum(ww * (1 - ax * ax))
        m12 = np.sum(ww * (-ax * ay))
        m22 = np.sum(ww * (1 - ay * ay))
        rx, ry = xx[ok], yy[ok]
        b1 = np.sum(ww * ((1 - ax * ax) * rx - ax * ay * ry))
        b2 = np.sum(ww * (-ax * ay * rx + (1 - ay * ay) * ry))
        mat = np.array([[m11, m12], [m12, m22]])
        ev = np.linalg.eigvalsh(mat)
        if ev[0] <= 0.05 * ev[1]:
            continue
        px, py = np.linalg.solve(mat, [b1, b2])
        if np.hypot(px - x0, py - y0) <= radius:
            out[n, 0], out[n, 1] = px, py
    return out.reshape(*lead, 3)


def _unit_direction(sig: xr.DataArray, frequency_sign=None) -> tuple[xr.DataArray, xr.DataArray]:
    """Unit direction-of-travel field ``sign(w) k / |k|`` (``k = -grad phi`` from
    :func:`wavekit.analysis.gradients.phase_gradients`; ``w`` pooled over each frame). Lazy for
    dask-backed input."""
    from .gradients import phase_gradients

    sig = sig.transpose(..., "time", "y", "x")
    g = phase_gradients(sig, fields=())
    fr = _Frames(sig, frequency_sign)
    sgn = xr.DataArray(fr.sign.reshape(fr.frame_shape), dims=sig.dims[:-2])
    kx = g["kx_rad_per_mm"] * sgn
    ky = g["ky_rad_per_mm"] * sgn
    m = np.hypot(kx, ky)
    ux = xr.where(m > 0, kx / m.where(m > 0), np.nan)
    uy = xr.where(m > 0, ky / m.where(m > 0), np.nan)
    return ux.transpose(*sig.dims), uy.transpose(*sig.dims)


def _critical(signal: xr.DataArray, which: str, per_frame: bool, frequency_sign=None) -> xr.Dataset:
    from .vectorfield import curl, divergence

    sig = _grid(_check(signal))
    vx, vy = _unit_direction(sig, frequency_sign)
    if not per_frame:
        vx = vx.mean("time", skipna=True)
        vy = vy.mean("time", skipna=True)
    if which == "rotation":
        field = curl(vx, vy)
    else:
        field = divergence(vx, vy)
    f = field.transpose(..., "y", "x")
    x = np.asarray(sig["x"].values, float)
    y = np.asarray(sig["y"].values, float)
    arr = np.asarray(f.values, float)
    if which in ("source", "sink"):
        loc = _locate(arr, x, y, 1.0 if which == "source" else -1.0)
        kind = np.full(loc.shape[:-1], which, dtype=object)
    else:  # either sign: source/sink or ccw/cw, the stronger extremum
        lp = _locate(arr, x, y, 1.0)
        ln = _locate(arr, x, y, -1.0)
        pos = np.nan_to_num(lp[..., 2], nan=-np.inf) >= np.nan_to_num(ln[..., 2], nan=-np.inf)
        loc = np.where(pos[..., None], lp, ln)
        names = ("ccw", "cw") if which == "rotation" else ("source", "sink")
        kind = np.where(pos, names[0], names[1]).astype(object)
        loc[..., 2] = np.where(pos, loc[..., 2], -loc[..., 2])
    ux = np.asarray(vx.transpose(..., "y", "x").values, float)
    uy = np.asarray(vy.transpose(..., "y", "x").values, float)
    loc = _refine_focus(ux, uy, x, y, loc, rotate=which == "rotation")
    dims = list(f.dims[:-2])
    coords = {dd: f[dd] for dd in dims if dd in f.coords}
    name = "curl" if which == "rotation" else "divergence"
    return xr.Dataset(
        {
            "x_mm": (dims, loc[..., 0], {"units": "mm"}),
            "y_mm": (dims, loc[..., 1], {"units": "mm"}),
            f"{name}_per_mm": (dims, loc[..., 2], {"units": "1/mm"}),
            "kind": (dims, kind.astype(str)),
        },
        coords=coords,
        attrs={"method": f"extremum of the 3x3-smoothed {name} of the unit direction field"},
    )


def find_source(
    signal: xr.DataArray,
    *,
    kind: str = "either",
    per_frame: bool = False,
    frequency_sign: float | np.ndarray | None = None,
) -> xr.Dataset:
    r"""Source (or sink) of a radial wave from the divergence of the direction-of-travel field.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex analytic signal or phase (radians), dims ``(..., time, y, x)`` (irregular
        activity on a lattice is viewed as a grid).
    kind : {"either", "source", "sink"}
        Look for the maximum of the divergence (``source``), its minimum (``sink``), or the
        stronger of the two (``either``, default).
    per_frame : bool
        One location per frame, or (default) one for the record from the time-averaged field.
    frequency_sign : float or array, optional
        Sign of the temporal frequency of each frame (broadcast over the frames). Default:
        estimated per frame from the pooled phase advance between its neighbouring samples,
        which assumes consecutive samples: pass it when ``signal`` holds frames picked out of a
        record (``+1`` for any analytic signal, whose frequency is positive).

    Returns
    -------
    xarray.Dataset
        ``x_mm``, ``y_mm`` (location), ``divergence_per_mm`` (its magnitude there) and ``kind``.

    Notes
    -----
    The unit direction-of-travel field ``u = sign(w) k / |k|`` with ``k = -grad phi``
    (:func:`wavekit.analysis.gradients.phase_gradients`, ``w`` the frame's pooled temporal
    frequency) of an ideal source is ``r_hat``, whose
    divergence ``1 / r`` peaks at the source (sinks: ``-1/r``). The divergence (central
    differences) is averaged over time unless ``per_frame``, smoothed by a NaN-aware 3x3 mean,
    and its extremum located (refined to the centroid of the smoothed divergence over the
    extremum's 3x3 neighbourhood). The divergence decides *where to look* and *what kind*; the
    location is then refined to the point nearest, in the weighted least-squares sense, to all
    lines through the sites along their (time-averaged) direction vectors within
    ``max(3 pitches, extent / 4)`` of it: ``sum_s w_s (I - u_s u_s^T) p = sum_s w_s (I - u_s
    u_s^T) r_s`` with ``w_s = |mean u_s|``. For an ideal source every line passes through it, so
    the refinement is exact off the grid nodes, where the divergence of a discrete field is
    biased by the undefined direction at the source itself. A plane wave has zero divergence
    everywhere: the location is then meaningless (check :func:`phase_distance_correlation` or
    the PGD).

    References
    ----------
    Muller L., Reynaud A., Chavane F., Destexhe A. (2014) The stimulus-evoked population response
    in visual cortex of awake monkey is a propagating wave. Nat. Commun. 5:3675.
    doi:10.1038/ncomms4675

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(200)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:20, 0:20] * 0.5
    >>> r = np.hypot(xx - 4.0, yy - 6.0)
    >>> a = grid_activity(np.exp(1j * (2 * np.pi * 10 * t - 2.0 * r)), fs_hz=500.0, dx_mm=0.5)
    >>> s = find_source(a)
    >>> str(s.kind.values), round(float(s.x_mm), 1), round(float(s.y_mm), 1)
    ('source', 4.0, 6.0)
    """
    if kind not in ("either", "source", "sink"):
        raise UsageError(f"kind must be 'either', 'source' or 'sink', got {kind!r}")
    return _critical(signal, kind, per_frame, frequency_sign)


def find_rotation_centre(
    signal: xr.DataArray,
    *,
    per_frame: bool = False,
    frequency_sign: float | np.ndarray | None = None,
) -> xr.Dataset:
    r"""Centre of a rotating (spiral) wave from the curl of the direction-of-travel field.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex analytic signal or phase (radians), dims ``(..., time, y, x)``.
    per_frame : bool
        One centre per frame, or (default) one for the record.
    frequency_sign : float or array, optional
        Sign of the temporal frequency of each frame (broadcast over the frames). Default:
        estimated per frame from the pooled phase advance between its neighbouring samples,
        which assumes consecutive samples: pass it when ``signal`` holds frames picked out of a
        record (``+1`` for any analytic signal, whose frequency is positive).

    Returns
    -------
    xarray.Dataset
        ``x_mm``, ``y_mm``, ``curl_per_mm`` (magnitude at the centre) and ``kind`` (``ccw``
        for positive curl, rotation from +x toward +y; ``cw`` otherwise).

    Notes
    -----
    The unit direction field of a rotating wave about ``c`` is ``theta_hat`` (``ccw``), with
    curl ``1 / r`` peaking at the centre; the location is found as in :func:`find_source` with
    the curl ``dv_y/dx - dv_x/dy`` in place of the divergence and, in the least-squares
    refinement, lines perpendicular to the direction vectors (the radii of a rotation). For a
    spiral with a radial component (``phi = w t - theta - k r``) the perpendicular lines miss
    the centre by an amount that grows with ``k r``: expect a bias of order a pitch.

    References
    ----------
    Muller L., Piantoni G., Koller D., Cash S. S., Halgren E., Sejnowski T. J. (2016) Rotating
    waves during human sleep spindles organize global patterns of activity that repeat precisely
    through the night. eLife 5:e17267. doi:10.7554/eLife.17267

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(200)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:20, 0:20] * 0.5
    >>> th = np.arctan2(yy - 5.2, xx - 4.8)
    >>> a = grid_activity(np.exp(1j * (2 * np.pi * 10 * t - th)), fs_hz=500.0, dx_mm=0.5)
    >>> c = find_rotation_centre(a)
    >>> str(c.kind.values), abs(float(c.x_mm) - 4.8) < 0.5, abs(float(c.y_mm) - 5.2) < 0.5
    ('ccw', True, True)
    """
    return _critical(signal, "rotation", per_frame, frequency_sign)


# ----------------------------------------------------------------------------- rho statistics


def _centre_arg(signal, centre, finder) -> tuple[float, float]:
    if centre is None:
        loc = finder(signal)
        return float(loc["x_mm"]), float(loc["y_mm"])
    if isinstance(centre, xr.Dataset):
        return float(centre["x_mm"]), float(centre["y_mm"])
    cx, cy = centre
    return float(cx), float(cy)


def _positions(signal: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    return channel_positions(signal)


class _SlopeBasis:
    """``exp(-i a_j d_s)`` for a grid of slopes ``a_j``, computed once per call."""

    def __init__(self, d: np.ndarray, slopes: np.ndarray):
        self.slopes = slopes
        self.basis = np.exp(-1j * np.outer(d, slopes))  # (S, A)


def _best_slope(ph: np.ndarray, sb: _SlopeBasis) -> np.ndarray:
    """Slope ``a`` (rad/mm) maximising ``|sum_s exp(i(phi_s - a d_s))|`` per row of ``ph``
    (NaN excluded), grid search plus a parabolic refinement."""
    slopes = sb.slopes
    ok = np.isfinite(ph)
    e = np.where(ok, np.exp(1j * np.where(ok, ph, 0)), 0)
    r = abs(e @ sb.basis)  # (F, A)
    j = np.argmax(r, axis=1)
    jj = np.clip(j, 1, slopes.size - 2)
    y0, y1, y2 = (r[np.arange(r.shape[0]), jj + o] for o in (-1, 0, 1))
    den = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(den < 0, np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5), 0.0)
    off = np.where(j == jj, off, 0.0)
    step = slopes[1] - slopes[0]
    return slopes[j] + off * step


def _perm_p(stat_fn, ph: np.ndarray, obs: np.ndarray, n_perm: int, rng) -> np.ndarray:
    if n_perm <= 0:
        return np.full(obs.shape, np.nan)
    count = np.zeros(obs.shape)
    for _ in range(n_perm):
        perm = np.stack([rng.permutation(row) for row in ph])
        count += np.abs(stat_fn(perm)) >= np.abs(obs) - 1e-12
    return (1.0 + count) / (1.0 + n_perm)


def _frames_dataset(values: dict, signal: xr.DataArray, frame_shape: tuple, attrs: dict):
    fc = _frame_coords(signal, frame_shape)
    ds = xr.Dataset(coords=fc["coords"], attrs=attrs)
    for k, (v, a) in values.items():
        ds[k] = (fc["dims"], np.asarray(v).reshape(frame_shape), a)
    return ds


def phase_distance_correlation(
    signal: xr.DataArray,
    *,
    source: tuple[float, float] | xr.Dataset | None = None,
    max_slope_rad_per_mm: float | None = None,
    frequency_sign: float | np.ndarray | None = None,
    n_permutations: int = 0,
    seed: int = 0,
) -> xr.Dataset:
    r"""Circular-linear correlation of phase with distance from a source point (the rho
    statistic of radial waves), one value per frame.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex analytic signal or phase (radians), grid ``(..., time, y, x)`` or irregular
        ``(..., time, channel)``. NaN sites are excluded frame by frame.
    source : (x_mm, y_mm) or Dataset, optional
        The point distances are measured from; default :func:`find_source` (grids).
    max_slope_rad_per_mm : float, optional
        Largest phase slope searched; default ``pi / d_nn`` (``d_nn`` the median
        nearest-neighbour distance: half a cycle per electrode).
    frequency_sign : float or array, optional
        Sign of the temporal frequency of each frame (broadcast over the frames). Default:
        estimated per frame from the pooled phase advance between its neighbouring samples,
        which assumes consecutive samples: pass it when ``signal`` holds frames picked out of a
        record (``+1`` for any analytic signal, whose frequency is positive).
    n_permutations : int
        Shuffles of the phases over sites for a permutation p-value per frame (slope refitted
        for every shuffle). 0 (default): ``p_value`` is NaN.
    seed : int
        Seed of ``numpy.random.default_rng`` for the shuffles.

    Returns
    -------
    xarray.Dataset
        Per frame: ``rho`` (signed, in [-1, 1]), ``slope_rad_per_mm`` (fitted ``a``),
        ``resultant_length`` (fit quality), ``p_value``, ``n_channels``, and ``outward``
        (True when the wave travels away from the point); attrs ``source_x_mm``,
        ``source_y_mm``.

    Notes
    -----
    With ``d_s`` the distance of site ``s`` from the source, the phase is modelled as
    ``phi_s = a d_s + phi_0 (mod 2 pi)``. The slope maximises the mean resultant length of the
    residuals (Kempter et al. 2012),

    .. math:: \hat a = \arg\max_a \Bigl|\tfrac1n \sum_s e^{i(\phi_s - a d_s)}\Bigr|,

    (grid search at steps of ``pi / (8 d_max)`` plus a parabolic refinement) and

    .. math:: \rho = \rho_T\bigl(\phi,\ |\hat a|\, d \bmod 2\pi\bigr)

    with ``rho_T`` the circular-circular correlation of Fisher & Lee (1983), which needs no
    mean direction and so stays defined when ``|a| d`` wraps several times. Using ``|a|`` makes
    the sign of ``rho`` the sign of the slope: ``rho < 0`` when phase decreases with distance,
    which for ``w > 0`` is a wave travelling outward (a **source**); ``rho > 0`` a sink.
    ``outward = rho * sign(w) < 0`` with ``w`` the frame's pooled temporal frequency. This is
    the phase-distance correlation ``rho_{phi,d}`` that Muller et al. (2014) computed about the
    source point found from the divergence of the phase-gradient field; its magnitude is
    that of a circular-linear correlation (Kempter et al. 2012; Jammalamadaka & SenGupta 2001).
    Sites are spatially correlated, so a small p-value over the sites of one frame says the
    radial structure is more than a shuffled map, not that frames are independent.

    References
    ----------
    Muller L., Reynaud A., Chavane F., Destexhe A. (2014) Nat. Commun. 5:3675.
    doi:10.1038/ncomms4675

    Kempter R., Leibold C., Buzsaki G., Diba K., Schmidt R. (2012) Quantifying circular-linear
    associations: hippocampal phase precession. J. Neurosci. Methods 207:113-124.
    doi:10.1016/j.jneumeth.2012.03.007

    Fisher N. I., Lee A. J. (1983) A correlation coefficient for circular data. Biometrika
    70:327-332. doi:10.1093/biomet/70.2.327

    Jammalamadaka S. R., SenGupta A. (2001) Topics in Circular Statistics. World Scientific.
    doi:10.1142/4031

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(50)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:16, 0:16] * 0.5
    >>> r = np.hypot(xx - 3.0, yy - 4.0)
    >>> a = grid_activity(np.exp(1j * (2 * np.pi * 10 * t - 1.5 * r)), fs_hz=500.0, dx_mm=0.5)
    >>> res = phase_distance_correlation(a, source=(3.0, 4.0))
    >>> round(float(res.rho[10]), 3), round(float(res.slope_rad_per_mm[10]), 2)
    (-1.0, -1.5)
    >>> bool(res.outward[10])
    True
    """
    sig = _check(signal)
    cx, cy = _centre_arg(sig, source, lambda s: find_source(s, frequency_sign=frequency_sign))
    x, y = _positions(sig)
    d = np.hypot(x - cx, y - cy)
    fr = _Frames(sig, frequency_sign)
    sgn, frame_shape = fr.sign, fr.frame_shape
    if max_slope_rad_per_mm is None:
        dd = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(dd, np.inf)
        max_slope_rad_per_mm = np.pi / float(np.median(dd.min(axis=1)))
    amax = float(max_slope_rad_per_mm)
    # no source found (centre NaN): d is NaN and so is rho; keep the slope grid finite
    dmax = float(np.nanmax(d)) if np.isfinite(d).any() else 1.0
    step = np.pi / (8 * max(dmax, 1e-12))
    sb = _SlopeBasis(d, np.arange(-amax, amax + step / 2, step))

    def stat(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = _best_slope(p, sb)
        return _fisher_lee(p, np.abs(a)[:, None] * d[None, :]), a

    rng = np.random.default_rng(seed)
    rho, slope, pval, rl = (np.empty(fr.n) for _ in range(4))
    nch = np.empty(fr.n, dtype=np.int64)
    for i0 in range(0, fr.n, 64):
        blk = fr.phase(i0, i0 + 64)
        r, a = stat(blk)
        rho[i0 : i0 + 64] = r
        slope[i0 : i0 + 64] = a
        pval[i0 : i0 + 64] = _perm_p(lambda p: stat(p)[0], blk, r, int(n_permutations), rng)
        ok = np.isfinite(blk)
        e = np.where(ok, np.exp(1j * (np.where(ok, blk, 0) - a[:, None] * d[None, :])), 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rl[i0 : i0 + 64] = abs(e.sum(1)) / ok.sum(1)
        nch[i0 : i0 + 64] = ok.sum(1)
    return _frames_dataset(
        {
            "rho": (rho, {"long_name": "phase-distance correlation (Fisher-Lee, signed)"}),
            "slope_rad_per_mm": (slope, {"units": "rad/mm"}),
            "resultant_length": (rl, {"long_name": "fit quality |mean exp(i(phi - a d))|"}),
            "p_value": (pval, {"long_name": f"permutation p ({int(n_permutations)} shuffles)"}),
            "n_channels": (nch, {}),
            "outward": (rho * sgn < 0, {"long_name": "travels away from the point (source)"}),
        },
        sig,
        frame_shape,
        {"source_x_mm": cx, "source_y_mm": cy, "seed": int(seed)},
    )


def phase_rotation_correlation(
    signal: xr.DataArray,
    *,
    centre: tuple[float, float] | xr.Dataset | None = None,
    remove_radial: bool = True,
    frequency_sign: float | np.ndarray | None = None,
    n_permutations: int = 0,
    seed: int = 0,
) -> xr.Dataset:
    r"""Circular-circular correlation of phase with the polar angle about a centre (rotating
    waves), one value per frame.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex analytic signal or phase (radians), grid or irregular layout.
    centre : (x_mm, y_mm) or Dataset, optional
        Rotation centre; default :func:`find_rotation_centre` (grids).
    remove_radial : bool
        Remove the phase's fitted linear dependence on the distance from the centre (the arms of
        a spiral) before correlating with the polar angle (default). ``False`` gives the plain
        phase-angle correlation.
    frequency_sign : float or array, optional
        Sign of the temporal frequency of each frame (broadcast over the frames). Default:
        estimated per frame from the pooled phase advance between its neighbouring samples,
        which assumes consecutive samples: pass it when ``signal`` holds frames picked out of a
        record (``+1`` for any analytic signal, whose frequency is positive).
    n_permutations : int
        Shuffles of the phases over sites for a permutation p-value (0: NaN).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    xarray.Dataset
        Per frame ``rho`` (signed), ``p_value``, ``n_channels``, ``sense`` (``"ccw"`` or
        ``"cw"``, direction of rotation of travel); attrs ``centre_x_mm``, ``centre_y_mm``.

    Notes
    -----
    With ``theta_s = atan2(y_s - c_y, x_s - c_x)`` (sites closer than 1e-9 mm to the centre
    excluded), ``rho = rho_T(phi, theta)``, the Fisher & Lee (1983) circular-circular correlation
    (see :func:`phase_distance_correlation`). Muller et al. (2016) correlate phase with polar
    angle about the centre of rotation; the Jammalamadaka-SenGupta coefficient they could have
    used is undefined here because the polar angles cover the circle uniformly (no mean
    direction), hence Fisher-Lee. A wave ``cos(w t - m theta)`` with ``m = +1`` rotates
    anticlockwise (``ccw``) and gives ``rho = -1``; sense ``= "ccw"`` when
    ``rho * sign(w) < 0``. A winding number ``|m| > 1`` lowers ``|rho|``.

    A spiral ``phi = w t - m theta - a r`` has, besides the rotation, a phase slope ``a`` along
    the radius that acts as noise on ``rho_T(phi, theta)`` (``|rho|`` about 0.6 for one turn of
    phase across the array). With ``remove_radial`` the slope is fitted first, for both senses
    ``s = +-1``, as the ``a`` maximising ``|sum e^{i(phi + s theta - a r)}|`` (the better
    sense kept, grid search as in :func:`phase_distance_correlation`), and
    ``rho = rho_T(phi + a r, theta)``. A target wave (``m = 0``) leaves an almost constant
    residual and ``rho`` near 0; permutation p-values refit the slope for every shuffle.

    References
    ----------
    Muller L., Piantoni G., Koller D., Cash S. S., Halgren E., Sejnowski T. J. (2016) eLife
    5:e17267. doi:10.7554/eLife.17267

    Fisher N. I., Lee A. J. (1983) Biometrika 70:327-332. doi:10.1093/biomet/70.2.327

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(50)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:16, 0:16] * 0.5
    >>> th = np.arctan2(yy - 3.7, xx - 3.7)
    >>> a = grid_activity(np.exp(1j * (2 * np.pi * 10 * t - th)), fs_hz=500.0, dx_mm=0.5)
    >>> res = phase_rotation_correlation(a, centre=(3.7, 3.7))
    >>> round(float(res.rho[10]), 3), str(res.sense[10].values)
    (-1.0, 'ccw')
    """
    sig = _check(signal)
    cx, cy = _centre_arg(
        sig, centre, lambda s: find_rotation_centre(s, frequency_sign=frequency_sign)
    )
    x, y = _positions(sig)
    th = np.arctan2(y - cy, x - cx)
    th = np.where(np.hypot(x - cx, y - cy) > 1e-9, th, np.nan)
    fr = _Frames(sig, frequency_sign)
    sgn, frame_shape = fr.sign, fr.frame_shape
    r = np.hypot(x - cx, y - cy)
    if remove_radial:
        dd = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(dd, np.inf)
        amax = np.pi / float(np.median(dd.min(axis=1)))
        rmax = float(np.nanmax(r)) if np.isfinite(r).any() else 1.0  # NaN centre: rho NaN
        step = np.pi / (8 * max(rmax, 1e-12))
        sb = _SlopeBasis(r, np.arange(-amax, amax + step / 2, step))

    def stat(p: np.ndarray) -> np.ndarray:
        if not remove_radial:
            return _fisher_lee(p, th[None, :])
        best = np.full(p.shape[0], -np.inf)
        out = np.full(p.shape[0], np.nan)
        for s in (1.0, -1.0):
            q = p + s * th[None, :]
            a = _best_slope(q, sb)
            ok = np.isfinite(q)
            e = np.where(ok, np.exp(1j * (np.where(ok, q, 0) - a[:, None] * r[None, :])), 0)
            rl = abs(e.sum(1))
            use = rl > best
            best = np.where(use, rl, best)
            out = np.where(use, _fisher_lee(p - a[:, None] * r[None, :], th[None, :]), out)
        return out

    rng = np.random.default_rng(seed)
    rho, pval = np.empty(fr.n), np.empty(fr.n)
    nch = np.empty(fr.n, dtype=np.int64)
    for i0 in range(0, fr.n, 64):
        blk = fr.phase(i0, i0 + 64)
        rho[i0 : i0 + 64] = stat(blk)
        pval[i0 : i0 + 64] = _perm_p(stat, blk, rho[i0 : i0 + 64], int(n_permutations), rng)
        nch[i0 : i0 + 64] = (np.isfinite(blk) & np.isfinite(th)[None, :]).sum(1)
    sense = np.where(rho * sgn < 0, "ccw", "cw")
    return _frames_dataset(
        {
            "rho": (rho, {"long_name": "phase-polar angle correlation (Fisher-Lee, signed)"}),
            "p_value": (pval, {"long_name": f"permutation p ({int(n_permutations)} shuffles)"}),
            "n_channels": (nch, {}),
            "sense": (sense, {"long_name": "rotation of travel: ccw (+x toward +y) or cw"}),
        },
        sig,
        frame_shape,
        {
            "centre_x_mm": cx,
            "centre_y_mm": cy,
            "remove_radial": str(bool(remove_radial)),
            "seed": int(seed),
        },
    )


# ----------------------------------------------------------------------------- correlation length


def correlation_vs_distance(
    activity: xr.DataArray,
    *,
    bin_mm: float | None = None,
    max_distance_mm: float | None = None,
    max_sites: int = 2000,
    seed: int = 0,
) -> xr.Dataset:
    r"""Pearson correlation between channels as a function of their distance, with a fitted
    exponential correlation length.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity, grid or irregular (NumPy or dask; the channel covariance is reduced over
        time chunk by chunk). A leading ``trial`` dim is concatenated along time. Channels with
        any NaN sample or no variance are excluded.
    bin_mm : float, optional
        Distance bin width; default the median nearest-neighbour distance.
    max_distance_mm : float, optional
        Largest distance binned and fitted; default half the largest pairwise distance.
    max_sites : int
        Above this many channels a random subset (``numpy.random.default_rng(seed)``) is used,
        since the pair count grows as ``n^2``.
    seed : int
        Seed of the subset.

    Returns
    -------
    xarray.Dataset
        Along ``distance_mm`` (bin centres): ``correlation`` (mean over pairs) and ``n_pairs``;
        scalars ``correlation_length_mm`` (``lambda``), ``amplitude`` (``A``) and ``fit_r2``.
        ``lambda`` is NaN when the fitted correlation at the nearest distance is below 0.05
        (uncorrelated channels: the length is below the pitch) and ``inf`` when it exceeds 100
        times the largest fitted distance (no decay over the array); ``attrs["fit_note"]``
        says which.

    Notes
    -----
    With ``r_ij`` the correlation of channels ``i != j`` at distance ``d_ij``, binned means
    ``rbar(d)`` are fitted by weighted least squares (weights = pair counts) with

    .. math:: \bar r(d) = A\, e^{-d / \lambda},

    the exponential (Ornstein-Uhlenbeck, Matern nu = 1/2) correlation function. ``A < 1``
    absorbs uncorrelated measurement noise (a "nugget"). ``lambda`` is the distance over which
    correlation falls by a factor ``e``. For an oscillating (wave) field the correlation
    oscillates with distance; the fit then summarises the decay of its envelope only roughly:
    restrict ``max_distance_mm`` to the first lobe.

    References
    ----------
    Cressie N. (1993) Statistics for Spatial Data. Wiley. doi:10.1002/9781119115151

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[0:10, 0:10] * 0.5
    >>> r = np.hypot(xx.ravel()[:, None] - xx.ravel(), yy.ravel()[:, None] - yy.ravel())
    >>> L = np.linalg.cholesky(np.exp(-r / 1.5))
    >>> x = (rng.normal(size=(4000, 100)) @ L.T).reshape(4000, 10, 10)
    >>> c = correlation_vs_distance(grid_activity(x, fs_hz=100.0, dx_mm=0.5))
    >>> abs(float(c.correlation_length_mm) - 1.5) < 0.2
    True
    """
    from scipy.optimize import curve_fit

    act = _check(activity)
    space = ("y", "x") if layout(act) == "grid" else ("channel",)
    a = act.transpose(..., "time", *space)
    x, y = _positions(act)
    data = a.data
    nsp = int(np.prod(data.shape[-len(space) :]))
    nt = data.shape[-len(space) - 1]
    mat = data.reshape(-1, nsp)  # (L*T, S)
    is_dask = hasattr(mat, "compute")
    fin = np.isfinite(mat).all(axis=0)
    sd = mat.std(axis=0)
    if is_dask:
        import dask

        fin, sd = dask.compute(fin, sd)
    keep = np.flatnonzero(np.asarray(fin) & (np.nan_to_num(np.asarray(sd)) > 0))
    if keep.size < 3:
        raise UsageError("fewer than 3 channels without NaN and with variance")
    rng = np.random.default_rng(seed)
    if keep.size > max_sites:
        keep = np.sort(rng.choice(keep, size=int(max_sites), replace=False))
    m = mat[:, keep]
    m = (m - m.mean(axis=0)) / m.std(axis=0)
    cmat = (m.T @ m) / m.shape[0]
    if is_dask:
        cmat = cmat.compute()
    cmat = np.asarray(cmat)
    xs, ys = x[keep], y[keep]
    iu = np.triu_indices(keep.size, k=1)
    dist = np.hypot(xs[iu[0]] - xs[iu[1]], ys[iu[0]] - ys[iu[1]])
    r = cmat[iu]
    if bin_mm is None:
        dd = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
        np.fill_diagonal(dd, np.inf)
        bin_mm = float(np.median(dd.min(axis=1)))
    if max_distance_mm is None:
        max_distance_mm = 0.5 * float(dist.max())
    edges = np.arange(0.5 * bin_mm, float(max_distance_mm) + bin_mm, bin_mm)
    edges = np.concatenate([[0.0], edges])
    idx = np.digitize(dist, edges) - 1
    nb = edges.size - 1
    sel = (idx >= 0) & (idx < nb)
    cnt = np.bincount(idx[sel], minlength=nb)
    sm = np.bincount(idx[sel], weights=r[sel], minlength=nb)
    sumd = np.bincount(idx[sel], weights=dist[sel], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sm / cnt
        centre = sumd / cnt  # mean distance of the pairs in the bin
    good = cnt > 0
    dfit, rfit, wfit = centre[good], mean[good], cnt[good]

    def model(dv, amp, lam):
        return amp * np.exp(-dv / lam)

    lam0 = (
        float(dfit[np.argmax(rfit < rfit[0] / np.e)])
        if (rfit < rfit[0] / np.e).any()
        else (float(dfit.max()))
    )
    try:
        (amp, lam), _ = curve_fit(
            model,
            dfit,
            rfit,
            p0=(max(min(rfit[0] * np.exp(dfit[0] / max(lam0, 1e-9)), 1.5), 1e-3), max(lam0, 1e-6)),
            sigma=1.0 / np.sqrt(wfit),
            bounds=([0.0, 1e-9], [1.5, 1e3 * float(dfit.max())]),
            maxfev=5000,
        )
        pred = model(dfit, amp, lam)
        ss_res = float(np.sum(wfit * (rfit - pred) ** 2))
        ss_tot = float(np.sum(wfit * (rfit - np.average(rfit, weights=wfit)) ** 2))
        r2 = 1 - ss_res / ss_tot if ss_tot > 0 else np.nan
    except (RuntimeError, ValueError):
        amp = lam = r2 = np.nan
    note = "fitted"
    if np.isfinite(lam):
        if amp * np.exp(-float(dfit[0]) / lam) < 0.05:
            lam, note = np.nan, "no correlation at the nearest distance: length below the pitch"
        elif lam > 100 * float(dfit.max()):
            lam, note = np.inf, "correlation does not decay over the array"
    bc = np.where(good, centre, 0.5 * (edges[:-1] + edges[1:]))
    return xr.Dataset(
        {
            "correlation": ("distance_mm", mean, {"long_name": "mean Pearson correlation"}),
            "n_pairs": ("distance_mm", cnt),
            "correlation_length_mm": ((), float(lam), {"units": "mm"}),
            "amplitude": ((), float(amp)),
            "fit_r2": ((), float(r2)),
        },
        coords={"distance_mm": ("distance_mm", bc, {"units": "mm"})},
        attrs={
            "model": "A exp(-d / lambda), weighted least squares on binned means",
            "fit_note": note,
            "n_channels": int(keep.size),
            "n_samples": int(nt),
            "seed": int(seed),
        },
    )


# ----------------------------------------------------------------------------- lag maps


def _reference_index(act: xr.DataArray, reference, valid: np.ndarray) -> int:
    x, y = _positions(act)
    if reference is None:
        cx, cy = x[valid].mean(), y[valid].mean()
        dist = np.where(valid, np.hypot(x - cx, y - cy), np.inf)
        return int(np.argmin(dist))
    if isinstance(reference, dict):
        if layout(act) == "grid":
            ix = int(np.argmin(abs(act["x"].values - float(reference["x"]))))
            iy = int(np.argmin(abs(act["y"].values - float(reference["y"]))))
            return iy * act.sizes["x"] + ix
        dist = np.hypot(x - float(reference["x"]), y - float(reference["y"]))
        return int(np.argmin(dist))
    if layout(act) == "irregular":
        labels = list(act["channel"].values)
        if reference in labels:
            return labels.index(reference)
    raise UsageError(
        f"reference {reference!r} not understood: give {{'x': mm, 'y': mm}} or a channel label"
    )


def lag_map(
    activity: xr.DataArray,
    *,
    reference: dict | Any = None,
    max_lag_s: float | None = None,
) -> xr.Dataset:
    r"""Time lag of every channel relative to a reference channel, from the peak of their
    cross-correlation.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity (band-pass it first for narrow-band waves), grid or irregular; NumPy or
        dask (processed per channel chunk). A leading ``trial`` dim is not supported: select a
        trial.
    reference : dict or channel label, optional
        ``{"x": mm, "y": mm}`` (nearest site) or, for irregular layouts, a channel label.
        Default: the valid site nearest the centroid of the valid sites.
    max_lag_s : float, optional
        Largest lag searched (default a quarter of the record). For periodic waves lags are
        defined modulo the period: keep ``max_lag_s`` below half a period for unambiguous lags.

    Returns
    -------
    xarray.Dataset
        Over the spatial dims: ``lag_s`` (positive: the channel is later than the reference)
        and ``peak_correlation``; attrs give the reference position.

    Notes
    -----
    With mean-removed series and sums over the samples where both overlap,

    .. math:: c_i(\tau) = \frac{\sum_t x_i(t)\, x_{ref}(t - \tau)}
              {\sqrt{\sum_t x_i(t)^2 \sum_t x_{ref}(t - \tau)^2}}

    (numerator by FFT with zero padding, energies by cumulative sums), which peaks at
    ``tau = tau_i`` when ``x_i(t) = x_ref(t - tau_i)`` (the biased ``1/N`` normalisation would
    pull the peak toward zero lag, the unbiased ``1/(N - |tau|)`` one can exceed 1). Within
    ``|tau| <= max_lag_s``, of the local maxima within 5 % of the highest the one nearest zero
    lag is taken (for periodic signals all periods peak equally), and refined by a parabola
    through the three samples around it (sub-sample lags). For a plane wave with speed ``c``
    travelling along unit vector ``u``, ``tau_i = (r_i - r_ref) . u / c``. NaN channels give NaN.

    References
    ----------
    Knapp C., Carter G. (1976) The generalized correlation method for estimation of time delay.
    IEEE Trans. Acoust. Speech Signal Process. 24:320-327. doi:10.1109/TASSP.1976.1162830

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(2000)[:, None, None] / 1000.0
    >>> xx = np.mgrid[0:4, 0:8][1] * 1.0
    >>> a = grid_activity(np.sin(2 * np.pi * 5 * (t - xx / 100.0)), fs_hz=1000.0, dx_mm=1.0)
    >>> m = lag_map(a, reference={"x": 0.0, "y": 0.0}, max_lag_s=0.09)
    >>> np.round(m.lag_s[0, :4].values, 4).tolist()
    [0.0, 0.01, 0.02, 0.03]
    """
    act = _check(activity)
    if "trial" in act.dims:
        raise UsageError("lag_map takes one trial: select one with .isel(trial=i)")
    space = ("y", "x") if layout(act) == "grid" else ("channel",)
    act = act.transpose("time", *space)
    fs = float(act.attrs["fs_hz"])
    nt = act.sizes["time"]
    flat = act.data.reshape(nt, -1)
    fin = np.isfinite(flat).all(axis=0)
    if hasattr(fin, "compute"):
        fin = fin.compute()
    valid = np.asarray(fin)
    if not valid.any():
        raise UsageError("no channel without NaN")
    iref = _reference_index(act, reference, valid)
    ref = np.asarray(flat[:, iref])
    if not np.isfinite(ref).all():
        raise UsageError("the reference channel contains NaN: choose another")
    max_lag = int(round((0.25 * nt / fs if max_lag_s is None else float(max_lag_s)) * fs))
    max_lag = max(1, min(max_lag, nt - 2))
    nfft = int(2 ** np.ceil(np.log2(2 * nt)))
    ref0 = ref - ref.mean()
    fref = np.conj(np.fft.rfft(ref0, nfft))
    cref = np.concatenate([[0.0], np.cumsum(ref0**2)])
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]

    def block(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, nt).astype(np.float64)
        x2 = x2 - x2.mean(axis=1, keepdims=True)
        cc = np.fft.irfft(np.fft.rfft(x2, nfft, axis=1) * fref, nfft, axis=1)
        cc = cc[:, lags]  # lags 0..max, -max..-1
        # Pearson normalisation over the overlap: energies of the overlapping parts
        ci = np.concatenate([np.zeros((x2.shape[0], 1)), np.cumsum(x2**2, axis=1)], axis=1)
        pos = lags >= 0
        ei = np.where(
            pos, ci[:, -1:] - ci[:, np.clip(lags, 0, None)], ci[:, nt + np.clip(lags, None, 0)]
        )
        er = np.where(
            pos, cref[nt - np.clip(lags, 0, None)], cref[-1] - cref[-np.clip(lags, None, 0)]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            cc = cc / np.sqrt(ei * er[None, :])
        order = np.argsort(lags)
        cs, ls = cc[:, order], lags[order]
        out_lag = np.full(x2.shape[0], np.nan)
        out_pk = np.full(x2.shape[0], np.nan)
        for n in range(x2.shape[0]):
            row = cs[n]
            if not np.isfinite(row).all():
                continue
            # local maxima within 5 % of the highest: the one nearest zero lag
            inner = np.r_[False, (row[1:-1] >= row[:-2]) & (row[1:-1] >= row[2:]), False]
            inner[[0, -1]] = [row[0] >= row[1], row[-1] >= row[-2]]
            top = row.max()
            cand = np.flatnonzero(inner & (row >= top - 0.05 * abs(top)))
            j = int(cand[np.argmin(np.abs(ls[cand]))])
            off = 0.0
            if 0 < j < row.size - 1:
                off = _parabolic_offset(row[j - 1], row[j], row[j + 1])
            out_lag[n] = (ls[j] + off) / fs
            out_pk[n] = row[j]
        return out_lag.reshape(lead), out_pk.reshape(lead)

    lag, pk = xr.apply_ufunc(
        block,
        act.chunk({"time": -1}) if act.chunks is not None else act,
        input_core_dims=[["time"]],
        output_core_dims=[[], []],
        dask="parallelized",
        output_dtypes=[np.float64, np.float64],
    )
    x, y = _positions(act)
    return xr.Dataset(
        {
            "lag_s": lag.assign_attrs(units="s", long_name="lag behind the reference"),
            "peak_correlation": pk.assign_attrs(long_name="normalised cross-correlation peak"),
        },
        attrs={
            "reference_x_mm": float(x[iref]),
            "reference_y_mm": float(y[iref]),
            "max_lag_s": max_lag / fs,
        },
    )


def _parabolic_offset(y0: float, y1: float, y2: float) -> float:
    den = y0 - 2 * y1 + y2
    return 0.0 if den >= 0 else float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5))
