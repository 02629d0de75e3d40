"""Sequences of pattern episodes with per-frame labels, for testing pattern classifiers.

A sequence is a recording made of consecutive episodes, each ``episode_s`` long, each one pattern
drawn from :data:`SEQUENCE_PATTERNS` with random geometry: a plane wave in a uniformly random
direction; a source, sink, clockwise or counter-clockwise spiral, or saddle with its centre uniform
in the central half of the array (a square of side half the array's extent around its centroid),
and a saddle axis uniform in (-90, 90]; synchronous oscillation with a random phase. All episodes
share the frequency and speed (default 100 mm/s, a 10 mm wavelength at 10 Hz, so that every
pattern spans more than a radian of phase on the default 6 mm grid); noise (``snr_db``) is
added over the whole recording. Episodes switch abruptly (the phase jumps at the boundary).
The truth labels every frame (``pattern``, centre, direction, speed) and numbers the episodes
(variable ``episode``); the drawn parameters of each episode are in ``parameters["episodes"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import UsageError

__all__ = ["SEQUENCE_PATTERNS", "pattern_sequence", "build_sequence", "sequence_duration"]

#: the default episodes, in order
SEQUENCE_PATTERNS = ("plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle",
                     "synchronous")  # fmt: skip

#: pattern label -> (kind, fixed parameters)
_EPISODE_KIND = {
    "plane": ("plane", {}),
    "source": ("target", {"mode": "source"}),
    "sink": ("target", {"mode": "sink"}),
    "spiral_ccw": ("spiral", {"chirality": "ccw"}),
    "spiral_cw": ("spiral", {"chirality": "cw"}),
    "saddle": ("saddle", {}),
    "synchronous": ("synchronous", {}),
    "standing": ("standing", {}),
}


def _patterns(p: dict[str, Any]) -> list[str]:
    pats = p.get("patterns")
    if pats is None:
        pats = list(SEQUENCE_PATTERNS)
    if isinstance(pats, str):
        pats = [s.strip() for s in pats.split(",") if s.strip()]
    pats = list(pats)
    bad = [s for s in pats if s not in _EPISODE_KIND]
    if not pats or bad:
        raise UsageError(
            f"patterns must be a list drawn from {', '.join(_EPISODE_KIND)}; "
            f"got {p.get('patterns')!r}"
        )
    return pats


def sequence_duration(p: dict[str, Any]) -> float:
    """Total duration in s: ``len(patterns) * repeats * episode_s``."""
    try:
        ep = float(p["episode_s"])
        rep = int(p["repeats"])
    except (TypeError, ValueError):
        raise UsageError("episode_s must be a number of seconds and repeats an integer") from None
    if not ep > 0 or rep < 1:
        raise UsageError(f"episode_s must be positive and repeats at least 1 (got {ep}, {rep})")
    return len(_patterns(p)) * rep * ep


def build_sequence(ctx: Any, p: dict[str, Any]) -> Any:
    """Builder of the ``sequence`` kind (called by :func:`wavekit.simulate.simulate`)."""
    from . import _engine as E

    pats = _patterns(p) * int(p["repeats"])
    rng = ctx.rng
    if p.get("shuffle"):
        pats = [pats[i] for i in rng.permutation(len(pats))]
    p["patterns"] = pats
    ep = float(p["episode_s"])
    t = ctx.t
    nt = t.size
    signal = np.zeros((nt, *ctx.X.shape))
    cols: dict[str, np.ndarray] = {
        "pattern": np.full(nt, "none", dtype=object),
        **{
            k: np.full(nt, np.nan)
            for k in (
                "direction_deg",
                "speed_mm_per_s",
                "wavelength_mm",
                "frequency_hz",
                "centre_x_mm",
                "centre_y_mm",
            )
        },
    }
    episode = np.full(nt, -1, dtype=np.int64)
    half = ctx.extent_mm / 4.0
    episodes = []
    for i, pat in enumerate(pats):
        start, stop = i * ep, (i + 1) * ep
        sel = (t >= start - 1e-12) & (t < stop - 1e-12)
        kind, fixed = _EPISODE_KIND[pat]
        spec = E.KINDS_SPEC[kind]
        q = {
            **spec.defaults,
            **fixed,
            **{k: ctx.common[k] for k in ("frequency_hz", "speed_mm_per_s", "direction_deg")},
        }
        q["direction_deg"] = float(E.W.wrap_deg(180.0 - rng.uniform(0.0, 360.0)))
        if "centre_x_mm" in spec.defaults:
            q["centre_x_mm"] = float(ctx.centroid[0] + rng.uniform(-half, half))
            q["centre_y_mm"] = float(ctx.centroid[1] + rng.uniform(-half, half))
        if kind == "saddle":
            q["axis_deg"] = float(90.0 - rng.uniform(0.0, 180.0))
        if kind == "synchronous":
            q["phase0_rad"] = float(rng.uniform(0.0, 2 * np.pi))
        sub = E.Context(
            t=t[sel],
            X=ctx.X,
            Y=ctx.Y,
            grid=ctx.grid,
            fs_hz=ctx.fs_hz,
            duration_s=ctx.duration_s,
            centroid=ctx.centroid,
            extent_mm=ctx.extent_mm,
            rng=rng,
            common=ctx.common,
        )
        built = spec.build(sub, q)
        signal[sel] = built.signal
        for k, v in built.columns.items():
            cols[k][sel] = v
        episode[sel] = i
        episodes.append(
            {"pattern": pat, "kind": kind, "start_s": start, "stop_s": stop, "parameters": q}
        )
    p["episodes"] = episodes
    cols["pattern"] = cols["pattern"].astype(str)
    extra = {"episode": (("time",), episode, {"description": "episode number"})}
    return E.Built(signal, cols, extra)


def pattern_sequence(
    patterns: Any = None,
    *,
    episode_s: float = 2.0,
    repeats: int = 1,
    shuffle: bool = False,
    snr_db: float | None = 10.0,
    seed: int = 0,
    **common: Any,
) -> tuple[xr.DataArray, xr.Dataset]:
    """A recording of consecutive pattern episodes with per-frame labels and centres.

    Parameters
    ----------
    patterns : sequence of str, optional
        Episode labels in order, drawn from plane, source, sink, spiral_ccw, spiral_cw, saddle,
        synchronous, standing; default :data:`SEQUENCE_PATTERNS`.
    episode_s : float
        Duration of each episode in s.
    repeats : int
        How many times the list of patterns is repeated.
    shuffle : bool
        Put the episodes in random order (from ``seed``).
    snr_db : float or None
        Signal-to-noise ratio in dB over the whole recording (None: no noise).
    seed : int
        Seed of the random geometry and of the noise.
    **common
        Any common option of :func:`wavekit.simulate.simulate` (layout, nx, ny, spacing_mm, fs_hz,
        frequency_hz, speed_mm_per_s, noise, ...).

    Returns
    -------
    activity : xarray.DataArray
    truth : xarray.Dataset
        Per-frame ``pattern``, centres, direction, speed, and ``episode``.

    Examples
    --------
    >>> act, truth = pattern_sequence(["plane", "spiral_cw"], episode_s=0.5, snr_db=None)
    >>> act.sizes["time"], sorted(set(truth.pattern.values.tolist()))
    (500, ['plane', 'spiral_cw'])
    """
    from ._engine import simulate

    return simulate(
        "sequence",
        patterns=patterns,
        episode_s=episode_s,
        repeats=repeats,
        shuffle=shuffle,
        snr_db=snr_db,
        seed=seed,
        **common,
    )
