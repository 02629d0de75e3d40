"""``wavekit convert FILE --out OUT.h5``: any readable input to wavekit's HDF5 layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _options as o
from ._app import app


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="Input file or frame folder.", show_default=False)],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output .h5 file (wavekit layout).", show_default=False),
    ],
    compression: Annotated[int, typer.Option(min=0, max=9, help="gzip level (0: none).")] = 4,
    dataset: o.Dataset = None,
    dims: o.Dims = None,
    fs: o.Fs = None,
    spacing_mm: o.SpacingMm = None,
    positions: o.Positions = None,
    bin_ms: o.BinMs = None,
    layout: o.Layout = "auto",
    units: o.Units = None,
    lazy: o.Lazy = None,
) -> None:
    """Convert an input to wavekit's HDF5 layout (docs/format.md), written atomically.

    Prints one JSON line describing the written file.

    Example: wavekit convert heart_frames/ --fs 1000 --spacing-mm 0.21875 --out heart.h5
    """
    import json
    import sys

    from ..io import load, save

    ov = o.reader_overrides(dataset, dims, fs, spacing_mm, positions, bin_ms, layout, units, lazy)
    activity = load(file, **ov)
    save(activity, out, compression=compression)
    sys.stdout.write(
        json.dumps(
            {
                "input": str(file),
                "output": str(out),
                "dims": list(activity.dims),
                "shape": [int(s) for s in activity.shape],
                "fs_hz": float(activity.attrs["fs_hz"]),
            }
        )
        + "\n"
    )
