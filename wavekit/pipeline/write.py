"""Writing one analysis to its folder: every file atomic, ``report.json`` last."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .outputs import atomic_path, clean_stale_temporaries, write_json, write_text
from .report import validate_report

EVENT_COLUMNS = [
    "id",
    "start_s",
    "end_s",
    "duration_s",
    "pattern",
    "direction_deg",
    "speed_mm_per_s",
    "speed_ci_low_mm_per_s",
    "speed_ci_high_mm_per_s",
    "planarity",
    "centre_x_mm",
    "centre_y_mm",
    "p_value",
]


def events_csv(events: list[dict[str, Any]]) -> str:
    """The events table as CSV text (header always present; empty cells for missing values)."""
    cols = list(EVENT_COLUMNS)
    for ev in events:
        cols += [k for k in ev if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for ev in events:
        w.writerow({k: "" if ev.get(k) is None else ev.get(k) for k in cols})
    return buf.getvalue()


def write_frames(
    path: Path, frames: xr.Dataset, snapshot: dict | None, kw: xr.DataArray | None = None
) -> Path:
    """Per-frame measures (group ``frames``) and the snapshot phase (group ``snapshot``)."""
    import h5py

    from ..io.native import write_dataset

    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["wavekit_format"] = "wavekit.frames"
        write_dataset(f.create_group("frames", track_order=True), frames)
        if snapshot is not None:
            g = f.create_group("snapshot")
            for k in ("phase", "x", "y"):
                g[k] = np.asarray(snapshot[k])
            g.attrs["time_s"] = snapshot["time_s"]
            g.attrs["layout"] = snapshot["layout"]
        if kw is not None:
            write_dataset(f.create_group("spectrum", track_order=True), kw.to_dataset(name="power"))
    return path


def read_frames(path: Path) -> tuple[xr.Dataset, dict | None, xr.DataArray | None]:
    """Read what :func:`write_frames` stored: frames, snapshot and k-omega power (or None)."""
    import h5py

    from ..io.native import read_dataset

    with h5py.File(path, "r") as f:
        frames = read_dataset(f["frames"]).load()
        snapshot = None
        if "snapshot" in f:
            g = f["snapshot"]
            snapshot = {k: g[k][()] for k in ("phase", "x", "y")}
            snapshot["time_s"] = float(g.attrs["time_s"])
            lay = g.attrs["layout"]
            snapshot["layout"] = lay.decode() if isinstance(lay, bytes) else str(lay)
        kw = read_dataset(f["spectrum"]).load()["power"] if "spectrum" in f else None
    return frames, snapshot, kw


def write_outputs(res: Any, report: dict[str, Any], out_dir: Path) -> list[str]:
    """Write events.csv, frames.h5, figures (if asked) and, last, report.json into ``out_dir``.

    An existing ``report.json`` is removed first, so a folder whose rewrite is interrupted
    never keeps a report that looks complete next to new partial files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(out_dir)
    (out_dir / "report.json").unlink(missing_ok=True)
    written = [write_text(out_dir / "events.csv", events_csv(report["events"])).name]
    kw = None if res.spectrum is None else res.spectrum["kw"]
    written.append(write_frames(out_dir / "frames.h5", res.frames, res.snapshot, kw).name)
    if res.config.plots:
        from .figures import save_all

        written += save_all(res.frames, res.snapshot, report, out_dir, res.config.fig_format, kw=kw)
    report["outputs"] = sorted(written)
    validate_report(report)
    write_json(out_dir / "report.json", report)
    return written + ["report.json"]
