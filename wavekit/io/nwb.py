"""Neurodata Without Borders (NWB 2.x) files, read with h5py alone (no pynwb at run time).

Series considered (searched under ``/acquisition`` and ``/processing``, at any depth):

* ``ElectricalSeries`` (and LFP/filtered series built on it): ``data`` is ``time x channels``;
  the channels are the rows of the electrodes table (``/general/extracellular_ephys/electrodes``)
  that the series' ``electrodes`` region points to. Positions are the table's ``rel_x``/``rel_y``
  columns (position within the electrode group, i.e. on the array or probe) when present and
  not all zero, else its ``x``/``y`` columns (brain coordinates). The NWB schema documents both
  in micrometres ("Units should be specified in microns"), so they are divided by 1000; a
  ``unit``/``units`` attribute on a column, when present, is honoured instead.
* imaging series (``ImageSeries``, ``TwoPhotonSeries``, ``OnePhotonSeries``): ``data`` is
  ``time x width x height`` as the NWB schema specifies (``frame, x, y``), i.e. dims
  ``time,x,y``; files written ``time x height x width`` need ``--dims time,y,x``. The pixel
  pitch comes from the imaging plane's ``grid_spacing`` (x, y; in its ``unit``, default
  metres), else from the series' ``field_of_view`` (width, height in metres) divided by the
  frame size, else ``--spacing-mm``. Series whose frames live in external files are refused.

With several series the largest (most samples) is read and the others are listed; ``--dataset``
selects one by name (``lfp``) or path (``/acquisition/lfp`` or ``/acquisition/lfp/data``).

Sampling: ``starting_time`` with its ``rate`` attribute (t0 = ``starting_time``), else the median
step of ``timestamps``. Samples are scaled to ``unit`` as NWB says: ``data * conversion +
offset`` (times ``channel_conversion`` per channel when present), lazily for large series.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import LENGTH_MM, Found, Overrides, _plain, assemble, maybe_lazy

EPHYS_TYPES = ("ElectricalSeries", "SpikeEventSeries")
IMAGE_TYPES = ("ImageSeries", "TwoPhotonSeries", "OnePhotonSeries", "ImageMaskSeries")
ELECTRODES = "/general/extracellular_ephys/electrodes"


def _ntype(obj: Any) -> str:
    return str(_plain(obj.attrs.get("neurodata_type", "")))


def _series(f: Any) -> list[Any]:
    """Every ephys or imaging series group under /acquisition and /processing."""
    import h5py

    out: list[Any] = []

    def visit(_name: str, obj: Any) -> None:
        if (
            isinstance(obj, h5py.Group)
            and _ntype(obj) in EPHYS_TYPES + IMAGE_TYPES
            and "data" in obj
            and isinstance(obj["data"], h5py.Dataset)
        ):
            out.append(obj)

    for top in ("acquisition", "processing"):
        if top in f and isinstance(f[top], h5py.Group):
            f[top].visititems(visit)
    return out


def _size(g: Any) -> int:
    return int(np.prod(g["data"].shape)) if g["data"].shape else 0


def _choose(path: Path, f: Any, ov: Overrides, notes: list[str]) -> Any:
    series = _series(f)
    if ov.dataset is not None:
        want = "/" + ov.dataset.strip("/")
        if want.endswith("/data"):
            want = want[: -len("/data")]
        hits = [g for g in series if g.name == want] or [
            g for g in series if g.name.split("/")[-1] == want.strip("/")
        ]
        if not hits:
            listing = ", ".join(g.name for g in series) or "none"
            raise InputError(
                path,
                f"--dataset {ov.dataset}: no such electrical or imaging series (series: {listing})",
            )
        notes.append(f"series {hits[0].name} ({_ntype(hits[0])}): given by --dataset")
        return hits[0]
    if not series:
        raise InputError(
            path,
            "NWB file without an ElectricalSeries or imaging series under "
            "/acquisition or /processing: nothing wavekit can analyse",
        )
    series.sort(key=_size, reverse=True)
    g = series[0]
    why = "the largest series"
    if len(series) > 1:
        why += f" (others: {', '.join(s.name for s in series[1:5])}; choose with --dataset)"
    notes.append(
        f"series {g.name} ({_ntype(g)}, data {'x'.join(map(str, g['data'].shape))}): {why}"
    )
    return g


def _timing(path: Path, g: Any, notes: list[str]) -> dict[str, Any]:
    if "starting_time" in g:
        st = g["starting_time"]
        rate = _plain(st.attrs.get("rate"))
        if rate is not None:
            return {
                "fs_hz": float(rate),
                "fs_reason": f"{st.name} attribute 'rate'",
                "t0_s": float(st[()]),
            }
    if "timestamps" in g:
        ts = g["timestamps"]
        n = min(ts.shape[0], 100_000)
        t = np.asarray(ts[:n], dtype=float)
        if t.size > 1:
            d = np.diff(t)
            dt = float(np.median(d))
            if dt > 0:
                if np.max(np.abs(d - dt)) > 0.01 * dt:
                    notes.append(
                        f"timestamps are irregular (steps {d.min():g}-{d.max():g} s): "
                        "treated as regular at their median step"
                    )
                return {
                    "fs_hz": 1.0 / dt,
                    "fs_reason": f"median step of {ts.name}",
                    "t0_s": float(t[0]),
                }
    return {}


def _scale(g: Any, data: Any, notes: list[str]) -> tuple[Any, str | None]:
    ds = g["data"]
    conv = float(_plain(ds.attrs.get("conversion", 1.0)))
    offset = float(_plain(ds.attrs.get("offset", 0.0)))
    unit = _plain(ds.attrs.get("unit"))
    unit = str(unit) if unit is not None else None
    cc = None
    if "channel_conversion" in g:
        cc = np.asarray(g["channel_conversion"][()], dtype=float).reshape(-1)
        if cc.size != ds.shape[-1] or np.all(cc == 1):
            cc = None
    if conv != 1.0 or offset != 0.0 or cc is not None:
        factor = conv if cc is None else conv * cc
        data = data * factor + offset if offset else data * factor
        notes.append(
            f"samples scaled to {unit or 'the series unit'}: data x conversion "
            f"{conv:g}"
            + (" x channel_conversion" if cc is not None else "")
            + (f" + offset {offset:g}" if offset else "")
        )
    return data, unit


def _column(table: Any, name: str, rows: np.ndarray) -> tuple[np.ndarray, float, str] | None:
    if name not in table:
        return None
    col = table[name]
    vals = np.asarray(col[()], dtype=float).reshape(-1)
    if vals.size <= int(rows.max(initial=0)):
        return None
    unit = _plain(col.attrs.get("unit", col.attrs.get("units")))
    if unit is not None and str(unit).strip().lower() in LENGTH_MM:
        return vals[rows], LENGTH_MM[str(unit).strip().lower()], f"unit attribute {unit!r}"
    return vals[rows], 1e-3, "micrometres as the NWB schema specifies"


def _electrodes(path: Path, f: Any, g: Any, ov: Overrides, n: int) -> dict[str, Any]:
    if ov.positions is not None:
        return {}  # assemble reads --positions
    if "electrodes" not in g:
        raise InputError(path, f"{g.name} has no electrodes region: pass --positions FILE")
    region = g["electrodes"]
    rows = np.asarray(region[()], dtype=np.int64).reshape(-1)
    table = None
    ref = region.attrs.get("table")
    if ref is not None:
        try:
            table = f[ref]
        except (TypeError, ValueError, KeyError):
            table = None
    if table is None and ELECTRODES in f:
        table = f[ELECTRODES]
    if table is None:
        raise InputError(
            path,
            "no electrodes table (/general/extracellular_ephys/electrodes): pass --positions FILE",
        )
    if rows.size != n:
        raise InputError(
            path,
            f"{g.name} has {n} channels but its electrodes region lists "
            f"{rows.size}: the file is inconsistent",
        )
    for xn, yn in (("rel_x", "rel_y"), ("x", "y")):
        cx, cy = _column(table, xn, rows), _column(table, yn, rows)
        if cx is None or cy is None:
            continue
        x, y = cx[0] * cx[1], cy[0] * cy[1]
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            continue
        if xn == "rel_x" and not (np.any(x != 0) or np.any(y != 0)):
            continue  # rel_x/rel_y present but unused (all zero)
        if np.unique(np.column_stack([x, y]), axis=0).shape[0] < n:
            continue  # several channels at one place: not a usable layout
        labels = np.asarray(table["id"][()])[rows] if "id" in table else rows
        return {
            "x_mm": x,
            "y_mm": y,
            "channel": labels,
            "positions_reason": f"electrodes table columns {xn}, {yn} ({cx[2]})",
        }
    raise InputError(
        path,
        "the electrodes table has no usable x, y (or rel_x, rel_y) "
        "positions (missing, NaN or shared): pass --positions FILE",
    )


def _imaging_spacing(g: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    import h5py

    plane = g.get("imaging_plane")
    if isinstance(plane, h5py.Group) and "grid_spacing" in plane:
        gs_ds = plane["grid_spacing"]
        gs = np.asarray(gs_ds[()], dtype=float).reshape(-1)
        unit = str(_plain(gs_ds.attrs.get("unit", "meters"))).strip().lower()
        if gs.size >= 2 and unit in LENGTH_MM and np.all(gs[:2] > 0):
            s = LENGTH_MM[unit]
            return {
                "spacing_mm": (gs[1] * s, gs[0] * s),
                "spacing_reason": f"{gs_ds.name} (x, y in {unit})",
            }
    if "field_of_view" in g:
        fov = np.asarray(g["field_of_view"][()], dtype=float).reshape(-1)
        if fov.size >= 2 and np.all(fov[:2] > 0) and len(shape) == 3:
            nx, ny = shape[1], shape[2]  # data is time x width x height
            return {
                "spacing_mm": (fov[1] * 1e3 / ny, fov[0] * 1e3 / nx),
                "spacing_reason": f"{g.name}/field_of_view (width, height in m) / frame size",
            }
    return {}


def read(path: Path, ov: Overrides, f: Any) -> Found:
    """Read the chosen series of an open NWB file."""
    notes: list[str] = []
    version = _plain(f.attrs.get("nwb_version", "?"))
    notes.append(f"NWB {version}")
    g = _choose(path, f, ov, notes)
    ds = g["data"]
    shape = tuple(int(s) for s in ds.shape)
    if 0 in shape:
        if "external_file" in g:
            raise InputError(
                path,
                f"{g.name} keeps its frames in external file(s) "
                f"({_plain(g['external_file'][0])}): open those files instead",
            )
        raise InputError(path, f"{g.name} has no samples (data shape {shape})")
    kw: dict[str, Any] = _timing(path, g, notes)
    imaging = _ntype(g) in IMAGE_TYPES
    if imaging:
        if len(shape) == 3:
            kw.update(
                dims=("time", "x", "y"),
                dims_reason="NWB imaging data are time x width "
                "x height (--dims time,y,x if this file stores rows first)",
            )
        if ov.spacing_mm is None:
            kw.update(_imaging_spacing(g, shape))
    else:
        if len(shape) == 2:
            kw.update(
                dims=("time", "channel"),
                dims_reason="NWB ElectricalSeries data are time x channels",
            )
            kw.update(_electrodes(path, f, g, ov, shape[1]))
    data = maybe_lazy(ds, ov, notes)
    data, unit = _scale(g, data, notes)
    if unit:
        kw["units"] = unit
    da = assemble(data, path=path, ov=ov, notes=notes, **kw)
    return Found(activity=da, format="nwb", dataset=g.name, notes=notes)
