"""The ``flow`` stage of ``wavekit analyze`` (opt-in, grids only): the optical flow of the phase,
its per-frame measures, and its critical points tracked through the whole recording.

Per chunk, :func:`chunk_flow` runs :func:`wavekit.analysis.flow.phase_flow` (Horn-Schunck with
Charbonnier penalties; ``alpha`` 0.5 and ``beta`` 0.01 unless the ``[flow]`` section of the
configuration says otherwise; the chunk's first frame
starts from the regularised normal flow, every later frame from the previous one) on the chunk's
complex signal *including* its margins, so the flow of the chunk's core frames has been
warm-started over ten periods of the band's low edge and does not depend on where the chunk
starts. Of the core frames it keeps:

* the per-frame measures ``flow_order_parameter`` (``|sum v| / sum |v|`` over the sites: 1 for a
  uniform flow, near 0 around a centre), ``flow_divergence_per_s`` and ``flow_curl_per_s``
  (means over the array of ``dvx/dx + dvy/dy`` and ``dvy/dx - dvx/dy``: positive divergence for
  a diverging flow, as around a source; positive curl for anticlockwise rotation) and
  ``flow_n_critical_points``;
* the critical points of the flow (:func:`wavekit.analysis.critical.critical_points`) of every
  core frame, with their absolute frame index, in a :class:`PointCollector` (a few numbers per
  point, so memory grows with the number of points, not with the flow).

At the end :func:`track_table` links the points of all non-edge frames once
(:func:`wavekit.analysis.critical.track_points`), so tracks run across chunk boundaries, drops
tracks shorter than :func:`min_track_duration_s`, and summarises each remaining track (one row of
``critical_points.csv``).

The phase flow points in the direction of travel (sources: diverging flow; sinks: converging; a
spiral wave turning anticlockwise: a flow circulating anticlockwise around its core), so the
track labels read as the pattern classifier's: :data:`KIND_PATTERN`.

**Flow magnitudes are not speeds**: they (and the divergence and curl) shrink as the smoothness
weight ``alpha`` grows. Speeds come from the phase (``speed_mm_per_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..analysis.critical import CRITICAL_KINDS
from ..model import layout

#: the critical-point kind of a flow -> the pattern classifier's label of the wave around it
#: (spirals out, in and rotations of one sense are all rotating waves of that sense)
KIND_PATTERN = {
    "source": "source",
    "sink": "sink",
    "saddle": "saddle",
    "spiral_out_ccw": "spiral_ccw",
    "spiral_in_ccw": "spiral_ccw",
    "rotation_ccw": "spiral_ccw",
    "spiral_out_cw": "spiral_cw",
    "spiral_in_cw": "spiral_cw",
    "rotation_cw": "spiral_cw",
    "degenerate": "none",
}
TRACK_PATTERNS = ("source", "sink", "saddle", "spiral_ccw", "spiral_cw", "none")
_KIND_CODE = {k: i for i, k in enumerate(CRITICAL_KINDS)}
_KIND_TO_PATTERN_CODE = np.array([TRACK_PATTERNS.index(KIND_PATTERN[k]) for k in CRITICAL_KINDS])

#: tracks are linked over at most this many pitches between two detections
LINK_PITCHES = 1.5
#: ... and across gaps of at most this fraction of a period of the band's centre frequency
GAP_PERIODS = 0.125
#: tracks shorter than this many periods of the band's centre frequency (and than
#: MIN_TRACK_FRAMES) are dropped as noise
MIN_TRACK_PERIODS = 1.0
MIN_TRACK_FRAMES = 3
CAUTION = (
    "flow magnitudes, divergence and curl depend on the solver's smoothness weight alpha and "
    "are not speeds: use the flow for direction and topology; speeds come from the phase "
    "(speed_mm_per_s)"
)
#: CSV columns of critical_points.csv, in order
TRACK_COLUMNS = [
    "id",
    "kind",
    "pattern",
    "kind_fraction",
    "start_s",
    "end_s",
    "duration_s",
    "n_frames",
    "x_mm",
    "y_mm",
    "start_x_mm",
    "start_y_mm",
    "end_x_mm",
    "end_y_mm",
    "path_length_mm",
    "net_displacement_mm",
]


def applies(activity: xr.DataArray) -> str | None:
    """None when the flow stage can run on ``activity``, else why not (a report note)."""
    if layout(activity) != "grid":
        return "flow: the optical flow of the phase needs a grid layout; skipped on channels"
    if activity.sizes["y"] < 2 or activity.sizes["x"] < 2:
        return "flow: the optical flow needs at least 2 x 2 sites; skipped"
    return None


@dataclass
class FlowChunk:
    """What :func:`chunk_flow` keeps of one chunk's core frames."""

    measures: xr.Dataset  # per-frame measures along time (float32)
    points: xr.Dataset  # critical points along "point", frame relative to the core's start
    flow: xr.Dataset  # flow_x, flow_y (time, y, x) of the core, for fields.h5


def chunk_flow(z: xr.DataArray, keep: slice, *, alpha: float, beta: float) -> FlowChunk:
    """The phase flow (smoothness weight ``alpha``, Charbonnier ``beta``: ``[flow]`` of the
    configuration) of a chunk's complex signal ``z`` (with its margins) and, for the frames
    ``keep`` (the core), its per-frame measures and critical points."""
    from ..analysis.critical import critical_points
    from ..analysis.flow import phase_flow
    from ..analysis.vectorfield import curl, divergence, order_parameter

    flow = phase_flow(z.transpose("time", "y", "x"), alpha=alpha, beta=beta)
    core = flow[["flow_x", "flow_y"]].isel(time=keep)
    vx, vy = core["flow_x"], core["flow_y"]
    points = critical_points(vx, vy)
    counts = np.bincount(points["frame"].values, minlength=core.sizes["time"])
    values = {
        "flow_order_parameter": order_parameter(vx, vy).values,
        "flow_divergence_per_s": divergence(vx, vy).mean(("y", "x"), skipna=True).values,
        "flow_curl_per_s": curl(vx, vy).mean(("y", "x"), skipna=True).values,
        "flow_n_critical_points": counts,
    }
    measures = xr.Dataset(  # float32, as the other per-frame measures
        {k: ("time", np.asarray(v, dtype=np.float32)) for k, v in values.items()},
        coords={"time": core["time"].values},
    )
    return FlowChunk(measures=measures, points=points, flow=core)


@dataclass
class PointCollector:
    """Critical points of all chunks with their absolute frame index, in compact arrays."""

    frame: list[np.ndarray] = field(default_factory=list)
    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    index: list[np.ndarray] = field(default_factory=list)

    def add(self, start: int, points: xr.Dataset) -> None:
        """Points of a chunk's core whose first frame is frame ``start`` of the recording."""
        self.frame.append(points["frame"].values.astype(np.int64) + int(start))
        self.x.append(points["x_mm"].values.astype(np.float32))
        self.y.append(points["y_mm"].values.astype(np.float32))
        codes = [_KIND_CODE[str(k)] for k in points["kind"].values]
        self.kind.append(np.asarray(codes, dtype=np.int8))
        self.index.append(points["index"].values.astype(np.int8))

    def points(self) -> xr.Dataset:
        """All points along ``point`` (``frame``, ``x_mm``, ``y_mm``, ``kind_code``, ``index``)."""

        def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype)

        return xr.Dataset(
            {
                "frame": ("point", cat(self.frame, np.int64)),
                "x_mm": ("point", cat(self.x, np.float32)),
                "y_mm": ("point", cat(self.y, np.float32)),
                "kind_code": ("point", cat(self.kind, np.int8)),
                "index": ("point", cat(self.index, np.int8)),
            }
        )


@dataclass(frozen=True)
class TrackRule:
    """How critical points are linked into tracks and which tracks are kept."""

    max_distance_mm: float
    max_gap_frames: int
    min_duration_s: float


def track_rule(activity: xr.DataArray, band: tuple[float, float]) -> TrackRule:
    """Links of at most :data:`LINK_PITCHES` grid pitches, across gaps of at most an eighth of
    a period of the band's centre frequency (at least 1 frame); tracks kept when they last at
    least one period of it (and :data:`MIN_TRACK_FRAMES` frames)."""
    from .frames import band_centre

    fs = float(activity.attrs["fs_hz"])
    fc = band_centre(band)
    pitch = max(_pitch(activity["x"].values), _pitch(activity["y"].values))
    gap = max(1, int(round(GAP_PERIODS * fs / fc)))
    min_dur = max(MIN_TRACK_PERIODS / fc, MIN_TRACK_FRAMES / fs)
    return TrackRule(round(LINK_PITCHES * pitch, 9), gap, round(min_dur, 9))


def _pitch(c: np.ndarray) -> float:
    c = np.asarray(c, dtype=np.float64)
    return float(np.median(np.abs(np.diff(c)))) if c.size > 1 else 1.0


def track_table(
    points: xr.Dataset, time_s: np.ndarray, edge: np.ndarray, fs_hz: float, rule: TrackRule
) -> tuple[xr.Dataset, dict[str, int]]:
    """Tracks of the critical points of the non-edge frames, one row per kept track.

    Points are linked by :func:`wavekit.analysis.critical.track_points` with the winding number
    (``index``: +1 for sources, sinks, spirals and rotations, -1 for saddles) as the label that
    must agree along a track: the index cannot change along a continuous path of a zero, while
    its Jacobian class can (a spiral core flickers between ``spiral_out_ccw`` and
    ``rotation_ccw``). A track's ``kind`` is its most frequent class (``kind_fraction`` of its
    detections), its ``pattern`` the most frequent :data:`KIND_PATTERN` label.

    Returns
    -------
    tracks : xarray.Dataset
        Along ``track`` (numbered in order of start): the columns of :data:`TRACK_COLUMNS`.
    counts : dict
        ``n_points`` tracked, ``n_tracks_found``, ``n_short_tracks_dropped``.
    """
    from ..analysis.critical import track_points

    frame = points["frame"].values
    keep = ~edge[frame] if frame.size else np.zeros(0, bool)
    pts = points.isel(point=np.flatnonzero(keep))
    counts = {"n_points": int(pts.sizes["point"]), "n_tracks_found": 0}
    if pts.sizes["point"] == 0:
        counts["n_short_tracks_dropped"] = 0
        return _empty_tracks(), counts
    tracked = track_points(
        pts,
        max_distance_mm=rule.max_distance_mm,
        max_gap_frames=rule.max_gap_frames,
        label="index",
    )
    tid = tracked["track"].values
    f = tracked["frame"].values
    x = tracked["x_mm"].values.astype(np.float64)
    y = tracked["y_mm"].values.astype(np.float64)
    kind = tracked["kind_code"].values.astype(np.int64)
    order = np.lexsort((f, tid))
    tid, f, x, y, kind = tid[order], f[order], x[order], y[order], kind[order]
    n_tracks = int(tid.max()) + 1
    counts["n_tracks_found"] = n_tracks
    starts = np.searchsorted(tid, np.arange(n_tracks))
    ends = np.r_[starts[1:], tid.size] - 1
    n_det = ends - starts + 1
    span = f[ends] - f[starts] + 1
    kept = np.flatnonzero(span / fs_hz >= rule.min_duration_s - 0.5 / fs_hz)
    counts["n_short_tracks_dropped"] = n_tracks - int(kept.size)
    step = np.hypot(np.diff(x), np.diff(y))
    step[np.diff(tid) != 0] = 0.0  # no step between two tracks
    path = np.add.reduceat(np.r_[step, 0.0], starts) if tid.size else np.zeros(0)
    nk = len(CRITICAL_KINDS)
    kind_counts = np.bincount(tid * nk + kind, minlength=n_tracks * nk).reshape(n_tracks, nk)
    np_ = len(TRACK_PATTERNS)
    pat = _KIND_TO_PATTERN_CODE[kind]
    pat_counts = np.bincount(tid * np_ + pat, minlength=n_tracks * np_).reshape(n_tracks, np_)
    t0 = time_s[f[starts]]
    t1 = time_s[f[ends]] + 1.0 / fs_hz
    cols: dict[str, Any] = {
        "kind": np.array([CRITICAL_KINDS[i] for i in kind_counts.argmax(axis=1)], dtype=object),
        "pattern": np.array([TRACK_PATTERNS[i] for i in pat_counts.argmax(axis=1)], dtype=object),
        "kind_fraction": np.round(kind_counts.max(axis=1) / n_det, 6),
        "start_s": t0,
        "end_s": t1,
        "duration_s": t1 - t0,
        "n_frames": n_det,
        "x_mm": np.add.reduceat(x, starts) / n_det,
        "y_mm": np.add.reduceat(y, starts) / n_det,
        "start_x_mm": x[starts],
        "start_y_mm": y[starts],
        "end_x_mm": x[ends],
        "end_y_mm": y[ends],
        "path_length_mm": path,
        "net_displacement_mm": np.hypot(x[ends] - x[starts], y[ends] - y[starts]),
    }
    for k, v in cols.items():  # float32 positions and sums of float times: no false digits
        if k.endswith("_mm"):
            cols[k] = np.round(v, 6)
        elif k.endswith("_s"):
            cols[k] = np.round(v, 9)
    sel = kept[np.argsort(t0[kept], kind="stable")]
    ds = xr.Dataset({k: ("track", np.asarray(v)[sel]) for k, v in cols.items()})
    for k in ("kind", "pattern"):
        ds[k] = ds[k].astype(str)
    ds.attrs.update(
        max_distance_mm=rule.max_distance_mm,
        max_gap_frames=rule.max_gap_frames,
        min_duration_s=rule.min_duration_s,
    )
    return ds, counts


def _empty_tracks() -> xr.Dataset:
    return xr.Dataset(
        {
            k: ("track", np.empty(0, dtype=str if k in ("kind", "pattern") else np.float64))
            for k in TRACK_COLUMNS[1:]
        }
    )


def flow_summary(
    frames: xr.Dataset,
    tracks: xr.Dataset,
    counts: dict[str, int],
    rule: TrackRule,
    *,
    alpha: float,
    beta: float,
) -> dict[str, Any]:
    """The report's ``flow_structure.phase_flow`` block (``alpha``, ``beta``: the solver's
    settings, recorded with it)."""
    from .summary import _q, inner_of

    inner = inner_of(frames)
    n = tracks.sizes.get("track", 0)
    by_kind = {k: 0 for k in CRITICAL_KINDS}
    by_pattern = {p: 0 for p in TRACK_PATTERNS}
    for k, p in zip(tracks["kind"].values, tracks["pattern"].values, strict=True):
        by_kind[str(k)] += 1
        by_pattern[str(p)] += 1
    longest = None
    if n:
        i = int(np.argmax(tracks["duration_s"].values))
        longest = {"id": i} | {k: tracks[k].values[i].item() for k in TRACK_COLUMNS[1:]}
    cp = frames["flow_n_critical_points"].values[inner]
    return {
        "alpha": alpha,
        "beta": beta,
        "caution": CAUTION,
        "order_parameter": _q(frames["flow_order_parameter"].values[inner]),
        "divergence_per_s": _q(frames["flow_divergence_per_s"].values[inner]),
        "curl_per_s": _q(frames["flow_curl_per_s"].values[inner]),
        "critical_points_per_frame": float(np.mean(cp)) if cp.size else None,
        "n_tracks": int(n),
        "n_tracks_by_kind": by_kind,
        "n_tracks_by_pattern": by_pattern,
        "n_short_tracks_dropped": int(counts.get("n_short_tracks_dropped", 0)),
        "min_track_duration_s": float(rule.min_duration_s),
        "track_max_distance_mm": float(rule.max_distance_mm),
        "track_max_gap_frames": int(rule.max_gap_frames),
        "longest_track": longest,
    }
