"""``wavekit plot DIR``: redraw figures from saved results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import _options as o
from ._app import app


@app.command()
def plot(
    folder: Annotated[
        Path, typer.Argument(help="Results folder of wavekit analyze.", show_default=False)
    ],
    fig_format: Annotated[
        str, typer.Option("--fig-format", metavar="png|svg|pdf", rich_help_panel=o.OUTPUT)
    ] = "png",
    movie_format: Annotated[
        str | None,
        typer.Option(
            "--movie-format",
            metavar="gif|mp4",
            help="Format of the redrawn movie (default: as analyze made it; only when analyze "
            "was run with --movie).",
            rich_help_panel=o.OUTPUT,
        ),
    ] = None,
) -> None:
    """Redraw the figures of an analysis, and its movie when it has one.

    For example in another format (--fig-format); the movie is redrawn when analyze was run
    with --movie (its frames are kept in frames.h5).

    Example: wavekit plot results/ --fig-format pdf
    """
    import sys

    from ..errors import UsageError
    from ..pipeline.config import FIG_FORMATS, MOVIE_FORMATS
    from ..pipeline.plot import redraw

    if fig_format not in FIG_FORMATS:
        raise UsageError(f"--fig-format {fig_format!r} is not one of {', '.join(FIG_FORMATS)}")
    if movie_format is not None and movie_format not in MOVIE_FORMATS:
        raise UsageError(f"--movie-format {movie_format!r} is not one of gif, mp4")
    for name in redraw(folder, fig_format=fig_format, movie_format=movie_format):
        sys.stdout.write(f"{folder / name}\n")
