"""netCDF (3 and 4) files and Zarr stores, read through xarray (format ``xarray``).

netCDF-4 files are opened with the ``h5netcdf`` engine, netCDF-3 with SciPy's, Zarr stores (a
folder, or a ``.zarr`` path) with ``zarr``; ``h5netcdf`` and ``zarr`` come with
``pip install "wavekit[formats]"``. Files are opened lazily; variables larger than 1 GiB (or
with ``lazy=True``) stay dask-backed, read chunk by chunk.

What is looked for:

* the variable: ``--dataset NAME``, else ``activity``, else the single variable of a saved
  DataArray, else the largest numeric variable with 2-4 dims;
* dims: the variable's dimension names, mapped to ``time``/``y``/``x``/``channel``/``trial``
  (aliases such as ``t``, ``frame``, ``row``, ``col``, ``electrode`` accepted); unknown names
  leave the guess to the shape (or ``--dims``);
* sampling rate: the variable's (then the file's) ``fs_hz``/``fs``/``sampling_rate``/... or ``dt``
  attribute, else the median step of the time coordinate (its ``units``: s, ms, or
  ``"<unit> since <date>"``); the first time value becomes the start time;
* space: the ``y``/``x`` coordinates of a grid, or the ``x``/``y`` coordinates along ``channel``
  (in mm, or converted from the ``units`` attribute: um, cm, m); else spacing attributes
  (``spacing_mm``, ``pitch_um``, ...); else ``--spacing-mm``/``--positions``;
* ``units`` from the variable's attribute; other attributes are kept.

A DataArray in wavekit's data model saved with ``to_netcdf``/``to_zarr`` reads back identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import (
    DIM_ALIASES,
    LAZY_BYTES,
    LENGTH_MM,
    Found,
    Overrides,
    assemble,
    fs_from_attrs,
    spacing_from_attrs,
)

TIME_S = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "msec": 1e-3,
    "millisecond": 1e-3,
    "milliseconds": 1e-3,
    "us": 1e-6,
    "microsecond": 1e-6,
    "microseconds": 1e-6,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "day": 86400.0,
    "days": 86400.0,
}
_SKIP_ATTRS = {
    "fs_hz",
    "units",
    "_fillvalue",
    "coordinates",
    "missing_value",
    "scale_factor",
    "add_offset",
    "dims",
}
_FORMATS_HINT = 'pip install "wavekit[formats]"'


def _open(path: Path, chunks: Any) -> tuple[Any, str]:
    import xarray as xr

    opts = {"decode_times": False, "decode_timedelta": False, "chunks": chunks}
    if path.is_dir() or path.suffix.lower() == ".zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise InputError(
                path, f"Zarr store, but the zarr package is missing: {_FORMATS_HINT}"
            ) from None
        try:
            return xr.open_zarr(path, consolidated=None, **opts), "Zarr store"
        except Exception as exc:  # noqa: BLE001 - a store we cannot parse is the user's
            raise InputError(
                path, f"cannot open as a Zarr store ({type(exc).__name__}: {exc})"
            ) from None
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"CDF"):
        engine, kind = "scipy", "netCDF-3 file"
    else:
        try:
            import h5netcdf  # noqa: F401
        except ImportError:
            raise InputError(
                path, f"netCDF-4 file, but the h5netcdf package is missing: {_FORMATS_HINT}"
            ) from None
        engine, kind = "h5netcdf", "netCDF-4 file"
    try:
        return xr.open_dataset(path, engine=engine, **opts), kind
    except Exception as exc:  # noqa: BLE001 - damaged or truncated
        raise InputError(
            path, f"damaged or truncated {kind} ({type(exc).__name__}: {exc})"
        ) from None


def _coord(var: Any, name: str | None) -> Any:
    """The coordinate ``name`` of ``var``, or None (no default 0..n-1 index)."""
    return var.coords[name] if name is not None and name in var.coords else None


def _numeric(v: Any) -> bool:
    return np.dtype(v.dtype).kind in "iufb"


def _choose(path: Path, ds: Any, ov: Overrides, notes: list[str]) -> str:
    names = [str(k) for k in ds.data_vars]
    if ov.dataset is not None:
        if ov.dataset not in ds.variables:
            raise InputError(
                path,
                f"--dataset {ov.dataset}: no such variable (variables: "
                f"{', '.join(names) or 'none'})",
            )
        if not _numeric(ds[ov.dataset]):
            raise InputError(
                path,
                f"variable {ov.dataset} is not numeric "
                f"({ds[ov.dataset].dtype}): choose a numeric variable",
            )
        notes.append(f"variable {ov.dataset}: given by --dataset")
        return ov.dataset
    for name in ("activity", "__xarray_dataarray_variable__"):
        if name in ds.data_vars and _numeric(ds[name]) and ds[name].ndim >= 2:
            notes.append(f"variable {name}: the saved DataArray")
            return name
    cands = [n for n in names if _numeric(ds[n]) and 2 <= ds[n].ndim <= 4]
    if not cands:
        listing = "; ".join(f"{n} {ds[n].dims} {ds[n].dtype}" for n in names[:6])
        if any(_numeric(ds[n]) and ds[n].ndim == 1 for n in names):
            problem = "only 1-D numeric variables (activity needs time and space)"
        elif names:
            problem = "no numeric variable with 2-4 dims"
        else:
            problem = "no data variables at all"
        raise InputError(
            path, f"{problem} ({listing or 'empty'}): point --dataset at the activity variable"
        )
    cands.sort(key=lambda n: ds[n].size, reverse=True)
    why = "the largest numeric variable with 2-4 dims"
    if len(cands) > 1:
        why += f" (others: {', '.join(cands[1:4])}; choose with --dataset)"
    notes.append(f"variable {cands[0]} {dict(ds[cands[0]].sizes)}: {why}")
    return cands[0]


def _map_dims(var: Any) -> tuple[tuple[str, ...] | None, dict[str, str]]:
    mapped = {str(d): DIM_ALIASES.get(str(d).lower(), str(d).lower()) for d in var.dims}
    dims = tuple(mapped[str(d)] for d in var.dims)
    known = {"trial", "time", "y", "x", "channel"}
    space = {d for d in dims if d in ("x", "y", "channel")}
    if (
        set(dims) <= known
        and len(set(dims)) == len(dims)
        and "time" in dims
        and space in ({"x", "y"}, {"channel"})
    ):
        return dims, {v: k for k, v in mapped.items()}
    return None, {}


def _length_scale(coord: Any) -> tuple[float, str]:
    unit = str(coord.attrs.get("units", coord.attrs.get("unit", ""))).strip().lower()
    if not unit:
        return 1.0, "no units attribute: taken as mm"
    if unit in LENGTH_MM:
        return LENGTH_MM[unit], f"units {unit!r}"
    return float("nan"), f"units {unit!r} are not a length"


def _time_fs(coord: Any) -> tuple[float, float, str] | None:
    t = np.asarray(coord.values)
    if t.ndim != 1 or t.size < 2 or t.dtype.kind not in "iuf":
        return None
    unit = str(coord.attrs.get("units", "s")).strip().lower()
    unit = unit.split(" since ")[0].strip()
    scale = TIME_S.get(unit)
    if scale is None:
        return None
    t = t.astype(float) * scale
    dt = float(np.median(np.diff(t)))
    if not (np.isfinite(dt) and dt > 0):
        return None
    return 1.0 / dt, float(t[0]), f"median step of the time coordinate {coord.name!r}"


def read(path: Path, ov: Overrides) -> Found:
    """Read a netCDF file or Zarr store (see the module docstring)."""
    notes: list[str] = []
    ds, kind = _open(path, None)
    name = _choose(path, ds, ov, notes)
    var = ds[name]
    nbytes = int(var.size) * np.dtype(var.dtype).itemsize
    lazy = ov.lazy if ov.lazy is not None else nbytes > LAZY_BYTES
    notes.insert(0, f"{kind} with variables {', '.join(map(str, ds.data_vars)) or 'none'}")
    kw: dict[str, Any] = {}
    dims, back = _map_dims(var)
    if dims is not None:
        kw.update(dims=dims, dims_reason=f"the variable's dimension names {tuple(var.dims)}")
    elif ov.dims is None:
        notes.append(f"dimension names {tuple(var.dims)} not recognised: guessed from the shape")
    attrs = {**ds.attrs, **var.attrs}
    hit = fs_from_attrs(attrs)
    tc = _coord(var, back.get("time"))
    tfs = _time_fs(tc) if tc is not None else None
    if hit is not None:
        kw.update(fs_hz=hit[0], fs_reason=f"the {hit[1]}")
        if tfs is not None:
            kw["t0_s"] = tfs[1]
    elif tfs is not None:
        kw.update(fs_hz=tfs[0], t0_s=tfs[1], fs_reason=tfs[2])
    units = var.attrs.get("units")
    if isinstance(units, str):
        kw["units"] = units
    _space(path, var, dims, back, attrs, kw, notes)
    extra = {
        k: v
        for k, v in var.attrs.items()
        if str(k).lower() not in _SKIP_ATTRS and k not in ("fs", "sampling_rate", "rate", "dt")
    }
    if extra:
        kw["attrs"] = extra
    if lazy:
        data = var.chunk().data
        notes.append(f"opened lazily ({nbytes / 2**20:.0f} MiB): read chunk by chunk when used")
    else:
        data = var.values
    if not lazy:
        ds.close()
    da = assemble(data, path=path, ov=ov, notes=notes, **kw)
    return Found(activity=da, format="xarray", dataset=name, notes=notes)


def _space(
    path: Path,
    var: Any,
    dims: tuple[str, ...] | None,
    back: dict[str, str],
    attrs: dict[str, Any],
    kw: dict[str, Any],
    notes: list[str],
) -> None:
    """Grid coordinates, channel positions or spacing attributes, in mm."""
    if dims is not None and "x" in dims:
        cx, cy = _coord(var, back["x"]), _coord(var, back["y"])
        if cx is not None and cy is not None and cx.dtype.kind in "iuf" and cy.dtype.kind in "iuf":
            sx, why = _length_scale(cx)
            sy, _ = _length_scale(cy)
            if np.isfinite(sx) and np.isfinite(sy):
                kw.update(
                    grid_x_mm=np.asarray(cx.values, float) * sx,
                    grid_y_mm=np.asarray(cy.values, float) * sy,
                    spacing_reason=f"the x, y coordinates ({why})",
                )
                return
            notes.append(f"x, y coordinates ignored: {why}")
    if dims is not None and "channel" in dims:
        ch = back["channel"]
        pos = {}
        for axis in ("x", "y"):
            for cname in (axis, f"{axis}_mm", f"{axis}_um", f"pos_{axis}", f"{axis}pos"):
                c = _coord(var, cname)
                if c is not None and c.dims == (ch,) and c.dtype.kind in "iuf":
                    pos[axis] = c
                    break
        if len(pos) == 2:
            sx, why = _length_scale(pos["x"])
            sy, _ = _length_scale(pos["y"])
            if pos["x"].name.endswith("_um") and "units" not in pos["x"].attrs:
                sx = sy = 1e-3
                why = "micrometres (name ends in _um)"
            if np.isfinite(sx) and np.isfinite(sy):
                kw.update(
                    x_mm=np.asarray(pos["x"].values, float) * sx,
                    y_mm=np.asarray(pos["y"].values, float) * sy,
                    positions_reason=f"coordinates {pos['x'].name}, {pos['y'].name} along "
                    f"{ch} ({why})",
                )
                if ch in var.coords:
                    kw["channel"] = np.asarray(var.coords[ch].values)
                return
    sp = spacing_from_attrs(attrs)
    if sp is not None:
        kw.update(spacing_mm=sp[0], spacing_reason=f"the {sp[1]}")
