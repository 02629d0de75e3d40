"""Options shared by every command that reads an input (SPEC.md, "Files wavekit reads")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

READER = "Reading the input"

Dataset = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Dataset/variable holding the activity (e.g. /lfp or data).",
        rich_help_panel=READER,
    ),
]
Dims = Annotated[
    str | None,
    typer.Option(
        "--dims",
        metavar="DIMS",
        help="Axes of the stored array, e.g. time,y,x or channel,time.",
        rich_help_panel=READER,
    ),
]
Fs = Annotated[
    float | None,
    typer.Option(
        "--fs",
        metavar="HZ",
        help="Sampling rate in Hz (frames per second for images).",
        rich_help_panel=READER,
    ),
]
SpacingMm = Annotated[
    str | None,
    typer.Option(
        "--spacing-mm",
        metavar="MM[,MM]",
        help="Grid pitch in mm: one value, or DY,DX.",
        rich_help_panel=READER,
    ),
]
Positions = Annotated[
    str | None,
    typer.Option(
        "--positions",
        metavar="FILE_OR_DATASET",
        help="Electrode positions (x, y in mm per channel): a CSV/text/.npy file or a dataset in "
        "the input file.",
        rich_help_panel=READER,
    ),
]
BinMs = Annotated[
    float | None,
    typer.Option(
        "--bin-ms", metavar="MS", help="Bin width for spike trains, in ms.", rich_help_panel=READER
    ),
]
Layout = Annotated[
    str,
    typer.Option(
        "--layout",
        metavar="auto|grid|irregular",
        help="auto: use the grid view when electrodes lie on a regular grid.",
        rich_help_panel=READER,
    ),
]
Units = Annotated[
    str | None,
    typer.Option("--units", help="Units of the samples, e.g. uV.", rich_help_panel=READER),
]
Lazy = Annotated[
    bool | None,
    typer.Option(
        "--lazy/--no-lazy",
        help="Read chunk by chunk (default: only inputs over 1 GiB).",
        rich_help_panel=READER,
    ),
]


def reader_overrides(
    dataset: str | None = None,
    dims: str | None = None,
    fs: float | None = None,
    spacing_mm: str | None = None,
    positions: str | None = None,
    bin_ms: float | None = None,
    layout: str = "auto",
    units: str | None = None,
    lazy: bool | None = None,
) -> dict[str, Any]:
    """CLI option values -> keyword overrides for :func:`wavekit.load`."""
    from ..errors import UsageError

    sp = None
    if spacing_mm is not None:
        try:
            sp = tuple(float(v) for v in spacing_mm.replace(" ", "").split(",") if v)
        except ValueError:
            raise UsageError(f"--spacing-mm {spacing_mm!r}: give MM or DY,DX in mm") from None
        if len(sp) not in (1, 2):
            raise UsageError(f"--spacing-mm {spacing_mm!r}: give MM or DY,DX in mm")
    if layout not in ("auto", "grid", "irregular"):
        raise UsageError(f"--layout {layout!r}: choose auto, grid or irregular")
    return {
        "dataset": dataset,
        "dims": dims,
        "fs_hz": fs,
        "spacing_mm": sp,
        "positions": positions,
        "bin_ms": bin_ms,
        "layout": layout,
        "units": units,
        "lazy": lazy,
    }


ANALYSIS = "Analysis"
OUTPUT = "Output"

Band = Annotated[
    tuple[float, float] | None,
    typer.Option(
        "--band",
        metavar="LO HI",
        help="Band in Hz (default: chosen from the spectrum).",
        rich_help_panel=ANALYSIS,
    ),
]
Phase = Annotated[
    str | None,
    typer.Option(
        "--phase",
        metavar="hilbert|morlet|generalized",
        help="Phase estimator.",
        rich_help_panel=ANALYSIS,
    ),
]
Stages = Annotated[
    str | None,
    typer.Option(
        "--stages",
        metavar="LIST",
        help="Comma-separated stages to run (default: all but activation and flow): "
        "gradients,planefit,patterns,events,spectra,spatial,activation,flow "
        "(flow: optical flow of the phase and its critical points tracked, grids only).",
        rich_help_panel=ANALYSIS,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help="Seed of every random draw (surrogates, bootstrap).",
        rich_help_panel=ANALYSIS,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML file of options (flags override it).", rich_help_panel=ANALYSIS
    ),
]
Surrogates = Annotated[
    int | None,
    typer.Option(
        "--surrogates",
        metavar="N",
        help="Surrogates calibrating event detection (smallest p-value 1/(N+1)) [99].",
        rich_help_panel=ANALYSIS,
    ),
]
NotchHz = Annotated[
    float | None,
    typer.Option(
        "--notch-hz",
        metavar="HZ",
        help="Remove line noise at HZ (50 or 60) and its harmonics before the phase.",
        rich_help_panel=ANALYSIS,
    ),
]
Polarity = Annotated[
    str | None,
    typer.Option(
        "--polarity",
        metavar="up|down",
        help="Find trigger-based waves (the activation stage); up or down: the direction "
        "of the upstroke (down for inverted voltage dyes).",
        rich_help_panel=ANALYSIS,
    ),
]
Trigger = Annotated[
    str | None,
    typer.Option(
        "--trigger",
        metavar="threshold|phase|minima",
        help="How the activation stage times each channel's transitions (default threshold); "
        "giving it turns the stage on.",
        rich_help_panel=ANALYSIS,
    ),
]
Plots = Annotated[
    bool | None, typer.Option("--plots/--no-plots", help="Draw figures.", rich_help_panel=OUTPUT)
]
FigFormat = Annotated[
    str | None,
    typer.Option(
        "--fig-format", metavar="png|svg|pdf", help="Figure file format.", rich_help_panel=OUTPUT
    ),
]

Fields = Annotated[
    bool | None,
    typer.Option(
        "--fields/--no-fields",
        help="Write fields.h5: phase, wave vector, frequency and velocity at every site and "
        "frame (six float32 values each, compressed).",
        rich_help_panel=OUTPUT,
    ),
]
Movie = Annotated[
    bool | None,
    typer.Option(
        "--movie/--no-movie",
        help="Write a short movie of the phase with travel directions (at most 200 frames "
        "of 10 s, around the strongest event).",
        rich_help_panel=OUTPUT,
    ),
]
MovieFormat = Annotated[
    str | None,
    typer.Option(
        "--movie-format",
        metavar="gif|mp4",
        help="Movie file format (default gif); mp4 needs ffmpeg on PATH; implies --movie.",
        rich_help_panel=OUTPUT,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress on standard error.", rich_help_panel=OUTPUT),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Print each stage with its timing on standard error (band, bad channels, chunks, "
        "surrogates, events, files).",
        rich_help_panel=OUTPUT,
    ),
]


#: parameter names every analysing command (``analyze``, ``batch``) declares for its reader
READER_PARAMS = ("dataset", "dims", "fs", "spacing_mm", "positions", "bin_ms", "layout", "units")


def analysis_config(params: dict[str, Any]) -> Any:
    """A command's parameters (its ``locals()``: ``config``, the analysis options and the
    reader options of :data:`READER_PARAMS`) -> a resolved
    :class:`wavekit.pipeline.config.Config`."""
    from ..pipeline.config import make_config

    reader = reader_overrides(**{k: params[k] for k in READER_PARAMS})
    reader = {
        k: v for k, v in reader.items() if v is not None and not (k == "layout" and v == "auto")
    }
    if "fs_hz" in reader:
        reader["fs"] = reader.pop("fs_hz")
    stages = params["stages"]
    return make_config(
        params["config"],
        seed=params["seed"],
        band_hz=params["band"],
        phase=params["phase"],
        stages=None if stages is None else [s.strip() for s in stages.split(",") if s.strip()],
        plots=params["plots"],
        fig_format=params["fig_format"],
        n_surrogates=params["surrogates"],
        polarity=params["polarity"],
        trigger=params["trigger"],
        notch_hz=params["notch_hz"],
        fields=params["fields"],
        movie=params["movie"],
        movie_format=params["movie_format"],
        input=reader,
    )
