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
) -> None:
    """Redraw the figures of an analysis (for example in another format).

    Example: wavekit plot results/ --fig-format pdf
    """
    import sys

    from ..errors import UsageError
    from ..pipeline.config import FIG_FORMATS
    from ..pipeline.plot import redraw

    if fig_format not in FIG_FORMATS:
        raise UsageError(f"--fig-format {fig_format!r} is not one of {', '.join(FIG_FORMATS)}")
    for name in redraw(folder, fig_format=fig_format):
        sys.stdout.write(f"{folder / name}\n")
