"""``wavekit info FILE...``: what wavekit finds in each input, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _options as o
from ._app import app


@app.command()
def info(
    files: Annotated[
        list[Path], typer.Argument(help="Input files or frame folders.", show_default=False)
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per input, one per line.")
    ] = False,
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
    """Say what each input holds: dataset, dims, sampling rate, layout, duration, bad channels.

    Every guess is explained and can be overridden with the reading options.

    Example: wavekit info sample_data/plane_grid.h5 --json | jq .fs_hz
    """
    import json
    import sys

    from ..errors import EXIT_INPUT, InputError
    from ..io.describe import describe
    from ._report import error_line

    ov = o.reader_overrides(dataset, dims, fs, spacing_mm, positions, bin_ms, layout, units, lazy)
    failed = 0
    for path in files:
        try:
            d = describe(path, **ov)
        except InputError as exc:
            error_line(exc)
            failed += 1
            continue
        if json_out:
            sys.stdout.write(json.dumps(d) + "\n")
        else:
            sys.stdout.write(_human(d) + "\n")
        sys.stdout.flush()
    if failed:
        raise typer.Exit(EXIT_INPUT)


def _human(d: dict) -> str:
    lines = [f"{d['path']}"]
    lines.append(
        f"  format      {d['format']}" + (f", dataset {d['dataset']}" if d["dataset"] else "")
    )
    dims = " x ".join(f"{n}={s}" for n, s in zip(d["dims"], d["shape"], strict=True))
    lines.append(f"  dims        {dims}  ({d['dtype']}{', ' + d['units'] if d['units'] else ''})")
    lines.append(f"  sampling    {d['fs_hz']:g} Hz, duration {d['duration_s']:g} s")
    if d["layout"] == "grid":
        dy, dx = d["spacing_mm"]
        lines.append(
            f"  layout      grid, pitch dy={dy:g} mm dx={dx:g} mm, {d['n_channels']} sites"
        )
    else:
        lines.append(f"  layout      irregular, {d['n_channels']} channels")
    ex = d["extent_mm"]
    lines.append(
        f"  extent      x {ex['x'][0]:g}..{ex['x'][1]:g} mm, y {ex['y'][0]:g}..{ex['y'][1]:g} mm"
    )
    bad = d.get("bad_channels")
    if bad is not None:

        def fmt(v: list) -> str:
            shown = ", ".join(str(b) for b in v[:8]) + (" ..." if len(v) > 8 else "")
            return f"{len(v)}" + (f" ({shown})" if v else "")

        lines.append(f"  bad         NaN-only {fmt(bad['nan'])}; flat {fmt(bad['flat'])}")
    if d["ground_truth"]:
        lines.append("  truth       ground truth of a simulation is stored")
    lines.append("  why:")
    lines.extend(f"    - {n}" for n in d["notes"])
    return "\n".join(lines)
