"""MATLAB ``.mat`` files: v4/v5/v7 through SciPy, v7.3 (HDF5 inside) through h5py.

Arrays are seen as MATLAB shows them. MATLAB stores arrays column-major, so h5py sees a v7.3
variable with its axes reversed (a ``rows x cols x time`` cube appears as ``time x cols x rows``);
the reader reverses them back, so ``--dims`` and the shape-based guesses always refer to the
MATLAB view (``--dims y,x,time`` for a ``rows x cols x time`` cube). Axes of length 1 are dropped
(MATLAB has no 1-D arrays) unless ``--dims`` names them.

What is looked for (names are case-insensitive; fields of scalar structures are seen as
``struct.field`` and also match by their own name):

* the activity: ``--dataset NAME``, else a variable named ``activity``, else the largest
  numeric variable with 2-4 non-singleton dims: ``samples x channels`` (with positions) or a
  ``rows x cols x time`` cube;
* the sampling rate: a scalar ``fs``/``Fs``/``srate``/``sampling_rate``/``rate``/``fps``, or a
  period ``dt``, or a time vector ``t``/``time`` as long as one axis; else ``--fs``;
* positions: ``position``/``positions``/``xy``/``electrode_positions`` (n x 2 or 2 x n, mm; or
  ``*_um`` names in micrometres), matched to the data by their channel count, or
  ``--positions NAME_OR_FILE``;
* grid spacing for cubes: ``spacing_mm``/``pitch_mm``/``dx_mm`` (``dy_mm``) or ``*_um``;
* a ``dims`` string (``'time,y,x'``) and a ``units`` string.

Cell arrays, structure arrays, sparse and complex variables are listed but never chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import Found, Overrides, maybe_lazy
from .arrays import Var, assemble_named

_NUMERIC_CLASSES = {
    "double",
    "single",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "logical",
}


def _is_v73(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(128)
        fh.seek(512)
        sig = fh.read(8)
    return head.startswith(b"MATLAB 7.3") or sig == b"\x89HDF\r\n\x1a\n"


# ----------------------------------------------------------------------------- v4 / v5 / v7


def _walk_v5(prefix: str, value: Any, out: dict[str, Var], skipped: list[str]) -> None:
    import scipy.sparse

    if scipy.sparse.issparse(value):
        skipped.append(f"{prefix} (sparse)")
        return
    if not isinstance(value, np.ndarray):
        skipped.append(prefix)
        return
    if value.dtype.names:  # structure
        if value.size == 1:
            rec = value.reshape(-1)[0]
            for field in value.dtype.names:
                _walk_v5(f"{prefix}.{field}", rec[field], out, skipped)
        else:
            skipped.append(f"{prefix} (structure array)")
        return
    if value.dtype.kind == "U":
        text = "".join(str(s) for s in value.reshape(-1))
        out[prefix] = Var(prefix, tuple(value.shape), value.dtype, lambda v=value: v, text)
        return
    if value.dtype.kind == "O":
        skipped.append(f"{prefix} (cell array)")
        return
    out[prefix] = Var(prefix, tuple(value.shape), value.dtype, lambda v=value: v)


def _read_v5(path: Path, ov: Overrides, notes: list[str]) -> Found:
    import scipy.io

    try:
        mat = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True, chars_as_strings=True)
    except NotImplementedError as exc:  # v7.3 written without the usual header
        raise InputError(path, f"cannot read this MATLAB file ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any parse failure is a damaged user file
        raise InputError(
            path,
            f"damaged or truncated MATLAB file ({type(exc).__name__}: "
            f"{exc}); re-save it in MATLAB with save -v7",
        ) from None
    variables: dict[str, Var] = {}
    skipped: list[str] = []
    for name, value in mat.items():
        if name.startswith("__"):
            continue
        _walk_v5(name, value, variables, skipped)
    notes.append(f"MATLAB v5 file, variables: {_listing(variables, skipped)}")
    return assemble_named(path, ov, variables, fmt="matlab", notes=notes)


# ----------------------------------------------------------------------------- v7.3 (HDF5)


def _cls(obj: Any) -> str:
    v = obj.attrs.get("MATLAB_class", b"")
    return v.decode() if isinstance(v, bytes) else str(v)


def _walk_v73(
    group: Any,
    prefix: str,
    ov: Overrides,
    notes: list[str],
    out: dict[str, Var],
    skipped: list[str],
) -> None:
    import h5py

    for key in group:
        if key.startswith("#"):  # #refs# (cell contents), #subsystem# (objects)
            continue
        obj = group[key]
        name = f"{prefix}{key}"
        if isinstance(obj, h5py.Group):
            if _cls(obj) in ("struct", ""):
                _walk_v73(obj, name + ".", ov, notes, out, skipped)
            else:
                skipped.append(f"{name} ({_cls(obj)})")
            continue
        cls = _cls(obj)
        shape = tuple(int(s) for s in reversed(obj.shape or ()))
        if obj.attrs.get("MATLAB_empty", 0):
            out[name] = Var(name, (0,), np.dtype(float), lambda: np.zeros(0))
            continue
        if cls == "char":
            codes = np.asarray(obj[()]).T.reshape(-1)
            text = "".join(chr(int(c)) for c in codes)
            out[name] = Var(name, shape, np.dtype("U1"), lambda t=text: np.asarray(t), text)
            continue
        if cls in ("cell", "function_handle") or obj.dtype.kind in "OV":
            skipped.append(f"{name} ({cls or obj.dtype})")
            continue
        if cls and cls not in _NUMERIC_CLASSES:
            skipped.append(f"{name} ({cls})")
            continue
        out[name] = Var(name, shape, obj.dtype, lambda ds=obj: _get_v73(ds, ov, notes))


def _get_v73(ds: Any, ov: Overrides, notes: list[str]) -> Any:
    """The variable as MATLAB shows it: axes reversed (lazily for large ones)."""
    data = ds[()] if ds.size <= 16 else maybe_lazy(ds, ov, notes)
    return data.T


def _read_v73(path: Path, ov: Overrides, notes: list[str]) -> Found:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, f"damaged or truncated MATLAB v7.3 file ({exc})") from None
    found = None
    try:
        variables: dict[str, Var] = {}
        skipped: list[str] = []
        _walk_v73(f, "", ov, notes, variables, skipped)
        notes.append(
            f"MATLAB v7.3 (HDF5) file, variables: {_listing(variables, skipped)}; "
            "axes reversed to MATLAB's view (column-major storage)"
        )
        found = assemble_named(path, ov, variables, fmt="matlab", notes=notes)
        return found
    finally:
        if found is None or not hasattr(found.activity.data, "compute"):
            f.close()  # a lazy array keeps reading from the open file


def _listing(variables: dict[str, Var], skipped: list[str]) -> str:
    parts = [
        f"{v.name} ({'x'.join(map(str, v.shape))}{' text' if v.text is not None else ''})"
        for v in list(variables.values())[:12]
    ]
    if len(variables) > 12:
        parts.append(f"... {len(variables) - 12} more")
    if skipped:
        parts.append("not usable: " + ", ".join(skipped[:6]))
    return ", ".join(parts) or "none"


def read(path: Path, ov: Overrides) -> Found:
    """Read a MATLAB file (see the module docstring)."""
    notes: list[str] = []
    if _is_v73(path):
        return _read_v73(path, ov, notes)
    return _read_v5(path, ov, notes)
