"""Writing one analysis to its folder: every file atomic, ``report.json`` last."""

from __future__ import annotations

import csv
import io
import time
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


def _table_csv(rows: list[dict[str, Any]], cols: list[str]) -> str:
    """``rows`` as CSV text with columns ``cols`` (header always present; empty cells for
    missing values; other keys left out)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if row.get(k) is None else row.get(k) for k in cols})
    return buf.getvalue()


def events_csv(events: list[dict[str, Any]]) -> str:
    """The events table as CSV text: the main columns first, then any others the events have."""
    cols = list(EVENT_COLUMNS)
    for ev in events:
        cols += [k for k in ev if k not in cols]
    return _table_csv(events, cols)


WAVE_COLUMNS = [
    "id",
    "start_s",
    "end_s",
    "duration_s",
    "n_channels",
    "origin_x_mm",
    "origin_y_mm",
    "direction_deg",
    "direction_ci_low_deg",
    "direction_ci_high_deg",
    "front_speed_mm_per_s",
    "front_speed_ci_low_mm_per_s",
    "front_speed_ci_high_mm_per_s",
    "residual_scale_s",
    "local_speed_mm_per_s",
    "p_value",
    "q_value",
    "front_p_value",
    "significant",
]


def waves_csv(waves: list[dict[str, Any]]) -> str:
    """The trigger-based waves (``report.json`` ``activation_waves``) as CSV text: one row per
    wave, the meaning of Cobrawap's stage-5 planar-velocity and direction tables."""
    return _table_csv(waves, WAVE_COLUMNS)


def triggers_csv(waves: xr.Dataset) -> str:
    """Every transition as CSV text: ``time_s``, ``channel`` (row-major site index for grids),
    ``x_mm``, ``y_mm``, ``wave`` (its row in ``waves.csv``; empty when in no reported wave): the
    meaning of Cobrawap's stage-4 trigger table with wave labels."""
    site = waves["trigger_site"].values
    x = waves["site_x_mm"].values[site]
    y = waves["site_y_mm"].values[site]
    wave = waves["trigger_wave"].values
    buf = io.StringIO()
    buf.write("time_s,channel,x_mm,y_mm,wave\n")
    for t, c, xx, yy, k in zip(waves["trigger_time_s"].values, site, x, y, wave, strict=True):
        buf.write(f"{t:.6f},{c},{xx:.6g},{yy:.6g},{'' if k < 0 else k}\n")
    return buf.getvalue()


def critical_points_csv(tracks: xr.Dataset) -> str:
    """The tracked critical points of the phase flow (the ``flow`` stage) as CSV text: one row
    per track (:data:`wavekit.pipeline.phaseflow.TRACK_COLUMNS`; header always present)."""
    from .phaseflow import TRACK_COLUMNS
    from .report import records

    return _table_csv(records(tracks, "track"), TRACK_COLUMNS)


#: columns of critical_points.csv read back as text (the others are numbers)
_TEXT_COLUMNS = ("kind", "pattern")


def read_critical_points(path: Path) -> list[dict[str, Any]]:
    """The rows of ``critical_points.csv`` (``wavekit analyze --stages ...,flow``) as dicts,
    numbers as ``int``/``float`` (empty cells as None)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        conv: dict[str, Any] = {}
        for k, v in row.items():
            if k in _TEXT_COLUMNS:
                conv[k] = v
            elif v == "":
                conv[k] = None
            elif k in ("id", "n_frames"):
                conv[k] = int(v)
            else:
                conv[k] = float(v)
        out.append(conv)
    return out


def write_wave_maps(path: Path, waves: xr.Dataset) -> Path:
    """Per wave and channel: first activation time and local velocity (group ``waves``)."""
    import h5py

    from ..io.native import write_dataset

    keep = [
        k
        for k in ("activation_time_s", "local_velocity_x_mm_per_s", "local_velocity_y_mm_per_s")
        if k in waves
    ]
    ds = waves[keep].assign(site_x_mm=waves["site_x_mm"], site_y_mm=waves["site_y_mm"])
    ds.attrs = {k: v for k, v in waves.attrs.items() if isinstance(v, (int, float, str))}
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["wavekit_format"] = "wavekit.waves"
        write_dataset(f.create_group("waves", track_order=True), ds)
    return path


def write_frames(
    path: Path,
    frames: xr.Dataset,
    snapshot: dict | None,
    kw: xr.DataArray | None = None,
    movie: xr.Dataset | None = None,
) -> Path:
    """Per-frame measures (group ``frames``), the snapshot phase (group ``snapshot``), the
    k-omega power (group ``spectrum``) and the movie's frames (group ``movie``)."""
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
        if movie is not None:
            write_dataset(f.create_group("movie", track_order=True), movie)
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


def read_movie_clip(path: Path) -> xr.Dataset | None:
    """The movie's frames stored in ``frames.h5`` by ``wavekit analyze --movie`` (or None)."""
    import h5py

    from ..io.native import read_dataset

    with h5py.File(path, "r") as f:
        return read_dataset(f["movie"]).load() if "movie" in f else None


def read_fields(path: Path, *, time_s: tuple[float, float] | None = None) -> xr.Dataset:
    """Read ``fields.h5`` (``wavekit analyze --fields``) as an ``xarray.Dataset``; see
    :func:`wavekit.pipeline.fields.read_fields`."""
    from .fields import read_fields as _read

    return _read(path, time_s=time_s)


def movie_name(fmt: str) -> str:
    return f"movie.{fmt}"


def _place_fields(res: Any, out_dir: Path) -> str | None:
    """Move the streamed fields file into place as ``fields.h5`` (or write the in-memory ones)."""
    target = out_dir / "fields.h5"
    if res.fields_file is not None and Path(res.fields_file).exists():
        import os
        import shutil

        src = Path(res.fields_file)
        try:
            os.replace(src, target)
        except OSError:  # another file system: copy to a temporary, then rename
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
            src.unlink(missing_ok=True)
        return target.name
    if res.fields is not None:
        from .fields import write_fields

        return write_fields(target, res.fields).name
    return None


def write_outputs(res: Any, report: dict[str, Any], out_dir: Path) -> list[str]:
    """Write events.csv, frames.h5, figures (if asked) and, last, report.json into ``out_dir``.

    An existing ``report.json`` is removed first, so a folder whose rewrite is interrupted
    never keeps a report that looks complete next to new partial files.
    """
    import logging

    log = logging.getLogger(__name__)
    out_dir.mkdir(parents=True, exist_ok=True)
    keep = {Path(res.fields_file).name} if getattr(res, "fields_file", None) else set()
    clean_stale_temporaries(out_dir, keep=keep)
    (out_dir / "report.json").unlink(missing_ok=True)
    # files of an earlier run that this one does not rewrite would contradict the new report
    from .config import FIG_FORMATS
    from .figures import FIGURE_NAMES

    stale_names = ("fields.h5", movie_name("gif"), movie_name("mp4"), "critical_points.csv")
    figures = tuple(f"{n}.{f}" for n in FIGURE_NAMES for f in FIG_FORMATS)
    for stale in (*stale_names, "waves.csv", "triggers.csv", "waves.h5", *figures):
        (out_dir / stale).unlink(missing_ok=True)
    written = [write_text(out_dir / "events.csv", events_csv(report["events"])).name]
    tracks = getattr(res, "flow_tracks", None)
    if tracks is not None:
        cp_text = critical_points_csv(tracks)
        written.append(write_text(out_dir / "critical_points.csv", cp_text).name)
    if res.activation is not None:
        waves = waves_csv(report["activation_waves"])
        written.append(write_text(out_dir / "waves.csv", waves).name)
        written.append(write_text(out_dir / "triggers.csv", triggers_csv(res.activation)).name)
        written.append(write_wave_maps(out_dir / "waves.h5", res.activation).name)
    kw = None if res.spectrum is None else res.spectrum["kw"]
    movie = getattr(res, "movie", None)
    written.append(write_frames(out_dir / "frames.h5", res.frames, res.snapshot, kw, movie).name)
    name = _place_fields(res, out_dir)
    if name:
        written.append(name)
        log.info("wrote %s (%.1f MB)", name, (out_dir / name).stat().st_size / 1e6)
    timings = report.setdefault("timings_s", {})
    if res.config.plots:
        from .figures import save_all

        t0 = time.perf_counter()
        rows = None
        if tracks is not None:
            from .report import records

            rows = records(tracks, "track")
        figs = save_all(
            res.frames, res.snapshot, report, out_dir, res.config.fig_format, kw=kw, tracks=rows
        )
        timings["figures"] = round(time.perf_counter() - t0, 4)
        written += figs
        log.info("wrote %d figures", len(figs))
    if movie is not None:
        from .movie import save_movie

        t0 = time.perf_counter()
        path = save_movie(movie, out_dir / movie_name(res.config.movie_format),
                          res.config.movie_format)  # fmt: skip
        timings["movie"] = round(timings.get("movie", 0.0) + time.perf_counter() - t0, 4)
        written.append(path.name)
        log.info("wrote %s (%d frames)", path.name, movie.sizes["time"])
    report["outputs"] = sorted(written)
    validate_report(report)
    write_json(out_dir / "report.json", report)
    return written + ["report.json"]
