"""What ``wavekit analyze`` does, as one validated, reproducible configuration.

Options come from defaults, then a TOML file (``--config``), then command-line flags, each
overriding the one before. The resolved configuration is recorded in ``report.json``
(``parameters``) so a run can be repeated exactly. A TOML file looks like::

    seed = 1

    [input]            # reader overrides, as the flags --fs, --spacing-mm, ...
    fs = 1000.0
    spacing_mm = 0.21875

    [preprocess]
    band_hz = [4.0, 30.0]   # omit to choose the band from the spectrum
    notch_hz = 50.0
    bad_channel_z = 5.0
    smooth_sigma_mm = 0.0

    [phase]
    method = "hilbert"      # hilbert | morlet | generalized
    morlet_cycles = 7.0

    [stages]                # default: all but "activation", which [activation] or
                            # --polarity turn on, and "flow" (optical flow of the phase and
                            # its critical points tracked through time; grids only)
    run = ["gradients", "planefit", "patterns", "events", "spectra", "spatial", "activation",
           "flow"]

    [events]
    measure = "pgd"         # pgd | plane_r2
    alpha = 0.05
    n_surrogates = 99
    surrogate = "phase"     # phase | shift | shuffle
    min_duration_s = 0.05

    [activation]            # trigger-based waves (slow waves, retinal waves, optical mapping)
    polarity = "up"         # "down" for signals that fall on activation (inverted dyes)
    min_interval_s = 0.05   # shortest time between two transitions of a channel (default:
                            # half a period of the band's centre frequency)
    trigger = "threshold"   # threshold | phase | minima
    threshold = 0.5         # level between a channel's 5 % and 99 % quantiles
    marker = "steepest"     # threshold trigger: steepest | half | crossing (where in the upstroke)
    smooth_s = 0.01         # Gaussian smoothing before detection (default: 1/20 period)
    max_dt_s = 0.5          # clustering window (default: estimated from the data)
    max_distance_mm = 0.3   # neighbour distance (default: 1.5 x nearest-neighbour distance)
    min_channels = 4        # smallest wave reported

    [flow]                  # the optical flow of the phase (setting a key turns the stage on)
    alpha = 0.5             # smoothness weight: larger, smoother and smaller flow
    beta = 0.01             # Charbonnier parameter of both penalties (rad per frame)

    [output]
    plots = true
    fig_format = "png"      # png | svg | pdf
    chunk_s = 60.0          # process in overlapping time chunks of this length
    fields = false          # write fields.h5 (phase, wave vector, velocity per frame and site)
    movie = false           # write a short movie of the phase (movie.gif or movie.mp4)
    movie_format = "gif"    # gif | mp4 (mp4 needs ffmpeg on PATH; setting it turns movie on)
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import UsageError

STAGES = (
    "gradients",
    "planefit",
    "patterns",
    "events",
    "spectra",
    "spatial",
    "activation",
    "flow",
)
#: stages run only when asked: activation-time fronts (``--polarity`` or ``--stages``), since on
#: oscillations every cycle is a "front" and the fits cost time; the optical flow of the phase
#: and its tracked critical points (``--stages ...,flow``), which costs a solver run per frame
OPT_IN_STAGES = ("activation", "flow")
#: stages run unless the user chooses
DEFAULT_STAGES = tuple(s for s in STAGES if s not in OPT_IN_STAGES)
POLARITIES = ("up", "down")
PHASE_METHODS = ("hilbert", "morlet", "generalized")
EVENT_MEASURES = ("pgd", "plane_r2")
SURROGATES = ("phase", "shift", "shuffle")
FIG_FORMATS = ("png", "svg", "pdf")
MOVIE_FORMATS = ("gif", "mp4")
TRIGGERS = ("threshold", "phase", "minima")
MARKERS = ("steepest", "half", "crossing")
INPUT_KEYS = ("dataset", "dims", "fs", "spacing_mm", "positions", "bin_ms", "layout", "units")

#: TOML section -> keys it may hold (each a field of :class:`Config`, except [input] and run)
SECTIONS = {
    "preprocess": ("band_hz", "notch_hz", "bad_channel_z", "smooth_sigma_mm"),
    "phase": ("method", "morlet_cycles"),
    "stages": ("run",),
    "events": ("measure", "alpha", "n_surrogates", "surrogate", "min_duration_s"),
    "activation": (
        "polarity",
        "min_interval_s",
        "trigger",
        "threshold",
        "marker",
        "smooth_s",
        "max_dt_s",
        "max_distance_mm",
        "min_channels",
    ),
    "flow": ("alpha", "beta"),
    "output": ("plots", "fig_format", "chunk_s", "fields", "movie", "movie_format"),
}
_RENAME = {
    ("phase", "method"): "phase",
    ("stages", "run"): "stages",
    ("events", "measure"): "event_measure",
    ("activation", "threshold"): "trigger_threshold",
    ("activation", "marker"): "trigger_marker",
    ("flow", "alpha"): "flow_alpha",
    ("flow", "beta"): "flow_beta",
    ("activation", "smooth_s"): "trigger_smooth_s",
}


@dataclass(frozen=True)
class Config:
    """The resolved options of one analysis (see the module docstring for the TOML form)."""

    seed: int = 0
    band_hz: tuple[float, float] | None = None
    notch_hz: float | None = None
    bad_channel_z: float = 5.0
    smooth_sigma_mm: float = 0.0
    phase: str = "hilbert"
    morlet_cycles: float = 7.0
    stages: tuple[str, ...] = DEFAULT_STAGES
    event_measure: str = "pgd"
    alpha: float = 0.05
    n_surrogates: int = 99
    surrogate: str = "phase"
    min_duration_s: float | None = None
    polarity: str = "up"
    min_interval_s: float | None = None
    trigger: str = "threshold"
    trigger_threshold: float = 0.5
    trigger_marker: str = "steepest"
    trigger_smooth_s: float | None = None
    max_dt_s: float | None = None
    max_distance_mm: float | None = None
    min_channels: int = 4
    flow_alpha: float = 0.5
    flow_beta: float = 0.01
    plots: bool = True
    fig_format: str = "png"
    chunk_s: float = 60.0
    fields: bool = False
    movie: bool = False
    movie_format: str = "gif"
    input: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["band_hz"] = None if self.band_hz is None else list(self.band_hz)
        d["stages"] = list(self.stages)
        return d

    def digest(self) -> str:
        """SHA-256 of the requested options (what ``--resume`` compares)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def _check(c: Config) -> None:
    def bad(what: str) -> UsageError:
        return UsageError(f"config: {what}")

    if c.band_hz is not None:
        if len(c.band_hz) != 2 or not 0 <= c.band_hz[0] < c.band_hz[1]:
            raise bad(f"band_hz {list(c.band_hz)} must be [low, high] with 0 <= low < high (Hz)")
    if c.phase not in PHASE_METHODS:
        raise bad(f"phase method {c.phase!r} is not one of {', '.join(PHASE_METHODS)}")
    unknown = [s for s in c.stages if s not in STAGES]
    if unknown:
        raise bad(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}")
    if c.event_measure not in EVENT_MEASURES:
        raise bad(f"events measure {c.event_measure!r} is not one of {', '.join(EVENT_MEASURES)}")
    if c.surrogate not in SURROGATES:
        raise bad(f"surrogate {c.surrogate!r} is not one of {', '.join(SURROGATES)}")
    if not 0 < c.alpha < 1:
        raise bad(f"alpha {c.alpha} must lie between 0 and 1")
    if c.n_surrogates < 1:
        raise bad("n_surrogates must be at least 1")
    if c.polarity not in POLARITIES:
        raise bad(f"activation polarity {c.polarity!r} is not up or down")
    if c.min_interval_s is not None and c.min_interval_s <= 0:
        raise bad("activation min_interval_s must be positive")
    if c.trigger not in TRIGGERS:
        raise bad(f"activation trigger {c.trigger!r} is not one of {', '.join(TRIGGERS)}")
    if c.trigger_marker not in MARKERS:
        raise bad(f"activation marker {c.trigger_marker!r} is not one of {', '.join(MARKERS)}")
    if not 0 < c.trigger_threshold < 1:
        raise bad(f"activation threshold {c.trigger_threshold} must lie between 0 and 1")
    for name in ("trigger_smooth_s", "max_dt_s", "max_distance_mm"):
        v = getattr(c, name)
        if v is not None and v <= 0:
            raise bad(f"activation {name.removeprefix('trigger_')} must be positive")
    for name in ("flow_alpha", "flow_beta"):
        v = getattr(c, name)
        if not (isinstance(v, int | float) and not isinstance(v, bool) and v > 0):
            raise bad(f"flow {name.removeprefix('flow_')} {v!r} must be a positive number")
    if c.min_channels < 3:
        raise bad("activation min_channels must be at least 3")
    if c.fig_format not in FIG_FORMATS:
        raise bad(f"fig_format {c.fig_format!r} is not one of {', '.join(FIG_FORMATS)}")
    if c.movie_format not in MOVIE_FORMATS:
        raise bad(f"movie_format {c.movie_format!r} is not one of {', '.join(MOVIE_FORMATS)}")
    if c.movie and c.movie_format == "mp4" and not ffmpeg_available():
        raise UsageError(
            "--movie-format mp4 needs ffmpeg on PATH, which was not found: install ffmpeg "
            "or use --movie-format gif"
        )
    if c.chunk_s <= 0 or c.morlet_cycles <= 0 or c.bad_channel_z <= 0 or c.smooth_sigma_mm < 0:
        raise bad("chunk_s, morlet_cycles and bad_channel_z must be positive, smooth_sigma_mm >= 0")
    if c.notch_hz is not None and c.notch_hz <= 0:
        raise bad("notch_hz must be positive")
    unknown_in = set(c.input) - set(INPUT_KEYS)
    if unknown_in:
        raise bad(f"unknown [input] key(s) {', '.join(sorted(unknown_in))}")


def ffmpeg_available() -> bool:
    """True when matplotlib can find ffmpeg (what MP4 movies need)."""
    import shutil

    return shutil.which("ffmpeg") is not None


def from_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML config file into keyword arguments of :class:`Config`."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "seed":
            out["seed"] = value
        elif key == "input" and isinstance(value, dict):
            out["input"] = dict(value)
        elif key in SECTIONS and isinstance(value, dict):
            for k, v in value.items():
                if k not in SECTIONS[key]:
                    raise UsageError(
                        f"--config {path}: unknown key [{key}] {k} (allowed: "
                        f"{', '.join(SECTIONS[key])})"
                    )
                out[_RENAME.get((key, k), k)] = v
        else:
            raise UsageError(f"--config {path}: unknown key or section {key!r}")
    return out


_ACTIVATION_FIELDS = tuple(_RENAME.get(("activation", k), k) for k in SECTIONS["activation"])
_FLOW_FIELDS = tuple(_RENAME.get(("flow", k), k) for k in SECTIONS["flow"])


def make_config(toml_path: str | os.PathLike | None = None, **overrides: Any) -> Config:
    """Defaults, then the TOML file, then ``overrides`` (None values are ignored)."""
    kw: dict[str, Any] = from_toml(toml_path) if toml_path else {}
    input_over = {k: v for k, v in (overrides.pop("input", None) or {}).items() if v is not None}
    kw.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in fields(Config)}
    unknown = set(kw) - names
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
    if "band_hz" in kw and kw["band_hz"] is not None:
        kw["band_hz"] = tuple(float(b) for b in kw["band_hz"])
    if "stages" in kw:
        kw["stages"] = tuple(kw["stages"])
    else:  # asking for trigger waves or the flow's settings runs their (opt-in) stage
        asked = [s for s, keys in (("activation", _ACTIVATION_FIELDS), ("flow", _FLOW_FIELDS))
                 if set(kw) & set(keys)]  # fmt: skip
        if asked:
            kw["stages"] = (*DEFAULT_STAGES, *asked)
    if "movie_format" in kw and "movie" not in kw:  # asking for a movie format asks for a movie
        kw["movie"] = True
    try:
        cfg = Config(**kw)
    except TypeError as exc:
        raise UsageError(f"config: {exc}") from None
    if input_over:
        cfg = replace(cfg, input={**cfg.input, **input_over})
    return cfg
