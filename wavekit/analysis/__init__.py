"""Wave analysis: from activity to the direction, speed and shape of waves.

Data flows one way through the stages, one module each:

* ``preprocess``: detrend, z-score, band-pass, notch, spatial smoothing, downsampling, bad
  channels; ``bandselect``: the band from the spectrum;
* ``phase``: analytic signal (fused band-pass + Hilbert), Morlet, generalized phase;
* ``gradients`` (grids) and ``irregular`` (electrode layouts): local wave vectors, PGD;
* ``planefit``: the global circular-linear plane-wave fit; ``timing``: activation-time fits;
* ``spatial``, ``spectra``, ``motion``: spatial correlation, k-omega spectra, the flow summary;
* ``flow``, ``vectorfield``, ``critical``, ``patterns``: velocity fields and patterns;
* ``events``, ``stats``, ``circstats``: events against surrogates and their statistics.

The names below are the public API; ``docs/methods.md`` maps each to its equations. Note that
``phase`` here is the function (phase of a complex signal); the module is
``wavekit.analysis.phase`` when imported with ``from wavekit.analysis.phase import ...``.
"""

from .bandselect import choose_band, mean_spectrum
from .circstats import (
    adjusted_r2,
    angle_deg,
    circ_corrcc,
    circ_corrcl,
    circ_diff,
    circ_mean,
    rayleigh_test,
    resultant_length,
    wrap_angle,
)
from .critical import (
    CRITICAL_KINDS,
    classify_jacobian,
    critical_points,
    phase_singularities,
    track_points,
    winding_numbers,
)
from .events import detect_events, null_distribution
from .flow import amplitude_flow, phase_flow
from .gradients import (
    mean_wave_vector,
    phase_gradient_directionality,
    phase_gradients,
    pooled_wave_vector,
)
from .irregular import local_wave_vectors
from .motion import analyze_motion_space
from .patterns import PATTERNS, classify_patterns
from .phase import (
    amplitude,
    analytic_signal,
    generalized_phase,
    instantaneous_frequency,
    morlet,
    phase,
)
from .planefit import plane_wave_fit
from .preprocess import (
    bandpass,
    detect_bad_channels,
    detrend,
    downsample,
    interpolate_bad,
    notch,
    smooth_spatial,
    zscore,
)
from .spatial import (
    correlation_vs_distance,
    find_rotation_centre,
    find_source,
    lag_map,
    phase_distance_correlation,
    phase_rotation_correlation,
)
from .spectra import complex_svd_modes, directional_power, dominant_wave_vector, kw_spectrum
from .stats import bootstrap_ci, iter_surrogates, quantile_threshold, surrogate
from .timing import (
    activation_times,
    coherence_delays,
    fit_activation_times,
    local_velocity,
    xcorr_delays,
)
from .vectorfield import curl, divergence, order_parameter, synchrony

__all__ = [
    "CRITICAL_KINDS",
    "PATTERNS",
    "activation_times",
    "adjusted_r2",
    "amplitude",
    "amplitude_flow",
    "analytic_signal",
    "analyze_motion_space",
    "angle_deg",
    "bandpass",
    "bootstrap_ci",
    "choose_band",
    "circ_corrcc",
    "circ_corrcl",
    "circ_diff",
    "circ_mean",
    "classify_jacobian",
    "classify_patterns",
    "coherence_delays",
    "complex_svd_modes",
    "correlation_vs_distance",
    "critical_points",
    "curl",
    "detect_bad_channels",
    "detect_events",
    "detrend",
    "directional_power",
    "divergence",
    "dominant_wave_vector",
    "downsample",
    "find_rotation_centre",
    "find_source",
    "fit_activation_times",
    "generalized_phase",
    "instantaneous_frequency",
    "interpolate_bad",
    "iter_surrogates",
    "kw_spectrum",
    "lag_map",
    "local_velocity",
    "local_wave_vectors",
    "mean_spectrum",
    "mean_wave_vector",
    "morlet",
    "notch",
    "null_distribution",
    "order_parameter",
    "phase",
    "phase_distance_correlation",
    "phase_flow",
    "phase_gradient_directionality",
    "phase_gradients",
    "phase_rotation_correlation",
    "phase_singularities",
    "plane_wave_fit",
    "pooled_wave_vector",
    "quantile_threshold",
    "rayleigh_test",
    "resultant_length",
    "smooth_spatial",
    "surrogate",
    "synchrony",
    "track_points",
    "winding_numbers",
    "wrap_angle",
    "xcorr_delays",
    "zscore",
]
