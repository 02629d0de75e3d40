"""The one in-memory data model of wavekit (SPEC.md, "In memory").

An ``xarray.DataArray`` named ``activity`` with

* dims ``("time", "y", "x")`` for regular grids, coordinates ``y`` and ``x`` in mm (``y`` is the row
  axis, the first spatial axis; ``x`` the column axis), or
* dims ``("time", "channel")`` for irregular layouts, with non-dimension coordinates ``x`` and ``y``
  (mm) along ``channel``,
* an optional leading ``trial`` dim,
* a ``time`` coordinate in seconds, attrs ``fs_hz`` (float) and ``units`` (str, may be empty).

Bad or missing channels are NaN. Readers build arrays with :func:`grid_activity` and
:func:`irregular_activity`; everything downstream may assume :func:`validate_activity` passed.

Regular layouts are faster and more accurate to analyse (neighbour differences instead of local
fits), so :func:`detect_grid` recognises electrode positions that lie on a regular lattice, possibly
with holes (a Utah array without its corners), and :func:`to_grid` offers that view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr

from .errors import InputError

GRID_DIMS = ("time", "y", "x")
IRREGULAR_DIMS = ("time", "channel")
Layout = Literal["grid", "irregular"]


def _time_coord(n: int, fs_hz: float, t0_s: float = 0.0) -> np.ndarray:
    return t0_s + np.arange(n, dtype=np.float64) / float(fs_hz)


def _check_fs(fs_hz: Any) -> float:
    try:
        fs = float(fs_hz)
    except (TypeError, ValueError):
        raise InputError(None, f"sampling rate {fs_hz!r} is not a number") from None
    if not np.isfinite(fs) or fs <= 0:
        raise InputError(None, f"sampling rate must be a positive number of Hz, got {fs_hz!r}")
    return fs


def grid_activity(
    data: Any,
    *,
    fs_hz: float,
    dx_mm: float | None = None,
    dy_mm: float | None = None,
    x_mm: Any = None,
    y_mm: Any = None,
    t0_s: float = 0.0,
    units: str = "",
    attrs: dict | None = None,
) -> xr.DataArray:
    """Wrap a ``(time, y, x)`` or ``(trial, time, y, x)`` array as grid activity.

    Parameters
    ----------
    data : array_like (NumPy or dask)
        Samples; the last two axes are rows (y) and columns (x).
    fs_hz : float
        Sampling rate in Hz.
    dx_mm, dy_mm : float, optional
        Column and row pitch in mm (``dy_mm`` defaults to ``dx_mm``). Used when ``x_mm``/``y_mm``
        are not given; coordinates then start at 0.
    x_mm, y_mm : array_like, optional
        Explicit column and row coordinates in mm.
    t0_s : float
        Time of the first sample in seconds.
    units : str
        Units of the samples (for example ``"uV"``), empty when unknown.
    attrs : dict, optional
        Extra attributes.

    Returns
    -------
    xarray.DataArray
        Named ``activity`` with dims ``("time", "y", "x")`` (or with a leading ``trial``).

    Examples
    --------
    >>> import numpy as np
    >>> a = grid_activity(np.zeros((5, 3, 4)), fs_hz=100.0, dx_mm=0.4)
    >>> a.dims, float(a.x[1]), a.attrs["fs_hz"]
    (('time', 'y', 'x'), 0.4, 100.0)
    """
    fs = _check_fs(fs_hz)
    if data.ndim not in (3, 4):
        raise InputError(None, f"grid activity needs 3 or 4 dims, got shape {data.shape}")
    dims = GRID_DIMS if data.ndim == 3 else ("trial", *GRID_DIMS)
    ny, nx = data.shape[-2:]
    if x_mm is None or y_mm is None:
        if dx_mm is None:
            raise InputError(None, "grid spacing unknown: give dx_mm (mm between columns)")
        dy = float(dx_mm if dy_mm is None else dy_mm)
        x_mm = np.arange(nx) * float(dx_mm) if x_mm is None else x_mm
        y_mm = np.arange(ny) * dy if y_mm is None else y_mm
    coords = {
        "time": ("time", _time_coord(data.shape[-3], fs, t0_s), {"units": "s"}),
        "y": ("y", np.asarray(y_mm, dtype=np.float64), {"units": "mm"}),
        "x": ("x", np.asarray(x_mm, dtype=np.float64), {"units": "mm"}),
    }
    if data.ndim == 4:
        coords["trial"] = ("trial", np.arange(data.shape[0]))
    out_attrs = {"fs_hz": fs, "units": str(units)}
    out_attrs.update(attrs or {})
    return xr.DataArray(data, dims=dims, coords=coords, name="activity", attrs=out_attrs)


def irregular_activity(
    data: Any,
    *,
    fs_hz: float,
    x_mm: Any,
    y_mm: Any,
    channel: Any = None,
    t0_s: float = 0.0,
    units: str = "",
    attrs: dict | None = None,
) -> xr.DataArray:
    """Wrap a ``(time, channel)`` or ``(trial, time, channel)`` array as irregular activity.

    Parameters
    ----------
    data : array_like (NumPy or dask)
        Samples; the last axis is the channel.
    fs_hz : float
        Sampling rate in Hz.
    x_mm, y_mm : array_like
        Electrode positions in mm, one per channel.
    channel : array_like, optional
        Channel labels (integers or strings); defaults to ``0 .. n-1``.

    Examples
    --------
    >>> import numpy as np
    >>> a = irregular_activity(np.zeros((5, 3)), fs_hz=1e3, x_mm=[0, 1, 2], y_mm=[0, 0, 1])
    >>> a.dims, a.x.dims
    (('time', 'channel'), ('channel',))
    """
    fs = _check_fs(fs_hz)
    if data.ndim not in (2, 3):
        raise InputError(None, f"irregular activity needs 2 or 3 dims, got shape {data.shape}")
    n = data.shape[-1]
    x = np.asarray(x_mm, dtype=np.float64).reshape(-1)
    y = np.asarray(y_mm, dtype=np.float64).reshape(-1)
    if x.size != n or y.size != n:
        raise InputError(None, f"{n} channels but {x.size} x and {y.size} y positions")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError(None, "electrode positions contain NaN or infinite values")
    dims = IRREGULAR_DIMS if data.ndim == 2 else ("trial", *IRREGULAR_DIMS)
    coords = {
        "time": ("time", _time_coord(data.shape[-2], fs, t0_s), {"units": "s"}),
        "channel": ("channel", np.arange(n) if channel is None else np.asarray(channel)),
        "x": ("channel", x, {"units": "mm"}),
        "y": ("channel", y, {"units": "mm"}),
    }
    if data.ndim == 3:
        coords["trial"] = ("trial", np.arange(data.shape[0]))
    out_attrs = {"fs_hz": fs, "units": str(units)}
    out_attrs.update(attrs or {})
    return xr.DataArray(data, dims=dims, coords=coords, name="activity", attrs=out_attrs)


def layout(da: xr.DataArray) -> Layout:
    """``"grid"`` for ``(..., time, y, x)`` arrays, ``"irregular"`` for ``(..., time, channel)``.

    Examples
    --------
    >>> import numpy as np
    >>> layout(grid_activity(np.zeros((4, 2, 3)), fs_hz=100.0, dx_mm=0.4))
    'grid'
    >>> layout(irregular_activity(np.zeros((4, 2)), fs_hz=100.0, x_mm=[0, 1], y_mm=[0, 0]))
    'irregular'
    """
    return "irregular" if "channel" in da.dims else "grid"


def validate_activity(da: xr.DataArray, path: object = None) -> xr.DataArray:
    """Check that ``da`` follows the data model; raise :class:`InputError` naming ``path`` if not.

    Returns ``da`` unchanged so it can be used inline.

    Examples
    --------
    >>> import numpy as np
    >>> a = grid_activity(np.zeros((4, 2, 3)), fs_hz=100.0, dx_mm=0.4)
    >>> validate_activity(a) is a
    True
    >>> validate_activity(a.rename({"x": "col"}), path="rec.h5")
    Traceback (most recent call last):
    ...
    wavekit.errors.InputError: rec.h5: dims ('time', 'y', 'col') are not (time, y, x) or ...
    """
    if not isinstance(da, xr.DataArray):
        raise InputError(path, f"expected an xarray.DataArray, got {type(da).__name__}")
    dims = tuple(da.dims)
    core = dims[1:] if dims and dims[0] == "trial" else dims
    if core not in (GRID_DIMS, IRREGULAR_DIMS):
        raise InputError(
            path,
            f"dims {dims} are not (time, y, x) or (time, channel) (optionally after trial)",
        )
    fs = da.attrs.get("fs_hz")
    if fs is None:
        raise InputError(path, "no sampling rate (attribute fs_hz): pass --fs HZ")
    _check_fs(fs)
    for c in ("time", "x", "y"):
        if c not in da.coords:
            raise InputError(path, f"coordinate {c!r} is missing")
    if da.sizes["time"] < 2:
        raise InputError(path, f"only {da.sizes['time']} time sample(s): need at least 2")
    if not np.issubdtype(da.dtype, np.number) or np.issubdtype(da.dtype, np.complexfloating):
        raise InputError(path, f"samples have non-numeric (or complex) dtype {da.dtype}")
    return da


def spacing_mm(da: xr.DataArray) -> tuple[float, float]:
    """Row and column pitch ``(dy_mm, dx_mm)`` of a grid (median coordinate step).

    Examples
    --------
    >>> import numpy as np
    >>> spacing_mm(grid_activity(np.zeros((4, 3, 5)), fs_hz=100.0, dx_mm=0.4, dy_mm=0.5))
    (0.5, 0.4)
    """
    if layout(da) != "grid":
        raise ValueError("spacing_mm applies to grid activity only")

    def step(c: np.ndarray) -> float:
        return float(np.median(np.abs(np.diff(c)))) if c.size > 1 else float("nan")

    dy, dx = step(da["y"].values), step(da["x"].values)
    dy = dx if np.isnan(dy) else dy
    dx = dy if np.isnan(dx) else dx
    return dy, dx


# ----------------------------------------------------------------------------- grid detection


@dataclass(frozen=True)
class GridSpec:
    """A regular lattice that a set of electrode positions lies on.

    ``row[i]``, ``col[i]`` give the lattice cell of channel ``i``; ``y0 + row * dy`` and
    ``x0 + col * dx`` reproduce its position (within the detection tolerance).
    """

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    row: np.ndarray
    col: np.ndarray

    @property
    def n_holes(self) -> int:
        """Lattice sites without an electrode."""
        return self.nx * self.ny - self.row.size

    @property
    def x_mm(self) -> np.ndarray:
        return self.x0 + np.arange(self.nx) * self.dx

    @property
    def y_mm(self) -> np.ndarray:
        return self.y0 + np.arange(self.ny) * self.dy


def _axis_lattice(u: np.ndarray, tol: float) -> tuple[float, float, np.ndarray] | None:
    """Origin, pitch and integer index of 1-D coordinates ``u`` on a lattice, or None."""
    srt = np.sort(u)
    breaks = np.flatnonzero(np.diff(srt) > tol) + 1
    uniq = np.array([g.mean() for g in np.split(srt, breaks)])  # levels, jitter merged
    if uniq.size == 1:
        return _tidy(uniq[0]), float("nan"), np.zeros(u.size, dtype=np.int64)
    pitch = float(np.diff(uniq).min())
    # refine the pitch by least squares over all coordinates, then check every one is on it
    idx = np.rint((u - uniq[0]) / pitch)
    if idx.max() > 0:
        a = np.vstack([np.ones_like(idx), idx]).T
        (origin, pitch), *_ = np.linalg.lstsq(a, u, rcond=None)
    else:
        origin = uniq[0]
    idx = np.rint((u - origin) / pitch)
    if np.max(np.abs(origin + idx * pitch - u)) > tol:
        return None
    if abs(origin) < 1e-9 * abs(pitch):  # least-squares round-off of an origin at 0
        origin = 0.0
    return _tidy(origin), _tidy(pitch), idx.astype(np.int64)


def _tidy(v: float) -> float:
    """Drop least-squares round-off (0.39999999999999986 -> 0.4) at 12 significant digits."""
    return float(f"{float(v):.12g}")


def detect_grid(
    x_mm: Any, y_mm: Any, *, rtol: float = 0.05, max_hole_fraction: float = 0.5
) -> GridSpec | None:
    """Recognise electrode positions that lie on a regular (axis-aligned) lattice.

    Parameters
    ----------
    x_mm, y_mm : array_like
        Electrode positions in mm.
    rtol : float
        Allowed deviation from the lattice as a fraction of the pitch.
    max_hole_fraction : float
        Reject lattices where more than this fraction of sites has no electrode (positions that
        merely share a coarse rounding are not a grid).

    Returns
    -------
    GridSpec or None
        None when the positions are not on a lattice, two electrodes share a site, or the lattice
        is mostly holes. Rotated lattices are not recognised.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:10, 0:10] * 0.4
    >>> keep = np.ones((10, 10), bool); keep[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    >>> g = detect_grid(xx[keep], yy[keep])
    >>> (g.ny, g.nx, g.n_holes, round(g.dx, 3))
    (10, 10, 4, 0.4)
    """
    x = np.asarray(x_mm, dtype=np.float64).reshape(-1)
    y = np.asarray(y_mm, dtype=np.float64).reshape(-1)
    if x.size < 2 or x.size != y.size or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return None
    span = max(np.ptp(x), np.ptp(y))
    if span == 0:
        return None
    # a tolerance relative to the smallest plausible pitch: first the raw nearest spacing
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    nearest = float(d.min())
    if nearest <= 1e-9 * span:
        return None  # two electrodes at the same place
    tol = rtol * nearest
    ax = _axis_lattice(x, tol)
    ay = _axis_lattice(y, tol)
    if ax is None or ay is None:
        return None
    x0, dx, col = ax
    y0, dy, row = ay
    if np.isnan(dx):
        dx = dy
    if np.isnan(dy):
        dy = dx
    nx, ny = int(col.max()) + 1, int(row.max()) + 1
    sites = row * nx + col
    if np.unique(sites).size != sites.size:
        return None
    if 1 - x.size / (nx * ny) > max_hole_fraction:
        return None
    return GridSpec(x0=x0, y0=y0, dx=dx, dy=dy, nx=nx, ny=ny, row=row, col=col)


def to_grid(da: xr.DataArray, spec: GridSpec | None = None) -> xr.DataArray:
    """The grid view ``(..., time, y, x)`` of irregular activity whose positions form a lattice.

    Lattice sites without an electrode are NaN. Grid activity is returned unchanged.

    Raises
    ------
    InputError
        When the positions are not on a regular lattice.

    Examples
    --------
    A Utah-like array: 10 x 10 positions at 0.4 mm without the four corners (96 channels).

    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:10, 0:10] * 0.4
    >>> keep = np.ones((10, 10), bool); keep[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    >>> a = irregular_activity(np.ones((5, 96)), fs_hz=500.0, x_mm=xx[keep], y_mm=yy[keep])
    >>> g = to_grid(a)
    >>> g.dims, g.shape, int(np.isnan(g[0]).sum())      # the corners are NaN sites
    (('time', 'y', 'x'), (5, 10, 10), 4)
    >>> bad_channels(g)["nan"]
    [[0, 0], [0, 9], [9, 0], [9, 9]]
    """
    if layout(da) == "grid":
        return da
    if spec is None:
        spec = detect_grid(da["x"].values, da["y"].values)
        if spec is None:
            raise InputError(
                da.encoding.get("source"),
                "electrode positions do not lie on a regular grid: keep the irregular layout",
            )
    lead = da.shape[:-1]
    data = da.data
    flat_index = spec.row * spec.nx + spec.col
    if isinstance(data, np.ndarray):
        dtype = np.result_type(data.dtype, np.float32)
        out = np.full((*lead, spec.ny * spec.nx), np.nan, dtype=dtype)
        out[..., flat_index] = data
        out = out.reshape(*lead, spec.ny, spec.nx)
    else:  # dask: scatter through a one-hot map (channels -> sites), lazily
        import dask.array as dsa

        dtype = np.result_type(data.dtype, np.float32)
        order = np.argsort(flat_index)
        sites = np.full(spec.ny * spec.nx, -1, dtype=np.int64)
        sites[flat_index[order]] = order
        present = sites >= 0
        gathered = dsa.take(data.astype(dtype), np.where(present, sites, 0), axis=-1)
        out = dsa.where(present, gathered, np.nan).reshape(*lead, spec.ny, spec.nx)
    res = grid_activity(out, fs_hz=da.attrs["fs_hz"], x_mm=spec.x_mm, y_mm=spec.y_mm)
    return _carry_over(res, da)


def to_irregular(da: xr.DataArray, *, drop_empty: bool = True) -> xr.DataArray:
    """The channel view ``(..., time, channel)`` of grid activity.

    Channels are the grid sites in row-major order, labelled ``"r{row}c{col}"``. With
    ``drop_empty`` (default) sites that are NaN at every sample (holes) are left out.
    Irregular activity is returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.ones((5, 2, 3)); data[:, 1, 2] = np.nan      # one empty site
    >>> c = to_irregular(grid_activity(data, fs_hz=500.0, dx_mm=0.4))
    >>> c.dims, c.sizes["channel"], [str(v) for v in c.channel.values]
    (('time', 'channel'), 5, ['r0c0', 'r0c1', 'r0c2', 'r1c0', 'r1c1'])
    >>> float(c.x.sel(channel="r1c1")), float(c.y.sel(channel="r1c1"))
    (0.4, 0.4)
    """
    if layout(da) == "irregular":
        return da
    ny, nx = da.sizes["y"], da.sizes["x"]
    yy, xx = np.meshgrid(da["y"].values, da["x"].values, indexing="ij")
    rr, cc = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    stacked = da.data.reshape(*da.shape[:-2], ny * nx)
    keep = np.ones(ny * nx, dtype=bool)
    if drop_empty:
        empty = np.isnan(stacked).all(axis=tuple(range(stacked.ndim - 1)))
        keep = ~np.asarray(empty.compute() if hasattr(empty, "compute") else empty)
    labels = np.array([f"r{r}c{c}" for r, c in zip(rr.ravel(), cc.ravel(), strict=True)])
    res = irregular_activity(
        stacked[..., keep],
        fs_hz=da.attrs["fs_hz"],
        x_mm=xx.ravel()[keep],
        y_mm=yy.ravel()[keep],
        channel=labels[keep],
    )
    return _carry_over(res, da)


def _carry_over(res: xr.DataArray, da: xr.DataArray) -> xr.DataArray:
    """Give a re-laid-out array ``res`` the time and trial coordinates, attributes and encoding
    of its source ``da`` (the views change space only)."""
    res = res.assign_coords(time=da["time"])
    if "trial" in da.coords:
        res = res.assign_coords(trial=da["trial"])
    res.attrs = dict(da.attrs)
    res.encoding.update(da.encoding)
    return res


def channel_positions(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(x_mm, y_mm)`` of every channel (grid sites in row-major order).

    Examples
    --------
    >>> import numpy as np
    >>> x, y = channel_positions(grid_activity(np.zeros((4, 2, 3)), fs_hz=100.0, dx_mm=0.5))
    >>> x.tolist(), y.tolist()
    ([0.0, 0.5, 1.0, 0.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.5, 0.5, 0.5])
    """
    if layout(da) == "irregular":
        return da["x"].values, da["y"].values
    yy, xx = np.meshgrid(da["y"].values, da["x"].values, indexing="ij")
    return xx.ravel(), yy.ravel()


def bad_channels(da: xr.DataArray) -> dict[str, list]:
    """Channels that carry no usable signal: NaN at every sample, or constant.

    Works chunk by chunk on dask-backed arrays. Returns ``{"nan": [...], "flat": [...]}`` with
    channel labels for irregular layouts and ``[row, col]`` pairs for grids. (Outlying variance is
    judged by the preprocessing stage, which knows the band of interest.)

    Examples
    --------
    >>> import numpy as np
    >>> data = np.random.default_rng(0).normal(size=(50, 3, 3))
    >>> data[:, 0, 1] = np.nan       # a missing electrode
    >>> data[:, 2, 2] = 7.0          # a flat one
    >>> bad_channels(grid_activity(data, fs_hz=100.0, dx_mm=0.4))
    {'nan': [[0, 1]], 'flat': [[2, 2]]}
    """
    space_axes = (-2, -1) if layout(da) == "grid" else (-1,)
    red = tuple(i for i in range(da.ndim) if i - da.ndim not in space_axes)
    data = da.data
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    all_nan = np.isnan(data).all(axis=red)
    lo = np.nanmin(np.where(np.isnan(data), np.inf, data), axis=red)
    hi = np.nanmax(np.where(np.isnan(data), -np.inf, data), axis=red)
    if hasattr(all_nan, "compute"):
        import dask

        all_nan, lo, hi = dask.compute(all_nan, lo, hi)
    flat = (~all_nan) & (lo == hi)
    if layout(da) == "grid":
        return {
            "nan": [[int(r), int(c)] for r, c in zip(*np.nonzero(all_nan), strict=True)],
            "flat": [[int(r), int(c)] for r, c in zip(*np.nonzero(flat), strict=True)],
        }
    labels = da["channel"].values
    return {
        "nan": [labels[i].item() for i in np.nonzero(all_nan)[0]],
        "flat": [labels[i].item() for i in np.nonzero(flat)[0]],
    }
