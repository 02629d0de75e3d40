r"""Wave events: segments where a per-frame wave measure exceeds a surrogate-calibrated threshold.

Any per-frame measure of "waviness" can drive the detector: a phase-gradient directionality,
the order parameter of :mod:`wavekit.analysis.vectorfield`, the goodness of fit of a plane wave
(``rho`` or adjusted ``R^2``), a pattern coherence. The threshold is not fixed: it is the
``1 - alpha`` quantile of the same measure computed on surrogates of the same recording
(:func:`null_distribution`, :func:`wavekit.analysis.stats.quantile_threshold`), so on data
without waves a fraction of at most about ``alpha`` of frames exceeds it, whatever the measure's
scale, the array size or the noise spectrum.

An event is a run of frames above the threshold (gaps up to ``max_gap_s`` bridged) lasting at
least ``min_duration_s``. The table (:func:`detect_events`) has one row per event along the dim
``event``; per-frame directions, speeds, patterns, centres and planarity computed elsewhere are
summarised over the event's frames:

* direction: circular mean (and resultant length, Rayleigh test) of the per-frame directions;
* speed: median of the per-frame speeds with a moving-block bootstrap interval;
* pattern: the most frequent per-frame label; centre: median of the per-frame centres;
* ``mass``: the summed excess of the measure over the threshold, ``sum_t (m_t - theta)`` over
  the event's frames (the cluster mass of Maris & Oostenveld 2007);
* ``p_value``: the same detector is run on every surrogate series of ``null``; the p-value is
  the fraction of those null events whose mass is at least the event's,
  ``(1 + #{null mass >= mass}) / (1 + n_null_events)`` (per event, not corrected for the
  number of events). Under the null the p-values of detected events are uniform, so about
  ``5 %`` of noise events have ``p < 0.05``. When the null series hold no event at all, the
  p-value is ``p_value_fwer``;
* ``p_value_fwer``: the fraction of surrogate series whose largest event mass (0 without
  events) is at least the event's, ``(1 + #) / (1 + n_series)``: family-wise over all events
  of the recording (Maris & Oostenveld 2007), but no smaller than ``1 / (1 + n_series)``.

Times: ``start_s`` is the time of the first frame, ``end_s`` the time of the last frame plus one
sampling interval, ``duration_s = n_frames / fs_hz``.

References
----------
Townsend R. G., Gong P. (2018) PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643

Theiler J. et al. (1992) Physica D 58:77-94. doi:10.1016/0167-2789(92)90102-S

Maris E., Oostenveld R. (2007) Nonparametric statistical testing of EEG- and MEG-data.
J. Neurosci. Methods 164:177-190. doi:10.1016/j.jneumeth.2007.03.024

Phipson B., Smyth G. K. (2010) Permutation p-values should never be zero. Stat. Appl. Genet.
Mol. Biol. 9:39. doi:10.2202/1544-6115.1585
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from ..errors import UsageError
from .stats import bootstrap_ci, circular_summary, iter_surrogates, quantile_threshold

__all__ = ["detect_events", "event_segments", "null_distribution"]


def event_segments(above, *, min_frames: int = 1, max_gap_frames: int = 0) -> np.ndarray:
    """Start and stop (exclusive) frame indices of the runs of True in ``above``.

    Runs separated by at most ``max_gap_frames`` False frames are merged; runs shorter than
    ``min_frames`` are dropped. Returns an ``(n_events, 2)`` integer array.

    Examples
    --------
    >>> event_segments([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], min_frames=2, max_gap_frames=1).tolist()
    [[1, 5], [7, 10]]
    """
    a = np.asarray(above, dtype=bool).ravel()
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    d = np.diff(np.concatenate([[0], a.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    if starts.size and max_gap_frames > 0:
        keep_s, keep_e = [starts[0]], []
        for s, e_prev in zip(starts[1:], stops[:-1], strict=True):
            if s - e_prev > max_gap_frames:
                keep_e.append(e_prev)
                keep_s.append(s)
        keep_e.append(stops[-1])
        starts, stops = np.array(keep_s), np.array(keep_e)
    seg = np.stack([starts, stops], axis=1).astype(np.int64) if starts.size else np.zeros((0, 2))
    seg = seg.astype(np.int64)
    return seg[(seg[:, 1] - seg[:, 0]) >= max(min_frames, 1)]


def null_distribution(
    activity: xr.DataArray,
    measure: Callable[[xr.DataArray], xr.DataArray],
    *,
    n: int = 19,
    method: str = "phase",
    seed: int | None = None,
    min_shift_s: float = 0.0,
) -> xr.DataArray:
    """The per-frame measure computed on ``n`` surrogates of ``activity``.

    Parameters
    ----------
    activity : xarray.DataArray
        Real activity (before band-pass and phase extraction: the surrogate must go through
        the same pipeline as the data).
    measure : callable
        ``activity -> DataArray`` with a ``time`` dim: the whole pipeline from activity to the
        per-frame measure.
    n, method, seed, min_shift_s
        See :func:`wavekit.analysis.stats.iter_surrogates`.

    Returns
    -------
    xarray.DataArray
        Dims ``("surrogate", ...)``, attrs ``surrogate_method``, ``n_surrogates``, ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> a = grid_activity(np.random.default_rng(0).normal(size=(50, 2, 2)), fs_hz=100., dx_mm=1.)
    >>> null = null_distribution(a, lambda s: s.mean(("y", "x")), n=3, seed=0)
    >>> null.dims, null.shape
    (('surrogate', 'time'), (3, 50))
    """
    vals = [
        measure(s)
        for s in iter_surrogates(activity, n=n, method=method, seed=seed, min_shift_s=min_shift_s)
    ]
    out = xr.concat(vals, dim="surrogate")
    out.attrs.update(surrogate_method=method, n_surrogates=n, seed=-1 if seed is None else seed)
    return out


def _fs(measure: xr.DataArray) -> float:
    fs = measure.attrs.get("fs_hz")
    if fs is not None:
        return float(fs)
    if "time" in measure.coords and measure.sizes["time"] > 1:
        return 1.0 / float(np.median(np.diff(measure["time"].values)))
    raise UsageError("the measure needs attribute fs_hz or a time coordinate")


def _null_masses(null: np.ndarray, threshold: float, min_frames: int, gap: int):
    """Masses (sum of measure - threshold) of the events the detector finds in the null rows:
    all of them pooled, and the largest of each row (0 for a row without events)."""
    pooled, largest = [], []
    for row in null:
        above = np.isfinite(row) & (row > threshold)
        excess = np.where(above, row - threshold, 0.0)
        masses = [
            float(excess[a:b].sum())
            for a, b in event_segments(above, min_frames=min_frames, max_gap_frames=gap)
        ]
        pooled.extend(masses)
        largest.append(max(masses, default=0.0))
    return np.asarray(pooled, dtype=np.float64), np.asarray(largest, dtype=np.float64)


#: labels that never split an event (no pattern, or frames between classified ones)
_WEAK_LABELS = ("", "none")


def pattern_pieces(labels, min_frames: int = 1) -> list[tuple[int, int]]:
    """Split one event's frames where its pattern changes for good.

    A pattern *holds* where one label (not ``"none"``) runs for at least ``min_frames`` frames;
    runs of the same label separated only by short runs or ``"none"`` frames are one hold. The
    event is cut between consecutive holds of different labels, in the middle of what separates
    them. Returns ``(start, stop)`` offsets covering all frames.

    >>> pattern_pieces(["plane"] * 5 + ["none"] * 2 + ["plane"] * 3, 3)
    [(0, 10)]
    >>> pattern_pieces(["plane"] * 5 + ["sink"] + ["plane"] * 2 + ["source"] * 6, 3)
    [(0, 6), (6, 14)]
    """
    lab = np.asarray(labels).astype(str)
    k = lab.size
    if k == 0:
        return []
    change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    starts = np.r_[0, change]
    stops = np.r_[change, k]
    holds: list[list] = []  # [label, first frame, end frame]
    for a, b in zip(starts, stops, strict=True):
        name = lab[a]
        if name in _WEAK_LABELS or b - a < min_frames:
            continue
        if holds and holds[-1][0] == name:
            holds[-1][2] = b
        else:
            holds.append([name, a, b])
    cuts = [(prev[2] + nxt[1]) // 2 for prev, nxt in zip(holds, holds[1:], strict=False)]
    edges = [0, *cuts, k]
    return [(int(a), int(b)) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _frame_values(v, n: int, name: str) -> np.ndarray | None:
    if v is None:
        return None
    a = np.asarray(getattr(v, "values", v))
    if a.shape != (n,):
        raise UsageError(f"{name} must have one value per frame ({n}), got shape {a.shape}")
    return a


def detect_events(
    measure: xr.DataArray,
    *,
    threshold: float | None = None,
    null=None,
    alpha: float = 0.05,
    min_duration_s: float = 0.0,
    max_gap_s: float = 0.0,
    direction_deg=None,
    speed_mm_per_s=None,
    planarity=None,
    pattern=None,
    centre_x_mm=None,
    centre_y_mm=None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int | None = None,
    split_on_pattern: bool = True,
) -> xr.Dataset:
    r"""Detect wave events in a per-frame measure and tabulate them.

    Parameters
    ----------
    measure : xarray.DataArray
        1-D along ``time`` (a ``time`` coordinate in s or attribute ``fs_hz``); larger means
        more wave-like. NaN frames are never above threshold.
    threshold : float, optional
        A fixed threshold. Prefer ``null``: give exactly one of the two.
    null : array_like or xarray.DataArray, optional
        The same measure on surrogates of the same recording (for example from
        :func:`null_distribution`), time along the last axis. Sets the threshold to its
        ``1 - alpha`` quantile and gives each event a p-value.
    alpha : float
        Nominal fraction of null frames above the threshold.
    min_duration_s, max_gap_s : float
        Shortest event kept; longest run of sub-threshold frames bridged inside an event.
    direction_deg, speed_mm_per_s, planarity, pattern, centre_x_mm, centre_y_mm : array_like
        Optional per-frame values (one per frame of ``measure``) summarised per event.
    confidence, n_boot : float, int
        Bootstrap interval of the median speed (moving blocks, see
        :func:`wavekit.analysis.stats.bootstrap_ci`).
    seed : int, optional
        Seed of the bootstrap.
    split_on_pattern : bool
        With ``pattern``: cut an event where its pattern changes and the new one holds for at
        least ``min_duration_s`` (:func:`pattern_pieces`), so a plane wave that turns into a
        spiral gives two events, each with its own pattern, direction and speed.

    Returns
    -------
    xarray.Dataset
        Along ``event``: ``start_s``, ``end_s``, ``duration_s``, ``n_frames``, ``peak_measure``,
        ``mean_measure``, ``pattern``, ``pattern_fraction``, ``direction_deg``,
        ``direction_resultant``, ``direction_rayleigh_p``, ``speed_mm_per_s``,
        ``speed_ci_low_mm_per_s``, ``speed_ci_high_mm_per_s``, ``planarity``, ``centre_x_mm``,
        ``centre_y_mm``, ``mass``, ``p_value``, ``p_value_fwer`` (NaN where the input was not
        given), and attrs
        ``threshold``, ``threshold_from``, ``alpha``, ``min_duration_s``, ``max_gap_s``,
        ``confidence``, ``n_boot``, ``seed``.

    Notes
    -----
    With ``m_t`` the measure and ``theta`` the threshold, frames with ``m_t > theta`` form runs;
    runs separated by at most ``round(max_gap_s fs)`` frames are merged and those shorter than
    ``ceil(min_duration_s fs)`` frames dropped. The event p-value compares the event's mass
    ``sum (m_t - theta)`` with the masses of the events detected in the null series (events cut
    by a change of pattern are compared with uncut null events: conservative). Directions are
    averaged as angles (circular mean), never arithmetically.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(100) / 100.0
    >>> m = xr.DataArray(np.where((t > .2) & (t < .4), .9, .1), dims="time", coords={"time": t})
    >>> ev = detect_events(m, threshold=0.5, min_duration_s=0.05, direction_deg=np.full(100, 30.))
    >>> ev.sizes["event"], float(ev.start_s[0]), round(float(ev.duration_s[0]), 2)
    (1, 0.21, 0.19)
    >>> round(float(ev.direction_deg[0]), 6)
    30.0
    """
    if measure.ndim != 1 or "time" not in measure.dims:
        raise UsageError(f"detect_events needs a 1-D measure along time, got dims {measure.dims}")
    if (threshold is None) == (null is None):
        raise UsageError("give exactly one of threshold= (fixed) or null= (surrogate measure)")
    fs = _fs(measure)
    m = np.asarray(measure.values, dtype=np.float64)
    n = m.size
    t = (
        np.asarray(measure["time"].values, dtype=np.float64)
        if "time" in measure.coords
        else np.arange(n) / fs
    )
    null_arr = None
    if null is not None:
        null_arr = np.asarray(getattr(null, "values", null), dtype=np.float64)
        null_arr = null_arr.reshape(-1, null_arr.shape[-1]) if null_arr.ndim else null_arr
        threshold = quantile_threshold(null_arr, alpha=alpha)
        source = f"{1 - alpha:g} quantile of {np.isfinite(null_arr).sum()} null values"
    else:
        threshold = float(threshold)
        source = "fixed"
    above = np.isfinite(m) & (m > threshold)
    min_frames = max(int(np.ceil(min_duration_s * fs - 1e-9)), 1)
    seg = event_segments(above, min_frames=min_frames, max_gap_frames=int(round(max_gap_s * fs)))
    d = _frame_values(direction_deg, n, "direction_deg")
    s = _frame_values(speed_mm_per_s, n, "speed_mm_per_s")
    pl = _frame_values(planarity, n, "planarity")
    pat = _frame_values(pattern, n, "pattern")
    cx = _frame_values(centre_x_mm, n, "centre_x_mm")
    cy = _frame_values(centre_y_mm, n, "centre_y_mm")
    if pat is not None and split_on_pattern:
        seg = [
            (a + u, a + v)
            for a, b in seg
            for u, v in pattern_pieces(pat[a:b], min_frames)
            if v - u >= min_frames
        ]
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {
        k: []
        for k in (
            "start_s",
            "end_s",
            "duration_s",
            "n_frames",
            "peak_measure",
            "mean_measure",
            "pattern",
            "pattern_fraction",
            "direction_deg",
            "direction_resultant",
            "direction_rayleigh_p",
            "speed_mm_per_s",
            "speed_ci_low_mm_per_s",
            "speed_ci_high_mm_per_s",
            "planarity",
            "centre_x_mm",
            "centre_y_mm",
            "mass",
            "p_value",
            "p_value_fwer",
        )
    }
    nan = float("nan")
    gap = int(round(max_gap_s * fs))
    null_mass, null_max = (
        _null_masses(null_arr, threshold, min_frames, gap) if null_arr is not None else (None, None)
    )
    excess = np.where(above, m - threshold, 0.0)
    for a, b in seg:
        sl = slice(a, b)
        k = b - a
        cols["start_s"].append(t[a])
        cols["end_s"].append(t[b - 1] + 1.0 / fs)
        cols["duration_s"].append(k / fs)
        cols["n_frames"].append(k)
        cols["peak_measure"].append(float(np.nanmax(m[sl])))
        mean_m = float(np.nanmean(m[sl]))
        cols["mean_measure"].append(mean_m)
        if pat is not None:
            labels, counts = np.unique(pat[sl].astype(str), return_counts=True)
            j = int(np.argmax(counts))
            cols["pattern"].append(str(labels[j]))
            cols["pattern_fraction"].append(counts[j] / k)
        else:
            cols["pattern"].append("")
            cols["pattern_fraction"].append(nan)
        if d is not None:
            cs = circular_summary(d[sl])
            cols["direction_deg"].append(cs["mean_deg"])
            cols["direction_resultant"].append(cs["resultant_length"])
            cols["direction_rayleigh_p"].append(cs["rayleigh_p"])
        else:
            for c in ("direction_deg", "direction_resultant", "direction_rayleigh_p"):
                cols[c].append(nan)
        if s is not None:
            est, lo, hi = bootstrap_ci(s[sl], confidence=confidence, n_boot=n_boot, seed=rng)
        else:
            est = lo = hi = nan
        cols["speed_mm_per_s"].append(est)
        cols["speed_ci_low_mm_per_s"].append(lo)
        cols["speed_ci_high_mm_per_s"].append(hi)
        cols["planarity"].append(float(np.nanmean(pl[sl])) if pl is not None else nan)
        for name, v in (("centre_x_mm", cx), ("centre_y_mm", cy)):
            vv = None if v is None else np.asarray(v[sl], dtype=np.float64)
            ok = vv is not None and np.isfinite(vv).any()
            cols[name].append(float(np.nanmedian(vv)) if ok else nan)
        mass = float(excess[sl].sum())
        cols["mass"].append(mass)
        if null_max is not None:
            p_fwer = (1 + np.sum(null_max >= mass)) / (1 + null_max.size)
            cols["p_value_fwer"].append(p_fwer)
            if null_mass.size:
                cols["p_value"].append((1 + np.sum(null_mass >= mass)) / (1 + null_mass.size))
            else:
                cols["p_value"].append(p_fwer)
        else:
            cols["p_value"].append(nan)
            cols["p_value_fwer"].append(nan)
    units = {
        "start_s": "s",
        "end_s": "s",
        "duration_s": "s",
        "direction_deg": "deg",
        "speed_mm_per_s": "mm/s",
        "speed_ci_low_mm_per_s": "mm/s",
        "speed_ci_high_mm_per_s": "mm/s",
        "centre_x_mm": "mm",
        "centre_y_mm": "mm",
    }
    data = {}
    for key, vals in cols.items():
        if key == "pattern":
            arr = np.asarray(vals, dtype=str) if vals else np.empty(0, dtype=str)
        elif key == "n_frames":
            arr = np.asarray(vals, dtype=np.int64)
        else:
            arr = np.asarray(vals, dtype=np.float64)
        data[key] = ("event", arr, {"units": units[key]} if key in units else {})
    ds = xr.Dataset(data, coords={"event": np.arange(len(seg))})
    ds.attrs.update(
        measure=str(measure.name or ""),
        threshold=float(threshold),
        threshold_from=source,
        alpha=float(alpha) if null is not None else nan,
        min_duration_s=float(min_duration_s),
        max_gap_s=float(max_gap_s),
        confidence=float(confidence),
        n_boot=int(n_boot),
        seed=-1 if seed is None else int(seed),
        speed_interval="median, moving-block percentile bootstrap",
        direction="circular mean of per-frame directions (deg, CCW from +x)",
    )
    return ds
