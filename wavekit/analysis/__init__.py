"""Wave analysis: preprocessing, phase, gradients and fields (grids), fits and statistics.

Data flows read -> preprocess -> phase -> gradients -> fits/patterns/events -> statistics.
"""

from .gradients import (
    mean_wave_vector,
    phase_gradient_directionality,
    phase_gradients,
    pooled_wave_vector,
)
from .phase import (
    amplitude,
    analytic_signal,
    generalized_phase,
    instantaneous_frequency,
    morlet,
    phase,
)
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

__all__ = [
    "amplitude",
    "analytic_signal",
    "bandpass",
    "detect_bad_channels",
    "detrend",
    "downsample",
    "generalized_phase",
    "instantaneous_frequency",
    "interpolate_bad",
    "mean_wave_vector",
    "pooled_wave_vector",
    "morlet",
    "notch",
    "phase",
    "phase_gradient_directionality",
    "phase_gradients",
    "smooth_spatial",
    "zscore",
]
