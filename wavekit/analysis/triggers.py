r"""Trigger-based waves: per-channel transition times grouped into waves in space and time.

For event-like activity (slow waves, retinal waves, optical mapping of action potentials) a wave
is a set of *transitions* (a channel going from its down state to its up state), one per channel,
that follow each other from neighbour to neighbour. The route, stage by stage:

1. :func:`transition_times`: per channel, the times of its transitions, by one of three
   triggers: ``"threshold"`` (upward crossing of a level between the channel's low and high
   quantiles, with hysteresis), ``"phase"`` (upward crossing of a chosen phase of the band-passed
   analytic signal, where the amplitude is large enough) or ``"minima"`` (the troughs before
   upstrokes).
2. :func:`cluster_triggers`: connected components in space and time: two transitions belong to
   the same wave when their channels are neighbours (closer than ``max_distance_mm``) and their
   times differ by at most ``max_dt_s``. The window is estimated from the data by default
   (:func:`coincidence_window`): the lag within which neighbour coincidences exceed chance.
3. :func:`trigger_waves`: the waves, each with its first transition per channel, a robust plane
   fit of time on position (:func:`wavekit.analysis.timing.fit_activation_times`: planar speed
   and direction with bootstrap intervals), its origin, and two significance tests against
   surrogates: the **size** of the wave (channels taking part) against waves of channels whose
   transition trains were shifted independently in time (which keeps each channel's rate and
   bursts, and destroys their coordination), giving a per-wave ``p_value`` and a false-discovery
   ``q_value``; and the **front** (times organised by position) against shuffled positions
   (:func:`wavekit.analysis.timing.front_significance`).

The outputs mean what Cobrawap's trigger detection, wave detection and planar-velocity stages
(stages 4-5) mean: one row per transition with its wave, one row per wave with its velocity;
:func:`trigger_waves` regresses time on position, not position on time, so its speeds are not
biased low by timing jitter.

References
----------
Gutzen R, De Bonis G, De Luca C, et al. (2024) A modular and adaptable analysis pipeline to
compare slow cerebral rhythms across heterogeneous datasets. Cell Rep Methods 4:100681.
doi:10.1016/j.crmeth.2023.100681

Maccione A, Hennig MH, Gandolfo M, et al. (2014) Following the ontogeny of retinal waves:
pan-retinal recordings of population dynamics in the neonatal mouse. J Physiol 592:1545-1563.
doi:10.1113/jphysiol.2013.262840

Storey JD, Tibshirani R (2003) Statistical significance for genomewide studies. PNAS
100:9440-9445. doi:10.1073/pnas.1530509100
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from ..model import channel_positions
from . import _kernels_triggers as K

__all__ = [
    "trigger_levels",
    "transition_times",
    "neighbour_matrix",
    "coincidence_window",
    "cluster_triggers",
    "shift_surrogate",
    "trigger_waves",
]

METHODS = ("threshold", "phase", "minima")
MARKERS = ("steepest", "half", "crossing")


def _as_channels(activity: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(time, channel) float64 array, positions and fs of grid or irregular activity."""
    if "time" not in activity.dims or "fs_hz" not in activity.attrs:
        raise UsageError("activity needs a time dim and an fs_hz attribute")
    extra = [d for d in activity.dims if d not in ("time", "y", "x", "channel")]
    if extra:
        raise UsageError(f"select one {extra[0]} first: transition times take one recording")
    x, y = channel_positions(activity)
    if "channel" in activity.dims:
        arr = activity.transpose("time", "channel").values
    else:
        arr = activity.transpose("time", "y", "x").values.reshape(activity.sizes["time"], -1)
    return (
        np.asarray(arr, np.float64),
        np.asarray(x, float),
        np.asarray(y, float),
        float(activity.attrs["fs_hz"]),
    )


def _smooth(sig: np.ndarray, fs: float, smooth_s: float | None) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    if not smooth_s or smooth_s * fs < 0.3:
        return sig
    return gaussian_filter1d(sig, smooth_s * fs, axis=0, mode="nearest")


def _prepared(activity, polarity, smooth_s):
    """Smoothed and raw (time, channel) signal (negated for ``polarity="down"``, NaN channels
    zeroed), which channels are valid, positions and fs."""
    if polarity not in ("up", "down"):
        raise UsageError(f"polarity must be 'up' or 'down', got {polarity!r}")
    arr, x, y, fs = _as_channels(activity)
    valid = np.isfinite(arr).all(axis=0)
    sig = np.where(valid[None, :], arr, 0.0) * (1.0 if polarity == "up" else -1.0)
    return _smooth(sig, fs, smooth_s), sig, valid, x, y, fs


def _levels(s, valid, threshold, quantiles=(0.05, 0.99)):
    """Per-channel ``(level, rearm, low, high)`` of the threshold trigger (NaN where invalid
    or flat): ``low``/``high`` the quantiles of ``s``, ``level = low + threshold (high - low)``,
    ``rearm = low + threshold / 2 (high - low)``."""
    lo, hi = np.quantile(s, quantiles, axis=0)
    rng = hi - lo
    ok = valid & (rng > 0)
    return tuple(
        np.where(ok, v, np.nan) for v in (lo + threshold * rng, lo + 0.5 * threshold * rng, lo, hi)
    )


def trigger_levels(
    activity: xr.DataArray,
    *,
    polarity: str = "up",
    smooth_s: float | None = None,
    threshold: float = 0.5,
    quantiles: tuple[float, float] = (0.05, 0.99),
) -> xr.Dataset:
    r"""Per-channel levels of the threshold trigger: ``level = low + threshold (high - low)``.

    ``low`` and ``high`` are quantiles (default 5 % and 99 %) of the channel's smoothed signal
    (negated for ``polarity="down"``): its down state and its up state for event-like activity.
    The trigger re-arms once the signal falls below ``low + threshold / 2 (high - low)``
    (hysteresis: noise around the level gives one transition, not many). Computing the levels
    once on a whole recording (or a sample of it) and passing them to :func:`transition_times`
    keeps the triggers of a recording processed in chunks consistent.

    Returns
    -------
    xarray.Dataset
        ``level``, ``rearm``, ``low``, ``high`` along ``site`` (channels in row-major order for
        grids); NaN for channels with NaN samples or no range.
    """
    if not 0 < threshold < 1:
        raise UsageError(f"threshold must be between 0 and 1, got {threshold}")
    s, _, valid, _, _, _ = _prepared(activity, polarity, smooth_s)
    level, rearm, lo, hi = _levels(s, valid, threshold, quantiles)
    return xr.Dataset(
        {
            "level": ("site", level),
            "rearm": ("site", rearm),
            "low": ("site", lo),
            "high": ("site", hi),
        },
        attrs={"polarity": polarity, "threshold": threshold, "smooth_s": smooth_s or 0.0},
    )


def transition_times(
    activity: xr.DataArray,
    *,
    method: str = "threshold",
    polarity: str = "up",
    smooth_s: float | None = None,
    threshold: float = 0.5,
    min_interval_s: float | None = None,
    levels: xr.Dataset | None = None,
    band_hz: tuple[float, float] | None = None,
    phase_rad: float = -np.pi / 2,
    marker: str = "steepest",
) -> xr.Dataset:
    r"""Transition (trigger) times of every channel, in seconds.

    Parameters
    ----------
    activity : xarray.DataArray
        Grid ``(time, y, x)`` or irregular ``(time, channel)`` activity with ``fs_hz``.
    method : {"threshold", "phase", "minima"}
        ``"threshold"``: upward crossings of each channel's level (:func:`trigger_levels`),
        linearly interpolated between samples, with hysteresis. ``"phase"``: upward crossings of
        ``phase_rad`` by the phase of the analytic signal in ``band_hz`` (for a signal
        :math:`A\cos\varphi` the steepest rise is at :math:`\varphi = -\pi/2`, the default),
        where the amplitude exceeds the channel's median amplitude. ``"minima"``: troughs of the
        smoothed signal deeper than ``threshold`` times its range, refined by a parabola.
    polarity : {"up", "down"}
        ``"down"`` for signals that fall on activation (inverted voltage dyes): negated first.
    smooth_s : float, optional
        Standard deviation (s) of a Gaussian smoothing along time before ``"threshold"`` and
        ``"minima"`` (none by default).
    threshold : float
        Fraction of the channel's range: the level of ``"threshold"``, the prominence of
        ``"minima"``.
    min_interval_s : float, optional
        Shortest time between two transitions of one channel (a refractory period).
    levels : xarray.Dataset, optional
        Precomputed :func:`trigger_levels` (``"threshold"`` only).
    band_hz : (float, float)
        Band of the ``"phase"`` trigger (required there).
    phase_rad : float
        Phase marking a transition for ``"phase"``.
    marker : {"steepest", "half", "crossing"}
        ``"threshold"`` only, where in the upstroke a transition is placed. ``"steepest"``
        (default): the steepest point of the upstroke (maximum of the 5-sample Savitzky-Golay
        derivative of the unsmoothed signal within a quarter of ``min_interval_s``, at least two
        samples, either side of the crossing; parabolic sub-sample peak), the activation marker
        of optical mapping (Efimov et al. 2004, doi:10.1161/01.RES.0000130529.18016.35); a level
        crossing depends on each channel's amplitude and baseline, the steepest rise does not.
        ``"half"``: the time the upstroke crosses half of its local rise (local baseline before
        the steepest point, local top after it; a line fitted to the rising samples between 10
        and 90 % of the rise), less sensitive to noise than a derivative's peak when the
        upstroke spans only a few samples (slow waves imaged at tens of Hz). On cardiac optical
        action potentials the maximum slope is the usual activation marker (Laughner et al.
        2012, doi:10.1152/ajpheart.00404.2012, review both), and the two differ where the
        upstroke's shape varies across the tissue (``docs/methods/fits.md``). ``"crossing"``:
        the level crossing itself (smoothed signal, linear interpolation).

    Returns
    -------
    xarray.Dataset
        Along ``trigger`` (sorted by time): ``time_s`` and ``site`` (channel index, row-major
        for grids); along ``site``: ``site_x_mm``, ``site_y_mm`` of every channel. Attributes:
        ``fs_hz``, ``method``, ``polarity``, ``t_start_s``, ``t_stop_s`` (the span searched).

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> t = np.arange(2000) / 1000.0
    >>> x = np.array([0.0, 1.0, 2.0]); y = np.zeros(3)
    >>> def pulse(t0):  # 200 ms up state starting at t0, front at 500 mm/s
    ...     u = t[:, None] - t0 - x[None, :] / 500.0
    ...     return (np.tanh(u / 0.002) - np.tanh((u - 0.2) / 0.002)) / 2
    >>> v = pulse(0.5) + pulse(1.5)
    >>> tr = transition_times(irregular_activity(v, fs_hz=1000.0, x_mm=x, y_mm=y))
    >>> np.round(tr["time_s"].values * 1000, 1)
    array([ 500.,  502.,  504., 1500., 1502., 1504.])
    >>> tr["site"].values
    array([0, 1, 2, 0, 1, 2])
    """
    if method not in METHODS:
        raise UsageError(f"trigger method must be one of {', '.join(METHODS)}, got {method!r}")
    if marker not in MARKERS:
        raise UsageError(f"trigger marker must be one of {', '.join(MARKERS)}, got {marker!r}")
    s, raw, valid, x, y, fs = _prepared(activity, polarity, smooth_s if method != "phase" else None)
    nt, nc = s.shape
    gap = max(1, int(round(min_interval_s * fs))) if min_interval_s else 1
    t_axis = np.asarray(activity["time"].values, float)
    if method == "threshold":
        if levels is None:
            level, rearm, _, _ = _levels(s, valid, threshold)
        else:
            if levels.sizes.get("site") != nc:
                raise UsageError(f"levels are for {levels.sizes.get('site')} channels, not {nc}")
            level = np.where(valid, levels["level"].values, np.nan)
            rearm = np.where(valid, levels["rearm"].values, np.nan)
        fire = K.hysteresis_fire(np.ascontiguousarray(s), level, rearm, gap)
        i, c = np.nonzero(fire)
        a, b = s[i - 1, c], s[i, c]
        pos = i - 1 + np.clip((level[c] - a) / np.where(b > a, b - a, 1.0), 0.0, 1.0)
        if marker != "crossing" and i.size and nt >= 5:
            pos = _steepest(raw, i, c, max(2, gap // 4))
            if marker == "half":
                pos = _half_rise(raw, pos, c, max(2, gap // 4))
    elif method == "phase":
        from .phase import analytic_signal

        if band_hz is None:
            raise UsageError("the phase trigger needs band_hz")
        sig = activity if polarity == "up" else -activity
        z = analytic_signal(sig.fillna(0.0), band_hz=tuple(band_hz))
        zz = np.asarray(
            z.transpose("time", "channel").values
            if "channel" in z.dims
            else z.transpose("time", "y", "x").values.reshape(nt, -1)
        )
        d = np.angle(zz * np.exp(-1j * phase_rad))  # phase relative to the marker
        amp = np.abs(zz)
        gate = amp >= np.median(amp, axis=0)[None, :]
        cross = (d[:-1] < 0) & (d[1:] >= 0) & (d[1:] - d[:-1] < np.pi) & gate[1:]
        cross &= valid[None, :]
        u = np.zeros((nt, nc))
        u[1:] = cross  # u[i] = 1: the phase crossed between samples i-1 and i
        fire = K.hysteresis_fire(u, np.full(nc, 0.5), np.full(nc, 0.5), gap)
        i, c = np.nonzero(fire)
        a, b = d[i - 1, c], d[i, c]
        pos = i - 1 + np.clip(-a / np.where(b > a, b - a, 1.0), 0.0, 1.0)
    else:
        from scipy.signal import find_peaks

        _, _, lo, hi = _levels(s, valid, threshold)
        ii, cc, pp = [], [], []
        for ch in np.flatnonzero(np.isfinite(lo)):
            pk, _ = find_peaks(-s[:, ch], distance=gap, prominence=threshold * (hi[ch] - lo[ch]))
            pk = pk[(pk > 0) & (pk < nt - 1)]
            y0, y1, y2 = s[pk - 1, ch], s[pk, ch], s[pk + 1, ch]
            den = y0 - 2 * y1 + y2
            off = np.where(den != 0, 0.5 * (y0 - y2) / np.where(den != 0, den, 1.0), 0.0)
            ii.append(pk)
            cc.append(np.full(pk.size, ch))
            pp.append(pk + np.clip(off, -0.5, 0.5))
        i = np.concatenate(ii) if ii else np.zeros(0, int)
        c = np.concatenate(cc) if cc else np.zeros(0, int)
        pos = np.concatenate(pp) if pp else np.zeros(0)
    t0 = t_axis[0] if nt else 0.0
    times = t0 + pos / fs
    order = np.lexsort((c, times))
    return xr.Dataset(
        {
            "time_s": ("trigger", times[order], {"units": "s"}),
            "site": ("trigger", c[order].astype(np.int64)),
            "site_x_mm": ("site_index", x, {"units": "mm"}),
            "site_y_mm": ("site_index", y, {"units": "mm"}),
        },
        attrs={
            "fs_hz": fs,
            "method": method,
            "polarity": polarity,
            "t_start_s": float(t0),
            "t_stop_s": float(t0 + nt / fs),
        },
    )


def _half_rise(
    s: np.ndarray, k: np.ndarray, c: np.ndarray, half: int, band=(0.1, 0.9)
) -> np.ndarray:
    """Sub-sample time (in samples) at which each upstroke of ``s[:, c]`` around position ``k``
    (its steepest point, :func:`_steepest`) crosses half of its local rise.

    Local levels: the mean of the lowest third of the ``2 half + 1`` samples up to ``k`` (the
    baseline) and of the highest third of those from ``k`` on (the top). The samples of the
    upstroke itself, the contiguous rising run through ``k`` (extended back while above
    ``band[0]`` of the rise, forward while below ``band[1]``), are fitted by a least-squares
    line, which crosses 0.5 at the marker (the line through ``k - 1 .. k + 1`` when the run is
    shorter than 2 samples). Falls back to ``k`` when there is no rise or the crossing lies
    more than ``half`` samples away."""
    nt = s.shape[0]
    n = k.size
    if n == 0:
        return k
    k0 = np.rint(k).astype(np.int64)
    offs = np.arange(-2 * half, 2 * half + 1)
    rows = np.clip(k0[:, None] + offs[None, :], 0, nt - 1)
    win = s[rows, c[:, None]]  # (n, 4 half + 1), centre at column 2 half
    mid = 2 * half
    third = max(1, (mid + 1) // 3)
    base = np.sort(win[:, : mid + 1], axis=1)[:, :third].mean(axis=1)
    top = np.sort(win[:, mid:], axis=1)[:, -third:].mean(axis=1)
    rise = top - base
    ok = rise > 0
    f = (win - base[:, None]) / np.where(ok, rise, 1.0)[:, None]
    lo, hi = band
    # the rising run through the centre: leftwards while rising and above lo, rightwards while
    # rising and below hi
    keep = np.zeros_like(f, dtype=bool)
    keep[:, mid] = True
    run = np.ones(n, dtype=bool)
    for j in range(mid - 1, -1, -1):
        run &= (f[:, j] > lo) & (f[:, j] < f[:, j + 1])
        keep[:, j] = run
    run = np.ones(n, dtype=bool)
    for j in range(mid + 1, f.shape[1]):
        run &= (f[:, j] < hi) & (f[:, j] > f[:, j - 1])
        keep[:, j] = run
    short = keep.sum(axis=1) < 2
    keep[short] = False
    keep[short, mid - 1 : mid + 2] = True  # the three samples around the steepest point
    x = offs[None, :].astype(np.float64)
    w = keep.astype(np.float64)
    s0 = w.sum(axis=1)
    sx = (w * x).sum(axis=1)
    sy = (w * f).sum(axis=1)
    sxx = (w * x * x).sum(axis=1)
    sxy = (w * x * f).sum(axis=1)
    den = s0 * sxx - sx * sx
    good = ok & (den > 0)
    slope = np.where(good, (s0 * sxy - sx * sy) / np.where(good, den, 1.0), 0.0)
    icpt = (sy - slope * sx) / np.where(s0 > 0, s0, 1.0)
    good &= slope > 0
    t = k0 + (0.5 - icpt) / np.where(good, slope, 1.0)
    good &= np.abs(t - k) <= half
    return np.where(good, t, k)


def _savgol5_deriv(s: np.ndarray) -> np.ndarray:
    """First derivative (per sample) along axis 0 of the least-squares quadratic through 5
    samples (Savitzky & Golay 1964, doi:10.1021/ac60214a047): ``(-2 s[i-2] - s[i-1] + s[i+1] +
    2 s[i+2]) / 10`` inside, the derivative of the quadratic fitted to the first (last) 5
    samples at the first (last) two, as ``scipy.signal.savgol_filter(s, 5, 2, deriv=1,
    axis=0)`` (``mode="interp"``) gives, without importing ``scipy.signal``. At least 5
    samples."""
    s = np.asarray(s, dtype=np.float64)
    d = np.empty_like(s)
    d[2:-2] = (2.0 * (s[4:] - s[:-4]) + (s[3:-1] - s[1:-3])) / 10.0
    for end, sign in ((s[:5], 1.0), (s[-5:][::-1], -1.0)):
        b = (2.0 * (end[4] - end[0]) + (end[3] - end[1])) / 10.0  # slope at the window centre
        c = (2.0 * (end[0] + end[4]) - (end[1] + end[3]) - 2.0 * end[2]) / 14.0  # curvature / 2
        outer, inner = sign * (b - 4.0 * c), sign * (b - 2.0 * c)
        if sign > 0:
            d[0], d[1] = outer, inner
        else:
            d[-1], d[-2] = outer, inner
    return d


def _steepest(s: np.ndarray, i: np.ndarray, c: np.ndarray, half: int) -> np.ndarray:
    """Sub-sample position of the largest derivative of ``s[:, c]`` within ``half`` samples of
    each ``i``: the parabola through the peak and its neighbours, or, when three or more
    consecutive samples share the largest value (binned counts tie exactly), the middle of
    that run. Of equal maxima apart, the one nearest ``i`` counts. Equal means within 1e-9 of
    the largest value, so rounding in the last digit cannot choose."""
    deriv = _savgol5_deriv(s)
    nt = s.shape[0]
    offs = np.arange(-half, half + 1)
    rows = np.clip(i[:, None] + offs[None, :], 0, nt - 1)
    d = deriv[rows, c[:, None]]
    n = i.size
    top = d.max(axis=1)
    tie = d >= (top - 1e-9 * np.maximum(np.abs(top), 1e-300))[:, None]
    # among (numerically) equal maxima, the one nearest the crossing: not whichever rounding
    # in the last digit happens to favour
    j = np.argmin(np.where(tie, np.abs(offs)[None, :], 2 * half + 1), axis=1)
    k = rows[np.arange(n), j]
    km, kp = np.clip(k - 1, 0, nt - 1), np.clip(k + 1, 0, nt - 1)
    y0, y1, y2 = deriv[km, c], deriv[k, c], deriv[kp, c]
    den = y0 - 2 * y1 + y2
    off = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
    pos = k + np.clip(off, -0.5, 0.5)
    # runs of equal maxima around the peak: their middle
    width = d.shape[1]
    cols = np.arange(width)[None, :]
    left = np.where(~tie & (cols < j[:, None]), cols, -1).max(axis=1) + 1
    right = np.where(~tie & (cols > j[:, None]), cols, width).min(axis=1) - 1
    flat = right - left >= 2
    mid = rows[np.arange(n), left] + 0.5 * (right - left)
    return np.where(flat, mid, pos)


def neighbour_matrix(
    x: np.ndarray, y: np.ndarray, max_distance_mm: float | None = None
) -> tuple[np.ndarray, float]:
    """Which channels are neighbours: closer than ``max_distance_mm``. Returns the boolean
    matrix (a channel is not its own neighbour) and the distance used.

    The default is 1.5 times the median nearest-neighbour distance (the 8 neighbours on a grid
    or the 6 of a hexagonal array), raised, for scattered electrodes, to the longest edge of
    their minimum spanning tree (at most 4 times the median nearest-neighbour distance), so
    that the neighbour graph links every electrode to the others and a front is not cut into
    pieces by gaps in the layout.

    Only pairs within the largest distance that can matter are looked at (a k-d tree), so a
    64 x 64 grid takes milliseconds rather than the seconds of all 16.8 million pairs; the
    longest spanning-tree edge below the cap is exact, because Kruskal's algorithm joins every
    channel before it reaches a longer edge. :func:`_neighbour_matrix_ref` is the all-pairs
    twin a property test compares it with.
    """
    from scipy.spatial import cKDTree

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    pts = np.column_stack([x, y])
    tree = cKDTree(pts)

    def pairs_within(r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs (i < j) at most ``r`` apart, distances by the same hypot as the reference."""
        ij = tree.query_pairs(r * (1 + 1e-9) + 1e-300, output_type="ndarray")
        i, j = (ij[:, 0], ij[:, 1]) if ij.size else (np.zeros(0, int), np.zeros(0, int))
        dist = np.hypot(x[i] - x[j], y[i] - y[j])
        keep = dist <= r
        return i[keep], j[keep], dist[keep]

    if max_distance_mm is None:
        if n < 2:
            raise UsageError("channels need at least two distinct positions")
        _, near = tree.query(pts, k=2)  # itself, then its nearest (0 away when co-located)
        nearest = np.hypot(x - x[near[:, 1]], y - y[near[:, 1]])  # the reference's arithmetic
        nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
        if nearest.size == 0:
            raise UsageError("channels need at least two distinct positions")
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

        med = float(np.median(nearest))
        cap = 4.0 * med
        i, j, dist = pairs_within(cap)
        graph = coo_matrix((np.maximum(dist, 1e-300), (i, j)), shape=(n, n)).tocsr()
        # co-located channels (distance 0) are joined by a tiny positive weight
        n_parts, _ = connected_components(graph, directed=False)
        if n_parts == 1:
            edges = minimum_spanning_tree(graph).data
            edges = edges[edges > 1e-300]
            spread = float(edges.max()) if edges.size else 0.0
        else:  # the layout has a gap wider than the cap: the cap
            spread = cap
        max_distance_mm = max(1.5 * med, spread)
    if max_distance_mm <= 0:
        raise UsageError(f"max_distance_mm must be positive, got {max_distance_mm}")
    nb = np.zeros((n, n), dtype=bool)
    i, j, _ = pairs_within(float(max_distance_mm))
    nb[i, j] = True
    nb[j, i] = True
    return nb, float(max_distance_mm)


def _neighbour_matrix_ref(
    x: np.ndarray, y: np.ndarray, max_distance_mm: float | None = None
) -> tuple[np.ndarray, float]:
    """All-pairs twin of :func:`neighbour_matrix` (a dense distance matrix and SciPy's minimum
    spanning tree of it)."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    if max_distance_mm is None:
        nearest = d.min(axis=1)
        nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
        if nearest.size == 0:
            raise UsageError("channels need at least two distinct positions")
        finite = np.where(np.isfinite(d), d, 0.0)
        edges = minimum_spanning_tree(finite).data
        edges = edges[edges > 0]
        med = float(np.median(nearest))
        spread = min(float(edges.max()), 4.0 * med) if edges.size else 0.0
        max_distance_mm = max(1.5 * med, spread)
    if max_distance_mm <= 0:
        raise UsageError(f"max_distance_mm must be positive, got {max_distance_mm}")
    return d <= max_distance_mm, float(max_distance_mm)


def _duration(tr: xr.Dataset) -> tuple[float, float]:
    return float(tr.attrs["t_start_s"]), float(tr.attrs["t_stop_s"])


def shift_surrogate(triggers: xr.Dataset, rng: np.random.Generator) -> xr.Dataset:
    """Each channel's transitions shifted by its own random offset, circularly within the span
    searched (``t_start_s`` to ``t_stop_s``): the rate, bursts and intervals of each channel are
    kept; the timing between channels is destroyed."""
    t, site = _shifted(triggers, rng)
    out = triggers.copy()
    out["time_s"] = ("trigger", t, triggers["time_s"].attrs)
    out["site"] = ("trigger", site)
    return out


def _shifted(triggers: xr.Dataset, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The times and channels of :func:`shift_surrogate`, sorted by time (the arrays alone, for
    the surrogate loops)."""
    start, stop = _duration(triggers)
    span = stop - start
    shift = rng.uniform(0.0, span, triggers.sizes["site_index"])
    site = triggers["site"].values
    t = start + np.mod(triggers["time_s"].values - start + shift[site], span)
    order = np.argsort(t, kind="stable")
    return t[order], site[order]


def _nearest_lags(t: np.ndarray, site: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """|time to the nearest transition| on each neighbouring channel, for every transition.

    One vectorised search: transitions sorted by (channel, time) under the key
    ``channel * span + time``, so each query lands inside its neighbour's block."""
    n_sites = neighbours.shape[0]
    if t.size == 0:
        return np.zeros(0)
    t0 = float(t.min())
    span = float(t.max()) - t0 + 1.0
    key = site * span + (t - t0)
    order = np.argsort(key, kind="stable")
    keys = key[order]
    counts = np.bincount(site, minlength=n_sites)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    a_site, b_site = np.nonzero(neighbours)  # ordered pairs (a, b): query a's times in b
    has = (counts[a_site] > 0) & (counts[b_site] > 0)
    a_site, b_site = a_site[has], b_site[has]
    if a_site.size == 0:
        return np.zeros(0)
    # every transition of a, once per neighbour b
    reps = counts[a_site]
    pair = np.repeat(np.arange(a_site.size), reps)
    within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    tq = keys[first[a_site][pair] + within] - a_site[pair] * span  # query times (t - t0)
    b = b_site[pair]
    lo, hi = first[b], first[b] + counts[b] - 1
    k = np.searchsorted(keys, b * span + tq)
    left = np.abs(tq - (keys[np.clip(k - 1, lo, hi)] - b * span))
    right = np.abs((keys[np.clip(k, lo, hi)] - b * span) - tq)
    return np.minimum(left, right)


def _nearest_lags_ref(t: np.ndarray, site: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Loop version of :func:`_nearest_lags` (same values, in the same order)."""
    per = [np.sort(t[site == s]) for s in range(neighbours.shape[0])]
    out = []
    for a in range(neighbours.shape[0]):
        ta = per[a]
        if ta.size == 0:
            continue
        for b in np.flatnonzero(neighbours[a]):
            tb = per[b]
            if tb.size == 0:
                continue
            k = np.searchsorted(tb, ta)
            left = np.abs(ta - tb[np.clip(k - 1, 0, tb.size - 1)])
            right = np.abs(tb[np.clip(k, 0, tb.size - 1)] - ta)
            out.append(np.minimum(left, right))
    return np.concatenate(out) if out else np.zeros(0)


def coincidence_window(
    triggers: xr.Dataset,
    neighbours: np.ndarray,
    *,
    seed: int = 0,
    n_surrogates: int = 5,
    coverage: float = 1.0,
) -> float:
    r"""Longest lag (s) at which transitions on neighbouring channels still coincide more often
    than chance: the clustering window of :func:`cluster_triggers`.

    For every transition and neighbouring channel, the lag to that channel's nearest transition
    is taken; its distribution :math:`F(d)` is compared with the same under independent shifts of
    each channel's train (:func:`shift_surrogate`). The window is the smallest lag at which the
    excess :math:`F(d) - F_{null}(d)` reaches ``coverage`` of its maximum: it covers the lags of
    real wave fronts and stops before chance coincidences dominate. With no excess at all (no
    coordination between channels) it is two sampling intervals.
    """
    fs = float(triggers.attrs["fs_hz"])
    t = triggers["time_s"].values
    site = triggers["site"].values
    floor = 2.0 / fs
    lags = _nearest_lags(t, site, neighbours)
    if lags.size < 10:
        return floor
    start, stop = _duration(triggers)
    counts = np.bincount(site, minlength=neighbours.shape[0])
    rate = counts[counts > 0].mean() / max(stop - start, 1e-12)
    cap = max(floor * 2, 0.5 / rate)
    grid = np.geomspace(floor / 4, cap, 80)
    obs = np.searchsorted(np.sort(lags), grid, side="right") / lags.size
    rng = np.random.default_rng([seed, 7])
    null = np.zeros_like(obs)
    for _ in range(n_surrogates):
        nl = np.sort(_nearest_lags(*_shifted(triggers, rng), neighbours))
        null += np.searchsorted(nl, grid, side="right") / max(nl.size, 1)
    excess = obs - null / n_surrogates
    if excess.max() <= 0.05:
        return floor
    k = int(np.argmax(excess >= coverage * excess.max()))
    return float(max(grid[k], floor))


def cluster_triggers(
    triggers: xr.Dataset,
    *,
    max_dt_s: float,
    neighbours: np.ndarray,
) -> np.ndarray:
    """Wave label of every transition: connected components of the graph linking transitions on
    neighbouring channels at most ``max_dt_s`` apart (labels numbered in time order; the
    triggers must be sorted by time, as :func:`transition_times` returns them)."""
    t = np.ascontiguousarray(triggers["time_s"].values, dtype=np.float64)
    site = np.ascontiguousarray(triggers["site"].values, dtype=np.int64)
    if t.size and np.any(np.diff(t) < 0):
        raise UsageError("triggers must be sorted by time")
    return K.cluster_sorted(t, site, np.ascontiguousarray(neighbours), float(max_dt_s))


def _sizes(labels: np.ndarray, site: np.ndarray, n_sites: int) -> np.ndarray:
    """Distinct channels per cluster."""
    if labels.size == 0:
        return np.zeros(0, int)
    pair = np.unique(labels * n_sites + site)
    return np.bincount(pair // n_sites, minlength=int(labels.max()) + 1)


def _first_times(wave_of, t, site, n_waves, n_sites):
    """(wave, site) earliest transition time of each wave on each channel (NaN: none), from the
    wave index of every transition (``-1``: in none)."""
    out = np.full((n_waves, n_sites), np.nan)
    r = wave_of
    sel = r >= 0
    # t is sorted: the first assignment per (row, site) in reverse order is the earliest
    rr, ss, tt = r[sel][::-1], site[sel][::-1], t[sel][::-1]
    out[rr, ss] = tt
    return out


def trigger_waves(
    triggers: xr.Dataset,
    *,
    max_dt_s: float | None = None,
    max_distance_mm: float | None = None,
    min_channels: int = 4,
    n_surrogates: int = 99,
    alpha: float = 0.05,
    n_boot: int = 500,
    seed: int = 0,
) -> tuple[xr.Dataset, np.ndarray]:
    r"""Waves from transitions: clusters in space and time, their fronts and their significance.

    Parameters
    ----------
    triggers : xarray.Dataset
        From :func:`transition_times` (possibly concatenated over chunks and re-sorted).
    max_dt_s : float, optional
        Clustering window (s); estimated by :func:`coincidence_window` when omitted.
    max_distance_mm : float, optional
        Neighbour distance (default 1.5 times the median nearest-neighbour distance).
    min_channels : int
        Smallest wave reported (distinct channels; at least 3 for a plane fit).
    n_surrogates : int
        Shift surrogates (:func:`shift_surrogate`) for the size test.
    alpha : float
        Level for ``significant``.
    n_boot : int
        Bootstrap resamples of the front fit.
    seed : int
        Seed of every random draw.

    Returns
    -------
    (xarray.Dataset, numpy.ndarray)
        Waves along ``wave``: ``start_s``, ``end_s`` (first and last transition),
        ``duration_s``, ``n_channels``, ``origin_x_mm``, ``origin_y_mm`` (channel of the first
        transition), the fields of :func:`~wavekit.analysis.timing.fit_activation_times`
        (``front_speed_mm_per_s`` with CI, ``direction_deg`` with CI, ...), ``p_value`` (size
        against shift surrogates), ``q_value`` (false discovery rate of calling waves this large
        or larger), ``front_p_value`` (against shuffled positions), ``significant``
        (``q_value <= alpha`` and ``front_p_value <= alpha``), and ``activation_time_s``
        (``wave``, ``site``), the local velocity map ``local_velocity_x_mm_per_s``,
        ``local_velocity_y_mm_per_s`` (``wave``, ``site``; least-squares planes of time on
        position over each channel's neighbours, :func:`~wavekit.analysis.timing.local_velocity`)
        and its median speed ``local_speed_mm_per_s``; attributes give the window and distance
        used. And the wave index of every transition (-1: in no reported wave).

    Notes
    -----
    Size test: with :math:`N(s)` the number of clusters of at least :math:`s` channels and
    :math:`\bar N_0(s)` its mean over shift surrogates,
    :math:`p = (1 + \sum N_0(\ge s)) / (1 + \sum N_0(\ge 1))` (the tail probability of a chance
    cluster's size) and :math:`q(s) = \min_{s' \le s} \min(1, \bar N_0(s') / N(s'))` (Storey &
    Tibshirani 2003, doi:10.1073/pnas.1530509100): waves with :math:`q \le \alpha` are expected
    to contain at most a fraction :math:`\alpha` of chance coincidences. A recording without
    coordinated activity yields as many large clusters as its surrogates, so :math:`q \approx 1`.
    """
    from .timing import fit_activation_times, front_significance, local_velocity

    if min_channels < 3:
        raise UsageError(f"min_channels must be at least 3, got {min_channels}")
    x = triggers["site_x_mm"].values
    y = triggers["site_y_mm"].values
    n_sites = x.size
    nb, dist = neighbour_matrix(x, y, max_distance_mm)
    window = max_dt_s if max_dt_s is not None else coincidence_window(triggers, nb, seed=seed)
    if window <= 0:
        raise UsageError(f"max_dt_s must be positive, got {window}")
    t = triggers["time_s"].values
    site = triggers["site"].values
    labels = cluster_triggers(triggers, max_dt_s=window, neighbours=nb)
    sizes = _sizes(labels, site, n_sites)
    smax = n_sites + 1
    obs_ge = np.cumsum(np.bincount(sizes, minlength=smax + 1)[::-1])[::-1]
    rng = np.random.default_rng([seed, 11])
    null_hist = np.zeros(smax + 1)
    for _ in range(n_surrogates):
        ts, ss = _shifted(triggers, rng)
        lab = K.cluster_sorted(ts, ss, nb, float(window))
        null_hist += np.bincount(_sizes(lab, ss, n_sites), minlength=smax + 1)
    null_ge = np.cumsum(null_hist[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        fdr = np.minimum(1.0, (null_ge / max(n_surrogates, 1)) / obs_ge)
    fdr[obs_ge == 0] = 1.0
    q_of_size = np.minimum.accumulate(np.nan_to_num(fdr, nan=1.0))
    keep = np.flatnonzero(sizes >= min_channels)
    row = np.full(sizes.size, -1)  # cluster -> reported wave
    row[keep] = np.arange(keep.size)
    wave_of = row[labels]
    times = _first_times(wave_of, t, site, keep.size, n_sites)
    waves = np.arange(keep.size)
    times_da = xr.DataArray(
        times,
        dims=("event", "channel"),
        coords={"event": waves, "x": ("channel", x), "y": ("channel", y)},
    )
    local = None
    if keep.size:
        local = local_velocity(times_da, radius_mm=dist)
        fits = fit_activation_times(times_da, n_boot=n_boot, seed=seed)
        front_p = front_significance(times_da, seed=seed).values
        fits = fits.rename(event="wave").drop_vars("event", errors="ignore")
    else:
        fits = xr.Dataset(coords={"wave": np.arange(0)})
        front_p = np.zeros(0)
    s = sizes[keep]
    total_null = max(null_ge[1], 0.0)
    p = (1.0 + null_ge[np.minimum(s, smax)]) / (1.0 + total_null)
    q = q_of_size[np.minimum(s, smax)] if keep.size else np.zeros(0)
    start = np.nanmin(times, axis=1) if keep.size else np.zeros(0)
    end = np.nanmax(times, axis=1) if keep.size else np.zeros(0)
    first = np.nanargmin(times, axis=1) if keep.size else np.zeros(0, int)
    out = xr.Dataset(
        {
            "start_s": ("wave", start, {"units": "s"}),
            "end_s": ("wave", end, {"units": "s"}),
            "duration_s": ("wave", end - start, {"units": "s"}),
            "n_channels": ("wave", s.astype(np.int64)),
            "origin_x_mm": ("wave", x[first], {"units": "mm"}),
            "origin_y_mm": ("wave", y[first], {"units": "mm"}),
        },
        coords={"wave": waves},
    )
    for name in fits.data_vars:
        if name not in ("n_channels",):
            out[name] = ("wave", fits[name].values, fits[name].attrs)
    out["p_value"] = ("wave", p)
    out["q_value"] = ("wave", q)
    out["front_p_value"] = ("wave", front_p)
    out["significant"] = ("wave", (q <= alpha) & (np.nan_to_num(front_p, nan=1.0) <= alpha))
    out["activation_time_s"] = (("wave", "site"), times, {"units": "s"})
    if local is not None:
        sx = local["slowness_x_s_per_mm"].values
        sy = local["slowness_y_s_per_mm"].values
    else:
        sx = sy = np.zeros((0, n_sites))
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = sx**2 + sy**2
        vx, vy = sx / s2, sy / s2  # local velocity = s / |s|^2
        local_speed = np.sqrt(1.0 / s2)
    out["local_velocity_x_mm_per_s"] = (("wave", "site"), vx, {"units": "mm/s"})
    out["local_velocity_y_mm_per_s"] = (("wave", "site"), vy, {"units": "mm/s"})
    with np.errstate(invalid="ignore"):
        finite = np.where(np.isfinite(local_speed), local_speed, np.nan)
        med = (
            np.array([np.nanmedian(r) if np.isfinite(r).any() else np.nan for r in finite])
            if keep.size
            else np.zeros(0)
        )
    out["local_speed_mm_per_s"] = ("wave", med, {"units": "mm/s"})
    out["site_x_mm"] = ("site", x, {"units": "mm"})
    out["site_y_mm"] = ("site", y, {"units": "mm"})
    out.attrs.update(
        max_dt_s=float(window),
        max_distance_mm=dist,
        min_channels=int(min_channels),
        n_surrogates=int(n_surrogates),
        alpha=float(alpha),
        n_transitions=int(t.size),
        n_clusters=int(sizes.size),
        null_clusters_per_surrogate=float(total_null / max(n_surrogates, 1)),
        t_start_s=float(triggers.attrs["t_start_s"]),
        t_stop_s=float(triggers.attrs["t_stop_s"]),
        method=triggers.attrs.get("method", ""),
        polarity=triggers.attrs.get("polarity", ""),
    )
    return out, wave_of
