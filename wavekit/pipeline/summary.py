"""The ``flow_structure`` block of the report: one recording's waves in a few numbers.

Which frames count: a frame is a *wave frame* when its unit-vector phase-gradient
directionality (``pgd_unit_resultant``) is at least ``WAVE_PGD`` (0.5) or, without gradients,
when the plane fit explains at least half of the phase variance (``plane_r2_adj >= 0.5``).
Directions are averaged as vectors (circular mean), weighted by that planarity; speeds are
summarised by the median and quartiles of the per-frame estimates over wave frames (never a
mean of ratios), wavelengths likewise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..analysis.circstats import circ_mean, rayleigh_test, resultant_length

WAVE_PGD = 0.5
WAVE_R2 = 0.5


def _q(v: np.ndarray) -> dict[str, float | None]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": None, "q25": None, "q75": None, "n_frames": 0}
    q25, med, q75 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "q25": float(q25), "q75": float(q75), "n_frames": int(v.size)}


def wave_frames(frames: xr.Dataset) -> np.ndarray:
    """Boolean mask of the frames that carry a wave (see the module docstring).

    Frames marked ``edge`` (filter transients at the record's ends) never count.
    """
    inner = inner_of(frames)
    if "pgd_unit_resultant" in frames:
        return inner & (np.nan_to_num(frames["pgd_unit_resultant"].values, nan=0.0) >= WAVE_PGD)
    if "plane_r2_adj" in frames:
        return inner & (np.nan_to_num(frames["plane_r2_adj"].values, nan=0.0) >= WAVE_R2)
    return np.zeros(frames.sizes["time"], dtype=bool)


def estimator_prefix(frames: xr.Dataset) -> str:
    """Prefix of the per-frame direction, speed and wavelength that summaries use: the global
    plane fit (``plane_``) when it ran, else the mean local wave vector (no prefix)."""
    return "plane_" if "plane_direction_deg" in frames else ""


def inner_of(frames: xr.Dataset) -> np.ndarray:
    """Frames away from the record's ends (not ``edge``)."""
    return ~frames["edge"].values if "edge" in frames else np.ones(frames.sizes["time"], bool)


def flow_structure(frames: xr.Dataset, *, band_hz: tuple[float, float]) -> dict[str, Any]:
    """Summarise frame measures into the report's ``flow_structure`` block."""
    mask = wave_frames(frames)
    prefix = estimator_prefix(frames)
    out: dict[str, Any] = {
        "band_hz": [float(band_hz[0]), float(band_hz[1])],
        "wave_frame_fraction": float(mask.mean()) if mask.size else 0.0,
        "wave_frame_rule": (
            f"pgd_unit_resultant >= {WAVE_PGD}"
            if "pgd_unit_resultant" in frames
            else f"plane_r2_adj >= {WAVE_R2}"
        ),
        "estimator": "plane_wave_fit" if prefix else "mean_wave_vector",
    }
    if "frequency_hz" in frames:
        freq = np.abs(frames["frequency_hz"].values)
        out["frequency_hz"] = _q(freq[mask] if mask.any() else freq[inner_of(frames)])
    else:  # no phase-based stage ran (e.g. --stages activation)
        out["frequency_hz"] = _q(np.array([]))
    if f"{prefix}direction_deg" in frames:
        d = np.radians(frames[f"{prefix}direction_deg"].values)
        weight = (
            np.clip(frames["plane_r2_adj"].values, 0, 1)
            if prefix
            else frames["pgd_unit_resultant"].values
        )
        sel = mask & np.isfinite(d) & np.isfinite(weight)
        if sel.any():
            mean = float(np.degrees(circ_mean(d[sel], weights=weight[sel])))
            r = float(resultant_length(d[sel], weights=weight[sel]))
            _, p = rayleigh_test(d[sel])
            out["dominant_direction_deg"] = mean
            out["direction_resultant_length"] = r
            out["direction_circular_sd_deg"] = float(
                np.degrees(np.sqrt(-2 * np.log(max(r, 1e-12))))
            )
            out["direction_rayleigh_p"] = float(p)
        else:
            out.update(
                dominant_direction_deg=None,
                direction_resultant_length=None,
                direction_circular_sd_deg=None,
                direction_rayleigh_p=None,
            )
        out["speed_mm_per_s"] = _q(frames[f"{prefix}speed_mm_per_s"].values[mask])
        out["wavelength_mm"] = _q(frames[f"{prefix}wavelength_mm"].values[mask])
    planarity: dict[str, Any] = {}
    inner = inner_of(frames)
    for k in ("pgd_rubino2006", "pgd_unit_resultant", "plane_r2_adj", "plane_rho_cl"):
        if k in frames:
            planarity[f"{k}_median"] = _q(frames[k].values[inner])["median"]
    if "pgd_unit_resultant" in frames:
        planarity[f"fraction_pgd_unit_resultant_above_{WAVE_PGD}"] = float(mask.mean())
    out["planarity"] = planarity
    if "pattern" in frames:
        labels = frames["pattern"].values[inner]
        from ..analysis.patterns import PATTERNS

        out["pattern_fractions"] = {
            p: float(np.mean(labels == p)) if labels.size else 0.0 for p in PATTERNS
        }
    return out


def add_motion(
    out: dict[str, Any],
    motion: dict[str, Any] | None,
    spectrum: dict[str, Any] | None,
    notes: list[str],
) -> None:
    """Add the motion summary and the spectral estimate to a ``flow_structure`` block.

    ``motion_type`` (planar, radial, rotational or none) and ``spatial_correlation_length_mm``
    come from :func:`wavekit.analysis.motion.analyze_motion_space` on the calibration segment;
    its deciding measures are kept under ``motion``. ``spectral`` is the peak of the tapered
    k-omega spectrum (:func:`wavekit.analysis.spectra.dominant_wave_vector`).
    """
    out["motion_type"] = None if motion is None else motion.get("motion_type")
    length = None if motion is None else motion.get("spatial_correlation_length_mm")
    out["spatial_correlation_length_mm"] = length
    if motion is not None:
        out["motion"] = motion
    if spectrum is not None:
        out["spectral"] = spectrum["dominant"]
    if notes:
        out["notes"] = notes


def add_activation(out: dict[str, Any], waves: xr.Dataset | None, *, alpha: float) -> None:
    """Summarise trigger-based waves: how many, how many are significant (``significant``: size
    against shift surrogates and front against shuffled positions, both at ``alpha``), their
    rate, and over the significant ones the ``front_speed_mm_per_s`` (median, quartiles) and
    ``front_direction_deg`` (circular mean)."""
    if waves is None:
        return
    n = int(waves.sizes.get("wave", 0))
    out["n_activation_waves"] = n
    sig = np.zeros(n, bool) if n == 0 else waves["significant"].values.astype(bool)
    out["n_significant_activation_waves"] = int(sig.sum())
    span = waves.attrs.get("t_stop_s", np.nan) - waves.attrs.get("t_start_s", np.nan)
    out["activation_waves_per_min"] = float(60.0 * sig.sum() / span) if span > 0 else None
    out["activation_window_s"] = waves.attrs.get("max_dt_s")
    out["activation_neighbour_mm"] = waves.attrs.get("max_distance_mm")
    if not sig.any():
        out["front_speed_mm_per_s"] = _q(np.array([]))
        out["front_direction_deg"] = None
        return
    speed = waves["front_speed_mm_per_s"].values[sig]
    out["front_speed_mm_per_s"] = _q(speed)
    d = np.radians(waves["direction_deg"].values[sig])
    ok = np.isfinite(d)
    out["front_direction_deg"] = float(np.degrees(circ_mean(d[ok]))) if ok.any() else None
