"""wavekit: analyse traveling waves in recorded and simulated activity.

Everything the command line can do is one import away::

    import wavekit
    a = wavekit.load("recording.h5", fs=1000.0)     # any supported format -> data model
    wavekit.save(a, "copy.h5")                       # wavekit's HDF5 layout

Heavy modules are imported on first use, so ``import wavekit`` (and ``wavekit --help``) is fast.

Examples
--------
Simulate a plane wave travelling at 60 deg and 200 mm/s, and measure it the way ``wavekit
analyze`` does (here only the gradient and plane-fit stages, which take a fraction of a second):

>>> import wavekit
>>> from wavekit.simulate import simulate
>>> activity, truth = simulate("plane", direction_deg=60.0, speed_mm_per_s=200.0, snr_db=10.0)
>>> activity.dims, activity.attrs["fs_hz"]
(('time', 'y', 'x'), 500.0)
>>> res = wavekit.analyze(activity, wavekit.make_config(stages=["gradients", "planefit"]))
>>> fs = res.flow_structure
>>> round(fs["dominant_direction_deg"]), round(fs["speed_mm_per_s"]["median"]), fs["estimator"]
(60, 200, 'plane_wave_fit')
>>> res.band_hz                     # chosen from the spectrum: one octave around 10 Hz
(7.071068, 14.142136)
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

#: public name -> module that defines it (imported lazily on first attribute access)
_LAZY = {
    "load": "wavekit.io",
    "save": "wavekit.io",
    "open_activity": "wavekit.io",
    "load_ground_truth": "wavekit.io",
    "detect_format": "wavekit.io",
    "grid_activity": "wavekit.model",
    "irregular_activity": "wavekit.model",
    "validate_activity": "wavekit.model",
    "detect_grid": "wavekit.model",
    "to_grid": "wavekit.model",
    "to_irregular": "wavekit.model",
    "layout": "wavekit.model",
    "spacing_mm": "wavekit.model",
    "bad_channels": "wavekit.model",
    "channel_positions": "wavekit.model",
    "describe": "wavekit.io.describe",
    "verify_equivariance": "wavekit.networks",
    "analyze_motion_space": "wavekit.analysis.motion",
    "analyze": "wavekit.pipeline.analyze",
    "analyze_file": "wavekit.pipeline.analyze",
    "make_config": "wavekit.pipeline.config",
    "InputError": "wavekit.errors",
    "UsageError": "wavekit.errors",
    "AnalysisError": "wavekit.errors",
    "WavekitError": "wavekit.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wavekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
