"""The simulator: kinds, parameter checks, layout, noise and truth around the pure generators."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import UsageError
from . import waves as W
from .noise import NOISE_KINDS, add_noise
from .truth import truth_dataset

LAYOUTS = ("grid", "random", "utah", "hex", "eeg")

#: defaults of the common parameters (documented in docs/simulate.md)
DEFAULTS: dict[str, Any] = {
    "layout": "grid", "nx": 16, "ny": 16, "spacing_mm": 0.4, "fs_hz": 500.0, "duration_s": 2.0,
    "frequency_hz": 10.0, "speed_mm_per_s": 300.0, "direction_deg": 0.0, "snr_db": None,
    "noise": "white", "seed": 0,
}  # fmt: skip

#: default speed of ``sequence``: 100 mm/s, a 10 mm wavelength at 10 Hz, so that every pattern
#: spans more than a radian of phase on the default 6 mm array (at 300 mm/s plane waves and
#: targets are hard to tell from synchronous activity on so small an array)
SEQUENCE_SPEED = 100.0

#: parameters every kind accepts (layout details, amplitude, mask, noise details, bad channels)
EXTRA_DEFAULTS: dict[str, Any] = {
    "amplitude": 1.0,
    "mask": "none",
    "mask_radius_mm": None,
    "mask_centre_x_mm": None,
    "mask_centre_y_mm": None,
    "noise_corr_mm": 1.0,
    "bad_channels": (),
    "n_channels": 64,
    "extent_mm": None,
    "hex_rings": 4,
    "eeg_radius_mm": 100.0,
}
MASKS = ("none", "disc", "gaussian")
#: kind parameters that must be numbers, integers or booleans when given
_NUMERIC = {"centre_x_mm", "centre_y_mm", "t0_s", "axis_deg", "scale_mm", "interval_s",
            "recovery_s"}  # fmt: skip
_INTEGER = {"arms", "repeats"}
_BOOLEAN = {"shuffle", "random_directions"}


@dataclass
class Context:
    """Where and when a kind's field is evaluated."""

    t: np.ndarray  # (nt,)
    X: np.ndarray  # spatial positions, (ny, nx) or (n,)
    Y: np.ndarray
    grid: bool
    fs_hz: float
    duration_s: float
    centroid: tuple[float, float]
    extent_mm: float
    rng: np.random.Generator  # for random parameters of a kind (sequences)
    common: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> np.ndarray:
        """Time broadcast against space."""
        return self.t.reshape(-1, *([1] * self.X.ndim))


@dataclass
class Built:
    signal: np.ndarray
    columns: dict[str, Any]
    extra: dict[str, tuple] = field(default_factory=dict)


@dataclass
class Kind:
    description: str
    defaults: dict[str, Any]
    build: Callable[[Context, dict[str, Any]], Built]
    duration: Callable[[dict[str, Any]], float] | None = None


# ----------------------------------------------------------------------------- builders


def _wave_columns(p: dict[str, Any], pattern: str, direction: bool = True) -> dict[str, Any]:
    f, c = p["frequency_hz"], p["speed_mm_per_s"]
    return {
        "pattern": pattern,
        "direction_deg": float(W.wrap_deg(p["direction_deg"])) if direction else np.nan,
        "speed_mm_per_s": c,
        "wavelength_mm": c / f,
        "frequency_hz": f,
    }


def _centre(ctx: Context, p: dict[str, Any]) -> None:
    if p.get("centre_x_mm") is None:
        p["centre_x_mm"] = ctx.centroid[0]
    if p.get("centre_y_mm") is None:
        p["centre_y_mm"] = ctx.centroid[1]


def _signal(phase_amp: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    phase, amp = phase_amp
    return amp * np.cos(phase)


def _args(p: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: p[n] for n in names}


def build_plane(ctx: Context, p: dict[str, Any]) -> Built:
    s = _signal(
        W.plane_wave(
            ctx.T,
            ctx.X,
            ctx.Y,
            **_args(p, "frequency_hz", "speed_mm_per_s", "direction_deg", "phase0_rad"),
        )
    )
    return Built(s, _wave_columns(p, "plane"))


def build_target(ctx: Context, p: dict[str, Any]) -> Built:
    _centre(ctx, p)
    if p["mode"] not in ("source", "sink"):
        raise UsageError(f"mode must be 'source' or 'sink', got {p['mode']!r}")
    s = _signal(
        W.target_wave(
            ctx.T,
            ctx.X,
            ctx.Y,
            **_args(
                p,
                "frequency_hz",
                "speed_mm_per_s",
                "centre_x_mm",
                "centre_y_mm",
                "mode",
                "phase0_rad",
            ),
        )
    )
    cols = _wave_columns(p, p["mode"], direction=False)
    cols.update(centre_x_mm=p["centre_x_mm"], centre_y_mm=p["centre_y_mm"])
    return Built(s, cols)


def build_spiral(ctx: Context, p: dict[str, Any]) -> Built:
    _centre(ctx, p)
    if p["chirality"] not in ("ccw", "cw"):
        raise UsageError(f"chirality must be 'ccw' or 'cw', got {p['chirality']!r}")
    if p["radial"] not in ("outward", "inward"):
        raise UsageError(f"radial must be 'outward' or 'inward', got {p['radial']!r}")
    if int(p["arms"]) != p["arms"] or int(p["arms"]) < 1:
        raise UsageError(f"arms must be a positive integer, got {p['arms']!r}")
    p["arms"] = int(p["arms"])
    names = (
        "frequency_hz",
        "speed_mm_per_s",
        "centre_x_mm",
        "centre_y_mm",
        "chirality",
        "arms",
        "radial",
        "centre_vx_mm_per_s",
        "centre_vy_mm_per_s",
        "phase0_rad",
    )
    s = _signal(W.spiral_wave(ctx.T, ctx.X, ctx.Y, **_args(p, *names)))
    cx, cy = W.spiral_centre(ctx.t, **p)
    cols = _wave_columns(p, f"spiral_{p['chirality']}", direction=False)
    cols.update(centre_x_mm=cx, centre_y_mm=cy)
    return Built(s, cols)


def build_saddle(ctx: Context, p: dict[str, Any]) -> Built:
    _centre(ctx, p)
    if p.get("axis_deg") is None:
        p["axis_deg"] = p["direction_deg"]
    if p.get("scale_mm") is None:
        p["scale_mm"] = _tidy(ctx.extent_mm / 2.0) if ctx.extent_mm > 0 else 1.0
    p["scale_mm"] = _number("scale_mm", p["scale_mm"])
    if not p["scale_mm"] > 0:
        raise UsageError(f"scale_mm must be a positive length in mm, got {p['scale_mm']!r}")
    names = (
        "frequency_hz",
        "speed_mm_per_s",
        "centre_x_mm",
        "centre_y_mm",
        "axis_deg",
        "scale_mm",
        "phase0_rad",
    )
    s = _signal(W.saddle_wave(ctx.T, ctx.X, ctx.Y, **_args(p, *names)))
    cols = _wave_columns(p, "saddle", direction=False)
    cols.update(centre_x_mm=p["centre_x_mm"], centre_y_mm=p["centre_y_mm"])
    return Built(s, cols)


def build_synchronous(ctx: Context, p: dict[str, Any]) -> Built:
    s = _signal(
        W.synchronous(
            ctx.T, ctx.X, ctx.Y, frequency_hz=p["frequency_hz"], phase0_rad=p["phase0_rad"]
        )
    )
    return Built(
        s,
        {
            "pattern": "synchronous",
            "speed_mm_per_s": np.inf,
            "wavelength_mm": np.inf,
            "frequency_hz": p["frequency_hz"],
        },
    )


def build_standing(ctx: Context, p: dict[str, Any]) -> Built:
    if p.get("axis_deg") is None:
        p["axis_deg"] = p["direction_deg"]
    s = _signal(
        W.standing_wave(
            ctx.T,
            ctx.X,
            ctx.Y,
            **_args(
                p, "frequency_hz", "speed_mm_per_s", "axis_deg", "phase0_rad", "spatial_phase_rad"
            ),
        )
    )
    cols = _wave_columns(p, "standing", direction=False)
    cols["speed_mm_per_s"] = np.nan  # nothing travels; each component moves at speed_mm_per_s
    return Built(s, cols)


def build_packet(ctx: Context, p: dict[str, Any]) -> Built:
    _centre(ctx, p)
    if p.get("t0_s") is None:
        p["t0_s"] = ctx.duration_s / 2.0
    for name in ("duration_sd_s", "extent_sd_mm"):
        if not p[name] > 0:
            raise UsageError(f"{name} must be positive, got {p[name]!r}")
    names = (
        "frequency_hz",
        "speed_mm_per_s",
        "direction_deg",
        "centre_x_mm",
        "centre_y_mm",
        "t0_s",
        "duration_sd_s",
        "extent_sd_mm",
        "group_speed_mm_per_s",
        "phase0_rad",
    )
    phase, amp = W.wave_packet(ctx.T, ctx.X, ctx.Y, **_args(p, *names))
    # the packet is "on" while its envelope reaches exp(-2) (2 s.d.) somewhere on the array
    peak = amp.reshape(amp.shape[0], -1).max(axis=1)
    on = peak >= np.exp(-2.0)
    cx, cy = W.packet_centre(ctx.t, **p)
    cols = _wave_columns(p, "plane")
    cols = {k: (np.where(on, v, np.nan) if k != "pattern" else np.where(on, v, "none"))
            for k, v in cols.items()}  # fmt: skip
    cols.update(centre_x_mm=np.where(on, cx, np.nan), centre_y_mm=np.where(on, cy, np.nan))
    return Built(amp * np.cos(phase), cols)


_COMPONENT_KEYS = ("frequency_hz", "speed_mm_per_s", "direction_deg", "amplitude", "phase0_rad")


def _components_extra(comps: list[dict[str, Any]], group: np.ndarray | None = None) -> dict:
    f = np.array([c["frequency_hz"] for c in comps], float)
    c_ = np.array([c["speed_mm_per_s"] for c in comps], float)
    extra = {
        "component_frequency_hz": (("component",), f, {"units": "Hz"}),
        "component_speed_mm_per_s": (("component",), c_, {"units": "mm/s"}),
        "component_direction_deg": (
            ("component",),
            W.wrap_deg([c["direction_deg"] for c in comps]),
            {"units": "deg"},
        ),
        "component_wavelength_mm": (("component",), c_ / f, {"units": "mm"}),
        "component_amplitude": (
            ("component",),
            np.array([c.get("amplitude", 1.0) for c in comps], float),
            {},
        ),
    }
    if group is not None:
        extra["component_group_speed_mm_per_s"] = (("component",), group, {"units": "mm/s"})
    return extra


def _check_components(comps: Any, p: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(comps, list | tuple) or not comps:
        raise UsageError(
            "components must be a non-empty list of objects such as "
            '[{"frequency_hz": 10, "direction_deg": 0}]'
        )
    out = []
    for c in comps:
        if not isinstance(c, dict) or set(c) - set(_COMPONENT_KEYS):
            raise UsageError(
                f"each component is an object with keys among "
                f"{', '.join(_COMPONENT_KEYS)}; got {c!r}"
            )
        d = {
            "frequency_hz": p["frequency_hz"],
            "speed_mm_per_s": p["speed_mm_per_s"],
            "direction_deg": p["direction_deg"],
            "amplitude": 1.0,
            "phase0_rad": 0.0,
        }
        d.update({k: float(v) for k, v in c.items()})
        _check_wave(d["frequency_hz"], d["speed_mm_per_s"], p["fs_hz"])
        out.append(d)
    return out


def build_superposed(ctx: Context, p: dict[str, Any]) -> Built:
    if p.get("components") is None:
        f, c, th = p["frequency_hz"], p["speed_mm_per_s"], p["direction_deg"]
        p["components"] = [
            {"frequency_hz": f, "speed_mm_per_s": c, "direction_deg": th, "amplitude": 1.0},
            {"frequency_hz": 1.5 * f, "speed_mm_per_s": c,
             "direction_deg": float(W.wrap_deg(th + 120.0)), "amplitude": 0.6},
        ]  # fmt: skip
    comps = _check_components(p["components"], {**p, "fs_hz": ctx.fs_hz})
    p["components"] = comps
    s = W.superpose(ctx.T, ctx.X, ctx.Y, comps)
    dom = max(comps, key=lambda c: abs(c["amplitude"]))
    cols = _wave_columns(dom, "superposed")
    return Built(s, cols, _components_extra(comps))


def build_dispersive(ctx: Context, p: dict[str, Any]) -> Built:
    f0 = p["frequency_hz"]
    if p.get("frequencies_hz") is None:
        p["frequencies_hz"] = [f0 / 2.0, f0, 2.0 * f0]
    try:
        freqs = [float(v) for v in p["frequencies_hz"]]
    except (TypeError, ValueError):
        raise UsageError("frequencies_hz must be a list of frequencies in Hz") from None
    beta = float(p["dispersion_exponent"])
    if not beta < 1:
        raise UsageError(
            f"dispersion_exponent must be below 1 (got {beta}) so that the group "
            "speed c/(1-beta) is finite"
        )
    speeds = W.dispersion_speed(
        freqs, speed_mm_per_s=p["speed_mm_per_s"], reference_hz=f0, exponent=beta
    )
    comps = [{"frequency_hz": f, "speed_mm_per_s": float(c), "direction_deg": p["direction_deg"]}
             for f, c in zip(freqs, speeds, strict=True)]  # fmt: skip
    comps = _check_components(comps, {**p, "fs_hz": ctx.fs_hz})
    s = W.superpose(ctx.T, ctx.X, ctx.Y, comps)
    cols = _wave_columns(p, "plane")
    return Built(s, cols, _components_extra(comps, speeds / (1.0 - beta)))


_WAVE_KEYS = ("t0_s", "direction_deg", "speed_mm_per_s")
#: the shortest upstroke time constant, in samples: with rise_s >= half a sample the 10-90 %
#: upstroke (2.2 rise_s) spans more than a sample, so every electrode has a sample on it
MIN_RISE_SAMPLES = 0.5


def _check_pulse_waves(waves: Any, p: dict[str, Any]) -> list[dict[str, float]]:
    if not isinstance(waves, list | tuple) or not waves:
        raise UsageError(
            "waves must be a non-empty list of objects such as "
            '[{"t0_s": 0.5, "direction_deg": 30, "speed_mm_per_s": 200}]'
        )
    out = []
    for w in waves:
        if not isinstance(w, dict) or set(w) - set(_WAVE_KEYS) or "t0_s" not in w:
            raise UsageError(
                f"each wave is an object with t0_s (s) and optionally direction_deg and "
                f"speed_mm_per_s (default: the common options); got {w!r}"
            )
        d = {
            "t0_s": _number("t0_s", w["t0_s"]),
            "direction_deg": float(
                W.wrap_deg(_number("direction_deg", w.get("direction_deg", p["direction_deg"])))
            ),
            "speed_mm_per_s": _number(
                "speed_mm_per_s", w.get("speed_mm_per_s", p["speed_mm_per_s"]), positive=True
            ),
        }
        out.append(d)
    return out


def _pulse_train_waves(ctx: Context, p: dict[str, Any]) -> list[dict[str, float]]:
    """The regular train: one onset every interval_s from interval_s / 2, as many as fit."""
    interval = 1.0 if p.get("interval_s") is None else p["interval_s"]
    if not interval > 0:
        raise UsageError(f"interval_s must be a positive time in s, got {interval!r}")
    p["interval_s"] = interval
    spread = p["speed_spread"]
    if not spread >= 0:
        raise UsageError(f"speed_spread must be 0 or more (a fraction of the speed), got {spread}")
    n = int(np.floor(ctx.duration_s / interval + 1e-9))
    if n < 1:
        raise UsageError(
            f"interval_s ({interval:g} s) is longer than the recording ({ctx.duration_s:g} s): "
            "no wave fits; shorten interval_s or lengthen duration_s"
        )
    t0 = interval / 2.0 + interval * np.arange(n)
    direction = np.full(n, p["direction_deg"])
    if p["random_directions"]:
        direction = W.wrap_deg(ctx.rng.uniform(-180.0, 180.0, n))
    speed = np.full(n, p["speed_mm_per_s"])
    if spread > 0:
        c = p["speed_mm_per_s"]
        speed = ctx.rng.uniform(c / (1.0 + spread), c * (1.0 + spread), n)
    return [
        {"t0_s": _tidy(a), "direction_deg": float(b), "speed_mm_per_s": float(v)}
        for a, b, v in zip(t0, direction, speed, strict=True)
    ]


def build_pulses(ctx: Context, p: dict[str, Any]) -> Built:
    _centre(ctx, p)
    for name in ("width_s", "rise_s"):
        if not p[name] > 0:
            raise UsageError(f"{name} must be a positive time in s, got {p[name]!r}")
    if p.get("recovery_s") is None:
        p["recovery_s"] = p["rise_s"]
    if not p["recovery_s"] > 0:
        raise UsageError(f"recovery_s must be a positive time in s, got {p['recovery_s']!r}")
    if p["rise_s"] < MIN_RISE_SAMPLES / ctx.fs_hz:
        raise UsageError(
            f"rise_s ({p['rise_s']:g} s) is shorter than half a sample at {ctx.fs_hz:g} Hz: "
            f"the upstroke would fall between samples; raise rise_s to at least "
            f"{MIN_RISE_SAMPLES / ctx.fs_hz:g} s or raise fs_hz"
        )
    if p.get("waves") is None:
        p["waves"] = _pulse_train_waves(ctx, p)
    else:
        if p["random_directions"] or p["speed_spread"] or p.get("interval_s") is not None:
            raise UsageError(
                "interval_s, random_directions and speed_spread describe the regular train: "
                "give them without waves, or give each wave's t0_s, direction_deg and "
                "speed_mm_per_s in waves"
            )
        p["waves"] = _check_pulse_waves(p["waves"], p)
    waves = p["waves"]
    args = {
        "waves": [(w["t0_s"], w["direction_deg"], w["speed_mm_per_s"]) for w in waves],
        **_args(p, "width_s", "rise_s", "recovery_s", "centre_x_mm", "centre_y_mm"),
    }
    _, arrival = W.pulse_train(ctx.T[:0], ctx.X, ctx.Y, **args)  # no samples: the checks first
    arrival = arrival.reshape(len(waves), -1)  # (wave, site): row-major y * nx + x on grids
    first, last = arrival.min(axis=1), arrival.max(axis=1)
    t_end = float(ctx.t[-1])
    for i in range(len(waves)):
        if first[i] < 0 or last[i] > t_end:
            raise UsageError(
                f"wave {i} (t0_s {waves[i]['t0_s']:g}) crosses the array from {first[i]:.4g} "
                f"to {last[i]:.4g} s, outside the recording (0 to {t_end:g} s): move t0_s, "
                "raise the speed or lengthen duration_s"
            )
    order = np.argsort(first, kind="stable")
    for a, b in zip(order[:-1], order[1:], strict=True):
        if first[b] <= last[a]:
            raise UsageError(
                f"waves {a} and {b} cross the array at the same time ({first[a]:.4g}-"
                f"{last[a]:.4g} s and {first[b]:.4g}-{last[b]:.4g} s): space their onsets "
                "further apart (interval_s, t0_s) or raise the speed"
            )
    signal, _ = W.pulse_train(ctx.T, ctx.X, ctx.Y, **args)
    n = ctx.t.size
    pattern = np.full(n, "none", dtype=object)
    direction = np.full(n, np.nan)
    speed = np.full(n, np.nan)
    for i, w in enumerate(waves):
        on = (ctx.t >= first[i]) & (ctx.t <= last[i])
        pattern[on] = "plane"
        direction[on] = w["direction_deg"]
        speed[on] = w["speed_mm_per_s"]
    cols = {"pattern": pattern.astype(str), "direction_deg": direction, "speed_mm_per_s": speed}
    extra = {
        "wave_t0_s": (("wave",), np.array([w["t0_s"] for w in waves]), {"units": "s"}),
        "wave_direction_deg": (
            ("wave",),
            np.array([w["direction_deg"] for w in waves]),
            {"units": "deg"},
        ),
        "wave_speed_mm_per_s": (
            ("wave",),
            np.array([w["speed_mm_per_s"] for w in waves]),
            {"units": "mm/s"},
        ),
        "arrival_time_s": (
            ("wave", "site"),
            arrival,
            {
                "units": "s",
                "description": "onset of each wave at each site (grids: row-major y * nx + x; "
                "otherwise the channel index)",
            },
        ),
    }
    return Built(signal, cols, extra)


def _sequence_build(ctx: Context, p: dict[str, Any]) -> Built:
    from .sequences import build_sequence

    return build_sequence(ctx, p)


def _sequence_duration(p: dict[str, Any]) -> float:
    from .sequences import sequence_duration

    return sequence_duration(p)


_PHASE0 = {"phase0_rad": 0.0}
_CENTRE = {"centre_x_mm": None, "centre_y_mm": None}

KINDS_SPEC: dict[str, Kind] = {
    "plane": Kind("plane wave travelling in direction_deg", dict(_PHASE0), build_plane),
    "target": Kind(
        "radial wave from a source (mode=source) or into a sink (mode=sink)",
        {"mode": "source", **_CENTRE, **_PHASE0},
        build_target,
    ),
    "spiral": Kind(
        "rotating spiral wave (chirality=ccw|cw, arms, radial=outward|inward), optionally "
        "with a moving centre",
        {
            "chirality": "ccw",
            "arms": 1,
            "radial": "outward",
            **_CENTRE,
            "centre_vx_mm_per_s": 0.0,
            "centre_vy_mm_per_s": 0.0,
            **_PHASE0,
        },
        build_spiral,
    ),
    "saddle": Kind(
        "saddle: outflow along axis_deg, inflow across it",
        {**_CENTRE, "axis_deg": None, "scale_mm": None, **_PHASE0},
        build_saddle,
    ),
    "standing": Kind(
        "standing wave along axis_deg (two counter-propagating plane waves)",
        {"axis_deg": None, "spatial_phase_rad": 0.0, **_PHASE0},
        build_standing,
    ),
    "packet": Kind(
        "plane wave under a Gaussian envelope of finite extent and duration",
        {
            **_CENTRE,
            "t0_s": None,
            "duration_sd_s": 0.2,
            "extent_sd_mm": 1.5,
            "group_speed_mm_per_s": 0.0,
            **_PHASE0,
        },
        build_packet,
    ),
    "superposed": Kind(
        "sum of plane waves (components=[{...}, ...])", {"components": None}, build_superposed
    ),
    "dispersive": Kind(
        "plane waves whose speed depends on frequency, c(f) = c0 (f/f0)^beta",
        {"frequencies_hz": None, "dispersion_exponent": 0.5},
        build_dispersive,
    ),
    "synchronous": Kind(
        "synchronous oscillation: the same phase everywhere", dict(_PHASE0), build_synchronous
    ),
    "pulses": Kind(
        "train of pulse fronts (tanh upstroke, up state, recovery) crossing the array as plane "
        "fronts, with per-wave arrival times (for trigger-based analyses)",
        {
            "waves": None,
            "interval_s": None,
            "random_directions": False,
            "speed_spread": 0.0,
            "width_s": 0.1,
            "rise_s": 0.002,
            "recovery_s": None,
            **_CENTRE,
        },
        build_pulses,
    ),
    "sequence": Kind(
        "episodes of plane, source, sink, spiral_ccw, spiral_cw, saddle and synchronous "
        "patterns with per-frame labels (for pattern classifiers)",
        {"patterns": None, "episode_s": 2.0, "repeats": 1, "shuffle": False},
        _sequence_build,
        _sequence_duration,
    ),
}

#: kind -> local (omega, kx, ky) function, for local_truth
LOCAL: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
    "plane": W.plane_wave_local,
    "target": W.target_wave_local,
    "spiral": W.spiral_wave_local,
    "saddle": W.saddle_wave_local,
    "synchronous": W.synchronous_local,
    "packet": W.plane_wave_local,
}

KINDS: dict[str, str] = {k: v.description for k, v in KINDS_SPEC.items()}


# ----------------------------------------------------------------------------- checks


def _number(name: str, v: Any, *, positive: bool = False, integer: bool = False) -> Any:
    if isinstance(v, bool) or v is None:
        raise UsageError(f"{name} must be a number, got {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(f) or (positive and f <= 0):
        raise UsageError(
            f"{name} must be a {'positive ' if positive else ''}finite number, got {v!r}"
        )
    if integer:
        if f != int(f):
            raise UsageError(f"{name} must be an integer, got {v!r}")
        return int(f)
    return f


def _check_wave(frequency_hz: float, speed: float, fs_hz: float) -> None:
    if not frequency_hz > 0:
        raise UsageError(f"frequency must be positive, got {frequency_hz} Hz")
    if frequency_hz >= fs_hz / 2:
        raise UsageError(
            f"frequency {frequency_hz:g} Hz is not below the Nyquist frequency "
            f"{fs_hz / 2:g} Hz: raise fs_hz or lower the frequency"
        )
    if not speed > 0:
        raise UsageError(f"speed must be positive, got {speed} mm/s")


def _layout_positions(layout: Any, c: dict[str, Any], e: dict[str, Any]):
    """(grid?, x, y) with 1-D axes for grids and per-channel positions otherwise."""
    from . import layouts as L

    if isinstance(layout, tuple | list) and len(layout) == 2 and not isinstance(layout, str):
        x, y = (np.asarray(v, dtype=np.float64).reshape(-1) for v in layout)
        if x.size != y.size or x.size < 2:
            raise UsageError("a custom layout is a pair (x_mm, y_mm) of equal length >= 2")
        return False, x, y, "custom"
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if layout == "grid":
        x, y = L.grid_layout(c["nx"], c["ny"], c["spacing_mm"])
        return True, x, y, layout
    if layout == "random":
        n = _number("n_channels", e["n_channels"], positive=True, integer=True)
        ext = e["extent_mm"]
        ext = (
            (max(c["nx"], c["ny"]) - 1) * c["spacing_mm"]
            if ext is None
            else _number("extent_mm", ext, positive=True)
        )
        e["n_channels"], e["extent_mm"] = n, ext
        x, y = L.random_layout(n, ext, seed=c["seed"])
    elif layout == "utah":
        x, y = L.utah_layout(c["spacing_mm"])
    elif layout == "hex":
        e["hex_rings"] = _number("hex_rings", e["hex_rings"], positive=True, integer=True)
        x, y = L.hex_mea_layout(e["hex_rings"], c["spacing_mm"])
    else:
        e["eeg_radius_mm"] = _number("eeg_radius_mm", e["eeg_radius_mm"], positive=True)
        x, y = L.eeg_cap_layout(e["eeg_radius_mm"])
    return False, x, y, layout


# ----------------------------------------------------------------------------- simulate


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
    """See :func:`wavekit.simulate.simulate` (the public docstring lives there)."""
    from ..model import grid_activity, irregular_activity

    if kind not in KINDS_SPEC:
        raise UsageError(f"unknown simulation kind {kind!r}: choose one of {', '.join(KINDS_SPEC)}")
    spec = KINDS_SPEC[kind]
    allowed = set(spec.defaults) | set(EXTRA_DEFAULTS)
    unknown = sorted(set(kind_params) - allowed)
    if unknown:
        raise UsageError(
            f"unknown parameter(s) {', '.join(unknown)} for kind {kind!r}: it "
            f"accepts {', '.join(sorted(allowed))} besides the common options"
        )
    c = {
        "layout": layout if isinstance(layout, str) else "custom",
        "nx": _number("nx", nx, positive=True, integer=True),
        "ny": _number("ny", ny, positive=True, integer=True),
        "spacing_mm": _number("spacing_mm", spacing_mm, positive=True),
        "fs_hz": _number("fs_hz", fs_hz, positive=True),
        "duration_s": _number("duration_s", duration_s, positive=True),
        "frequency_hz": _number("frequency_hz", frequency_hz, positive=True),
        "speed_mm_per_s": _number(
            "speed_mm_per_s",
            (SEQUENCE_SPEED if kind == "sequence" else DEFAULTS["speed_mm_per_s"])
            if speed_mm_per_s is None
            else speed_mm_per_s,
            positive=True,
        ),
        "direction_deg": float(W.wrap_deg(_number("direction_deg", direction_deg))),
        "snr_db": None if snr_db is None else _number("snr_db", snr_db),
        "noise": noise,
        "seed": _number("seed", seed, integer=True),
    }
    if c["seed"] < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    if noise not in NOISE_KINDS:
        raise UsageError(f"unknown noise {noise!r}: choose one of {', '.join(NOISE_KINDS)}")
    _check_wave(c["frequency_hz"], c["speed_mm_per_s"], c["fs_hz"])
    e = {**EXTRA_DEFAULTS, **{k: v for k, v in kind_params.items() if k in EXTRA_DEFAULTS}}
    p = {**spec.defaults, **{k: v for k, v in kind_params.items() if k in spec.defaults}}
    for k, v in p.items():  # numeric parameters must be numbers (None: a default chosen later)
        if k in _INTEGER and v is not None:
            p[k] = _number(k, v, integer=True)
        elif (isinstance(spec.defaults.get(k), float) or k in _NUMERIC) and v is not None:
            p[k] = _number(k, v)
        elif k in _BOOLEAN and not isinstance(v, bool):
            raise UsageError(f"{k} must be true or false, got {v!r}")
    for k in ("extent_mm", "mask_radius_mm", "mask_centre_x_mm", "mask_centre_y_mm"):
        if e[k] is not None:
            e[k] = _number(k, e[k])
    e["noise_corr_mm"] = _number("noise_corr_mm", e["noise_corr_mm"], positive=True)
    grid, xs, ys, layout_name = _layout_positions(layout, c, e)
    if grid:
        Y, X = np.meshgrid(ys, xs, indexing="ij")
    else:
        X, Y = xs, ys
    if spec.duration is not None:
        c["duration_s"] = float(spec.duration(p))
    nt = int(round(c["duration_s"] * c["fs_hz"]))
    if nt < 2:
        raise UsageError(
            f"duration {c['duration_s']:g} s at {c['fs_hz']:g} Hz gives fewer than 2 samples"
        )
    t = np.arange(nt) / c["fs_hz"]
    rng = np.random.default_rng(c["seed"])
    param_rng, noise_rng = rng.spawn(2)
    centroid = (_tidy(np.mean(X)), _tidy(np.mean(Y)))
    extent = float(max(np.ptp(X), np.ptp(Y)))
    ctx = Context(
        t=t,
        X=X,
        Y=Y,
        grid=grid,
        fs_hz=c["fs_hz"],
        duration_s=c["duration_s"],
        centroid=centroid,
        extent_mm=extent,
        rng=param_rng,
        common=c,
    )
    p.update({k: c[k] for k in ("frequency_hz", "speed_mm_per_s", "direction_deg")})
    try:
        built = spec.build(ctx, p)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"bad parameter for kind {kind!r}: {exc}") from None
    signal = float(_number("amplitude", e["amplitude"])) * built.signal
    mask = _mask(e, X, Y, centroid, extent)
    if not np.any(mask):  # nothing left to measure, and no signal power to set an SNR from
        raise UsageError(
            f"the {e['mask']} mask (radius {e['mask_radius_mm']:g} mm at "
            f"({e['mask_centre_x_mm']:g}, {e['mask_centre_y_mm']:g}) mm) covers no electrode: "
            "raise mask_radius_mm or move its centre"
        )
    signal = signal * mask
    signal = _bad_channels(signal, e, grid)  # before the noise: the SNR is over good channels
    if c["snr_db"] is not None:
        signal, _ = add_noise(
            signal,
            c["snr_db"],
            kind=noise,
            rng=noise_rng,
            x_mm=xs,
            y_mm=ys,
            grid=grid,
            corr_mm=_number("noise_corr_mm", e["noise_corr_mm"]),
        )
    attrs = {"simulation_kind": kind}
    if grid:
        activity = grid_activity(
            signal, fs_hz=c["fs_hz"], x_mm=xs, y_mm=ys, units="a.u.", attrs=attrs
        )
    else:
        activity = irregular_activity(
            signal, fs_hz=c["fs_hz"], x_mm=xs, y_mm=ys, units="a.u.", attrs=attrs
        )
    parameters = {**c, **e, **p, "layout": layout_name}
    parameters["bad_channels"] = list(e["bad_channels"])
    truth = truth_dataset(
        t,
        **built.columns,
        extra=built.extra,
        attrs={
            "kind": kind,
            "seed": c["seed"],
            "parameters": json.dumps(parameters, default=_json_default),
            "snr_db": c["snr_db"],
            "noise": noise if c["snr_db"] is not None else "none",
            "layout": layout_name,
            "conventions": "docs/simulate.md",
        },
    )
    return activity, truth


def _tidy(v: float) -> float:
    """Drop round-off (3.0000000000000004 -> 3.0) at 12 significant digits."""
    return float(f"{float(v):.12g}")


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def _mask(
    e: dict[str, Any], X: np.ndarray, Y: np.ndarray, centroid: tuple[float, float], extent: float
) -> np.ndarray | float:
    kind = e["mask"]
    if kind not in MASKS:
        raise UsageError(f"unknown mask {kind!r}: choose one of {', '.join(MASKS)}")
    if kind == "none":
        return 1.0
    cx = (
        centroid[0]
        if e["mask_centre_x_mm"] is None
        else _number("mask_centre_x_mm", e["mask_centre_x_mm"])
    )
    cy = (
        centroid[1]
        if e["mask_centre_y_mm"] is None
        else _number("mask_centre_y_mm", e["mask_centre_y_mm"])
    )
    r = (
        extent / 4.0
        if e["mask_radius_mm"] is None
        else _number("mask_radius_mm", e["mask_radius_mm"], positive=True)
    )
    e.update(mask_centre_x_mm=cx, mask_centre_y_mm=cy, mask_radius_mm=r)
    rho = np.hypot(X - cx, Y - cy)
    if kind == "disc":
        return (rho <= r).astype(np.float64)
    return np.exp(-(rho**2) / (2.0 * r**2))


def _bad_channels(signal: np.ndarray, e: dict[str, Any], grid: bool) -> np.ndarray:
    bad = e["bad_channels"]
    if bad is None:
        return signal
    bad = [bad] if isinstance(bad, int | str) else list(bad)
    e["bad_channels"] = bad
    if not bad:
        return signal
    flat = signal.reshape(signal.shape[0], -1)
    try:
        idx = np.asarray([int(b) for b in bad])
    except (TypeError, ValueError):
        raise UsageError(
            "bad_channels is a list of channel indices (grids: row-major site numbers y * nx + x)"
        ) from None
    if idx.min() < 0 or idx.max() >= flat.shape[1]:
        raise UsageError(f"bad_channels must lie in 0..{flat.shape[1] - 1}")
    flat = flat.copy()
    flat[:, idx] = np.nan
    return flat.reshape(signal.shape)
