"""``wavekit batch INPUTS... --out DIR``: many recordings, safe to kill and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _options as o
from ._app import app

BATCH = "Batch"


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Recordings, glob patterns, folders, list files (.txt), or - for paths on "
            "standard input.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (one sub-folder per input, plus summary.csv).",
            rich_help_panel=o.OUTPUT,
        ),
    ],
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Parallel processes.", rich_help_panel=BATCH)
    ] = 1,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Skip inputs whose report is complete and current.",
            rich_help_panel=BATCH,
        ),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="tcp://HOST:PORT",
            help="Run on a Dask distributed cluster "
            "(inputs and --out must be visible to its workers).",
            rich_help_panel=BATCH,
        ),
    ] = None,
    quiet: o.Quiet = False,
    verbose: o.Verbose = False,
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
    dataset: o.Dataset = None,
    dims: o.Dims = None,
    fs: o.Fs = None,
    spacing_mm: o.SpacingMm = None,
    positions: o.Positions = None,
    bin_ms: o.BinMs = None,
    layout: o.Layout = "auto",
    units: o.Units = None,
) -> None:
    """Analyse many recordings; print one JSON line per finished input; write summary.csv.

    Exit status 4 when some inputs failed (the others are complete).

    Example: wavekit batch data/*.h5 --out results/ --jobs 2 | jq -r .speed_mm_per_s
    """
    import sys

    from ..errors import EXIT_BATCH_PARTIAL, UsageError
    from ..pipeline import batch as b
    from ..pipeline.progress import Progress, wants_progress
    from ..pipeline.report import summary_row

    if quiet and verbose:
        raise UsageError("give --quiet or --verbose, not both")
    cfg = o.analysis_config(locals())
    items = b.plan(b.expand_inputs(inputs), out)
    bar = Progress("inputs", len(items), enabled=wants_progress(quiet))
    state = {"done": 0, "failed": 0}

    def report(res: dict) -> None:
        state["done"] += 1
        state["failed"] += res["status"] == "failed"
        bar.clear()  # on a terminal the result line starts a fresh line, the bar follows it
        sys.stdout.write(b.result_line(res, summary_row) + "\n")
        sys.stdout.flush()
        if res["status"] == "failed":
            err = str(res["error"])
            where = str(res["input"])
            sys.stderr.write(f"wavekit: error: {err if where in err else f'{where}: {err}'}\n")
        bar.update(note=f"{state['failed']} failed")

    results = b.run_batch(
        items,
        target="wavekit.pipeline.analyze:analyze_file",
        kwargs={"config": cfg},
        requested_digest=cfg.digest(),
        jobs=jobs,
        resume=resume,
        scheduler=scheduler,
        on_result=report,
        verbose=verbose,
    )
    bar.close()
    b.summary_csv(results, out, summary_row)
    if state["failed"]:
        raise typer.Exit(EXIT_BATCH_PARTIAL)
