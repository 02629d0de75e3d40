"""Frame-wise wave measures of a recording, computed chunk by chunk.

A recording is cut into time chunks of ``chunk_s`` seconds; each chunk is read with a margin of
``MARGIN_PERIODS / f_low`` seconds on both sides (ten periods of the lowest frequency passed: the
band-pass impulse response has decayed by about 1e-5 by then), analysed, and cropped back to its
core. Peak memory therefore depends on the chunk length, not on the recording's, and the results
equal those of the whole recording processed at once to within 1e-3 deg in direction and 5e-4
in relative speed outside the edge frames (about 1e-5 deg in the middle of the record; tested in
``tests/test_pipeline.py``).

Frames within ``EDGE_PERIODS / f_low`` seconds (at most a tenth of the record) of either end
of the recording are marked ``edge`` (the filter's transients dominate there, whatever the
chunking) and left out of summaries and events.

Per frame (time step) the measures are:

* ``pgd_rubino2006``, ``pgd_unit_resultant``: both phase-gradient directionalities;
* ``direction_deg``, ``speed_mm_per_s``, ``wavelength_mm``, ``frequency_hz``: from the mean
  local wave vector (grids: complex-product gradients; irregular layouts: local circular-linear
  fits);
* ``plane_direction_deg``, ``plane_speed_mm_per_s``, ``plane_wavelength_mm``, ``plane_rho_cl``,
  ``plane_r2_adj``: the global circular-linear plane-wave fit;
* ``amplitude``: mean analytic amplitude over channels;
* ``pattern`` (grids): plane, synchronous, source, sink, spiral_ccw, spiral_cw, saddle or none,
  with ``pattern_synchrony``, ``pattern_order_parameter``, ``pattern_charge`` and the centre
  ``centre_x_mm``, ``centre_y_mm`` (:func:`wavekit.analysis.patterns.classify_patterns`);
* with the opt-in ``flow`` stage (grids): ``flow_order_parameter``, ``flow_divergence_per_s``,
  ``flow_curl_per_s``, ``flow_n_critical_points`` of the optical flow of the phase
  (:mod:`wavekit.pipeline.phaseflow`, which adds them to each chunk's measures).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..model import layout


@dataclass(frozen=True)
class Chunk:
    """Sample ranges of one chunk: ``read`` (with margins) and ``keep`` (its core)."""

    read: slice
    keep: slice  # relative to the read range


def plan_chunks(n: int, fs_hz: float, chunk_s: float, margin_s: float) -> list[Chunk]:
    """Split ``n`` samples into cores of ``chunk_s`` s with ``margin_s`` s read on each side."""
    core = max(1, int(round(chunk_s * fs_hz)))
    margin = int(math.ceil(margin_s * fs_hz))
    if n <= core + 2 * margin:  # one chunk: the whole record
        return [Chunk(read=slice(0, n), keep=slice(0, n))]
    out = []
    for start in range(0, n, core):
        stop = min(n, start + core)
        r0, r1 = max(0, start - margin), min(n, stop + margin)
        out.append(Chunk(read=slice(r0, r1), keep=slice(start - r0, stop - r0)))
    return out


def iter_chunks(
    activity: xr.DataArray, chunks: list[Chunk]
) -> Iterator[tuple[Chunk, xr.DataArray]]:
    """Yield each chunk as an in-memory DataArray (only its samples are read)."""
    for ch in chunks:
        part = activity.isel(time=ch.read)
        if hasattr(part.data, "compute"):
            part = part.compute()
        yield ch, part


MARGIN_PERIODS = 10.0
EDGE_PERIODS = 3.0
EDGE_MAX_FRACTION = 0.1


def _low(band_hz: tuple[float, float]) -> float:
    return band_hz[0] if band_hz[0] and band_hz[0] > 0 else band_hz[1] / 4


def band_centre(band_hz: tuple[float, float]) -> float:
    """Geometric centre of the band (half the high edge for a low-pass)."""
    return math.sqrt(band_hz[0] * band_hz[1]) if band_hz[0] > 0 else band_hz[1] / 2


def margin_s(band_hz: tuple[float, float]) -> float:
    """Margin read on each side of a chunk: ten periods of the band's low edge."""
    return MARGIN_PERIODS / _low(band_hz)


def edge_mask(time_s: np.ndarray, band_hz: tuple[float, float]) -> np.ndarray:
    """True for frames near the record's ends: within three periods of the band's low edge,
    but never more than a tenth of the record on each side (short recordings keep 80 %)."""
    edge = min(EDGE_PERIODS / _low(band_hz), EDGE_MAX_FRACTION * (time_s[-1] - time_s[0]))
    return (time_s < time_s[0] + edge) | (time_s > time_s[-1] - edge)


def preprocess(activity: xr.DataArray, cfg: Any) -> xr.DataArray:
    """The configured clean-up before the phase: line-noise notch (the frequency and its
    multiples below Nyquist, at most 5) and NaN-aware spatial smoothing (grids only)."""
    from ..errors import UsageError

    if cfg.notch_hz:
        from ..analysis.preprocess import notch

        fs = float(activity.attrs["fs_hz"])
        harmonics = max(1, min(5, int((fs / 2 - 1e-9) // cfg.notch_hz)))
        if cfg.notch_hz < fs / 2:
            activity = notch(activity, freq_hz=cfg.notch_hz, harmonics=harmonics)
    if cfg.smooth_sigma_mm > 0:
        if layout(activity) != "grid":
            raise UsageError("smooth_sigma_mm applies to grid layouts only")
        from ..analysis.preprocess import smooth_spatial

        activity = smooth_spatial(activity, sigma_mm=cfg.smooth_sigma_mm)
    return activity


def complex_signal(
    activity: xr.DataArray, *, band_hz: tuple[float, float], method: str, morlet_cycles: float
) -> xr.DataArray:
    """The complex analytic signal whose phase the measures use."""
    from ..analysis.phase import analytic_signal, generalized_phase, morlet

    if method == "morlet":
        return morlet(activity, freq_hz=band_centre(band_hz), n_cycles=morlet_cycles)
    if method == "generalized":
        return generalized_phase(activity, band_hz=band_hz)
    return analytic_signal(activity, band_hz=band_hz)


def local_gradients(z: xr.DataArray) -> xr.Dataset:
    """Local wave vector ``k = -grad phase`` and instantaneous frequency at every site and frame
    (grids: complex-product gradients; irregular layouts: local circular-linear fits)."""
    if layout(z) == "grid":
        from ..analysis.gradients import phase_gradients

        return phase_gradients(z)
    from ..analysis.irregular import local_wave_vectors

    return local_wave_vectors(z)


def frame_measures(
    z: xr.DataArray,
    *,
    stages: tuple[str, ...],
    pattern_step: int = 1,
    gradients: xr.Dataset | None = None,
) -> xr.Dataset:
    """Per-frame measures of a complex signal (grid or irregular layout).

    Patterns are classified on every ``pattern_step``-th frame (see :func:`pattern_step`) and
    each label is carried to the frames nearest it. ``gradients`` (:func:`local_gradients` of
    ``z``) may be passed when the caller needs them too, so they are computed once.
    """
    from ..analysis.gradients import mean_wave_vector, phase_gradient_directionality

    out: dict[str, xr.DataArray] = {}
    amp = np.abs(z)
    space = ("y", "x") if layout(z) == "grid" else ("channel",)
    out["amplitude"] = amp.mean(space, skipna=True)
    if "gradients" in stages:
        g = local_gradients(z) if gradients is None else gradients
        pgd = phase_gradient_directionality(g, dims=space)
        mwv = mean_wave_vector(g, dims=space)
        out["pgd_rubino2006"] = pgd["pgd_rubino2006"]
        out["pgd_unit_resultant"] = pgd["pgd_unit_resultant"]
        for k in ("direction_deg", "speed_mm_per_s", "wavelength_mm", "frequency_hz"):
            out[k] = mwv[k]
    if "planefit" in stages:
        from ..analysis.planefit import plane_wave_fit

        pf = plane_wave_fit(z)
        for k in ("direction_deg", "speed_mm_per_s", "wavelength_mm", "rho_cl", "r2_adj"):
            out[f"plane_{k}"] = pf[k]
        if "frequency_hz" not in out:
            out["frequency_hz"] = pf["frequency_hz"]
    if "patterns" in stages and layout(z) == "grid":
        from ..analysis.patterns import classify_patterns

        step = max(1, int(pattern_step))
        pat = classify_patterns(z.isel(time=slice(None, None, step)) if step > 1 else z)
        if step > 1:  # carry each label to the frames around it (at most step / 2 away)
            pat = pat.reindex(time=z["time"], method="nearest")
        out["pattern"] = pat["pattern"]
        for k in ("synchrony", "order_parameter", "charge"):
            out[f"pattern_{k}"] = pat[k]
        out["centre_x_mm"] = pat["centre_x_mm"]
        out["centre_y_mm"] = pat["centre_y_mm"]
    ds = xr.Dataset({k: v.reset_coords(drop=True) for k, v in out.items()})
    for k in list(ds.data_vars):  # float32: 7 digits are plenty, and half the memory of a
        if ds[k].dtype.kind in "iufb":  # long recording's per-frame table
            ds[k] = ds[k].astype(np.float32)
    return ds


def pattern_step(fs_hz: float, band_hz: tuple[float, float]) -> int:
    """Frames between two pattern labels: eight labels per period of the band's top frequency
    (patterns cannot change faster than the phase they are read from)."""
    return max(1, int(fs_hz / (8.0 * band_hz[1])))


#: event measure option -> the per-frame variable it names
EVENT_MEASURE_KEYS = {"pgd": "pgd_unit_resultant", "plane_r2": "plane_r2_adj"}


def surrogate_measure(z: xr.DataArray, name: str) -> xr.Dataset:
    """The event measure ``name`` of a complex signal, and nothing else (per-frame, float32 as
    in :func:`frame_measures`): what each surrogate needs. For ``pgd``, the PGD alone, without
    the mean wave vector and amplitude that :func:`frame_measures` adds (same values)."""
    if name != "pgd":
        return frame_measures(z, stages=("planefit",))
    from ..analysis.gradients import phase_gradient_directionality

    space = ("y", "x") if layout(z) == "grid" else ("channel",)
    pgd = phase_gradient_directionality(local_gradients(z), dims=space)
    key = EVENT_MEASURE_KEYS[name]
    return xr.Dataset({key: pgd[key].reset_coords(drop=True).astype(np.float32)})


def event_measure(frames: xr.Dataset, name: str) -> xr.DataArray:
    """The per-frame measure events are detected on, NaN on edge frames."""
    m = frames[EVENT_MEASURE_KEYS[name]]
    if "edge" in frames:
        m = m.where(~frames["edge"])
    return m
