"""``wavekit plot DIR``: redraw the figures of a finished analysis from its saved results."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InputError, UsageError


def redraw(
    out_dir: str | os.PathLike, *, fig_format: str = "png", movie_format: str | None = None
) -> list[str]:
    """Redraw the figures in ``out_dir`` from ``report.json`` and ``frames.h5`` (and
    ``critical_points.csv`` when the ``flow`` stage wrote it).

    The movie is redrawn too when the analysis made one (``--movie``: its frames are stored in
    ``frames.h5``, group ``movie``), in ``movie_format`` or, by default, the format it was made
    in.

    Raises
    ------
    InputError
        The folder holds no complete analysis (no ``report.json`` or ``frames.h5``).
    UsageError
        An MP4 movie is asked for and ffmpeg is not on PATH.
    """
    from .figures import save_all
    from .write import movie_name, read_critical_points, read_frames, read_movie_clip

    d = Path(out_dir)
    try:
        report = json.loads((d / "report.json").read_text())
    except (OSError, ValueError):
        raise InputError(
            d,
            "no complete analysis here (report.json missing or unreadable): "
            "run wavekit analyze FILE --out DIR first",
        ) from None
    if not (d / "frames.h5").exists():
        raise InputError(d, "frames.h5 is missing: rerun wavekit analyze to write it")
    clip = read_movie_clip(d / "frames.h5")
    fmt = movie_format or report.get("parameters", {}).get("movie_format") or "gif"
    if clip is not None and fmt == "mp4":
        from .config import ffmpeg_available

        if not ffmpeg_available():
            raise UsageError(
                "the movie is MP4, which needs ffmpeg on PATH (not found): "
                "install ffmpeg or pass --movie-format gif"
            )
    frames, snapshot, kw = read_frames(d / "frames.h5")
    tracks = None
    if "critical_points.csv" in report.get("outputs", []) and (d / "critical_points.csv").exists():
        tracks = read_critical_points(d / "critical_points.csv")
    names = save_all(frames, snapshot, report, d, fig_format, kw=kw, tracks=tracks)
    if clip is not None:
        from .movie import save_movie

        names.append(save_movie(clip, d / movie_name(fmt), fmt).name)
    return names
