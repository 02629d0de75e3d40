"""``wavekit validate``: the built-in accuracy benchmark against simulated ground truth."""

from typing import Annotated

import typer

from wavekit.cli._app import app


@app.command()
def validate(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full",
            help="Quick run (under a minute) or the full benchmark (more records per case).",
        ),
    ] = True,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every simulation.")] = 0,
    details: Annotated[
        bool,
        typer.Option("--details", help="Print the settings of each case under its row."),
    ] = False,
) -> None:
    """Measure wavekit's estimators on simulated waves with known truth.

    Plane waves (grids, irregular layouts, SNR sweep), pattern sequences,

    targets, spirals, superposed and dispersive waves, fronts, pure noise.

    Each row: the error, its threshold (or "info"), PASS or FAIL.

    Settings and numbers: docs/accuracy.md.

    Exit status 0 when every thresholded case passes, 1 otherwise.

    Example: wavekit validate --quick --json > accuracy.json
    """
    import json
    import math
    import sys
    import time

    from wavekit._version import __version__
    from wavekit.validate import format_table, run_validation, summary

    show = sys.stderr.isatty()

    def progress(title: str) -> None:
        if show:
            sys.stderr.write(f"validate: {title} ...\n")
            sys.stderr.flush()

    t0 = time.perf_counter()
    rows = run_validation(quick=quick, seed=seed, progress=progress)
    elapsed = time.perf_counter() - t0
    s = summary(rows)
    if json_out:

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, tuple):
                return [clean(x) for x in v]
            return v

        doc = {
            "wavekit_version": __version__,
            "mode": "quick" if quick else "full",
            "seed": seed,
            "elapsed_s": round(elapsed, 2),
            **s,
            "cases": [{k: clean(v) for k, v in r.items()} for r in rows],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(f"wavekit {__version__} validate ({'quick' if quick else 'full'}, seed {seed})")
        typer.echo(format_table(rows, details=details))
        typer.echo(f"wall time {elapsed:.1f} s")
    if not s["all_passed"]:
        raise typer.Exit(1)
