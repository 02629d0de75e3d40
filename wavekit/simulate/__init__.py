"""Simulated traveling waves with known ground truth (``wavekit simulate KIND``).

Analytic wave fields (plane, target, spiral, saddle, standing, packets, superposed and dispersive
waves, synchronous oscillation, trains of pulse fronts with their arrival times, and sequences of
pattern episodes) on grids or irregular layouts, with noise at a given SNR. Outputs are activity
in wavekit's data model plus a ground-truth Dataset along ``time``;
``wavekit.io.save(activity, path, ground_truth=truth)`` writes both, so ``wavekit analyze`` runs
on them unchanged. Equations, defaults and conventions (spiral sense,
source/sink, SNR) are in ``docs/simulate.md``. Recurrent-network simulations live in
:mod:`wavekit.networks`.

Modules: :mod:`.layouts` (electrode positions), :mod:`.waves` (pure field generators),
:mod:`.noise`, :mod:`.truth` (ground-truth Datasets, :func:`local_truth`), :mod:`.sequences`.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from ._engine import KINDS, LAYOUTS
from ._engine import simulate as _simulate
from .noise import NOISE_KINDS
from .sequences import SEQUENCE_PATTERNS, pattern_sequence
from .truth import PATTERNS, local_truth

__all__ = [
    "KINDS",
    "LAYOUTS",
    "NOISE_KINDS",
    "PATTERNS",
    "SEQUENCE_PATTERNS",
    "simulate",
    "local_truth",
    "pattern_sequence",
]


def simulate(
    kind: str,
    *,
    layout: Any = "grid",
    nx: int = 16,
    ny: int = 16,
    spacing_mm: float = 0.4,
    fs_hz: float = 500.0,
    duration_s: float = 2.0,
    frequency_hz: float = 10.0,
    speed_mm_per_s: float | None = None,
    direction_deg: float = 0.0,
    snr_db: float | None = None,
    noise: str = "white",
    seed: int = 0,
    **kind_params: Any,
) -> tuple[xr.DataArray, xr.Dataset]:
    r"""Simulate a wave pattern whose truth is known.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`: plane, target, spiral, saddle, standing, packet, superposed,
        dispersive, synchronous, pulses, sequence.
    layout : {"grid", "random", "utah", "hex", "eeg"} or (x_mm, y_mm)
        Electrode layout. ``grid``: ``ny`` x ``nx`` at ``spacing_mm`` from 0. ``random``:
        ``n_channels`` (64) uniform positions in a square of side ``extent_mm`` (default the
        grid's extent, ``(max(nx, ny) - 1) * spacing_mm``), from ``seed``. ``utah``: 10 x 10 at
        ``spacing_mm`` without corners (96). ``hex``: hexagonal MEA, ``hex_rings`` (4: 61
        electrodes) at ``spacing_mm``. ``eeg``: 19 positions of the 10-20 system on a disc of
        radius ``eeg_radius_mm`` (100; use speeds of metres per second). A pair of arrays gives
        custom positions.
    nx, ny : int
        Grid columns and rows (16 x 16).
    spacing_mm : float
        Grid pitch, Utah and hexagonal pitch in mm (0.4).
    fs_hz : float
        Sampling rate in Hz (500).
    duration_s : float
        Duration in s (2; ignored by ``sequence``, whose length is set by its episodes).
    frequency_hz : float
        Temporal frequency in Hz (10; not used by ``pulses``).
    speed_mm_per_s : float, optional
        Phase speed ``c`` in mm/s: 300 (a cortical wave; wavelength ``c / f`` = 30 mm), 100 for
        ``sequence`` (so that every pattern spans more than a radian of phase on the default
        array and classifiers can tell them apart).
    direction_deg : float
        Direction of travel, degrees counter-clockwise from +x (0). Saddle and standing waves
        use it as their axis unless ``axis_deg`` is given.
    snr_db : float or None
        Signal-to-noise ratio in dB, ``10 log10(<s^2> / <n^2>)`` over the whole recording
        (None: no noise).
    noise : {"white", "pink", "spatial", "pink+spatial"}
        Noise model (see :mod:`wavekit.simulate.noise`); ``noise_corr_mm`` (1.0) sets the
        spatial smoothing.
    seed : int
        Seed of ``numpy.random.default_rng`` (noise, random layouts, random episode geometry);
        stored in the truth.
    **kind_params
        Kind-specific parameters (``docs/simulate.md``), for example ``mode="sink"`` (target),
        ``chirality="cw"``, ``arms=2``, ``centre_vx_mm_per_s=50`` (spiral), ``scale_mm``
        (saddle), ``components=[...]`` (superposed), ``dispersion_exponent`` (dispersive),
        ``patterns=[...]``, ``episode_s`` (sequence), ``waves=[...]`` or ``interval_s``,
        ``random_directions``, ``speed_spread``, ``width_s``, ``rise_s``, ``recovery_s``
        (pulses), and for every kind ``amplitude``,
        ``mask`` ("none", "disc", "gaussian") with ``mask_radius_mm``, ``bad_channels``
        (indices set to NaN), ``centre_x_mm``/``centre_y_mm`` (default: the array's centroid).

    Returns
    -------
    activity : xarray.DataArray
        ``(time, y, x)`` on grids or ``(time, channel)`` with ``x``, ``y`` in mm.
    truth : xarray.Dataset
        Per time step: ``pattern``, ``direction_deg``, ``speed_mm_per_s``, ``wavelength_mm``,
        ``frequency_hz``, ``centre_x_mm``, ``centre_y_mm`` (NaN where not applicable);
        attrs ``kind``, ``seed``, ``parameters`` (JSON), ``snr_db``, ``noise``, ``layout``.
        Kinds with several waves add variables along their own dimension (``component_*`` for
        superposed and dispersive; ``wave_t0_s``, ``wave_direction_deg``,
        ``wave_speed_mm_per_s`` and ``arrival_time_s`` on ``("wave", "site")`` for pulses).

    Raises
    ------
    wavekit.errors.UsageError
        Unknown kind, layout, noise or parameter, or a value out of range.

    Notes
    -----
    A plane wave is ``cos(omega t - k . r)`` with ``k = (omega / c) (cos theta, sin theta)``:
    it travels along ``theta`` and its phase gradient is ``-k`` (SPEC.md). A source travels
    outward from its centre (phase gradient inward), a sink inward. A ``"ccw"`` spiral's
    direction-of-travel field circulates counter-clockwise (positive curl) in the x-y plane.

    Examples
    --------
    >>> from wavekit.simulate import simulate
    >>> act, truth = simulate("plane", direction_deg=45.0, snr_db=10.0, seed=1)
    >>> act.dims, act.shape, float(truth.direction_deg[0]), str(truth.pattern.values[0])
    (('time', 'y', 'x'), (1000, 16, 16), 45.0, 'plane')
    >>> act, truth = simulate("spiral", layout="utah", chirality="cw")
    >>> act.sizes["channel"], str(truth.pattern.values[0])
    (96, 'spiral_cw')
    >>> act, truth = simulate("pulses", waves=[{"t0_s": 0.5, "direction_deg": 90.0}])
    >>> truth.arrival_time_s.dims, truth.wave_direction_deg.values.tolist()
    (('wave', 'site'), [90.0])
    """
    return _simulate(
        kind,
        layout=layout,
        nx=nx,
        ny=ny,
        spacing_mm=spacing_mm,
        fs_hz=fs_hz,
        duration_s=duration_s,
        frequency_hz=frequency_hz,
        speed_mm_per_s=speed_mm_per_s,
        direction_deg=direction_deg,
        snr_db=snr_db,
        noise=noise,
        seed=seed,
        **kind_params,
    )
