"""``wavekit analyze``: one recording in, a report, an events table and figures out.

The stages run in one direction::

    load -> bad channels -> band (given, or from the spectrum) -> per chunk: phase ->
    gradients / plane fit / patterns -> frame measures -> summary (flow structure) ->
    events against surrogates -> report.json, events.csv, fields.h5, figures

:func:`analyze` works on an in-memory or lazily loaded DataArray and returns a
:class:`Results`; :func:`write_outputs` writes it to a folder (``report.json`` last, every file
atomically); :func:`analyze_file` does both for a path and is what ``wavekit analyze`` and
``wavekit batch`` call.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import AnalysisError
from ..model import bad_channels, layout
from .config import Config, make_config
from .frames import preprocess


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


def analyze(activity: xr.DataArray, config: Config | None = None) -> Results:
    """Run the analysis stages on activity in the data model.

    Parameters
    ----------
    activity : xarray.DataArray
        Grid ``(time, y, x)`` or irregular ``(time, channel)`` activity (NumPy or dask-backed;
        dask-backed arrays are read chunk by chunk).
    config : Config, optional
        Options (:func:`wavekit.pipeline.config.make_config`); defaults when omitted.

    Returns
    -------
    Results
    """
    from .frames import (
        complex_signal,
        edge_mask,
        frame_measures,
        iter_chunks,
        margin_s,
        pattern_step,
        plan_chunks,
    )
    from .summary import add_activation, add_motion, flow_structure

    cfg = config or make_config()
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
    with timer("input"):
        segment = calibration_segment(activity)  # read once: outliers, motion, surrogates
        outliers = _variance_outliers(segment, band, cfg.bad_channel_z)
        info["bad_channels"]["variance_outlier"] = outliers
        activity = _mask_bad(activity, outliers)
        segment = _mask_bad(segment, outliers)
    fs = info["fs_hz"]
    if band[1] >= fs / 2:
        raise AnalysisError(
            f"band {band[0]:g}-{band[1]:g} Hz reaches the Nyquist frequency "
            f"{fs / 2:g} Hz: choose a lower band"
        )
    chunks = plan_chunks(activity.sizes["time"], fs, cfg.chunk_s, margin_s(band))
    parts = []
    fronts = []
    snapshot = None
    for ch, part in iter_chunks(activity, chunks):
        if "activation" in cfg.stages:
            with timer("activation"):
                fits = activation_fits(part, ch, cfg, band)
                if fits is not None:
                    fronts.append(fits)
        with timer("phase"):
            part = preprocess(part, cfg)
            z = complex_signal(
                part, band_hz=band, method=cfg.phase, morlet_cycles=cfg.morlet_cycles
            )
        with timer("measures"):
            fm = frame_measures(z, stages=cfg.stages, pattern_step=pattern_step(fs, band)).isel(
                time=ch.keep
            )
        parts.append(fm)
        if snapshot is None:
            snapshot = _snapshot(z.isel(time=ch.keep), fm)
    frames = xr.concat(parts, dim="time") if len(parts) > 1 else parts[0]
    frames["edge"] = ("time", edge_mask(frames["time"].values, band))
    with timer("summary"):
        fstruct = flow_structure(frames, band_hz=band)
    activation = None
    if fronts:
        activation = xr.concat(fronts, dim="event") if len(fronts) > 1 else fronts[0]
    elif "activation" in cfg.stages:
        activation = xr.Dataset(coords={"event": np.zeros(0)})  # ran, found no wave
    with timer("motion"):
        motion, spectrum, notes = motion_and_spectrum(segment, band, cfg)
    add_motion(fstruct, motion, spectrum, notes)
    add_activation(fstruct, activation, alpha=cfg.alpha)
    events = null_info = None
    if "events" in cfg.stages:
        with timer("events"):
            events, null_info = detect_wave_events(segment, frames, band, cfg)
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
    )


#: longest stretch of the recording on which surrogates calibrate the event threshold
CALIBRATION_S = 30.0


def activation_fits(
    part: xr.DataArray, ch: Any, cfg: Config, band: tuple[float, float]
) -> xr.Dataset | None:
    """Front fits of the waves whose activation falls in this chunk's core.

    Activation times are the steepest upstroke per channel and wave
    (:func:`wavekit.analysis.timing.activation_times`), fitted by a robust plane of time on
    position with bootstrap intervals (:func:`wavekit.analysis.timing.fit_activation_times`);
    each front gets a permutation p-value against shuffled channel positions
    (:func:`wavekit.analysis.timing.front_significance`), and its first and last activation
    (``start_s``, ``end_s``).
    """
    from ..analysis.timing import activation_times, fit_activation_times, front_significance
    from .frames import band_centre

    interval = cfg.min_interval_s if cfg.min_interval_s is not None else 0.5 / band_centre(band)
    try:
        times = activation_times(part, polarity=cfg.polarity, min_interval_s=interval)
    except AnalysisError:  # no upstroke at all in this chunk
        return None
    t = part["time"].values
    lo, hi = t[ch.keep.start], t[ch.keep.stop - 1]
    ev = times["event"].values
    times = times.isel(event=np.flatnonzero((ev >= lo) & (ev <= hi)))
    if times.sizes["event"] == 0:
        return None
    fits = fit_activation_times(times, n_boot=500, seed=cfg.seed)
    fits["p_value"] = ("event", front_significance(times, seed=cfg.seed).values)
    fits["start_s"] = times.min([d for d in times.dims if d != "event"], skipna=True)
    fits["end_s"] = times.max([d for d in times.dims if d != "event"], skipna=True)
    return fits


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
        frame_measures,
        preprocess,
    )
    from .summary import estimator_prefix

    measure_stage = "gradients" if cfg.event_measure == "pgd" else "planefit"

    def measure(a: xr.DataArray) -> xr.DataArray:
        z = complex_signal(
            preprocess(a, cfg), band_hz=band, method=cfg.phase, morlet_cycles=cfg.morlet_cycles
        )
        fm = frame_measures(z, stages=(measure_stage,))
        fm["edge"] = ("time", edge_mask(fm["time"].values, band))
        return event_measure(fm, cfg.event_measure)

    null = null_distribution(
        segment, measure, n=cfg.n_surrogates, method=cfg.surrogate, seed=cfg.seed
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
    from .digest import sha256_of
    from .report import build_report

    cfg = config if isinstance(config, Config) else make_config(**(config or {}))
    t0 = time.perf_counter()
    found = open_activity(path, lazy=True, **cfg.input)
    t_load = time.perf_counter() - t0
    res = analyze(found.activity, cfg)
    res.timings_s = {"load": round(t_load, 4), **res.timings_s}
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
