"""What every reader shares: the user's overrides, and turning a raw array into activity.

A reader finds a numeric array and whatever metadata the file offers (dims, sampling rate,
spacing, positions, units) and hands them to :func:`assemble`, which applies the user's overrides,
infers what is still unknown (saying why in ``notes``), checks the result, and builds the
DataArray of the data model. Readers never build DataArrays themselves, so every format obeys the
same rules and gives the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from ..errors import InputError
from ..model import detect_grid, grid_activity, irregular_activity, to_grid, to_irregular

#: arrays larger than this are opened lazily (dask) unless ``lazy`` says otherwise
LAZY_BYTES = 1 << 30

#: attribute names (lower-cased) that hold a sampling rate in Hz, and ones that hold a period in s
FS_ATTRS = (
    "fs_hz",
    "fs",
    "sampling_rate",
    "sampling_rate_hz",
    "samplerate",
    "sample_rate",
    "srate",
    "rate",
    "frame_rate",
    "framerate",
    "fps",
)
DT_ATTRS = ("dt", "dt_s", "sampling_interval", "sampling_period", "frame_interval")
#: attribute names that hold a grid pitch in mm (scalars or (dy, dx) pairs), and in micrometres
SPACING_MM_ATTRS = ("spacing_mm", "pitch_mm", "dx_mm", "pixel_size_mm", "spacing")
SPACING_UM_ATTRS = ("spacing_um", "pitch_um", "dx_um", "pixel_size_um")
UNITS_ATTRS = ("units", "unit")

KNOWN_DIMS = ("trial", "time", "y", "x", "channel")

#: axis names as files spell them (lower case) -> wavekit's dims
DIM_ALIASES = {
    "t": "time",
    "times": "time",
    "frame": "time",
    "frames": "time",
    "sample": "time",
    "samples": "time",
    "row": "y",
    "rows": "y",
    "height": "y",
    "col": "x",
    "cols": "x",
    "column": "x",
    "columns": "x",
    "width": "x",
    "channels": "channel",
    "electrode": "channel",
    "electrodes": "channel",
    "chan": "channel",
    "trials": "trial",
}

#: length units as files spell them (lower case) -> millimetres
LENGTH_MM = {
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), 1.0),
    **dict.fromkeys(
        (
            "um",
            "\u00b5m",
            "\u03bcm",
            "micron",
            "microns",
            "micrometer",
            "micrometers",
            "micrometre",
            "micrometres",
        ),
        1e-3,
    ),
    **dict.fromkeys(("nm", "nanometer", "nanometers", "nanometre", "nanometres"), 1e-6),
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), 10.0),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), 1e3),
}


@dataclass
class Overrides:
    """What the user says about a file, overriding anything wavekit would infer.

    ``dims`` name the axes of the array as the file's own tool shows it (for example
    ``("y", "x", "time")`` for a MATLAB rows x cols x time cube, whatever its storage order).
    """

    dataset: str | None = None
    dims: tuple[str, ...] | None = None
    fs_hz: float | None = None
    spacing_mm: tuple[float, float] | None = None  # (dy, dx)
    positions: str | None = None
    bin_ms: float | None = None
    layout: Literal["auto", "grid", "irregular"] = "auto"
    units: str | None = None
    lazy: bool | None = None

    @classmethod
    def from_kwargs(cls, path: object, kwargs: dict[str, Any]) -> Overrides:
        """Build from ``load(path, **kwargs)`` keywords, checking each one."""
        kw = dict(kwargs)
        if "fs" in kw:
            kw["fs_hz"] = kw.pop("fs")
        unknown = set(kw) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown load option(s): {', '.join(sorted(unknown))}")
        ov = cls(**{k: v for k, v in kw.items() if v is not None})
        if isinstance(ov.dims, str):
            ov.dims = tuple(d.strip() for d in ov.dims.split(",") if d.strip())
        if ov.dims is not None:
            ov.dims = tuple(str(d).strip().lower() for d in ov.dims)
            bad = [d for d in ov.dims if d not in KNOWN_DIMS]
            if bad or len(set(ov.dims)) != len(ov.dims):
                raise InputError(
                    path,
                    f"--dims {','.join(ov.dims)} is not valid: name each axis once, "
                    f"from {', '.join(KNOWN_DIMS)}",
                )
        if ov.spacing_mm is not None:
            sp = np.atleast_1d(np.asarray(ov.spacing_mm, dtype=float)).ravel()
            if sp.size not in (1, 2) or not np.all(np.isfinite(sp)) or np.any(sp <= 0):
                raise InputError(
                    path,
                    f"--spacing-mm {ov.spacing_mm} must be one or two (dy dx) "
                    "positive numbers of mm",
                )
            ov.spacing_mm = (float(sp[0]), float(sp[-1]))
        if ov.fs_hz is not None:
            fs = float(ov.fs_hz)
            if not np.isfinite(fs) or fs <= 0:
                raise InputError(path, f"--fs {ov.fs_hz} must be a positive number of Hz")
            ov.fs_hz = fs
        if ov.bin_ms is not None and not float(ov.bin_ms) > 0:
            raise InputError(path, f"--bin-ms {ov.bin_ms} must be a positive number of ms")
        if ov.layout not in ("auto", "grid", "irregular"):
            raise InputError(path, f"--layout {ov.layout!r} must be auto, grid or irregular")
        return ov


@dataclass
class Found:
    """A reader's result: the activity, and what was found and why (for ``wavekit info``)."""

    activity: xr.DataArray
    format: str
    dataset: str | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- small helpers


def _plain(v: Any) -> Any:
    """HDF5/MATLAB attribute value -> Python scalar/str/array."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "SO" and v.size == 1:
            return _plain(v.reshape(-1)[0])
        if v.size == 1 and v.dtype.kind in "iuf":
            return v.reshape(-1)[0].item()
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def lookup(attrs: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    """First ``(name, value)`` in ``attrs`` whose lower-cased key is in ``names``."""
    lowered = {str(k).lower(): (k, v) for k, v in attrs.items()}
    for n in names:
        if n in lowered:
            key, v = lowered[n]
            return str(key), _plain(v)
    return None


def fs_from_attrs(attrs: dict[str, Any]) -> tuple[float, str] | None:
    """Sampling rate in Hz from common attribute names, with the reason."""
    hit = lookup(attrs, FS_ATTRS)
    if hit is not None:
        try:
            return float(np.asarray(hit[1], dtype=float).reshape(-1)[0]), f"attribute {hit[0]!r}"
        except (TypeError, ValueError):
            pass
    hit = lookup(attrs, DT_ATTRS)
    if hit is not None:
        try:
            dt = float(np.asarray(hit[1], dtype=float).reshape(-1)[0])
            if dt > 0:
                return 1.0 / dt, f"attribute {hit[0]!r} (sampling interval in s)"
        except (TypeError, ValueError):
            pass
    return None


def spacing_from_attrs(attrs: dict[str, Any]) -> tuple[tuple[float, float], str] | None:
    """Grid pitch ``(dy, dx)`` in mm from common attribute names, with the reason."""
    for names, scale, unit in ((SPACING_MM_ATTRS, 1.0, "mm"), (SPACING_UM_ATTRS, 1e-3, "um")):
        hit = lookup(attrs, names)
        if hit is None:
            continue
        try:
            sp = np.atleast_1d(np.asarray(hit[1], dtype=float)).ravel() * scale
        except (TypeError, ValueError):
            continue
        if sp.size in (1, 2) and np.all(sp > 0):
            if "dy_mm" in {str(k).lower() for k in attrs} and sp.size == 1:
                dy = float(_plain(attrs[next(k for k in attrs if str(k).lower() == "dy_mm")]))
                return (dy, float(sp[0])), f"attributes 'dy_mm', {hit[0]!r}"
            return (float(sp[0]), float(sp[-1])), f"attribute {hit[0]!r} ({unit})"
    return None


def units_from_attrs(attrs: dict[str, Any]) -> str | None:
    hit = lookup(attrs, UNITS_ATTRS)
    return None if hit is None else str(hit[1])


def read_positions(spec: str, n: int, path: object) -> tuple[np.ndarray, np.ndarray, str]:
    """Electrode positions (mm) from a text/CSV or ``.npy`` file with ``n`` rows of x, y.

    Text files may have a header line and either two columns (x, y) or three (channel, x, y).
    """
    p = Path(spec)
    if not p.exists():
        raise InputError(path, f"--positions {spec}: no such file (or dataset in this file)")
    try:
        if p.suffix.lower() == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            delim = "," if p.suffix.lower() == ".csv" else None
            try:
                arr = np.loadtxt(p, delimiter=delim, ndmin=2)
            except ValueError:
                arr = np.loadtxt(p, delimiter=delim, ndmin=2, skiprows=1)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
        raise InputError(p, f"cannot read electrode positions: {exc}") from None
    return positions_from_array(arr, n, p) + (f"positions from {p}",)


def positions_from_array(arr: Any, n: int, path: object) -> tuple[np.ndarray, np.ndarray]:
    """Split an ``(n, 2)``, ``(2, n)`` or ``(n, 3)`` (channel, x, y) array into x and y."""
    a = np.asarray(arr, dtype=float)
    if a.ndim == 2 and a.shape[0] == n and a.shape[1] in (2, 3):
        a = a[:, -2:]
    elif a.ndim == 2 and a.shape == (2, n):
        a = a.T
    else:
        raise InputError(path, f"positions have shape {a.shape}; expected ({n}, 2) x, y in mm")
    if not np.isfinite(a).all():
        raise InputError(path, "positions contain NaN or infinite values")
    return a[:, 0].copy(), a[:, 1].copy()


# ----------------------------------------------------------------------------- dims inference


def infer_dims(shape: tuple[int, ...], *, n_positions: int | None = None) -> tuple[tuple, str]:
    """Guess the dims of a stored array, returning them with the reason."""
    nd = len(shape)
    if nd == 2:
        if n_positions is not None and shape.count(n_positions) == 1:
            dims = ("time", "channel") if shape[1] == n_positions else ("channel", "time")
            return dims, f"the axis of length {n_positions} matches the electrode positions"
        dims = ("time", "channel") if shape[0] >= shape[1] else ("channel", "time")
        return dims, "2-D: the longer axis taken as time"
    if nd == 3:
        a, b, c = shape
        if b == c and a != b:
            return ("time", "y", "x"), "3-D: the first axis differs from two equal ones: time"
        if a == b and c != a:
            return ("y", "x", "time"), "3-D: the last axis differs from two equal ones: time"
        t = int(np.argmax(shape))
        dims = [d for d in ("y", "x")]
        dims.insert(t, "time")
        return tuple(dims), f"3-D: the longest axis ({t}) taken as time"
    raise ValueError(nd)


def _transpose(data: Any, order: list[int]) -> Any:
    if order == list(range(len(order))):
        return data
    return data.transpose(order) if hasattr(data, "compute") else np.transpose(data, order)


def assemble(
    data: Any,
    *,
    path: object,
    ov: Overrides,
    notes: list[str],
    dims: tuple[str, ...] | None = None,
    dims_reason: str = "",
    fs_hz: float | None = None,
    fs_reason: str = "",
    spacing_mm: tuple[float, float] | None = None,
    spacing_reason: str = "",
    x_mm: Any = None,
    y_mm: Any = None,
    positions_reason: str = "",
    channel: Any = None,
    grid_x_mm: Any = None,
    grid_y_mm: Any = None,
    units: str | None = None,
    t0_s: float = 0.0,
    attrs: dict | None = None,
) -> xr.DataArray:
    """Turn a raw numeric array (NumPy, h5py-backed dask, ...) into activity.

    Applies, in order: the user's overrides, the reader's metadata, then inference. Appends a
    note saying where each of dims, sampling rate, spacing/positions and layout came from.

    Raises
    ------
    InputError
        Empty, 1-D, non-numeric or NaN-only data; dims that do not fit the shape; no sampling
        rate; no spacing for a grid; no positions for a channel layout.
    """
    shape = tuple(int(s) for s in data.shape)
    dtype = np.dtype(data.dtype)
    if dtype.kind not in "iufb" or dtype.kind == "c":
        raise InputError(path, f"data has non-numeric dtype {dtype}: choose a numeric dataset")
    if dtype.kind == "b":
        data = data.astype(np.uint8)
    if 0 in shape:
        raise InputError(path, f"dataset is empty (shape {shape})")
    if len(shape) < 2:
        raise InputError(
            path,
            f"data is {len(shape)}-D (shape {shape}): activity needs time and space "
            "(time x channels, or time x rows x columns)",
        )
    n_pos = None if x_mm is None else int(np.size(x_mm))
    if ov.dims is not None:
        dims, dims_reason = ov.dims, "given by --dims"
    elif dims is None:
        if len(shape) > 3:
            raise InputError(
                path,
                f"{len(shape)}-D data (shape {shape}): name the axes with "
                "--dims, e.g. trial,time,y,x",
            )
        dims, dims_reason = infer_dims(shape, n_positions=n_pos)
    if len(dims) != len(shape):
        raise InputError(
            path, f"dims {','.join(dims)} do not fit the data's {len(shape)}-D shape {shape}"
        )
    space = {d for d in dims if d in ("x", "y", "channel")}
    if "time" not in dims or space not in ({"x", "y"}, {"channel"}):
        raise InputError(
            path,
            f"dims {','.join(dims)} must contain time and either y,x or channel (optionally trial)",
        )
    notes.append(f"dims {','.join(dims)} (shape {shape}): {dims_reason}")
    target = (("trial",) if "trial" in dims else ()) + (
        ("time", "y", "x") if "x" in dims else ("time", "channel")
    )
    data = _transpose(data, [dims.index(d) for d in target])

    if ov.fs_hz is not None:
        fs_hz, fs_reason = ov.fs_hz, "given by --fs"
    if fs_hz is None:
        raise InputError(
            path,
            "no sampling rate found (looked for attributes such as fs, "
            "sampling_rate, rate, dt): pass --fs HZ",
        )
    notes.append(f"sampling rate {fs_hz:g} Hz: {fs_reason}")
    if ov.units is not None:
        units = ov.units

    all_attrs = dict(attrs or {})
    is_lazy = hasattr(data, "compute")
    if not is_lazy:
        floating = np.asarray(data, dtype=np.float64) if dtype.kind != "f" else data
        if np.isnan(floating).all():
            raise InputError(path, "every sample is NaN: there is no signal to analyse")

    if "x" in target:
        if ov.spacing_mm is not None:
            spacing_mm, spacing_reason = ov.spacing_mm, "given by --spacing-mm"
        if spacing_mm is not None:
            dy, dx = spacing_mm
            ny, nx = data.shape[-2:]
            gx, gy = np.arange(nx) * dx, np.arange(ny) * dy
            notes.append(f"grid {ny} x {nx}, pitch dy={dy:g} mm, dx={dx:g} mm: {spacing_reason}")
        elif grid_x_mm is not None and grid_y_mm is not None:
            gx, gy = np.asarray(grid_x_mm, float), np.asarray(grid_y_mm, float)
            notes.append(f"grid coordinates in mm: {spacing_reason or 'from the file'}")
        else:
            raise InputError(
                path,
                "no grid spacing found (looked for attributes such as "
                "spacing_mm, pitch_mm, dx_mm): pass --spacing-mm MM",
            )
        da = grid_activity(
            data, fs_hz=fs_hz, x_mm=gx, y_mm=gy, t0_s=t0_s, units=units or "", attrs=all_attrs
        )
    else:
        n = data.shape[-1]
        if ov.positions is not None and x_mm is None:
            x_mm, y_mm, positions_reason = read_positions(ov.positions, n, path)
        if x_mm is None:
            raise InputError(
                path,
                f"{n} channels but no electrode positions: pass --positions "
                "FILE (x, y in mm per channel), or --dims with y,x for a grid",
            )
        if np.size(x_mm) != n:
            raise InputError(path, f"{n} channels but {np.size(x_mm)} electrode positions")
        notes.append(f"{n} channels at positions in mm: {positions_reason}")
        da = irregular_activity(
            data,
            fs_hz=fs_hz,
            x_mm=x_mm,
            y_mm=y_mm,
            channel=channel,
            t0_s=t0_s,
            units=units or "",
            attrs=all_attrs,
        )
    return choose_layout(da, ov, path, notes)


def choose_layout(da: xr.DataArray, ov: Overrides, path: object, notes: list[str]) -> xr.DataArray:
    """Apply ``--layout``: auto offers the grid view when positions lie on a lattice."""
    if "channel" in da.dims and ov.layout in ("auto", "grid"):
        spec = detect_grid(da["x"].values, da["y"].values)
        if spec is not None:
            notes.append(
                f"positions lie on a {spec.ny} x {spec.nx} grid at dy={spec.dy:g} mm, "
                f"dx={spec.dx:g} mm with {spec.n_holes} empty site(s) (NaN): using the grid "
                "layout (--layout irregular keeps channels)"
            )
            return to_grid(da, spec)
        if ov.layout == "grid":
            raise InputError(
                path, "--layout grid: the electrode positions do not lie on a regular grid"
            )
        notes.append("positions are not on a regular grid: irregular layout")
    elif "channel" not in da.dims and ov.layout == "irregular":
        notes.append("grid flattened to channels (--layout irregular)")
        return to_irregular(da)
    return da


def maybe_lazy(dataset: Any, ov: Overrides, notes: list[str]) -> Any:
    """Wrap an h5py-like dataset as a dask array when large (or asked), else read it."""
    nbytes = int(np.prod(dataset.shape)) * np.dtype(dataset.dtype).itemsize
    lazy = ov.lazy if ov.lazy is not None else nbytes > LAZY_BYTES
    if not lazy:
        return dataset[()]
    import dask.array as dsa

    chunks = getattr(dataset, "chunks", None) or "auto"
    notes.append(f"opened lazily ({nbytes / 2**20:.0f} MiB): read chunk by chunk when used")
    return dsa.from_array(dataset, chunks=chunks, lock=True)
