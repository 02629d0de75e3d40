r"""Flow-structure summary of a recording: where the waves go, how fast, with what wavelength and
frequency, how far activity stays correlated, and which kind of motion it is (planar, radial,
rotational or none), with the measures that decided it.

One call, :func:`analyze_motion_space`, runs the chain band -> phase -> gradients -> spectra and
spatial statistics on a grid and returns one labelled ``xarray.Dataset`` of scalars (``.to_dict()``
or ``float(ds[key])`` for a report).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..errors import AnalysisError, UsageError
from ..model import layout, to_grid, validate_activity

__all__ = ["analyze_motion_space"]

MOTION_TYPES = ("planar", "radial", "rotational", "none")


def _shuffle_sites(z: xr.DataArray, rng: np.random.Generator) -> xr.DataArray:
    """Same random permutation of the grid sites in every frame (keeps each channel's time
    course, destroys the spatial arrangement)."""
    ny, nx = z.sizes["y"], z.sizes["x"]
    perm = rng.permutation(ny * nx)
    arr = np.asarray(z.transpose(..., "y", "x").values)
    flat = arr.reshape(*arr.shape[:-2], ny * nx)[..., perm].reshape(arr.shape)
    return z.transpose(..., "y", "x").copy(data=flat)


def _deciding_measures(zf: xr.DataArray, sign: np.ndarray) -> dict:
    """PGDs, radial and rotational correlations of the (loaded) frames ``zf`` of a complex
    signal whose temporal frequency has sign ``sign`` (one per frame)."""
    from .gradients import phase_gradient_directionality, phase_gradients
    from .spatial import (
        find_rotation_centre,
        find_source,
        phase_distance_correlation,
        phase_rotation_correlation,
    )

    pgd = phase_gradient_directionality(phase_gradients(zf, fields=()))
    src = find_source(zf, frequency_sign=sign)
    rad = phase_distance_correlation(zf, source=src, frequency_sign=sign)
    cen = find_rotation_centre(zf, frequency_sign=sign)
    rot = phase_rotation_correlation(zf, centre=cen, frequency_sign=sign)
    with warnings.catch_warnings():  # all-NaN: no frame had a usable centre (rho is NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        rho_d = float(np.nanmedian(rad["rho"].values))
        rho_r = float(np.nanmedian(rot["rho"].values))
    x, y = zf["x"].values, zf["y"].values
    pitch = min(float(np.median(np.abs(np.diff(x)))), float(np.median(np.abs(np.diff(y)))))
    cx, cy = float(cen["x_mm"]), float(cen["y_mm"])
    inside = bool(
        x.min() + pitch <= cx <= x.max() - pitch and y.min() + pitch <= cy <= y.max() - pitch
    )
    return {
        "pgd_rubino2006": float(np.nanmedian(pgd["pgd_rubino2006"].values)),
        "pgd_unit_resultant": float(np.nanmedian(pgd["pgd_unit_resultant"].values)),
        "radial_rho": rho_d,
        "source": src,
        "rotation_rho": rho_r,
        "centre": cen,
        "centre_inside": inside,
    }


def analyze_motion_space(
    activity: xr.DataArray,
    *,
    band_hz: tuple[float, float] | None = None,
    phase_method: str = "hilbert",
    max_frames: int = 100,
    edge_s: float | None = None,
    planar_threshold: float = 0.5,
    rho_threshold: float = 0.5,
    n_surrogates: int = 10,
    seed: int = 0,
) -> xr.Dataset:
    r"""Summarise the flow structure of a recording: dominant direction, speed, wavelength,
    frequency, spatial correlation length and motion type.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity ``(time, y, x)`` (irregular activity whose electrodes lie on a lattice, such
        as a Utah array, is viewed as a grid with NaN holes). NaN channels are excluded.
    band_hz : (float, float), optional
        Pass band of the waves. Default: one octave around the spectral peak above the 1/f
        background (:func:`wavekit.analysis.bandselect.choose_band`).
    phase_method : {"hilbert", "morlet", "generalized"}
        Phase estimator of :mod:`wavekit.analysis.phase` (Morlet at the band's geometric centre).
    max_frames : int
        Frames (evenly spaced, after dropping the edges) on which the per-frame measures are
        evaluated.
    edge_s : float, optional
        Time dropped at both ends (filter edge effects); default one period of the band's lower
        edge, at most 10 % of the record.
    planar_threshold : float
        Minimum median unit-resultant PGD for ``planar``.
    rho_threshold : float
        Minimum ``|median rho|`` for ``radial`` and ``rotational``.
    n_surrogates : int
        Site-shuffled surrogates (same permutation in every frame) whose deciding measures form
        the null; each measure must also exceed the largest surrogate value. 0 disables.
    seed : int
        Seed of ``numpy.random.default_rng`` for the surrogates (recorded in attrs).

    Returns
    -------
    xarray.Dataset
        Scalars: ``motion_type``; ``dominant_direction_deg`` (of travel), ``speed_mm_per_s``
        (median over frames), ``speed_q25_mm_per_s``, ``speed_q75_mm_per_s``,
        ``speed_iqr_mm_per_s``, ``wavelength_mm``, ``frequency_hz``,
        ``spatial_correlation_length_mm``; the deciding measures ``pgd_unit_resultant``,
        ``pgd_rubino2006``, ``radial_rho`` (< 0 for a source), ``radial_kind``
        (``source``/``sink``), ``source_x_mm``, ``source_y_mm``, ``rotation_rho`` (< 0 for
        anticlockwise), ``rotation_sense`` (``ccw``/``cw``), ``centre_x_mm``, ``centre_y_mm``,
        ``centre_inside``,
        their surrogate maxima ``null_pgd_unit_resultant``, ``null_radial_abs_rho``,
        ``null_rotation_abs_rho``; the spectral estimates ``spectral_direction_deg``,
        ``spectral_speed_mm_per_s``, ``spectral_wavelength_mm``, ``spectral_frequency_hz``,
        ``spectral_planarity`` and ``forward_fraction`` (power travelling along the dominant
        direction). Attributes record the band (and why), the phase method, the thresholds,
        the frames used and the seed.

    Notes
    -----
    1. Band (given, or chosen from the spectrum), complex signal ``z`` by ``phase_method``,
       ``edge_s`` dropped at both ends.
    2. Direction and frequency ``f`` of the record: the pooled wave vector over all frames and
       sites (amplitude-weighted circular mean of neighbour phase differences,
       :func:`wavekit.analysis.gradients.pooled_wave_vector`); the direction is meaningful for
       ``planar`` motion (for radial and rotational motion it is the weak net drift). Speed per
       frame, ``2 pi |f| / |k|``: with the frame's pooled wave vector for ``planar`` motion,
       with the median over sites of the local ``|k|`` otherwise (the mean wave vector of
       radial and rotational motion cancels). The record's speed is the median over frames,
       with quartiles. Wavelength: pooled for ``planar`` motion, else the median over frames of
       the median local ``2 pi / |k|``.
    3. Deciding measures, medians over ``max_frames`` frames: the unit-resultant PGD; the
       phase-distance correlation ``rho`` about the source found from the divergence of the
       direction field (:func:`wavekit.analysis.spatial.phase_distance_correlation`); the
       phase-rotation correlation about the centre found from its curl
       (:func:`wavekit.analysis.spatial.phase_rotation_correlation`).
       The complex signal of every phase method has positive frequency, so ``radial_rho < 0``
       means a source (``radial_kind``) and ``rotation_rho < 0`` anticlockwise rotation
       (``rotation_sense``).
    4. Motion type: ``planar`` if the PGD reaches ``planar_threshold`` (and the null);
       otherwise the larger of ``|radial_rho|`` and ``|rotation_rho|`` if it reaches
       ``rho_threshold`` (and the null), giving ``radial`` or ``rotational``; otherwise
       ``none``. Planar is tested first because a plane wave also correlates with the distance
       from a far-away point, and with the polar angle about a point on the array's edge: a
       rotation counts only when its centre lies at least one pitch inside the array
       (``centre_inside``).
    5. Spatial correlation length: exponential fit to the channel correlation of the
       band-passed activity (``Re z``) against distance, over the first positive lobe
       (:func:`wavekit.analysis.spatial.correlation_vs_distance`).
    6. Spectral cross-check: :func:`wavekit.analysis.spectra.dominant_wave_vector` and
       :func:`wavekit.analysis.spectra.directional_power` of the band-passed activity.

    References
    ----------
    Muller L., Reynaud A., Chavane F., Destexhe A. (2014) Nat. Commun. 5:3675.
    doi:10.1038/ncomms4675

    Muller L., Piantoni G., Koller D., Cash S. S., Halgren E., Sejnowski T. J. (2016) eLife
    5:e17267. doi:10.7554/eLife.17267

    Rubino D., Robbins K. A., Hatsopoulos N. G. (2006) Nat. Neurosci. 9:1549-1557.
    doi:10.1038/nn1802

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(1000)[:, None, None] / 500.0
    >>> yy, xx = np.mgrid[0:16, 0:16] * 0.4
    >>> k = 2 * np.pi / 4.0                               # 4 mm waves at 10 Hz toward +y
    >>> a = grid_activity(np.cos(2 * np.pi * 10 * t - k * yy), fs_hz=500.0, dx_mm=0.4)
    >>> m = analyze_motion_space(a, band_hz=(6, 14), n_surrogates=0)
    >>> str(m.motion_type.values), round(float(m.dominant_direction_deg))
    ('planar', 90)
    >>> round(float(m.speed_mm_per_s))
    40
    """
    from .gradients import phase_gradients, pooled_wave_vector
    from .phase import analytic_signal, generalized_phase, morlet
    from .spatial import _Frames, correlation_vs_distance
    from .spectra import directional_power, dominant_wave_vector

    act = validate_activity(activity)
    if "trial" in act.dims:
        raise UsageError("analyze_motion_space takes one trial: select one with .isel(trial=i)")
    if layout(act) != "grid":
        act = to_grid(act)  # InputError when the electrodes are not on a lattice
    act = act.transpose("time", "y", "x")
    if act.sizes["y"] < 3 or act.sizes["x"] < 3:
        raise UsageError("the motion summary needs a grid of at least 3 x 3 sites")
    fs = float(act.attrs["fs_hz"])
    reason = "given"
    if band_hz is None:
        from .bandselect import choose_band

        band_hz, _, reason = choose_band(act)
    lo, hi = float(band_hz[0]), float(band_hz[1])
    if phase_method == "hilbert":
        z = analytic_signal(act, band_hz=(lo, hi))
    elif phase_method == "morlet":
        z = morlet(act, freq_hz=float(np.sqrt(lo * hi)))
    elif phase_method == "generalized":
        z = generalized_phase(act, band_hz=(lo, hi))
    else:
        raise UsageError(f"phase_method must be hilbert, morlet or generalized: {phase_method!r}")
    nt = act.sizes["time"]
    edge = 1.0 / lo if edge_s is None else float(edge_s)
    ne = int(min(round(edge * fs), 0.1 * nt))
    z = z.isel(time=slice(ne, nt - ne))
    if z.sizes["time"] < 3:
        raise AnalysisError("record too short after dropping the filter edges")
    ntz = z.sizes["time"]
    frames = np.unique(np.linspace(1, ntz - 2, min(int(max_frames), ntz - 2)).astype(int))
    # sign of the frequency of every frame from its neighbouring samples (full rate), then
    # only the chosen frames are loaded
    sign = _Frames(z).sign[frames]
    zf = z.isel(time=frames).load()

    meas = _deciding_measures(zf, sign)

    rng = np.random.default_rng(seed)
    null = {"pgd_unit_resultant": 0.0, "radial": 0.0, "rotation": 0.0}
    for _ in range(int(n_surrogates)):
        sm = _deciding_measures(_shuffle_sites(zf, rng), sign)
        null["pgd_unit_resultant"] = max(null["pgd_unit_resultant"], sm["pgd_unit_resultant"])
        null["radial"] = max(null["radial"], abs(sm["radial_rho"]))
        null["rotation"] = max(null["rotation"], abs(sm["rotation_rho"]))

    planar_ok = meas["pgd_unit_resultant"] >= max(planar_threshold, null["pgd_unit_resultant"])
    rad_ok = abs(meas["radial_rho"]) >= max(rho_threshold, null["radial"])
    rot_ok = abs(meas["rotation_rho"]) >= max(rho_threshold, null["rotation"])
    rot_ok = rot_ok and meas["centre_inside"]
    if planar_ok:
        motion = "planar"
    elif rad_ok or rot_ok:
        rad_s = abs(meas["radial_rho"]) if rad_ok else -1.0
        rot_s = abs(meas["rotation_rho"]) if rot_ok else -1.0
        motion = "radial" if rad_s >= rot_s else "rotational"
    else:
        motion = "none"

    # direction, wavelength, frequency of the record (lazy reductions for dask input)
    pooled = pooled_wave_vector(z).compute()
    f_rec = float(pooled["frequency_hz"])
    # speed per frame from the frame's wave vector and the record's frequency
    if motion == "planar":
        per = pooled_wave_vector(zf, dims=("y", "x"))
        kk = np.hypot(per["kx_rad_per_mm"].values, per["ky_rad_per_mm"].values)
        with np.errstate(divide="ignore"):
            speeds = 2 * np.pi * abs(f_rec) / np.asarray(kk, float)
        wavelength = float(pooled["wavelength_mm"])
    else:
        gl = phase_gradients(zf, fields=("speed", "wavelength"), frequency_hz=abs(f_rec))
        sp = gl["speed_mm_per_s"].values.reshape(frames.size, -1)
        wl = gl["wavelength_mm"].values.reshape(frames.size, -1)
        with np.errstate(all="ignore"):
            speeds = np.nanmedian(np.where(np.isfinite(sp), sp, np.nan), axis=1)
            wls = np.nanmedian(np.where(np.isfinite(wl), wl, np.nan), axis=1)
        wls = wls[np.isfinite(wls)]
        wavelength = float(np.median(wls)) if wls.size else np.nan
    speeds = speeds[np.isfinite(speeds)]
    q25, q50, q75 = (np.percentile(speeds, q) if speeds.size else np.nan for q in (25, 50, 75))

    # correlation length of the band-passed activity, first positive lobe
    real = xr.apply_ufunc(np.real, z, dask="allowed").assign_attrs(fs_hz=fs)
    cvd = correlation_vs_distance(real, seed=seed)
    c = cvd["correlation"].values
    nonpos = np.flatnonzero(~(c > 0))
    if nonpos.size and nonpos[0] >= 3:
        cvd = correlation_vs_distance(
            real, seed=seed, max_distance_mm=float(cvd["distance_mm"][nonpos[0] - 1])
        )

    # spectral cross-check on the band-passed activity
    try:
        spec = dominant_wave_vector(real, band_hz=(lo, hi))
        fwd = directional_power(real, axis=float(pooled["direction_deg"]), band_hz=(lo, hi))
        spec_vals = {k: float(spec[k]) for k in spec.data_vars}
        fwd_frac = float(fwd["forward_fraction"])
    except UsageError:
        spec_vals = {}
        fwd_frac = np.nan

    src, cen = meas["source"], meas["centre"]
    out = {
        "motion_type": motion,
        "dominant_direction_deg": float(pooled["direction_deg"]),
        "speed_mm_per_s": float(q50),
        "speed_q25_mm_per_s": float(q25),
        "speed_q75_mm_per_s": float(q75),
        "speed_iqr_mm_per_s": float(q75 - q25),
        "wavelength_mm": wavelength,
        "frequency_hz": f_rec,
        "spatial_correlation_length_mm": float(cvd["correlation_length_mm"]),
        "pgd_unit_resultant": meas["pgd_unit_resultant"],
        "pgd_rubino2006": meas["pgd_rubino2006"],
        "radial_rho": meas["radial_rho"],
        "radial_kind": "source" if meas["radial_rho"] < 0 else "sink",
        "source_x_mm": float(src["x_mm"]),
        "source_y_mm": float(src["y_mm"]),
        "rotation_rho": meas["rotation_rho"],
        "rotation_sense": "ccw" if meas["rotation_rho"] < 0 else "cw",
        "centre_inside": meas["centre_inside"],
        "centre_x_mm": float(cen["x_mm"]),
        "centre_y_mm": float(cen["y_mm"]),
        "null_pgd_unit_resultant": null["pgd_unit_resultant"],
        "null_radial_abs_rho": null["radial"],
        "null_rotation_abs_rho": null["rotation"],
        "spectral_direction_deg": spec_vals.get("direction_deg", np.nan),
        "spectral_speed_mm_per_s": spec_vals.get("speed_mm_per_s", np.nan),
        "spectral_wavelength_mm": spec_vals.get("wavelength_mm", np.nan),
        "spectral_frequency_hz": spec_vals.get("frequency_hz", np.nan),
        "spectral_planarity": spec_vals.get("spectral_planarity", np.nan),
        "forward_fraction": fwd_frac,
    }
    units = {
        "dominant_direction_deg": "deg",
        "speed_mm_per_s": "mm/s",
        "speed_q25_mm_per_s": "mm/s",
        "speed_q75_mm_per_s": "mm/s",
        "speed_iqr_mm_per_s": "mm/s",
        "wavelength_mm": "mm",
        "frequency_hz": "Hz",
        "spatial_correlation_length_mm": "mm",
        "source_x_mm": "mm",
        "source_y_mm": "mm",
        "centre_x_mm": "mm",
        "centre_y_mm": "mm",
        "spectral_direction_deg": "deg",
        "spectral_speed_mm_per_s": "mm/s",
        "spectral_wavelength_mm": "mm",
        "spectral_frequency_hz": "Hz",
    }
    ds = xr.Dataset({k: ((), v, {"units": units[k]} if k in units else {}) for k, v in out.items()})
    ds.attrs.update(
        {
            "band_hz": [lo, hi],
            "band_reason": reason,
            "phase_method": phase_method,
            "planar_threshold": float(planar_threshold),
            "rho_threshold": float(rho_threshold),
            "n_surrogates": int(n_surrogates),
            "seed": int(seed),
            "n_frames": int(frames.size),
            "edge_s": ne / fs,
            "pgd_definition": "pgd_unit_resultant decides; pgd_rubino2006 reported",
            "speed_definition": (
                "median over frames of the frame's pooled phase speed"
                if motion == "planar"
                else "median over frames of the median local phase speed"
            ),
        }
    )
    return ds
