"""``wavekit plot DIR``: redraw the figures of a finished analysis from its saved results."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InputError


def redraw(out_dir: str | os.PathLike, *, fig_format: str = "png") -> list[str]:
    """Redraw the figures in ``out_dir`` from ``report.json`` and ``frames.h5``.

    Raises
    ------
    InputError
        The folder holds no complete analysis (no ``report.json`` or ``frames.h5``).
    """
    from .figures import save_all
    from .write import read_frames

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
    frames, snapshot, kw = read_frames(d / "frames.h5")
    return save_all(frames, snapshot, report, d, fig_format, kw=kw)
