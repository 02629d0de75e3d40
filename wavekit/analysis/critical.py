r"""Critical points of vector fields, phase singularities, and their tracking through time.

A **critical point** is a zero of a vector field ``v = (vx, vy)`` on a grid. wavekit finds it
inside a grid cell (the square of four neighbouring sites): the cell's *winding number* (index)

.. math:: I = \frac{1}{2\pi} \sum_{\text{edges}} \operatorname{wrap}(\alpha_{b} - \alpha_{a}),
          \qquad \alpha = \operatorname{atan2}(v_y, v_x),

summed anticlockwise (from +x toward +y) around the four corners, is +1 around sources, sinks,
spirals and rotations, -1 around saddles and 0 elsewhere. In a cell with ``I != 0`` the zero of
the bilinear interpolant of the four corner vectors is located by Newton's method, and the
Jacobian of that interpolant at the zero,

.. math:: J = \begin{pmatrix} \partial v_x/\partial x & \partial v_x/\partial y \\
                              \partial v_y/\partial x & \partial v_y/\partial y \end{pmatrix},

classifies the point (:func:`classify_jacobian`) from its trace ``tr``, determinant ``det`` and
the discriminant ``tr^2 - 4 det`` (Strogatz 2015, ch. 5-6): ``det < 0`` saddle; real
eigenvalues of one sign: source (``tr > 0``) or sink (``tr < 0``); complex eigenvalues: spiral
out (``tr > 0``), spiral in (``tr < 0``) or rotation (``tr`` about 0), turning anticlockwise
(``ccw``, rotation from +x toward +y) when the curl ``J[1,0] - J[0,1]`` is positive and clockwise
(``cw``) when negative. For a linear field the bilinear interpolant is exact, so ``(x, y)`` is a
source, ``(-x, -y)`` a sink, ``(-y, x)`` an anticlockwise and ``(y, -x)`` a clockwise rotation,
``(x, -y)`` a saddle. The Jacobian's columns are derivatives along x then y (a swap of the two
turns sources into saddles, a mistake of an earlier port).

A **phase singularity** is a cell around which the phase winds by a multiple of 2 pi; its
topological charge is ``q = (1/2 pi) sum wrap(phi_b - phi_a)`` (anticlockwise). The core of a
spiral wave ``phi = w t - s atan2(y, x) - k r`` has ``q = -s``; with ``w > 0`` the wave turns
anticlockwise when ``q = -1``.

References
----------
Strogatz S. H. (2015) Nonlinear Dynamics and Chaos, 2nd ed. CRC Press. doi:10.1201/9780429492563

Townsend R. G., Gong P. (2018) Detection and analysis of spatiotemporal patterns in brain
activity. PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643

Mermin N. D. (1979) The topological theory of defects in ordered media. Rev. Mod. Phys.
51:591-648. doi:10.1103/RevModPhys.51.591

Gray R. A., Pertsov A. M., Jalife J. (1998) Spatial and temporal organization during cardiac
fibrillation. Nature 392:75-78. doi:10.1038/32164
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from .circstats import wrap_angle

__all__ = [
    "CRITICAL_KINDS",
    "classify_jacobian",
    "critical_points",
    "phase_singularities",
    "track_points",
    "winding_numbers",
]

#: Labels of :func:`classify_jacobian`.
CRITICAL_KINDS = (
    "source",
    "sink",
    "saddle",
    "spiral_out_ccw",
    "spiral_out_cw",
    "spiral_in_ccw",
    "spiral_in_cw",
    "rotation_ccw",
    "rotation_cw",
    "degenerate",
)


def classify_jacobian(jacobian, *, rotation_tol: float = 0.05, real_tol: float = 1e-9):
    r"""Label critical points from their Jacobians.

    Parameters
    ----------
    jacobian : array_like, shape (..., 2, 2)
        ``[[dvx/dx, dvx/dy], [dvy/dx, dvy/dy]]`` (rows: components; columns: x then y).
    rotation_tol : float
        Complex eigenvalues with ``|Re| <= rotation_tol |Im|`` are pure rotations (``rotation_*``)
        instead of spirals.
    real_tol : float
        Eigenvalues with ``|Im| <= real_tol * scale`` count as real (``scale`` is the largest
        absolute entry), so the repeated eigenvalue of ``(x, y)`` is a source, not a spiral.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`CRITICAL_KINDS` per Jacobian.

    Notes
    -----
    With ``tr = J00 + J11``, ``det = J00 J11 - J01 J10``, ``disc = tr^2 - 4 det``, the eigenvalues
    are ``(tr +- sqrt(disc)) / 2``: ``det < 0`` saddle; ``disc >= 0`` (within ``real_tol``) and
    ``det > 0``: source if ``tr > 0``, sink if ``tr < 0``; ``disc < 0``: spiral (or rotation),
    outward if ``tr > 0``, anticlockwise if the curl ``J10 - J01 > 0``.

    Examples
    --------
    >>> J = [[[1, 0], [0, 1]], [[-1, 0], [0, -1]], [[0, -1], [1, 0]], [[0, 1], [-1, 0]],
    ...      [[1, 0], [0, -1]]]
    >>> classify_jacobian(J).tolist()
    ['source', 'sink', 'rotation_ccw', 'rotation_cw', 'saddle']
    """
    j = np.asarray(jacobian, dtype=np.float64)
    if j.shape[-2:] != (2, 2):
        raise UsageError(f"Jacobians must have shape (..., 2, 2), got {j.shape}")
    a, b, c, d = j[..., 0, 0], j[..., 0, 1], j[..., 1, 0], j[..., 1, 1]
    tr = a + d
    det = a * d - b * c
    disc = tr * tr - 4 * det
    scale = np.max(np.abs(j), axis=(-2, -1))
    im = 0.5 * np.sqrt(np.maximum(-disc, 0.0))
    re = 0.5 * tr
    cw = c - b
    out = np.full(tr.shape, "degenerate", dtype=object)
    tiny = real_tol * scale**2
    is_complex = (im > real_tol * scale) & (det > tiny)
    node = ~is_complex & (det > tiny)
    out[node & (tr > 0)] = "source"
    out[node & (tr < 0)] = "sink"
    out[det < -tiny] = "saddle"
    rot = is_complex & (np.abs(re) <= rotation_tol * im)
    sense = np.where(cw > 0, "ccw", "cw")
    radial = np.where(re > 0, "spiral_out_", "spiral_in_")
    spiral = np.char.add(radial.astype(str), sense.astype(str)).astype(object)
    rotation = np.char.add("rotation_", sense.astype(str)).astype(object)
    out = np.where(is_complex & ~rot, spiral, out)
    out = np.where(rot, rotation, out)
    return np.asarray(out, dtype=str) if out.ndim else np.asarray(str(out))


def winding_numbers(angle: np.ndarray) -> np.ndarray:
    r"""Winding number of ``angle`` (..., ny, nx) around each grid cell, (..., ny-1, nx-1).

    The path runs anticlockwise in index space, ``(i, j) -> (i, j+1) -> (i+1, j+1) -> (i+1, j)``
    (that is +x, +y, -x, -y for increasing coordinates); each step is wrapped to (-pi, pi].
    Cells with a NaN corner give 0. Result: integers (as float) ``sum wrap(step) / 2 pi``.

    Examples
    --------
    >>> yy, xx = np.mgrid[-1.5:2, -1.5:2]
    >>> float(winding_numbers(np.arctan2(yy, xx))[1, 1])
    1.0
    """
    a = np.asarray(angle, dtype=np.float64)
    c00 = a[..., :-1, :-1]
    c01 = a[..., :-1, 1:]
    c11 = a[..., 1:, 1:]
    c10 = a[..., 1:, :-1]
    s = (
        wrap_angle(c01 - c00)
        + wrap_angle(c11 - c01)
        + wrap_angle(c10 - c11)
        + wrap_angle(c00 - c10)
    )
    w = np.rint(s / (2 * np.pi))
    return np.where(np.isfinite(s), w, 0.0)


def _orientation(x: np.ndarray, y: np.ndarray) -> float:
    """+1 when index space is anticlockwise in (x, y) (both increasing or both decreasing)."""
    sx = np.sign(x[-1] - x[0]) if x.size > 1 else 1.0
    sy = np.sign(y[-1] - y[0]) if y.size > 1 else 1.0
    return float(sx * sy) if sx * sy != 0 else 1.0


def _bilinear_zero(f00, f10, f01, f11, n_iter=30):
    """Zero (s, t) in [0, 1]^2 of the bilinear interpolant of four corner vectors.

    ``f10`` is the corner one step along x (s), ``f01`` one step along y (t). Arrays of shape
    (m, 2). Returns s, t and the local Jacobian d(vx, vy)/d(s, t) at the zero, (m, 2, 2).
    """
    m = f00.shape[0]
    s = np.full(m, 0.5)
    t = np.full(m, 0.5)
    for _ in range(n_iter):
        f = (
            ((1 - s) * (1 - t))[:, None] * f00
            + (s * (1 - t))[:, None] * f10
            + ((1 - s) * t)[:, None] * f01
            + (s * t)[:, None] * f11
        )
        ds = (1 - t)[:, None] * (f10 - f00) + t[:, None] * (f11 - f01)
        dt = (1 - s)[:, None] * (f01 - f00) + s[:, None] * (f11 - f10)
        det = ds[:, 0] * dt[:, 1] - dt[:, 0] * ds[:, 1]
        ok = np.abs(det) > 1e-300
        safe = np.where(ok, det, 1.0)
        step_s = (dt[:, 1] * f[:, 0] - dt[:, 0] * f[:, 1]) / safe
        step_t = (-ds[:, 1] * f[:, 0] + ds[:, 0] * f[:, 1]) / safe
        s_new = np.clip(s - np.where(ok, step_s, 0.0), 0.0, 1.0)
        t_new = np.clip(t - np.where(ok, step_t, 0.0), 0.0, 1.0)
        moved = max(np.max(np.abs(s_new - s), initial=0.0), np.max(np.abs(t_new - t), initial=0.0))
        s, t = s_new, t_new
        if moved < 1e-12:  # Newton has converged (or is pinned at the cell's edge)
            break
    ds = (1 - t)[:, None] * (f10 - f00) + t[:, None] * (f11 - f01)
    dt = (1 - s)[:, None] * (f01 - f00) + s[:, None] * (f11 - f10)
    jac = np.stack([ds, dt], axis=-1)  # [component, (s, t)]
    return s, t, jac


def _points(vx3, vy3, x, y, orient):
    """Critical points of every frame of ``vx3, vy3`` (frames, ny, nx) at once: arrays of
    (frame, i, j, index, s, t, J (2x2)), ordered by frame, then row, then column."""
    ang = np.arctan2(vy3, vx3)
    ang = np.where(np.isfinite(vx3) & np.isfinite(vy3), ang, np.nan)
    w = winding_numbers(ang) * orient
    kk, ii, jj = np.nonzero(w != 0)
    if ii.size == 0:
        e = np.empty(0)
        return kk, ii, jj, np.zeros(0, np.int64), e, e, np.empty((0, 2, 2))
    v = np.stack([vx3, vy3], axis=-1)
    s, t, jac = _bilinear_zero(
        v[kk, ii, jj], v[kk, ii, jj + 1], v[kk, ii + 1, jj], v[kk, ii + 1, jj + 1]
    )
    hx = x[jj + 1] - x[jj]
    hy = y[ii + 1] - y[ii]
    jac = jac / np.stack([hx, hy], axis=-1)[:, None, :]
    return kk, ii, jj, w[kk, ii, jj].astype(np.int64), s, t, jac


def critical_points(
    vx: xr.DataArray,
    vy: xr.DataArray,
    *,
    rotation_tol: float = 0.05,
) -> xr.Dataset:
    r"""Zeros of a vector field on a grid, located inside cells and classified.

    Parameters
    ----------
    vx, vy : xarray.DataArray
        Components along x (columns) and y (rows), dims ``(time, y, x)`` or ``(y, x)``,
        coordinates ``x``, ``y`` in mm (any monotonic spacing).
    rotation_tol : float
        Passed to :func:`classify_jacobian`.

    Returns
    -------
    xarray.Dataset
        One row per point along dim ``point``: ``frame`` (index), ``time_s`` (when there is a
        time coordinate), ``x_mm``, ``y_mm``, ``row``, ``col`` (lower-left site of the cell),
        ``index`` (winding number, +1 or -1), ``kind`` (a label of :data:`CRITICAL_KINDS`),
        ``jacobian`` (``point, component, axis``), ``divergence`` and ``curl`` (trace and
        anti-symmetric part of the Jacobian). Points are ordered by frame.

    Notes
    -----
    See the module docstring for the winding number, the bilinear zero and the classification.
    Only cells whose four corners are finite are searched; a zero exactly on a site (a zero
    vector) may be missed or found in a neighbouring cell. The Jacobian of noisy fields is
    noisy: smooth first, or use the pattern classifier of :mod:`wavekit.analysis.patterns`,
    which pools over the whole frame.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = {"y": np.arange(-2.5, 3), "x": np.arange(-2.5, 3)}
    >>> yy, xx = np.meshgrid(c["y"], c["x"], indexing="ij")
    >>> vx = xr.DataArray(xx - 0.2, dims=("y", "x"), coords=c)   # a source at (0.2, -0.1)
    >>> vy = xr.DataArray(yy + 0.1, dims=("y", "x"), coords=c)
    >>> p = critical_points(vx, vy)
    >>> str(p.kind.values[0]), round(float(p.x_mm[0]), 6), round(float(p.y_mm[0]), 6)
    ('source', 0.2, -0.1)
    """
    if "y" not in vx.dims or "x" not in vx.dims:
        raise UsageError(f"critical points need dims (time, y, x) or (y, x), got {vx.dims}")
    extra = [d for d in vx.dims if d not in ("time", "y", "x")]
    if extra:
        raise UsageError(f"critical points: unexpected dims {extra}; select one trial first")
    has_time = "time" in vx.dims
    a = vx.transpose(..., "y", "x").values.astype(np.float64)
    b = vy.transpose(*vx.transpose(..., "y", "x").dims).values.astype(np.float64)
    if not has_time:
        a, b = a[None], b[None]
    x = np.asarray(vx["x"].values, dtype=np.float64)
    y = np.asarray(vx["y"].values, dtype=np.float64)
    orient = _orientation(x, y)
    frame, ii, jj, w, s, t, jac = _points(a, b, x, y, orient)
    xm = x[jj] + s * (x[np.minimum(jj + 1, x.size - 1)] - x[jj]) if jj.size else np.empty(0)
    ym = y[ii] + t * (y[np.minimum(ii + 1, y.size - 1)] - y[ii]) if ii.size else np.empty(0)
    kind = classify_jacobian(jac, rotation_tol=rotation_tol) if jac.size else np.empty(0, str)
    ds = xr.Dataset(
        {
            "frame": ("point", frame),
            "x_mm": ("point", xm, {"units": "mm"}),
            "y_mm": ("point", ym, {"units": "mm"}),
            "row": ("point", ii),
            "col": ("point", jj),
            "index": ("point", w, {"long_name": "winding number of the field around the cell"}),
            "kind": ("point", np.asarray(kind, dtype=str)),
            "jacobian": (
                ("point", "component", "axis"),
                jac,
                {"long_name": "[[dvx/dx, dvx/dy], [dvy/dx, dvy/dy]] per mm"},
            ),
            "divergence": ("point", jac[:, 0, 0] + jac[:, 1, 1]),
            "curl": ("point", jac[:, 1, 0] - jac[:, 0, 1]),
        },
        coords={"component": ["vx", "vy"], "axis": ["x", "y"]},
        attrs={"convention": "curl > 0: anticlockwise (from +x toward +y)"},
    )
    if has_time and "time" in vx.coords:
        ds["time_s"] = ("point", np.asarray(vx["time"].values, dtype=np.float64)[frame])
    return ds


def phase_singularities(signal: xr.DataArray) -> xr.Dataset:
    r"""Phase singularities: cells around which the phase winds, with their topological charge.

    Parameters
    ----------
    signal : xarray.DataArray
        Phase (radians) or complex signal, dims ``(time, y, x)`` or ``(y, x)``, coordinates in mm.

    Returns
    -------
    xarray.Dataset
        Along ``point``: ``frame``, ``time_s`` (when available), ``x_mm``, ``y_mm`` (cell centre),
        ``row``, ``col``, ``charge`` (+1 or -1; more only for aliased fields).

    Notes
    -----
    .. math:: q = \frac{1}{2\pi} \oint \nabla\phi \cdot dl
              = \frac{1}{2\pi} \sum_{\text{4 edges}} \operatorname{wrap}(\phi_b - \phi_a)

    anticlockwise (+x, +y, -x, -y). Cells with a NaN corner are skipped. Noise creates pairs of
    opposite charge; smooth the complex signal in space first and track with
    :func:`track_points` to keep long-lived ones.

    References
    ----------
    Gray R. A., Pertsov A. M., Jalife J. (1998) Nature 392:75-78. doi:10.1038/32164

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = {"y": np.arange(-2.5, 3), "x": np.arange(-2.5, 3)}
    >>> yy, xx = np.meshgrid(c["y"], c["x"], indexing="ij")
    >>> ph = xr.DataArray(-np.arctan2(yy, xx), dims=("y", "x"), coords=c)
    >>> s = phase_singularities(ph)
    >>> int(s.charge[0]), float(s.x_mm[0]), float(s.y_mm[0])
    (-1, 0.0, 0.0)
    """
    if "y" not in signal.dims or "x" not in signal.dims:
        raise UsageError(f"phase singularities need dims (time, y, x), got {signal.dims}")
    has_time = "time" in signal.dims
    sig = signal.transpose(..., "y", "x")
    p = sig.values
    p = np.angle(p) if np.iscomplexobj(p) else np.asarray(p, dtype=np.float64)
    if not has_time:
        p = p[None]
    x = np.asarray(signal["x"].values, dtype=np.float64)
    y = np.asarray(signal["y"].values, dtype=np.float64)
    q = winding_numbers(p) * _orientation(x, y)
    kk, ii, jj = np.nonzero(q != 0)
    ds = xr.Dataset(
        {
            "frame": ("point", kk.astype(np.int64)),
            "x_mm": ("point", 0.5 * (x[jj] + x[jj + 1]), {"units": "mm"}),
            "y_mm": ("point", 0.5 * (y[ii] + y[ii + 1]), {"units": "mm"}),
            "row": ("point", ii.astype(np.int64)),
            "col": ("point", jj.astype(np.int64)),
            "charge": ("point", q[kk, ii, jj].astype(np.int64)),
        },
        attrs={"convention": "charge = anticlockwise winding of the phase / 2 pi"},
    )
    if has_time and "time" in signal.coords:
        ds["time_s"] = ("point", np.asarray(signal["time"].values, dtype=np.float64)[kk])
    return ds


def track_points(
    points: xr.Dataset,
    *,
    max_distance_mm: float,
    max_gap_frames: int = 1,
    label: str | None = None,
) -> xr.Dataset:
    """Link points (critical points or phase singularities) through time into tracks.

    Parameters
    ----------
    points : xarray.Dataset
        Output of :func:`critical_points` or :func:`phase_singularities` (needs ``frame``,
        ``x_mm``, ``y_mm``).
    max_distance_mm : float
        Largest displacement between two linked detections.
    max_gap_frames : int
        Largest number of missing frames bridged inside a track (0: consecutive frames only).
    label : str, optional
        Variable that must agree along a track (default ``kind`` for critical points,
        ``charge`` for singularities, nothing when absent).

    Returns
    -------
    xarray.Dataset
        ``points`` with ``track`` (integer id, numbered from 0 in order of first appearance) and
        ``track_length`` (frames from first to last detection of the track, inclusive).

    Notes
    -----
    Frame by frame, the detections are matched to the tracks seen within the last
    ``max_gap_frames + 1`` frames by an optimal assignment (Hungarian algorithm, Kuhn 1955,
    doi:10.1002/nav.3800020109) of the Euclidean distances, forbidding pairs farther than
    ``max_distance_mm`` or with different labels; unmatched detections start new tracks.

    Examples
    --------
    >>> import xarray as xr
    >>> p = xr.Dataset({"frame": ("point", [0, 1, 3, 3]), "x_mm": ("point", [0., .1, .2, 5.]),
    ...                 "y_mm": ("point", [0., 0., 0., 5.])})
    >>> track_points(p, max_distance_mm=0.5, max_gap_frames=1).track.values.tolist()
    [0, 0, 0, 1]
    """
    from scipy.optimize import linear_sum_assignment

    if label is None:
        label = "kind" if "kind" in points else ("charge" if "charge" in points else None)
    frame = np.asarray(points["frame"].values, dtype=np.int64)
    xm = np.asarray(points["x_mm"].values, dtype=np.float64)
    ym = np.asarray(points["y_mm"].values, dtype=np.float64)
    lab = np.asarray(points[label].values) if label is not None else np.zeros(frame.size)
    order = np.argsort(frame, kind="stable")
    track = np.full(frame.size, -1, dtype=np.int64)
    # active tracks: id -> (last frame, x, y, label)
    active: dict[int, tuple[int, float, float, object]] = {}
    next_id = 0
    big = 1e12
    frames_sorted = frame[order]
    starts = np.flatnonzero(np.r_[True, frames_sorted[1:] != frames_sorted[:-1]])
    ends = np.r_[starts[1:], frames_sorted.size]
    for a, b in zip(starts, ends, strict=True):  # each frame's points: one slice, not a search
        f = frames_sorted[a]
        idx = order[a:b]
        ids = [k for k, v in active.items() if f - v[0] <= max_gap_frames + 1]
        if ids and idx.size:
            tx = np.array([active[k][1] for k in ids])
            ty = np.array([active[k][2] for k in ids])
            tl = np.array([active[k][3] for k in ids], dtype=object)
            d = np.hypot(xm[idx][:, None] - tx[None, :], ym[idx][:, None] - ty[None, :])
            bad = (d > max_distance_mm) | (lab[idx].astype(object)[:, None] != tl[None, :])
            cost = np.where(bad, big, d)
            r, c = linear_sum_assignment(cost)
            for ri, ci in zip(r, c, strict=True):
                if cost[ri, ci] < big:
                    track[idx[ri]] = ids[ci]
        for i in idx:
            if track[i] < 0:
                track[i] = next_id
                next_id += 1
            active[int(track[i])] = (int(f), xm[i], ym[i], lab[i])
        for k in [k for k, v in active.items() if f - v[0] > max_gap_frames + 1]:
            del active[k]
    # renumber by first appearance
    first = {}
    for i in order:
        first.setdefault(int(track[i]), len(first))
    track = np.array([first[int(t)] for t in track], dtype=np.int64)
    length = np.zeros(frame.size, dtype=np.int64)
    for tid in np.unique(track):
        sel = track == tid
        length[sel] = frame[sel].max() - frame[sel].min() + 1
    out = points.copy()
    out["track"] = ("point", track)
    out["track_length"] = ("point", length, {"units": "frames"})
    out.attrs["tracking"] = (
        f"max_distance_mm={max_distance_mm}, max_gap_frames={max_gap_frames}, label={label}"
    )
    return out
