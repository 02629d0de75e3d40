"""NumPy files: ``.npy`` (one array) and ``.npz`` (named arrays), read without pickle.

``.npy``
    The array is the activity; a ``.npy`` file carries no metadata, so the sampling rate (``--fs``)
    and the spacing (``--spacing-mm``) or electrode positions (``--positions``) must be given.
    Large files (over 1 GiB, or ``lazy=True``) are memory-mapped and wrapped as dask arrays.
``.npz``
    The activity is ``--dataset`` when given, else the entry named ``activity``, else the
    largest numeric entry with 2-4 dims. Small entries supply the metadata, looked up by name
    (case-insensitive): sampling rate ``fs``/``fs_hz``/``sampling_rate``/``srate``/``rate``/
    ``fps`` (or a period ``dt``), else a time vector ``time``/``t``/``timestamps`` as long as one
    axis; spacing ``spacing_mm``/``pitch_mm``/``dx_mm`` (``dy_mm``) or ``*_um``; positions
    ``positions``/``position``/``electrode_positions``/``xy`` (n x 2, mm); a ``dims`` string
    (``"time,y,x"``); a ``units`` string.

The same name-based search serves MATLAB files (:mod:`wavekit.io.matlab`), whose variables are
looked up exactly like ``.npz`` entries.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import (
    DIM_ALIASES,
    DT_ATTRS,
    FS_ATTRS,
    LAZY_BYTES,
    Found,
    Overrides,
    assemble,
    lookup,
    positions_from_array,
    spacing_from_attrs,
)

#: extra names (beyond _common.FS_ATTRS) that hold a sampling rate in Hz
FS_NAMES = FS_ATTRS + (
    "samplingrate",
    "sampling_frequency",
    "sfreq",
    "fsample",
    "srate_hz",
    "sampling_rate_hz",
    "fs_hz",
)
POSITION_NAMES = (
    "positions",
    "position",
    "electrode_positions",
    "electrode_xy",
    "xy",
    "pos",
    "channel_positions",
    "coords",
    "elec_pos",
    "epos",
)
POSITION_UM_NAMES = ("positions_um", "position_um", "electrode_positions_um", "xy_um")
TIME_NAMES = ("time", "times", "t", "timestamps", "tvec", "time_s")
DATA_NAMES = ("activity",)


@dataclass
class Var:
    """One named array of a file, as its own tool shows it (``get`` reads it)."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    get: Callable[[], Any]
    text: str | None = None  # character data (MATLAB char, NumPy str)

    @property
    def numeric(self) -> bool:
        return self.text is None and np.dtype(self.dtype).kind in "iufb"

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def effective_ndim(self) -> int:
        """Axes longer than 1 (MATLAB makes every vector 2-D)."""
        return sum(1 for s in self.shape if s > 1)


def parse_dims(text: str) -> tuple[str, ...]:
    """``"Time, Rows, Cols"`` -> ``("time", "y", "x")`` (aliases mapped, unknown names kept)."""
    parts = [s.strip().lower() for s in text.replace(";", ",").replace(" ", ",").split(",")]
    return tuple(DIM_ALIASES.get(p, p) for p in parts if p)


def _leaf(name: str) -> str:
    return name.replace("/", ".").split(".")[-1]


def _describe(v: Var) -> str:
    kind = "text" if v.text is not None else str(np.dtype(v.dtype))
    return f"{v.name} {'x'.join(str(s) for s in v.shape) or 'scalar'} {kind}"


def _norm(name: str) -> str:
    return name.strip().strip("/").replace("/", ".")


def choose(
    path: Path, ov: Overrides, variables: dict[str, Var], notes: list[str], word: str = "variable"
) -> Var:
    """The activity array: ``--dataset``, else a conventional name, else the largest."""
    if ov.dataset is not None:
        want = _norm(ov.dataset)
        hits = [v for k, v in variables.items() if _norm(k) == want]
        if not hits:
            hits = [v for k, v in variables.items() if _norm(k).lower() == want.lower()]
        if not hits:
            listing = ", ".join(list(variables)[:10]) or "none"
            raise InputError(path, f"--dataset {ov.dataset}: no such {word} ({word}s: {listing})")
        v = hits[0]
        if not v.numeric:
            raise InputError(
                path,
                f"{word} {v.name} is not numeric ({_describe(v)}): choose a "
                "numeric array with --dataset",
            )
        notes.append(f"{word} {v.name}: given by --dataset")
        return v
    cands = [v for v in variables.values() if v.numeric and 2 <= v.effective_ndim <= 4]
    if not cands:
        listing = "; ".join(_describe(v) for v in list(variables.values())[:6])
        listing = listing or f"the file has no {word}s"
        numeric = [v for v in variables.values() if v.numeric]
        if any(v.effective_ndim == 1 for v in numeric):
            problem = f"only 1-D numeric {word}s (activity needs time and space)"
        elif any(v.size == 0 for v in numeric):
            problem = f"the numeric {word}s are empty"
        elif numeric:
            problem = f"only scalar numeric {word}s"
        elif variables:
            problem = f"no numeric {word} (only text, cells or structures)"
        else:
            problem = f"no {word}s at all"
        raise InputError(path, f"{problem} ({listing}): point --dataset at the activity array")
    cands.sort(key=lambda v: v.size, reverse=True)
    named = [v for v in cands if _leaf(v.name).lower() in DATA_NAMES]
    if named:
        v, why = named[0], f"named {_leaf(named[0].name)!r} (wavekit's name for activity)"
    else:
        v, why = cands[0], "the largest numeric array with 2-4 dims"
    others = [c.name for c in cands if c is not v][:4]
    if others:
        why += f" (others: {', '.join(others)}; choose with --dataset)"
    notes.append(f"{word} {v.name} {'x'.join(map(str, v.shape))}: {why}")
    return v


def _metadata(variables: dict[str, Var], chosen: Var) -> dict[str, Any]:
    """Small numeric arrays and text, by full name and (when unambiguous) by leaf name."""
    meta: dict[str, Any] = {}
    for k, v in variables.items():
        if v is chosen:
            continue
        if v.text is not None:
            val: Any = v.text
        elif v.numeric and 0 < v.size <= 3:
            val = np.asarray(v.get()).reshape(-1)
            val = val[0].item() if val.size == 1 else val
        else:
            continue
        meta[k] = val
        meta.setdefault(_leaf(k), val)
    return meta


def _find(variables: dict[str, Var], names: tuple[str, ...], exclude: Var) -> Var | None:
    by_leaf: dict[str, Var] = {}
    for k, v in variables.items():
        if v is not exclude and v.numeric:
            by_leaf.setdefault(_leaf(k).lower(), v)
    for n in names:
        if n in by_leaf:
            return by_leaf[n]
    return None


def _squeeze(data: Any, shape: tuple[int, ...], notes: list[str]) -> tuple[Any, tuple[int, ...]]:
    keep = [i for i, s in enumerate(shape) if s > 1]
    if len(keep) == len(shape) or len(keep) < 2:
        return data, shape
    notes.append(f"singleton axes of shape {shape} dropped")
    new = tuple(shape[i] for i in keep)
    return data.reshape(new), new


def assemble_named(
    path: Path,
    ov: Overrides,
    variables: dict[str, Var],
    *,
    fmt: str,
    notes: list[str],
    word: str = "variable",
) -> Found:
    """Choose the activity among named arrays, find its metadata by name, and assemble it."""
    v = choose(path, ov, variables, notes, word)
    meta = _metadata(variables, v)
    shape = v.shape
    kw: dict[str, Any] = {}

    hit = lookup(meta, ("dims", "dim_names", "dimensions", "axes"))
    if hit is not None and isinstance(hit[1], str) and ov.dims is None:
        dims = parse_dims(hit[1])
        if len(dims) == len([s for s in shape if s > 1]) or len(dims) == len(shape):
            kw.update(dims=dims, dims_reason=f"the {word} {hit[0]!r}")
        else:
            notes.append(f"{word} {hit[0]!r} = {hit[1]!r} ignored: it does not fit shape {shape}")

    hit = lookup(meta, FS_NAMES)
    if hit is not None and np.size(hit[1]) == 1:
        kw.update(fs_hz=float(np.asarray(hit[1], dtype=float)), fs_reason=f"the {word} {hit[0]!r}")
    else:
        hit = lookup(meta, DT_ATTRS)
        if hit is not None and np.size(hit[1]) == 1 and float(hit[1]) > 0:
            kw.update(
                fs_hz=1.0 / float(hit[1]),
                fs_reason=f"the {word} {hit[0]!r} (sampling interval in s)",
            )
        else:
            tv = _find(variables, TIME_NAMES, v)
            if tv is not None and tv.effective_ndim == 1 and tv.size in shape and tv.size > 1:
                t = np.asarray(tv.get(), dtype=float).reshape(-1)
                dt = float(np.median(np.diff(t)))
                if np.isfinite(dt) and dt > 0:
                    kw.update(
                        fs_hz=1.0 / dt,
                        fs_reason=f"median step of the {word} {tv.name} (assumed seconds)",
                        t0_s=float(t[0]),
                    )

    sp = spacing_from_attrs(meta)
    if sp is not None:
        kw.update(spacing_mm=sp[0], spacing_reason=f"the {word} " + sp[1].split(" ", 1)[1])
    hit = lookup(meta, ("units", "unit"))
    if hit is not None and isinstance(hit[1], str):
        kw["units"] = hit[1]

    _positions(path, ov, variables, v, shape, kw, notes, word)

    data = v.get()
    want = ov.dims or kw.get("dims")
    if want is None or len(want) < len(shape):
        data, shape = _squeeze(data, shape, notes)
    da = assemble(data, path=path, ov=ov, notes=notes, **kw)
    return Found(activity=da, format=fmt, dataset=v.name, notes=notes)


def _positions(
    path: Path,
    ov: Overrides,
    variables: dict[str, Var],
    v: Var,
    shape: tuple[int, ...],
    kw: dict[str, Any],
    notes: list[str],
    word: str,
) -> None:
    """Electrode positions among the named arrays (``--positions NAME`` selects one)."""
    pv, scale, reason = None, 1.0, ""
    if ov.positions is not None:
        hits = [w for k, w in variables.items() if _norm(k) == _norm(ov.positions)]
        if not hits:
            return  # a file path: assemble reads it
        pv, reason = hits[0], f"the {word} {hits[0].name} (given by --positions)"
    else:
        pv = _find(variables, POSITION_NAMES, v)
        if pv is not None:
            reason = f"the {word} {pv.name} (taken as mm)"
        else:
            pv = _find(variables, POSITION_UM_NAMES, v)
            if pv is not None:
                scale, reason = 1e-3, f"the {word} {pv.name} (micrometres converted to mm)"
    if pv is None or not pv.numeric or len(pv.shape) != 2:
        return
    dims = ov.dims or kw.get("dims")
    big = tuple(s for s in shape if s > 1)
    if dims is not None:
        if "channel" not in dims:
            return
        n = (shape if len(dims) == len(shape) else big)[dims.index("channel")]
    else:
        matches = [s for s in big if s in pv.shape]
        if len(big) != 2 or not matches:
            notes.append(
                f"{word} {pv.name} {pv.shape} does not match the data's channels: positions ignored"
            )
            return
        n = matches[0] if len(matches) == 1 or big.count(matches[0]) == 1 else matches[-1]
    x, y = positions_from_array(pv.get(), int(n), path)
    kw.update(x_mm=x * scale, y_mm=y * scale, positions_reason=reason)


# ----------------------------------------------------------------------------- NumPy files


def _npy(path: Path, ov: Overrides, notes: list[str]) -> Found:
    try:
        mm = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise InputError(
                path, "holds Python objects (pickled), not numbers: save a numeric array"
            ) from None
        raise InputError(path, f"damaged or truncated .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise InputError(path, f"damaged or truncated .npy file ({exc})") from None
    if mm.dtype.kind not in "iufb":
        raise InputError(path, f"array has non-numeric dtype {mm.dtype}: save numbers")
    nbytes = int(mm.nbytes)
    lazy = ov.lazy if ov.lazy is not None else nbytes > LAZY_BYTES
    if lazy:
        import dask.array as dsa

        data = dsa.from_array(mm, chunks="auto")
        notes.append(f"memory-mapped lazily ({nbytes / 2**20:.0f} MiB)")
    else:
        data = np.array(mm)
    notes.append(
        f"array {'x'.join(map(str, mm.shape))} {mm.dtype}: a .npy file holds one array "
        "and no metadata (give --fs, --spacing-mm or --positions)"
    )
    if ov.dataset is not None:
        notes.append(f"--dataset {ov.dataset} ignored: a .npy file holds a single array")
    shape = tuple(mm.shape)
    if ov.dims is None or len(ov.dims) < len(shape):
        data, shape = _squeeze(data, shape, notes)
    da = assemble(data, path=path, ov=ov, notes=notes)
    return Found(activity=da, format="numpy", dataset=None, notes=notes)


def _npz(path: Path, ov: Overrides, notes: list[str]) -> Found:
    try:
        z = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(path, f"damaged or truncated .npz file ({exc})") from None
    if not hasattr(z, "files"):
        z = {"arr_0": z}  # np.load of a .npy misnamed .npz
        names = ["arr_0"]
    else:
        names = list(z.files)
    variables: dict[str, Var] = {}
    try:
        for name in names:
            arr = z[name]
            text = None
            if arr.dtype.kind in "US" and arr.size == 1:
                text = str(
                    arr.reshape(-1)[0].decode() if arr.dtype.kind == "S" else arr.reshape(-1)[0]
                )
            variables[name] = Var(name, tuple(arr.shape), arr.dtype, (lambda a=arr: a), text)
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise InputError(
                path,
                f"entry {name!r} holds Python objects (pickled): wavekit "
                "reads numeric arrays and strings only",
            ) from None
        raise InputError(path, f"damaged or truncated .npz file ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(path, f"damaged or truncated .npz file ({exc})") from None
    finally:
        if hasattr(z, "close"):
            z.close()
    notes.append(f".npz entries: {', '.join(_describe(v) for v in variables.values())}")
    return assemble_named(path, ov, variables, fmt="numpy", notes=notes, word="entry")


def read(path: Path, ov: Overrides) -> Found:
    """Read a ``.npy`` or ``.npz`` file (see the module docstring)."""
    notes: list[str] = []
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head.startswith(b"\x93NUMPY"):
        return _npy(path, ov, notes)
    if head.startswith(b"PK"):
        return _npz(path, ov, notes)
    raise InputError(path, "not a NumPy .npy/.npz file (no NumPy or zip signature)")
