"""``wavekit analyze``: one recording in, a report, an events table and figures out.

The stages run in one direction::

    load -> bad channels -> band (given, or from the spectrum) -> per chunk: phase ->
    gradients / plane fit / patterns / phase flow -> frame measures -> summary (flow structure)
    -> critical points of the flow tracked -> events against surrogates -> report.json,
    events.csv, critical_points.csv, fields.h5, figures

:func:`analyze` works on an in-memory or lazily loaded DataArray and returns a
:class:`Results`; :func:`write_outputs` writes it to a folder (``report.json`` last, every file
atomically); :func:`analyze_file` does both for a path and is what ``wavekit analyze`` and
``wavekit batch`` call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import AnalysisError
from ..model import bad_channels, layout
from .config import DEFAULT_STAGES, Config, make_config
from .frames import preprocess

log = logging.getLogger(__name__)


@dataclass
class Results:
    """Everything one analysis produced, in memory."""

    activity_info: dict[str, Any]
    config: Config
    band_hz: tuple[float, float]
    band_reason: str
    frames: xr.Dataset
    flow_structure: dict[str, Any]
    events: xr.Dataset | None
    event_null: dict[str, Any] | None
    spectrum: dict[str, Any] | None
    activation: xr.Dataset | None
    snapshot: dict[str, Any] | None
    timings_s: dict[str, float] = field(default_factory=dict)
    #: ``--fields``: the streamed file (a temporary name that ``write_outputs`` renames to
    #: ``fields.h5``), or the fields in memory when no file was given (:mod:`.fields`)
    fields_file: Path | None = None
    fields: xr.Dataset | None = None
    #: ``--movie``: the frames the movie shows (:func:`wavekit.pipeline.fields.movie_clip`)
    movie: xr.Dataset | None = None
    #: the ``flow`` stage: one row per tracked critical point of the phase flow
    #: (:func:`wavekit.pipeline.phaseflow.track_table`), None when the stage did not run
    flow_tracks: xr.Dataset | None = None


class _Timer:
    def __init__(self) -> None:
        self.t: dict[str, float] = {}

    def __call__(self, name: str) -> _Timer:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.t[self._name] = round(self.t.get(self._name, 0.0) + time.perf_counter() - self._t0, 4)


#: the keys of :func:`wavekit.io.describe.summarize` that the report's ``input`` block keeps
INPUT_KEYS = ("shape", "dims", "fs_hz", "layout", "duration_s", "n_channels", "spacing_mm", "units")


def activity_info(activity: xr.DataArray) -> dict[str, Any]:
    """The report's ``input`` block, from the DataArray (path and digest added by the caller)."""
    from ..io.describe import summarize

    info = {k: v for k, v in summarize(activity).items() if k in INPUT_KEYS}
    info["bad_channels"] = bad_channels(activity)
    return info


def _mask_bad(activity: xr.DataArray, channels: list) -> xr.DataArray:
    """Set the given channels (``[row, col]`` on grids, labels otherwise) to NaN, lazily."""
    if not channels:
        return activity
    if layout(activity) == "grid":
        keep = np.ones((activity.sizes["y"], activity.sizes["x"]), dtype=bool)
        for r, c in channels:
            keep[r, c] = False
        mask = xr.DataArray(keep, dims=("y", "x"))
    else:
        mask = ~activity["channel"].isin(channels)
    out = activity.where(mask)
    out.attrs = activity.attrs
    return out


def _variance_outliers(segment: xr.DataArray, band: tuple, z: float) -> list:
    """Channels to exclude for their variance, judged on the calibration ``segment``.

    A channel is excluded when its in-band variance is a robust outlier (``|z| > z``) *and*
    at least ten times off the median channel's (``min_fold``,
    :func:`wavekit.analysis.preprocess.detect_bad_channels`): on homogeneous arrays the robust z
    of a channel only twice as quiet can be large, and such differences do not disturb phase.
    """
    from ..analysis.preprocess import detect_bad_channels

    flags = detect_bad_channels(segment, z_thresh=z, band_hz=band)
    bad = flags["variance_outlier"].values & ~flags["nan"].values & ~flags["flat"].values
    if layout(segment) == "grid":
        return [[int(r), int(c)] for r, c in zip(*np.nonzero(bad), strict=True)]
    return [segment["channel"].values[i].item() for i in np.nonzero(bad)[0]]


def analyze(
    activity: xr.DataArray,
    config: Config | None = None,
    *,
    fields_file: str | os.PathLike | None = None,
) -> Results:
    """Run the analysis stages on activity in the data model.

    Parameters
    ----------
    activity : xarray.DataArray
        Grid ``(time, y, x)`` or irregular ``(time, channel)`` activity (NumPy or dask-backed;
        dask-backed arrays are read chunk by chunk).
    config : Config, optional
        Options (:func:`wavekit.pipeline.config.make_config`); defaults when omitted.
    fields_file : path-like, optional
        With ``config.fields``: the file the fields are streamed into, chunk by chunk (the
        caller renames or removes it; :func:`analyze_file` passes a temporary name in the output
        folder). Without it the fields are kept in memory (``Results.fields``).

    Returns
    -------
    Results
    """
    from .frames import (
        complex_signal,
        edge_mask,
        frame_measures,
        iter_chunks,
        local_gradients,
        margin_s,
        pattern_step,
        plan_chunks,
    )
    from .progress import Progress
    from .summary import add_activation, add_motion, flow_structure

    cfg = config or make_config()
    if activity.attrs.get("units") == "spikes/s" and cfg.stages == DEFAULT_STAGES:
        # spike trains: waves are bursts travelling across the array, found by the trigger route
        cfg = replace(cfg, stages=(*DEFAULT_STAGES, "activation"))
        log.info("spike trains: the activation (trigger-wave) stage runs by default")
    timer = _Timer()
    if "trial" in activity.dims:
        raise AnalysisError("analyze takes one trial at a time: select one with .isel(trial=i)")
    with timer("input"):
        info = activity_info(activity)
        n_ch = info["n_channels"]
        if len(info["bad_channels"]["nan"]) + len(info["bad_channels"]["flat"]) >= n_ch - 2:
            raise AnalysisError("fewer than 3 usable channels: no wave can be measured")
        activity = _mask_bad(activity, info["bad_channels"]["flat"])
    with timer("band"):
        if cfg.band_hz is not None:
            band, reason = tuple(cfg.band_hz), "given"
        else:
            from ..analysis.bandselect import choose_band

            band, _, reason = choose_band(activity)
    log.info("band %.4g-%.4g Hz (%s)", band[0], band[1], reason)
    with timer("input"):
        segment = calibration_segment(activity)  # read once: outliers, motion, surrogates
        outliers = _variance_outliers(segment, band, cfg.bad_channel_z)
        info["bad_channels"]["variance_outlier"] = outliers
        activity = _mask_bad(activity, outliers)
        segment = _mask_bad(segment, outliers)
    log.info("bad channels: %s", {k: len(v) for k, v in info["bad_channels"].items()})
    fs = info["fs_hz"]
    if band[1] >= fs / 2:
        raise AnalysisError(
            f"band {band[0]:g}-{band[1]:g} Hz reaches the Nyquist frequency "
            f"{fs / 2:g} Hz: choose a lower band"
        )
    chunks = plan_chunks(activity.sizes["time"], fs, cfg.chunk_s, margin_s(band))
    log.info("%d chunk(s) of up to %g s, %.3g s margins", len(chunks), cfg.chunk_s, margin_s(band))
    parts = []
    fronts = []  # transitions of each chunk's core (the activation stage)
    trig = trigger_setup(activity, cfg, band) if "activation" in cfg.stages else None
    flow_notes: list[str] = []
    points = None  # critical points of the phase flow of every chunk's core (the flow stage)
    if "flow" in cfg.stages:
        from .phaseflow import PointCollector, applies

        skip = applies(activity)
        if skip is None:
            points = PointCollector()
        else:
            flow_notes.append(skip)
            log.info(skip)
    snapshot = None
    sink = _fields_sink(activity, cfg, band, fields_file, flow=points is not None)
    bar = Progress("chunks", len(chunks))
    for ch, part in iter_chunks(activity, chunks):
        if trig is not None:
            with timer("activation"):
                fronts.append(chunk_transitions(part, ch, trig))
        with timer("phase"):
            part = preprocess(part, cfg)
            z = complex_signal(
                part, band_hz=band, method=cfg.phase, morlet_cycles=cfg.morlet_cycles
            )
        with timer("measures"):
            g = local_gradients(z) if sink is not None else None  # computed once for both
            fm = frame_measures(
                z, stages=cfg.stages, pattern_step=pattern_step(fs, band), gradients=g
            ).isel(time=ch.keep)
        flow = None
        if points is not None:
            from .phaseflow import chunk_flow

            with timer("flow"):
                fl = chunk_flow(z, ch.keep, alpha=cfg.flow_alpha, beta=cfg.flow_beta)
                fm = fm.merge(fl.measures)
                points.add(ch.read.start + ch.keep.start, fl.points)
                flow = fl.flow
        if sink is not None:
            with timer("fields"):
                sink.add(
                    ch.read.start + ch.keep.start,
                    z.isel(time=ch.keep),
                    g.isel(time=ch.keep),
                    flow=flow,
                )
        parts.append(fm)
        if snapshot is None:
            snapshot = _snapshot(z.isel(time=ch.keep), fm)
        bar.update()
    bar.close()
    fields_path, fields = sink.finish() if sink is not None else (None, None)
    frames = xr.concat(parts, dim="time") if len(parts) > 1 else parts[0]
    frames["edge"] = ("time", edge_mask(frames["time"].values, band))
    with timer("summary"):
        fstruct = flow_structure(frames, band_hz=band)
    flow_tracks = None
    if points is not None:
        with timer("flow"):
            flow_tracks, flow_info = flow_tracking(points, activity, frames, band, cfg)
        log.info(
            "flow: %d critical-point tracks of at least %.3g s (%d shorter dropped)",
            flow_info["n_tracks"],
            flow_info["min_track_duration_s"],
            flow_info["n_short_tracks_dropped"],
        )
        fstruct["phase_flow"] = flow_info
    activation = None
    if trig is not None:
        with timer("activation"):
            activation = activation_waves(fronts, activity, trig)
        log.info(
            "activation: %d transitions, %d waves, %d significant",
            activation.attrs["n_transitions"],
            activation.sizes["wave"],
            int(activation["significant"].sum()),
        )
    with timer("motion"):
        motion, spectrum, notes = motion_and_spectrum(segment, band, cfg)
    log.info("motion type %s", (motion or {}).get("motion_type", "not measured"))
    add_motion(fstruct, motion, spectrum, notes + flow_notes)
    add_activation(fstruct, activation, alpha=cfg.alpha)
    events = null_info = None
    if "events" in cfg.stages:
        log.info("events: %d %s surrogates set the threshold", cfg.n_surrogates, cfg.surrogate)
        with timer("events"):
            events, null_info = detect_wave_events(segment, frames, band, cfg)
        log.info("events: %d found (threshold %.3g)", events.sizes.get("event", 0),
                 null_info["threshold"])  # fmt: skip
    movie = None
    if cfg.movie:
        from .fields import movie_clip

        with timer("movie"):
            movie = movie_clip(activity, frames, events, cfg, band)
    return Results(
        activity_info=info,
        config=cfg,
        band_hz=band,
        band_reason=reason,
        frames=frames,
        flow_structure=fstruct,
        events=events,
        event_null=null_info,
        spectrum=spectrum,
        activation=activation,
        snapshot=snapshot,
        timings_s=timer.t,
        fields_file=fields_path,
        fields=fields,
        movie=movie,
        flow_tracks=flow_tracks,
    )


def _fields_sink(
    activity: xr.DataArray,
    cfg: Config,
    band: tuple,
    path: str | os.PathLike | None,
    *,
    flow: bool = False,
) -> Any:
    """Where each chunk's fields go with ``--fields`` (None without); ``flow``: the flow stage
    runs, so the file also holds the phase flow."""
    if not cfg.fields:
        return None
    from .fields import FieldsSink, fields_attrs

    return FieldsSink(activity, fields_attrs(activity, band, cfg.phase), path, flow=flow)


def flow_tracking(
    points: Any,
    activity: xr.DataArray,
    frames: xr.Dataset,
    band: tuple[float, float],
    cfg: Config,
) -> tuple[xr.Dataset, dict[str, Any]]:
    """The critical points of every chunk's phase flow, linked once over the whole recording
    (edge frames left out), and the report's ``flow_structure.phase_flow`` block."""
    from .phaseflow import flow_summary, track_rule, track_table

    rule = track_rule(activity, band)
    tracks, counts = track_table(
        points.points(),
        frames["time"].values,
        frames["edge"].values.astype(bool),
        float(activity.attrs["fs_hz"]),
        rule,
    )
    summary = flow_summary(frames, tracks, counts, rule, alpha=cfg.flow_alpha, beta=cfg.flow_beta)
    return tracks, summary


#: longest stretch of the recording on which surrogates calibrate the event threshold
CALIBRATION_S = 30.0


@dataclass
class TriggerSetup:
    """Options of the activation stage resolved once per recording (see :func:`trigger_setup`)."""

    cfg: Config
    band: tuple[float, float]
    smooth_s: float
    min_interval_s: float
    levels: xr.Dataset | None


def trigger_setup(activity: xr.DataArray, cfg: Config, band: tuple[float, float]) -> TriggerSetup:
    """Smoothing, refractory interval and (for the threshold trigger) each channel's levels,
    computed on the whole recording when it is in memory, else on up to 40 stretches of 30 s
    spread over it, so every chunk detects transitions against the same levels."""
    from ..analysis.triggers import trigger_levels
    from .frames import band_centre

    fs = float(activity.attrs["fs_hz"])
    fc = band_centre(band)
    smooth = cfg.trigger_smooth_s if cfg.trigger_smooth_s is not None else 1.0 / (20.0 * fc)
    smooth = max(smooth, 1.0 / fs)
    interval = cfg.min_interval_s if cfg.min_interval_s is not None else 0.5 / fc
    levels = None
    if cfg.trigger == "threshold":
        n = activity.sizes["time"]
        sample = activity
        if hasattr(activity.data, "compute"):  # lazy: a spread-out sample, read stretch by stretch
            take = int(30 * fs)
            if 40 * take < n:
                starts = np.linspace(0, n - take, 40).astype(int)
                sample = xr.concat(
                    [activity.isel(time=slice(a, a + take)).compute() for a in starts], "time"
                )
            else:
                sample = activity.compute()
        levels = trigger_levels(
            sample, polarity=cfg.polarity, smooth_s=smooth, threshold=cfg.trigger_threshold
        )
    return TriggerSetup(cfg, band, smooth, interval, levels)


def chunk_transitions(part: xr.DataArray, ch: Any, trig: TriggerSetup) -> xr.Dataset:
    """Transitions (:func:`wavekit.analysis.triggers.transition_times`) in this chunk's core."""
    from ..analysis.triggers import transition_times

    cfg = trig.cfg
    tr = transition_times(
        part,
        method=cfg.trigger,
        polarity=cfg.polarity,
        smooth_s=trig.smooth_s,
        threshold=cfg.trigger_threshold,
        min_interval_s=trig.min_interval_s,
        levels=trig.levels,
        marker=cfg.trigger_marker,
        band_hz=trig.band,
    )
    t = part["time"].values
    lo, hi = t[ch.keep.start], t[ch.keep.stop - 1]
    ts = tr["time_s"].values
    return tr.isel(trigger=np.flatnonzero((ts >= lo) & (ts <= hi)))


def activation_waves(
    parts: list[xr.Dataset], activity: xr.DataArray, trig: TriggerSetup
) -> xr.Dataset:
    """Waves of the recording from the transitions of all chunks
    (:func:`wavekit.analysis.triggers.trigger_waves`: space-time clusters, front fits, size test
    against shift surrogates, front test against shuffled positions)."""
    from ..analysis.triggers import trigger_waves

    cfg = trig.cfg
    tr = xr.concat(parts, dim="trigger", data_vars="minimal") if len(parts) > 1 else parts[0]
    order = np.argsort(tr["time_s"].values, kind="stable")
    tr = tr.isel(trigger=order)
    t = activity["time"].values
    fs = float(activity.attrs["fs_hz"])
    tr.attrs.update(t_start_s=float(t[0]), t_stop_s=float(t[0] + t.size / fs))
    waves, wave_of = trigger_waves(
        tr,
        max_dt_s=cfg.max_dt_s,
        max_distance_mm=cfg.max_distance_mm,
        min_channels=cfg.min_channels,
        n_surrogates=cfg.n_surrogates,
        alpha=cfg.alpha,
        n_boot=500,
        seed=cfg.seed,
    )
    waves["trigger_time_s"] = ("trigger", tr["time_s"].values, {"units": "s"})
    waves["trigger_site"] = ("trigger", tr["site"].values)
    waves["trigger_wave"] = ("trigger", wave_of)
    waves.attrs.update(
        trigger=cfg.trigger,
        marker=cfg.trigger_marker,
        smooth_s=trig.smooth_s,
        min_interval_s=trig.min_interval_s,
    )
    return waves


def calibration_segment(activity: xr.DataArray) -> xr.DataArray:
    """At most ``CALIBRATION_S`` seconds from the middle of the recording, in memory: the
    stretch on which surrogates, the motion summary and the spectrum are computed, so their cost
    and memory do not grow with the recording's length."""
    fs = float(activity.attrs["fs_hz"])
    n = activity.sizes["time"]
    take = min(n, int(CALIBRATION_S * fs))
    start = (n - take) // 2
    segment = activity.isel(time=slice(start, start + take))
    return segment.compute() if hasattr(segment.data, "compute") else segment


def motion_and_spectrum(
    segment: xr.DataArray, band: tuple[float, float], cfg: Config
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str]]:
    """The motion summary (``analyze_motion_space``) and the k-omega spectrum of the
    calibration ``segment``, with a note for each stage that does not apply to this layout."""
    from ..errors import InputError

    segment = preprocess(segment, cfg)
    motion = spectrum = None
    notes: list[str] = []
    if "spatial" in cfg.stages:
        from ..analysis.motion import analyze_motion_space

        try:
            m = analyze_motion_space(segment, band_hz=band, phase_method=cfg.phase, seed=cfg.seed)
            motion = {k: m[k].item() for k in m.data_vars}
        except InputError as exc:
            notes.append(f"spatial: {exc.problem}")
    if "spectra" in cfg.stages:
        from ..analysis.spectra import dominant_wave_vector, kw_spectrum

        try:
            d = dominant_wave_vector(segment, band_hz=band)
            kw = kw_spectrum(segment, max_frequency_hz=min(2 * band[1], segment.attrs["fs_hz"] / 2))
        except InputError as exc:
            notes.append(f"spectra: {exc.problem}")
        else:
            spectrum = {"dominant": {k: d[k].item() for k in d.data_vars}, "kw": kw}
    return motion, spectrum, notes


def detect_wave_events(
    segment: xr.DataArray, frames: xr.Dataset, band: tuple[float, float], cfg: Config
) -> tuple[xr.Dataset, dict[str, Any]]:
    """Wave events: runs of frames whose measure exceeds a surrogate-calibrated threshold.

    The threshold is the ``1 - alpha`` quantile of the same measure computed, through the same
    pipeline (band-pass, phase, gradients), on ``n_surrogates`` surrogates of the recording
    (Fourier phase randomisation by default: each channel keeps its spectrum, the spatial
    structure is destroyed). Surrogates are made of ``segment``, at most ``CALIBRATION_S``
    seconds from the middle of the recording, so their cost does not grow with its length.
    Events shorter than ``min_duration_s`` (default: one period of the band's centre
    frequency) are dropped.
    """
    from ..analysis.events import detect_events, null_distribution
    from .frames import (
        EVENT_MEASURE_KEYS,
        band_centre,
        complex_signal,
        edge_mask,
        event_measure,
        preprocess,
        surrogate_measure,
    )
    from .progress import counted
    from .summary import estimator_prefix

    def measure(a: xr.DataArray) -> xr.DataArray:
        z = complex_signal(
            preprocess(a, cfg), band_hz=band, method=cfg.phase, morlet_cycles=cfg.morlet_cycles
        )
        fm = surrogate_measure(z, cfg.event_measure)
        fm["edge"] = ("time", edge_mask(z["time"].values, band))
        return event_measure(fm, cfg.event_measure)

    null = null_distribution(
        segment,
        counted(measure, "surrogates", cfg.n_surrogates),  # a progress bar on a terminal
        n=cfg.n_surrogates,
        method=cfg.surrogate,
        seed=cfg.seed,
    )
    min_dur = cfg.min_duration_s if cfg.min_duration_s is not None else 1.0 / band_centre(band)
    prefix = estimator_prefix(frames)

    def per_frame(key: str) -> np.ndarray | None:
        return frames[key].values if key in frames else None

    events = detect_events(
        event_measure(frames, cfg.event_measure),
        null=null.values,
        alpha=cfg.alpha,
        min_duration_s=min_dur,
        direction_deg=per_frame(f"{prefix}direction_deg"),
        speed_mm_per_s=per_frame(f"{prefix}speed_mm_per_s"),
        planarity=per_frame("pgd_unit_resultant"),
        pattern=per_frame("pattern"),
        centre_x_mm=per_frame("centre_x_mm"),
        centre_y_mm=per_frame("centre_y_mm"),
        seed=cfg.seed,
    )
    info = {
        "measure": EVENT_MEASURE_KEYS[cfg.event_measure],
        "surrogate": cfg.surrogate,
        "n_surrogates": cfg.n_surrogates,
        "alpha": cfg.alpha,
        "threshold": float(events.attrs["threshold"]),
        "calibration_s": [float(segment["time"][0]), float(segment["time"][-1])],
        "min_duration_s": float(min_dur),
        "null_quantiles": {
            str(q): float(np.nanquantile(null.values, q)) for q in (0.5, 0.9, 0.95, 0.99)
        },
    }
    return events, info


def _snapshot(z: xr.DataArray, fm: xr.Dataset) -> dict[str, Any]:
    """The frame with the highest directionality, kept for the phase-snapshot figure."""
    score = fm["pgd_unit_resultant"] if "pgd_unit_resultant" in fm else fm["amplitude"]
    i = int(np.nanargmax(np.nan_to_num(score.values, nan=-1)))
    frame = z.isel(time=i)
    return {
        "time_s": float(frame["time"]),
        "phase": np.angle(frame.values),
        "x": frame["x"].values,
        "y": frame["y"].values,
        "layout": layout(z),
    }


def analyze_file(
    path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    config: Config | dict | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Analyse the recording at ``path``; write results to ``out_dir`` when given.

    Returns the report (the content of ``report.json``).
    """
    from ..io import open_activity

    cfg = config if isinstance(config, Config) else make_config(**(config or {}))
    t0 = time.perf_counter()
    found = open_activity(path, lazy=True, **cfg.input)
    t_load = time.perf_counter() - t0
    log.info("read %s: %s %s, %g Hz", path, found.format, dict(found.activity.sizes),
             found.activity.attrs.get("fs_hz"))  # fmt: skip
    with _fields_tmp(cfg, out_dir) as fields_file:
        res = analyze(found.activity, cfg, fields_file=fields_file)
        res.timings_s = {"load": round(t_load, 4), **res.timings_s}
        return _finish_file(path, out_dir, found, res)


@contextlib.contextmanager
def _fields_tmp(cfg: Config, out_dir: str | os.PathLike | None) -> Iterator[Path | None]:
    """A temporary name in ``out_dir`` for the streamed ``fields.h5`` (``--fields``), removed
    unless :func:`~wavekit.pipeline.write.write_outputs` renamed it into place; a folder this
    creates is removed again if the analysis fails before writing anything else into it."""
    if not cfg.fields or out_dir is None:
        yield None
        return
    import tempfile

    folder = Path(out_dir)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".fields.h5.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _finish_file(path: Any, out_dir: Any, found: Any, res: Results) -> dict[str, Any]:
    from .digest import sha256_of
    from .report import build_report

    res.activity_info = {
        "path": str(path),
        "sha256": sha256_of(path),
        "format": found.format,
        "dataset": found.dataset,
        **res.activity_info,
        "notes": list(found.notes),
    }
    report = build_report(res)
    if out_dir is not None:
        from .write import write_outputs

        write_outputs(res, report, Path(out_dir))
    return report
