"""Readers and writers: every file format in, one data model out.

:func:`load` is the one entry point. It recognises the format (by content where it can, by the
file name otherwise), hands the file to that format's reader, and returns activity in the data
model of :mod:`wavekit.model`. :func:`open_activity` returns the same plus what was found and
why, which ``wavekit info`` prints. Any file that cannot be used raises
:class:`~wavekit.errors.InputError` with one line naming the file and the problem.

This package knows nothing of analysis, plots or the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import InputError, WavekitError
from ._common import Found, Overrides

__all__ = ["load", "open_activity", "save", "load_ground_truth", "detect_format", "Found"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: format name -> "module:function" of its reader; HDF5-based readers get the open file too
_READERS = {
    "wavekit": "native",
    "hdf5": "hdf5",
    "nwb": "nwb",
    "matlab": "matlab",
    "numpy": "arrays",
    "xarray": "xrfiles",
    "tiff": "images",
    "frames": "images",
    "spikes": "spikes",
}
_SUFFIXES = {
    ".npy": "numpy",
    ".npz": "numpy",
    ".mat": "matlab",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".nc": "xarray",
    ".nc4": "xarray",
    ".cdf": "xarray",
    ".netcdf": "xarray",
    ".zarr": "xarray",
}


def _hdf5_offset(path: Path) -> int | None:
    """Offset of the HDF5 signature (0, or 512/1024/... after a user block), or None."""
    try:
        with open(path, "rb") as fh:
            for off in (0, 512, 1024, 2048, 4096):
                fh.seek(off)
                if fh.read(8) == HDF5_MAGIC:
                    return off
    except OSError:
        return None
    return None


def _open_h5(path: Path) -> Any:
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(
            path, f"cannot open as HDF5 ({exc}); the file may be truncated or not HDF5"
        ) from None


def _classify_h5(f: Any) -> str:
    import h5py

    from .native import is_native

    if is_native(f):
        return "wavekit"
    if "nwb_version" in f.attrs or ("acquisition" in f and "general" in f):
        return "nwb"
    if "_NCProperties" in f.attrs:
        return "xarray"
    if "spikes" in f and ("epos" in f or "sCount" in f):
        return "spikes"
    if (
        "spikes" in f
        and isinstance(f["spikes"], h5py.Group)
        and ("positions" in f or "unit_positions" in f)
    ):
        return "spikes"
    return "hdf5"


def detect_format(path: str | os.PathLike) -> str:
    """Name of the reader for ``path``: wavekit, hdf5, nwb, matlab, numpy, xarray, tiff, frames
    or spikes.

    Raises
    ------
    InputError
        If the path does not exist or its format is not recognised.

    Examples
    --------
    The format is recognised by content (signatures), not only by name:

    >>> import os, tempfile, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "rec.npy"), np.zeros((10, 3)))
    >>> detect_format(os.path.join(folder, "rec.npy"))
    'numpy'
    >>> os.rename(os.path.join(folder, "rec.npy"), os.path.join(folder, "rec.h5"))
    >>> detect_format(os.path.join(folder, "rec.h5"))
    'numpy'
    >>> detect_format(os.path.join(folder, "missing.h5"))
    Traceback (most recent call last):
    ...
    wavekit.errors.InputError: .../missing.h5: no such file or folder
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file or folder")
    if p.is_dir():
        zarr_marks = (".zgroup", ".zarray", "zarr.json", ".zattrs")
        if p.suffix.lower() == ".zarr" or any((p / m).exists() for m in zarr_marks):
            return "xarray"
        return "frames"
    suffix = p.suffix.lower()
    if suffix == ".png":
        raise InputError(p, "a single PNG frame: pass the folder of numbered frames instead")
    if p.stat().st_size == 0:
        raise InputError(p, "the file is empty (0 bytes)")
    with open(p, "rb") as fh:
        head = fh.read(128)
    if head.startswith(b"MATLAB 7.3") or (head.startswith(b"MATLAB") and suffix == ".mat"):
        return "matlab"
    if head.startswith(b"\x93NUMPY") or head.startswith(b"PK\x03\x04") and suffix == ".npz":
        return "numpy"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"CDF\x01") or head.startswith(b"CDF\x02"):
        return "xarray"
    if _hdf5_offset(p) is not None:
        with _open_h5(p) as f:
            return _classify_h5(f)
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in (".h5", ".hdf5", ".hdf", ".nwb"):
        raise InputError(
            p, "not an HDF5 file (no HDF5 signature): it may be truncated or mis-named"
        )
    raise InputError(
        p,
        "unrecognised file format: wavekit reads HDF5, NWB, MATLAB, .npy/.npz, "
        "Zarr/netCDF, TIFF stacks and folders of PNG frames",
    )


def open_activity(path: str | os.PathLike, **overrides: Any) -> Found:
    """Read ``path`` and say what was found and why.

    Parameters
    ----------
    path : path-like
        A file or folder in any supported format.
    **overrides
        ``dataset``, ``dims`` (e.g. ``"time,y,x"``), ``fs`` / ``fs_hz``, ``spacing_mm`` (one value
        or ``(dy, dx)``), ``positions`` (file or dataset with x, y in mm), ``bin_ms`` (spike
        trains), ``layout`` (``"auto"``, ``"grid"``, ``"irregular"``), ``units``, ``lazy``.

    Returns
    -------
    Found
        ``activity`` (the DataArray), ``format``, ``dataset`` and ``notes`` (one line per decision).

    Examples
    --------
    A plain HDF5 file holding only an array: the sampling rate and the pitch are given, the
    rest is inferred, and ``notes`` says which is which (as ``wavekit info`` prints it).

    >>> import numpy as np, h5py, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "lfp.h5")
    >>> with h5py.File(path, "w") as f:
    ...     f["lfp"] = np.zeros((1000, 8, 8), dtype="float32")
    >>> found = open_activity(path, fs=1000.0, spacing_mm=0.4)
    >>> found.format, found.dataset, found.activity.dims
    ('hdf5', '/lfp', ('time', 'y', 'x'))
    >>> for note in found.notes:
    ...     print(note)
    dataset /lfp: the largest numeric dataset with 2-4 dims
    dims time,y,x (shape (1000, 8, 8)): 3-D: the first axis differs from two equal ones: time
    sampling rate 1000 Hz: given by --fs
    grid 8 x 8, pitch dy=0.4 mm, dx=0.4 mm: given by --spacing-mm
    """
    import importlib

    p = Path(path)
    ov = Overrides.from_kwargs(p, overrides)
    fmt = detect_format(p)
    module = importlib.import_module(f"{__name__}.{_READERS[fmt]}")
    try:
        if fmt in ("wavekit", "hdf5", "nwb", "spikes"):
            f = _open_h5(p)
            found = None
            try:
                found = module.read(p, ov, f)
            finally:
                if not _is_lazy(found):  # a lazy array reads from the open file later
                    f.close()
        else:
            found = module.read(p, ov)
    except WavekitError:
        raise
    except MemoryError:
        raise InputError(p, "too large to read into memory: pass lazy=True (--lazy)") from None
    except Exception as exc:  # noqa: BLE001 - a file we cannot parse is the user's input problem
        raise InputError(p, f"cannot be read as {fmt}: {type(exc).__name__}: {exc}") from None
    found.activity.encoding["source"] = str(p)
    found.activity.encoding["wavekit_format"] = found.format
    return found


def _is_lazy(found: Found | None) -> bool:
    return found is not None and hasattr(found.activity.data, "compute")


def load(path: str | os.PathLike, **overrides: Any) -> xr.DataArray:
    """Read activity from any supported file into wavekit's data model.

    Parameters
    ----------
    path : path-like
        HDF5 (wavekit's layout or generic), NWB, MATLAB v5/v7.3, ``.npy``/``.npz``, Zarr, netCDF,
        multi-page TIFF, a folder of numbered PNG frames, or a spike-train HDF5 file.
    **overrides
        See :func:`open_activity`; each replaces what wavekit would infer.

    Returns
    -------
    xarray.DataArray
        ``activity`` with dims ``(time, y, x)`` or ``(time, channel)``; dask-backed when the data
        are larger than 1 GiB or ``lazy=True``.

    Raises
    ------
    wavekit.errors.InputError
        The file is missing, unreadable, or not usable as activity; the message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> import wavekit
    >>> a = wavekit.grid_activity(np.random.default_rng(0).normal(size=(50, 4, 5)),
    ...                           fs_hz=250.0, dx_mm=0.4)
    >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
    >>> b = wavekit.load(wavekit.save(a, path))
    >>> b.identical(a)
    True
    """
    return open_activity(path, **overrides).activity


def save(
    activity: xr.DataArray,
    path: str | os.PathLike,
    *,
    ground_truth: xr.Dataset | None = None,
    compression: int = 4,
) -> Path:
    """Write activity in wavekit's HDF5 layout (see :func:`wavekit.io.native.save`).

    The file is written under a temporary name and renamed when complete; the path written is
    returned. A simulation's ``ground_truth`` is stored with it (:func:`load_ground_truth`).

    Examples
    --------
    >>> import os, tempfile
    >>> from wavekit.simulate import simulate
    >>> activity, truth = simulate("plane", direction_deg=30.0, duration_s=0.5)
    >>> path = save(activity, os.path.join(tempfile.mkdtemp(), "plane.h5"), ground_truth=truth)
    >>> path.name, load(path).identical(activity)
    ('plane.h5', True)
    """
    from .native import save as _save

    return _save(activity, path, ground_truth=ground_truth, compression=compression)


def load_ground_truth(path: str | os.PathLike) -> xr.Dataset | None:
    """Ground truth stored with a simulation, or None (see :mod:`wavekit.io.native`).

    Raises :class:`~wavekit.errors.InputError` for a file that is not in wavekit's layout.

    Examples
    --------
    >>> import os, tempfile
    >>> from wavekit.simulate import simulate
    >>> activity, truth = simulate("plane", direction_deg=30.0, speed_mm_per_s=150.0)
    >>> folder = tempfile.mkdtemp()
    >>> gt = load_ground_truth(save(activity, os.path.join(folder, "a.h5"), ground_truth=truth))
    >>> str(gt.pattern.values[0]), float(gt.direction_deg[0]), float(gt.speed_mm_per_s[0])
    ('plane', 30.0, 150.0)
    >>> load_ground_truth(save(activity, os.path.join(folder, "b.h5"))) is None   # no truth
    True
    """
    from .native import load_ground_truth as _lgt

    return _lgt(path)
