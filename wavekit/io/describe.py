"""What ``wavekit info`` reports about an input: what was found, and why."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from ..model import bad_channels, layout, spacing_mm
from . import open_activity


def describe(path: str | os.PathLike, *, check_channels: bool = True, **overrides: Any) -> dict:
    """Summarise an input file as a JSON-ready dict.

    Parameters
    ----------
    path : path-like
        Any file :func:`wavekit.load` reads.
    check_channels : bool
        Scan the samples for NaN-only and flat channels (streams chunk by chunk for lazy data).
    **overrides
        Reader overrides, as for :func:`wavekit.load`.

    Returns
    -------
    dict
        ``path``, ``format``, ``dataset``, ``dims``, ``shape``, ``dtype``, ``fs_hz``,
        ``duration_s``, ``layout``, ``n_channels``, ``spacing_mm`` (grids: ``[dy, dx]``),
        ``extent_mm``, ``units``, ``bad_channels`` (``nan`` and ``flat`` lists), ``lazy``,
        ``ground_truth`` (whether a simulation's truth is stored) and ``notes`` (the reasons).

    Examples
    --------
    >>> import numpy as np, tempfile, os, wavekit
    >>> a = wavekit.grid_activity(np.ones((10, 3, 3)), fs_hz=100.0, dx_mm=0.5)
    >>> d = describe(wavekit.save(a, os.path.join(tempfile.mkdtemp(), "a.h5")))
    >>> d["layout"], d["fs_hz"], d["duration_s"], d["bad_channels"]["flat"][:2]
    ('grid', 100.0, 0.1, [[0, 0], [0, 1]])
    """
    found = open_activity(path, **overrides)
    a = found.activity
    info: dict[str, Any] = {
        "path": str(path),
        "format": found.format,
        "dataset": found.dataset,
        **summarize(a),
        "ground_truth": any("ground truth" in n for n in found.notes),
        "notes": list(found.notes),
    }
    info["duration_s"] = round(info["duration_s"], 9)
    if check_channels:
        bad = bad_channels(a)
        if len(bad["nan"]) == info["n_channels"]:
            from ..errors import InputError

            raise InputError(path, "every sample is NaN: there is no signal to analyse")
        info["bad_channels"] = bad
    return info


def summarize(a: xr.DataArray) -> dict[str, Any]:
    """What a DataArray in the data model is: dims, shape, dtype, sampling, layout, channels,
    spacing and extent in mm, units, and whether it is read lazily (no sample is read)."""
    fs = float(a.attrs["fs_hz"])
    lay = layout(a)
    x = a["x"].values
    y = a["y"].values
    return {
        "dims": list(a.dims),
        "shape": [int(s) for s in a.shape],
        "dtype": str(a.dtype),
        "fs_hz": fs,
        "duration_s": a.sizes["time"] / fs,
        "layout": lay,
        "n_channels": int(
            a.sizes["channel"] if lay == "irregular" else a.sizes["y"] * a.sizes["x"]
        ),
        "spacing_mm": list(spacing_mm(a)) if lay == "grid" else None,
        "extent_mm": {
            "x": [float(np.min(x)), float(np.max(x))],
            "y": [float(np.min(y)), float(np.max(y))],
        },
        "units": a.attrs.get("units", ""),
        "lazy": hasattr(a.data, "compute"),
    }
