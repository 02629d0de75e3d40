"""``wavekit analyze FILE --out DIR``: the job users come for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _options as o
from ._app import app


@app.command()
def analyze(
    file: Annotated[
        Path, typer.Argument(help="Recording (any format wavekit info reads).", show_default=False)
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder.", rich_help_panel=o.OUTPUT)
    ] = None,
    band: o.Band = None,
    phase: o.Phase = None,
    stages: o.Stages = None,
    seed: o.Seed = None,
    surrogates: o.Surrogates = None,
    polarity: o.Polarity = None,
    trigger: o.Trigger = None,
    notch_hz: o.NotchHz = None,
    config: o.ConfigFile = None,
    plots: o.Plots = None,
    fig_format: o.FigFormat = None,
    fields: o.Fields = None,
    movie: o.Movie = None,
    movie_format: o.MovieFormat = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the report on standard output.", rich_help_panel=o.OUTPUT
        ),
    ] = False,
    quiet: o.Quiet = False,
    verbose: o.Verbose = False,
    dataset: o.Dataset = None,
    dims: o.Dims = None,
    fs: o.Fs = None,
    spacing_mm: o.SpacingMm = None,
    positions: o.Positions = None,
    bin_ms: o.BinMs = None,
    layout: o.Layout = "auto",
    units: o.Units = None,
) -> None:
    """Measure the waves in a recording: direction, speed, wavelength, patterns, events.

    Writes report.json (last, when everything else is complete), events.csv, frames.h5 and
    figures to --out, and fields.h5 and a movie when asked; --json prints the report.
    Progress goes to standard error on a terminal; --verbose adds each stage and its timing.

    Example: wavekit analyze sample_data/plane_grid.h5 --out results/ --movie
    """
    import json
    import sys

    from ..errors import UsageError
    from ..pipeline.analyze import analyze_file
    from ..pipeline.batch import local_dask
    from ..pipeline.progress import show_progress, verbose_to_stderr, wants_progress

    if out is None and not json_out:
        raise UsageError("give --out DIR, or --json to print the report")
    if quiet and verbose:
        raise UsageError("give --quiet or --verbose, not both")
    if out is None and (fields or movie or movie_format):
        raise UsageError("--fields and --movie write files: give --out DIR")
    cfg = o.analysis_config(locals())
    with verbose_to_stderr(verbose), show_progress(wants_progress(quiet)), local_dask():
        report = analyze_file(file, out, config=cfg)
    if json_out:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        sys.stdout.write(_one_line(file, out, report) + "\n")


def _one_line(file: Path, out: Path | None, report: dict) -> str:
    fs = report["flow_structure"]
    d = fs.get("dominant_direction_deg")
    sp = (fs.get("speed_mm_per_s") or {}).get("median")
    direction = "-" if d is None else f"{d:.1f}"
    speed = "-" if sp is None else f"{sp:.4g}"
    waves = ""
    if fs.get("n_activation_waves") is not None:
        waves = f", {fs['n_significant_activation_waves']} significant trigger waves"
        fsp = (fs.get("front_speed_mm_per_s") or {}).get("median")
        if fsp is not None:
            waves += f" ({fsp:.4g} mm/s)"
    return (
        f"{file}: direction {direction} deg, speed {speed} mm/s, "
        f"{len(report['events'])} events{waves} -> {out}/report.json"
    )
