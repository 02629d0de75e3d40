"""Generic HDF5 files: find the activity dataset and its metadata, or ask the user.

The dataset is ``--dataset`` when given, else the largest numeric dataset with 2-4 dims. Dims,
sampling rate, spacing, units and positions come from the user's flags, else from attributes on
the dataset, its parent groups and the file (common names: ``fs``, ``sampling_rate``, ``rate``,
``dt``, ``spacing_mm``, ``pitch_um``, ``dims``/``DIMENSION_LABELS``, ``units``), else from sibling
datasets (``positions``/``electrode_positions``/``xy`` of shape (n, 2); ``time``/``timestamps``).
Large datasets are opened lazily (dask over h5py), so files larger than memory can be inspected
and streamed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import (
    DIM_ALIASES,
    Found,
    Overrides,
    _plain,
    assemble,
    fs_from_attrs,
    maybe_lazy,
    positions_from_array,
    spacing_from_attrs,
    units_from_attrs,
)

POSITION_NAMES = (
    "positions",
    "position",
    "electrode_positions",
    "electrode_xy",
    "xy",
    "pos",
    "coords",
    "channel_positions",
    "epos",
)
TIME_NAMES = ("time", "times", "timestamps", "t")
DIMS_ATTRS = ("dims", "dimensions", "dim_names", "dimension_labels", "axes")


def _datasets(f: Any) -> list[Any]:
    import h5py

    out: list[Any] = []
    f.visititems(lambda _n, o: out.append(o) if isinstance(o, h5py.Dataset) else None)
    return out


def _numeric(ds: Any) -> bool:
    return ds.dtype.kind in "iufb" and ds.shape is not None


def _describe(ds: Any) -> str:
    kind = "numeric" if _numeric(ds) else f"{ds.dtype}"
    return f"{ds.name} {tuple(ds.shape or ())} {kind}"


def _choose(path: Path, f: Any, ov: Overrides, notes: list[str]) -> Any:
    import h5py

    if ov.dataset is not None:
        name = ov.dataset
        if name not in f or not isinstance(f[name], h5py.Dataset):
            listing = ", ".join(d.name for d in _datasets(f)[:8]) or "none"
            raise InputError(path, f"--dataset {name}: no such dataset (datasets: {listing})")
        ds = f[name]
        if not _numeric(ds):
            raise InputError(
                path,
                f"dataset {ds.name} is not numeric ({ds.dtype}): choose a "
                "numeric dataset with --dataset",
            )
        notes.append(f"dataset {ds.name}: given by --dataset")
        return ds
    all_ds = _datasets(f)
    cands = [d for d in all_ds if _numeric(d) and 2 <= len(d.shape or ()) <= 4]
    if not cands:
        listing = "; ".join(_describe(d) for d in all_ds[:6]) or "the file has no datasets"
        if any(_numeric(d) and len(d.shape or ()) == 1 and d.size > 0 for d in all_ds):
            problem = "only 1-D numeric data (activity needs time and space)"
        elif any(_numeric(d) and d.size == 0 for d in all_ds):
            problem = "the numeric datasets are empty"
        elif all_ds:
            problem = "no numeric dataset (only strings or compound data)"
        else:
            problem = "no datasets at all"
        raise InputError(path, f"{problem} ({listing}): point --dataset at the activity array")
    cands.sort(key=lambda d: int(np.prod(d.shape)), reverse=True)
    ds = cands[0]
    why = "the largest numeric dataset with 2-4 dims"
    if len(cands) > 1:
        others = ", ".join(d.name for d in cands[1:4])
        why += f" (others: {others}; choose with --dataset)"
    notes.append(f"dataset {ds.name}: {why}")
    return ds


def _attr_chain(ds: Any) -> dict[str, Any]:
    """Attributes of the file, then each parent group, then the dataset (closest wins)."""
    chain = []
    obj = ds
    while True:
        chain.append(obj)
        if obj.name == "/":
            break
        obj = obj.parent
    merged: dict[str, Any] = {}
    for o in reversed(chain):
        merged.update({str(k): v for k, v in o.attrs.items()})
    return merged


def _dims_attr(ds: Any, attrs: dict[str, Any]) -> tuple[str, ...] | None:
    lowered = {k.lower(): v for k, v in ds.attrs.items()}
    for name in DIMS_ATTRS:
        if name in lowered:
            v = _plain(lowered[name])
            if isinstance(v, str):
                return tuple(s.strip().lower() for s in v.replace(";", ",").split(",") if s.strip())
            if isinstance(v, np.ndarray):
                return tuple(str(_plain(s)).strip().lower() for s in v.ravel())
    # HDF5 dimension scales (h5py ds.dims labels)
    labels = [str(d.label).strip().lower() for d in ds.dims]
    if all(labels) and len(labels) == ds.ndim:
        return tuple(labels)
    return None


def _sibling(ds: Any, names: tuple[str, ...]) -> Any:
    import h5py

    for group in (ds.parent, ds.file):
        for key in group:
            if key.lower() in names and isinstance(group[key], h5py.Dataset):
                if group[key].name != ds.name:
                    return group[key]
    return None


def read(path: Path, ov: Overrides, f: Any) -> Found:
    notes: list[str] = []
    ds = _choose(path, f, ov, notes)
    attrs = _attr_chain(ds)
    kw: dict[str, Any] = {}

    dims = _dims_attr(ds, attrs)
    if dims is not None:
        dims = tuple(DIM_ALIASES.get(d, d) for d in dims)
        if len(dims) == ds.ndim and set(dims) <= {"trial", "time", "y", "x", "channel"}:
            kw.update(dims=dims, dims_reason="the dataset's dims attribute")

    hit = fs_from_attrs(attrs)
    if hit is not None:
        kw.update(fs_hz=hit[0], fs_reason=hit[1])
    else:
        tds = _sibling(ds, TIME_NAMES)
        if tds is not None and tds.ndim == 1 and tds.size > 1 and tds.dtype.kind in "iuf":
            t = tds[()].astype(float)
            dt = float(np.median(np.diff(t)))
            if dt > 0:
                kw.update(fs_hz=1.0 / dt, fs_reason=f"median step of {tds.name}", t0_s=float(t[0]))
    sp = spacing_from_attrs(attrs)
    if sp is not None:
        kw.update(spacing_mm=sp[0], spacing_reason=sp[1])
    units = units_from_attrs(dict(ds.attrs))
    if units is not None:
        kw["units"] = units

    pos = None
    if ov.positions is not None and ov.positions in f:
        pos = f[ov.positions]
        reason = f"dataset {pos.name} (given by --positions)"
    elif ov.positions is None:
        pos = _sibling(ds, POSITION_NAMES)
        reason = f"dataset {pos.name}" if pos is not None else ""
    if pos is not None:
        n = _channel_count(ds, kw.get("dims"), pos, ov)
        if n is not None:
            x, y = positions_from_array(pos[()], n, path)
            if str(_plain(pos.attrs.get("units", "mm"))).lower() in (
                "um",
                "µm",
                "micrometre",
                "micrometer",
                "micron",
            ):
                x, y, reason = x * 1e-3, y * 1e-3, reason + " (micrometres converted to mm)"
            kw.update(x_mm=x, y_mm=y, positions_reason=reason)

    data = maybe_lazy(ds, ov, notes)
    da = assemble(data, path=path, ov=ov, notes=notes, **kw)
    return Found(activity=da, format="hdf5", dataset=ds.name, notes=notes)


def _channel_count(ds: Any, dims: tuple | None, pos: Any, ov: Overrides) -> int | None:
    dims = ov.dims or dims
    if dims is not None:
        return int(ds.shape[dims.index("channel")]) if "channel" in dims else None
    if ds.ndim != 2:
        return None
    shape = tuple(pos.shape)
    for n in ds.shape:
        if n in shape:
            return int(n)
    return None
