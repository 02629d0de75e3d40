"""wavekit's own HDF5 layout: what ``convert`` and ``simulate`` write (docs/format.md).

::

    /                       attrs: wavekit_format="wavekit.activity", format_version=1,
                                   wavekit_version
    /activity               the samples; chunked along time, gzip + shuffle; attrs: dims
                            ("time,y,x" ...), name, and every DataArray attribute
                            (fs_hz, units, ...)
    /coords/<name>          one dataset per coordinate; attrs: dims, and the coordinate's attrs
    /ground_truth/<var>     optional (simulations): one dataset per truth variable with attr dims;
                            the group's attrs are the truth Dataset's attrs

Attribute values that HDF5 cannot hold natively (dicts, lists of mixed types, None) are stored as
JSON strings prefixed with ``json:``; booleans as ``bool:true``/``bool:false``. ``load(save(a))``
returns an identical DataArray (``xarray.testing.assert_identical``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InputError
from ._common import Found, Overrides, choose_layout, maybe_lazy

FORMAT_NAME = "wavekit.activity"
FORMAT_VERSION = 1
_STR = "str"


def is_native(h5file: Any) -> bool:
    return str(_decode(h5file.attrs.get("wavekit_format", ""))) == FORMAT_NAME


def _decode(v: Any) -> Any:
    return v.decode("utf-8") if isinstance(v, bytes) else v


def _encode_attr(v: Any) -> Any:
    if isinstance(v, bool | np.bool_):
        return f"bool:{'true' if v else 'false'}"
    if v is None or isinstance(v, dict | list | tuple):
        try:
            return "json:" + json.dumps(v)
        except TypeError:
            return "json:" + json.dumps(np.asarray(v).tolist())
    if isinstance(v, str):
        return v
    return np.asarray(v)


def _decode_attr(v: Any) -> Any:
    v = _decode(v)
    if isinstance(v, str):
        if v.startswith("json:"):
            out = json.loads(v[5:])
            return tuple(out) if isinstance(out, list) else out
        if v.startswith("bool:"):
            return v == "bool:true"
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    if isinstance(v, np.generic):
        return v
    return v


def _write_attrs(obj: Any, attrs: dict) -> None:
    for k, v in attrs.items():
        obj.attrs[str(k)] = _encode_attr(v)


def _read_attrs(obj: Any, skip: tuple[str, ...] = ()) -> dict:
    return {k: _decode_attr(v) for k, v in obj.attrs.items() if k not in skip}


def _write_array(group: Any, name: str, var: xr.Variable, **kw: Any) -> Any:
    import h5py

    values = var.values
    if values.dtype.kind in "UO":
        ds = group.create_dataset(
            name,
            data=np.asarray(values, dtype=object).astype(str).astype(object),
            dtype=h5py.string_dtype("utf-8"),
            track_order=True,
        )
        ds.attrs["wavekit_dtype"] = _STR
    else:
        ds = group.create_dataset(name, data=values, track_order=True, **kw)
    ds.attrs["dims"] = ",".join(str(d) for d in var.dims)
    _write_attrs(ds, var.attrs)
    return ds


def _read_array(ds: Any) -> tuple[tuple[str, ...], np.ndarray, dict]:
    dims = tuple(d for d in str(_decode(ds.attrs["dims"])).split(",") if d)
    if _decode(ds.attrs.get("wavekit_dtype", "")) == _STR:
        values = np.asarray(ds.asstr()[()], dtype=str)
    else:
        values = ds[()]
    return dims, values, _read_attrs(ds, skip=("dims", "wavekit_dtype"))


def _time_chunks(shape: tuple[int, ...], itemsize: int, time_axis: int) -> tuple[int, ...]:
    """About 1 MiB chunks holding whole frames (space complete) and a run of time steps."""
    frame = int(np.prod(shape[time_axis + 1 :])) * itemsize
    nt = max(1, min(shape[time_axis], (1 << 20) // max(frame, 1)))
    return tuple(1 if i < time_axis else nt if i == time_axis else s for i, s in enumerate(shape))


def save(
    activity: xr.DataArray,
    path: str | os.PathLike,
    *,
    ground_truth: xr.Dataset | None = None,
    compression: int = 4,
) -> Path:
    """Write activity (and optional ground truth) in wavekit's HDF5 layout, atomically.

    The file is written under a temporary name in the same folder and renamed when complete, so
    an interrupted write never leaves a file that looks finished.

    Parameters
    ----------
    activity : xarray.DataArray
        Activity in the data model (dask-backed arrays are written chunk by chunk).
    path : path-like
        Output ``.h5`` file; replaced if it exists.
    ground_truth : xarray.Dataset, optional
        Per-time-step truth of a simulation (pattern, direction_deg, speed_mm_per_s, ...).
    compression : int
        gzip level 0-9 (0 for none).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import h5py

    from .._version import __version__
    from ..model import validate_activity

    validate_activity(activity)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    time_axis = activity.dims.index("time")
    chunks = _time_chunks(activity.shape, activity.dtype.itemsize, time_axis)
    comp = (
        {"compression": "gzip", "compression_opts": compression, "shuffle": True}
        if compression
        else {}
    )
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["wavekit_format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["wavekit_version"] = __version__
            ds = f.create_dataset(
                "activity",
                shape=activity.shape,
                dtype=activity.dtype,
                chunks=chunks,
                track_order=True,
                **comp,
            )
            data = activity.data
            if hasattr(data, "compute"):
                import dask.array as dsa

                dsa.store(data, ds, lock=True)
            else:
                ds[...] = data
            ds.attrs["dims"] = ",".join(activity.dims)
            ds.attrs["name"] = "" if activity.name is None else str(activity.name)
            _write_attrs(ds, activity.attrs)
            cg = f.create_group("coords")
            for name, coord in activity.coords.items():
                _write_array(cg, str(name), coord.variable)
            if ground_truth is not None:
                write_dataset(f.create_group("ground_truth", track_order=True), ground_truth)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read(path: Path, ov: Overrides, h5file: Any) -> Found:
    """Read a file in wavekit's own layout (already open as ``h5file``)."""
    notes = [f"wavekit HDF5 layout version {int(h5file.attrs.get('format_version', 0))}"]
    if int(h5file.attrs.get("format_version", 0)) > FORMAT_VERSION:
        raise InputError(
            path,
            "written by a newer wavekit (format version "
            f"{int(h5file.attrs['format_version'])}): upgrade wavekit",
        )
    if "activity" not in h5file:
        raise InputError(path, "wavekit file without an 'activity' dataset: the file is damaged")
    ds = h5file["activity"]
    dims = tuple(str(_decode(ds.attrs["dims"])).split(","))
    attrs = _read_attrs(ds, skip=("dims", "name"))
    name = str(_decode(ds.attrs.get("name", "activity"))) or None
    coords = {}
    for cname, cds in h5file["coords"].items():
        cdims, values, cattrs = _read_array(cds)
        coords[cname] = xr.Variable(cdims, values, attrs=cattrs)
    data = maybe_lazy(ds, ov, notes)
    da = xr.DataArray(data, dims=dims, coords=coords, name=name, attrs=attrs)
    if ov.fs_hz is not None:
        notes.append(
            f"sampling rate {ov.fs_hz:g} Hz given by --fs (the file says "
            f"{float(attrs.get('fs_hz', float('nan'))):g} Hz)"
        )
        t = da["time"].values
        da = da.assign_coords(time=("time", t[0] + np.arange(t.size) / ov.fs_hz, da["time"].attrs))
        da.attrs["fs_hz"] = ov.fs_hz
    if ov.units is not None:
        da.attrs["units"] = ov.units
    if "ground_truth" in h5file:
        notes.append("ground truth of a simulation is stored (wavekit.load_ground_truth)")
    da = choose_layout(da, ov, path, notes) if ov.layout != "auto" else da
    return Found(activity=da, format="wavekit", dataset="activity", notes=notes)


def load_ground_truth(path: str | os.PathLike) -> xr.Dataset | None:
    """The ground truth stored by ``wavekit simulate`` in a wavekit file, or None if absent."""
    from . import _open_h5

    with _open_h5(Path(path)) as f:
        if not is_native(f):
            raise InputError(path, "not a wavekit HDF5 file: no ground truth to read")
        if "ground_truth" not in f:
            return None
        return read_dataset(f["ground_truth"])


def write_dataset(group: Any, ds: xr.Dataset) -> None:
    """Store an ``xarray.Dataset`` in an HDF5 group: one dataset per variable (attr ``dims``),
    coordinates under ``coords/``, the Dataset's attrs on the group."""
    _write_attrs(group, ds.attrs)
    for name, var in ds.data_vars.items():
        _write_array(group, str(name), var.variable)
    gc = group.create_group("coords", track_order=True)
    for name, coord in ds.coords.items():
        _write_array(gc, str(name), coord.variable)


def read_dataset(group: Any) -> xr.Dataset:
    """Read back what :func:`write_dataset` stored."""
    import h5py

    data_vars = {}
    for name, obj in group.items():
        if isinstance(obj, h5py.Dataset):
            dims, values, attrs = _read_array(obj)
            data_vars[name] = xr.Variable(dims, values, attrs=attrs)
    coords = {}
    if "coords" in group:
        for name, obj in group["coords"].items():
            dims, values, attrs = _read_array(obj)
            coords[name] = xr.Variable(dims, values, attrs=attrs)
    return xr.Dataset(data_vars, coords=coords, attrs=_read_attrs(group))
