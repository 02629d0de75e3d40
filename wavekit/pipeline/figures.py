"""Figures of one analysis: readable at a glance, units on every axis, titles that say what.

Each function takes the in-memory results (or the saved report and frame measures, for
``wavekit plot``), draws one figure with matplotlib's Agg backend and returns it; :func:`save_all`
writes them atomically in the chosen format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .outputs import atomic_path

#: every figure :func:`save_all` can draw (file stems)
FIGURE_NAMES = (
    "phase_snapshot",
    "direction_rose",
    "speed_distribution",
    "kw_spectrum",
    "timeline",
    "events",
    "critical_points",
)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


_POINT_STYLE = {  # critical-point kind -> (marker, colour, legend label)
    "source": ("o", "tab:red", "source"),
    "sink": ("o", "tab:blue", "sink"),
    "saddle": ("X", "k", "saddle"),
    "spiral_out_ccw": ("^", "tab:red", "spiral out"),
    "spiral_out_cw": ("^", "tab:red", "spiral out"),
    "spiral_in_ccw": ("v", "tab:blue", "spiral in"),
    "spiral_in_cw": ("v", "tab:blue", "spiral in"),
    "rotation_ccw": ("s", "tab:green", "rotation"),
    "rotation_cw": ("s", "tab:green", "rotation"),
}
MAX_POINTS = 12  # more than this in one frame is noise, not structure: none are drawn


def snapshot_points(snapshot: dict[str, Any]) -> tuple[list, list]:
    """Critical points of the travel-direction field ``-grad(phase)`` and phase singularities
    of a grid snapshot, after a 3 x 3 mean of ``exp(i phase)`` (noise makes pairs of spurious
    points): ``([(x, y, kind)], [(x, y, charge)])``, each empty when it has more than
    :data:`MAX_POINTS` entries."""
    import xarray as xr

    from ..analysis.critical import critical_points, phase_singularities
    from ..analysis.vectorfield import phase_diff_ref

    x = np.asarray(snapshot["x"], dtype=np.float64)
    y = np.asarray(snapshot["y"], dtype=np.float64)
    if x.size < 3 or y.size < 3:
        return [], []
    z = np.exp(1j * np.asarray(snapshot["phase"], dtype=np.float64))
    pad = np.pad(z, 1, constant_values=np.nan)
    win = np.stack([pad[i : i + y.size, j : j + x.size] for i in range(3) for j in range(3)])
    ok = np.isfinite(win)
    zs = np.where(ok, win, 0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1)
    zs[~np.isfinite(z)] = np.nan
    gx = phase_diff_ref(zs, x, -1)
    gy = phase_diff_ref(zs, y, -2)
    coords = {"y": y, "x": x}
    cp = critical_points(
        xr.DataArray(-gx, dims=("y", "x"), coords=coords),
        xr.DataArray(-gy, dims=("y", "x"), coords=coords),
    )
    ps = phase_singularities(xr.DataArray(np.angle(zs), dims=("y", "x"), coords=coords))
    points = [
        (float(a), float(b), str(k))
        for a, b, k in zip(cp.x_mm.values, cp.y_mm.values, cp.kind.values, strict=True)
    ]
    charges = [
        (float(a), float(b), int(q))
        for a, b, q in zip(ps.x_mm.values, ps.y_mm.values, ps.charge.values, strict=True)
    ]
    return (
        points if len(points) <= MAX_POINTS else [],
        charges if len(charges) <= MAX_POINTS else [],
    )


def phase_snapshot(snapshot: dict[str, Any], direction_deg: float | None):
    """Phase of the most directional frame on a cyclic colour map, with the local travel
    direction, the overall direction, and (grids) the critical points of the direction field
    and the phase singularities."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 4.4), constrained_layout=True)
    ph = snapshot["phase"]
    points, charges = [], []
    if snapshot["layout"] == "grid":
        points, charges = snapshot_points(snapshot)
        x, y = snapshot["x"], snapshot["y"]
        im = ax.pcolormesh(x, y, ph, cmap="twilight", vmin=-np.pi, vmax=np.pi, shading="nearest")
        # local travel direction: -grad(phase) from complex products (angle-safe)
        z = np.exp(1j * ph)
        gy = np.angle(z[2:, 1:-1] * np.conj(z[:-2, 1:-1]))
        gx = np.angle(z[1:-1, 2:] * np.conj(z[1:-1, :-2]))
        if gx.size:
            step = max(1, int(max(gx.shape) // 12))
            xx, yy = np.meshgrid(x[1:-1], y[1:-1])
            ax.quiver(
                xx[::step, ::step],
                yy[::step, ::step],
                -gx[::step, ::step],
                -gy[::step, ::step],
                color="k",
                pivot="mid",
                alpha=0.8,
            )
    else:
        im = ax.scatter(
            snapshot["x"],
            snapshot["y"],
            c=ph,
            cmap="twilight",
            vmin=-np.pi,
            vmax=np.pi,
            s=60,
            edgecolors="k",
            linewidths=0.3,
        )
    if direction_deg is not None:
        xs, ys = np.asarray(snapshot["x"]), np.asarray(snapshot["y"])
        cx, cy = float(np.mean(xs)), float(np.mean(ys))
        length = 0.35 * float(max(np.ptp(xs), np.ptp(ys), 1e-9))
        th = np.radians(direction_deg)
        ax.annotate(
            "",
            xy=(cx + length * np.cos(th), cy + length * np.sin(th)),
            xytext=(cx, cy),
            arrowprops={"arrowstyle": "-|>", "lw": 2.5, "color": "crimson"},
        )
    seen = set()
    for px, py, kind in points:
        marker, colour, label = _POINT_STYLE.get(kind, ("D", "0.4", kind))
        ax.plot(px, py, marker, ms=10, mfc=colour, mec="w", mew=1.5,
                label=None if label in seen else label)  # fmt: skip
        seen.add(label)
    for px, py, q in charges:
        label = f"phase singularity {q:+d}"
        ax.plot(px, py, "o", ms=17, mfc="none", mew=2.2, mec="gold" if q > 0 else "cyan",
                label=None if label in seen else label)  # fmt: skip
        seen.add(label)
    if seen:
        ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(f"Phase at t = {snapshot['time_s']:.3f} s (arrows: travel direction)")
    fig.colorbar(im, ax=ax, label="phase (rad)")
    return fig


def direction_rose(directions_deg: np.ndarray, dominant_deg: float | None):
    """Histogram of per-frame travel directions of wave frames on a polar axis."""
    plt = _plt()
    fig = plt.figure(figsize=(4.6, 4.6), constrained_layout=True)
    ax = fig.add_subplot(projection="polar")
    d = np.radians(directions_deg[np.isfinite(directions_deg)])
    bins = np.linspace(-np.pi, np.pi, 37)
    counts, _ = np.histogram(d, bins=bins)
    ax.bar(
        bins[:-1] + np.pi / 36, counts, width=2 * np.pi / 36, color="steelblue", edgecolor="white"
    )
    if dominant_deg is not None and counts.size:
        ax.plot([0, np.radians(dominant_deg)], [0, counts.max()], color="crimson", lw=2.5)
    ax.set_title(f"Direction of travel of wave frames (n = {d.size}; deg CCW from +x)")
    return fig


def speed_distribution(speeds: np.ndarray, summary: dict | None):
    """Histogram of per-frame phase speeds of wave frames (mm/s), median marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.6), constrained_layout=True)
    s = speeds[np.isfinite(speeds) & (speeds > 0)]
    if s.size:
        hi = np.percentile(s, 99)
        ax.hist(s[s <= hi], bins=40, color="steelblue", edgecolor="white")
        if summary and summary.get("median") is not None:
            ax.axvline(
                summary["median"],
                color="crimson",
                lw=2,
                label=f"median {summary['median']:.3g} mm/s",
            )
            ax.legend(frameon=False)
    ax.set_xlabel("phase speed (mm/s)")
    ax.set_ylabel("frames")
    ax.set_title(f"Phase speed of wave frames (n = {s.size})")
    return fig


#: one colour per pattern label (fixed, so figures of different recordings compare)
PATTERN_COLOURS = {
    "none": "0.85",
    "synchronous": "#7f7f7f",
    "plane": "#1f77b4",
    "source": "#d62728",
    "sink": "#9467bd",
    "spiral_ccw": "#2ca02c",
    "spiral_cw": "#bcbd22",
    "saddle": "#ff7f0e",
}


def timeline(time_s: np.ndarray, frames: dict[str, np.ndarray], events: list[dict]):
    """Directionality (both PGDs, plane-fit R^2) over time, with detected events shaded, and
    (grids) a track of the per-frame pattern label underneath."""
    plt = _plt()
    patterns = frames.get("pattern")
    if patterns is None:
        fig, ax = plt.subplots(figsize=(8.0, 3.2), constrained_layout=True)
    else:
        fig, (ax, axp) = plt.subplots(
            2, 1, figsize=(8.0, 4.0), sharex=True, constrained_layout=True,
            gridspec_kw={"height_ratios": [4, 1]},
        )  # fmt: skip
        _pattern_track(axp, time_s, np.asarray(patterns).astype(str))
    labels = {
        "pgd_unit_resultant": "PGD (unit resultant)",
        "pgd_rubino2006": "PGD (Rubino 2006)",
        "plane_r2_adj": "plane fit adj. R²",
    }
    step = max(1, time_s.size // 4000)
    for key, label in labels.items():
        if key in frames:
            ax.plot(time_s[::step], frames[key][::step], lw=0.8, label=label)
    for ev in events:
        ax.axvspan(ev["start_s"], ev["end_s"], color="orange", alpha=0.25, lw=0)
    edge = frames.get("edge")
    if edge is not None and np.any(edge):
        e = np.asarray(edge, bool)
        for lo, hi in (
            (time_s[0], time_s[e & (time_s < time_s.mean())].max(initial=time_s[0])),
            (time_s[e & (time_s > time_s.mean())].min(initial=time_s[-1]), time_s[-1]),
        ):
            if hi > lo:
                ax.axvspan(lo, hi, color="0.85", lw=0, zorder=0)
    ax.set_ylim(-0.05, 1.05)
    (ax if patterns is None else axp).set_xlabel("time (s)")
    ax.set_ylabel("directionality (0-1)")
    ax.set_title(
        "Wave directionality over time (orange: events; grey: record edges, not summarised)"
    )
    ax.legend(frameon=False, fontsize=8, loc="upper right", ncols=3)
    return fig


def _pattern_track(ax: Any, time_s: np.ndarray, labels: np.ndarray) -> None:
    """Coloured runs of the per-frame pattern label, with a legend of the labels present."""
    from matplotlib.patches import Patch

    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [labels.size]])
    dt = float(np.median(np.diff(time_s))) if time_s.size > 1 else 1.0
    for a, b in zip(starts, stops, strict=True):
        ax.axvspan(time_s[a], time_s[b - 1] + dt, color=PATTERN_COLOURS.get(labels[a], "k"), lw=0)
    present = [p for p in PATTERN_COLOURS if np.any(labels == p)]
    ax.legend(
        handles=[Patch(color=PATTERN_COLOURS[p], label=p) for p in present],
        frameon=False, fontsize=7, ncols=len(present), loc="upper center",
        bbox_to_anchor=(0.5, -0.9),
    )  # fmt: skip
    ax.set_yticks([])
    ax.set_ylabel("pattern", rotation=0, ha="right", va="center")


def events_raster(
    events: list[dict],
    time_range_s: tuple[float, float],
    *,
    alpha: float | None = None,
    threshold_note: str = "",
):
    """Each detected wave event as a bar over time (one row per event, coloured by pattern),
    with its direction of travel and phase speed (95 % interval) in panels underneath.

    Events with ``p_value > alpha`` are drawn faded. With more than 30 events the bars are
    thinner and unlabelled; with none, the figure says so.
    """
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    plt = _plt()
    t0, t1 = float(time_range_s[0]), float(time_range_s[1])
    if not events:
        fig, ax = plt.subplots(figsize=(8.0, 2.6), constrained_layout=True)
        text = "No wave events detected" + (f"\n({threshold_note})" if threshold_note else "")
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11)
        ax.set_xlim(t0, t1)
        ax.set_yticks([])
        ax.set_xlabel("time (s)")
        ax.set_title("Wave events (none)")
        return fig
    n = len(events)
    rows_drawn = n if n <= 30 else len(set(e.get("pattern") or "none" for e in events))
    fig, (ar, ad, asp) = plt.subplots(
        3, 1, figsize=(8.0, 2.6 + rows_drawn * 0.12 + 3.2), sharex=True, constrained_layout=True,
        gridspec_kw={"height_ratios": [max(1.5, rows_drawn * 0.15), 1.2, 1.2]},
    )  # fmt: skip

    def num(ev: dict, key: str) -> float:
        v = ev.get(key)
        return float(v) if v is not None else np.nan

    start = np.array([num(e, "start_s") for e in events])
    end = np.array([num(e, "end_s") for e in events])
    mid = 0.5 * (start + end)
    pats = [str(e.get("pattern") or "none") for e in events]
    colours = [PATTERN_COLOURS.get(p, "#1f77b4") for p in pats]
    pv = np.array([num(e, "p_value") for e in events])
    faded = (pv > alpha) if alpha is not None else np.zeros(n, bool)
    shade = [0.35 if f else 1.0 for f in faded]
    present = [p for p in PATTERN_COLOURS if p in pats] + sorted(
        {p for p in pats if p not in PATTERN_COLOURS}
    )
    few = n <= 30  # one row per event, labelled; else one row per pattern
    rows = np.arange(n) if few else np.array([present.index(p) for p in pats])
    fill = [to_rgba(c, a) for c, a in zip(colours, shade, strict=True)]
    ar.barh(rows, end - start, left=start, height=0.8, color=fill,
            edgecolor="k" if few else fill,  # an edge in the bar's colour: no event too short
            linewidth=0.4 if few else 1.0)  # fmt: skip
    if few:
        for i, e in enumerate(events):
            d, sp = e.get("direction_deg"), e.get("speed_mm_per_s")
            label = (f"{d:.0f} deg" if d is not None else "") + (
                f", {sp:.3g} mm/s" if sp is not None else ""
            )
            if label:  # inside the bar, from its start: never clipped at the record's end
                ar.text(start[i], rows[i], " " + label.strip(", "), va="center", fontsize=7,
                        clip_on=True)  # fmt: skip
        ar.set_yticks(rows, [str(e.get("id", i)) for i, e in enumerate(events)], fontsize=7)
        ar.set_ylim(n - 0.5, -0.5)
        ar.set_ylabel("event")
    else:
        ar.set_yticks(np.arange(len(present)), present, fontsize=7)
        ar.set_ylim(len(present) - 0.5, -0.5)
        ar.set_ylabel("pattern")
    handles = [Patch(color=PATTERN_COLOURS.get(p, "#1f77b4"), label=p) for p in present]
    if alpha is not None and faded.any():
        handles.append(Patch(color="0.6", alpha=0.35, label=f"p > {alpha:g} (faded)"))
    ar.legend(handles=handles, frameon=False, fontsize=7, loc="upper left",
              bbox_to_anchor=(1.0, 1.0))  # fmt: skip
    sig = int((~faded).sum())
    ar.set_title(
        f"Wave events (n = {n}, {sig} with p <= {alpha:g}; colour: pattern)"
        if alpha is not None
        else f"Wave events (n = {n}; colour: pattern)"
    )
    direction = np.array([num(e, "direction_deg") for e in events])
    ad.scatter(mid, direction, c=fill, s=14 if n <= 100 else 6, edgecolors="none")
    ad.set_ylim(-185, 185)
    ad.set_yticks([-180, -90, 0, 90, 180])
    ad.set_ylabel("direction (deg)")
    speed = np.array([num(e, "speed_mm_per_s") for e in events])
    lo = np.array([num(e, "speed_ci_low_mm_per_s") for e in events])
    hi = np.array([num(e, "speed_ci_high_mm_per_s") for e in events])
    ok = np.isfinite(speed)
    if ok.any():
        err = np.vstack([np.clip(speed - lo, 0, None), np.clip(hi - speed, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)
        asp.errorbar(mid[ok], speed[ok], yerr=err[:, ok], fmt="none", ecolor="0.5", lw=0.8)
        asp.scatter(mid[ok], speed[ok], c=[c for c, k in zip(fill, ok, strict=True) if k],
                    s=14 if n <= 100 else 6, edgecolors="none", zorder=3)  # fmt: skip
        if np.nanmin(speed[ok]) > 0 and np.nanmax(speed[ok]) / np.nanmin(speed[ok]) > 20:
            asp.set_yscale("log")
    asp.set_ylabel("speed (mm/s)")
    asp.set_xlabel("time (s)")
    asp.set_xlim(t0, t1)
    return fig


def kw_figure(kw: Any, dominant: dict | None, band_hz: list | None):
    """k-omega power: the wave-vector plane at the dominant frequency, and power vs frequency."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.0, 3.8), constrained_layout=True)
    f = kw["frequency_hz"].values
    f0 = (
        dominant["frequency_hz"]
        if dominant
        else f[int(np.argmax(kw.sum(("ky_rad_per_mm", "kx_rad_per_mm"))))]
    )
    i = int(np.argmin(np.abs(f - f0)))
    plane = kw.isel(frequency_hz=i)
    im = a1.pcolormesh(
        plane["kx_rad_per_mm"],
        plane["ky_rad_per_mm"],
        plane.values,
        shading="nearest",
        cmap="magma",
    )
    if dominant:
        a1.plot(
            dominant["kx_rad_per_mm"],
            dominant["ky_rad_per_mm"],
            "c+",
            ms=14,
            mew=2,
            label=f"dominant: {dominant['direction_deg']:.0f} deg",
        )
        a1.legend(frameon=False, loc="upper right", labelcolor="w", fontsize=8)
    a1.set_aspect("equal")
    a1.set_xlabel("kx (rad/mm)")
    a1.set_ylabel("ky (rad/mm)")
    a1.set_title(f"Power at {f[i]:.3g} Hz (toward +k = travel)")
    fig.colorbar(im, ax=a1, label="power (a.u.)")
    a2.semilogy(f, kw.sum(("ky_rad_per_mm", "kx_rad_per_mm")).values, color="k")
    if band_hz:
        a2.axvspan(band_hz[0], band_hz[1], color="orange", alpha=0.25, lw=0, label="band")
        a2.legend(frameon=False)
    a2.set_xlabel("frequency (Hz)")
    a2.set_ylabel("power summed over k (a.u.)")
    a2.set_title("Space-time spectrum (Hann-tapered)")
    return fig


#: critical_points.png draws at most this many tracks (the longest)
MAX_TRACKS_DRAWN = 50


def critical_points_figure(
    tracks: list[dict],
    sites_xy: tuple[np.ndarray, np.ndarray] | None,
    time_range_s: tuple[float, float],
    min_duration_s: float | None = None,
):
    """Tracked critical points of the phase flow (``critical_points.csv``): on the array, each
    track as a line from where it started through its mean position (a dot, larger for longer
    tracks) to where it ended; in time, one bar per track; coloured by the pattern its kind
    names. At most :data:`MAX_TRACKS_DRAWN` tracks, the longest."""
    from matplotlib.lines import Line2D

    plt = _plt()
    fig, (am, at) = plt.subplots(
        1, 2, figsize=(9.6, 4.2), constrained_layout=True, gridspec_kw={"width_ratios": [1, 1.3]}
    )
    colours = {**PATTERN_COLOURS, "none": "0.45"}
    if sites_xy is not None:
        xx, yy = np.meshgrid(np.asarray(sites_xy[0]), np.asarray(sites_xy[1]))
        am.plot(xx.ravel(), yy.ravel(), ".", color="0.8", ms=3, zorder=0)
    n = len(tracks)
    shown = sorted(tracks, key=lambda r: -(r.get("duration_s") or 0.0))[:MAX_TRACKS_DRAWN]
    shown = sorted(shown, key=lambda r: r.get("start_s") or 0.0)
    longest = max((r.get("duration_s") or 0.0 for r in shown), default=1.0) or 1.0
    present = []
    for i, r in enumerate(shown):
        pat = str(r.get("pattern") or "none")
        c = colours.get(pat, "k")
        if pat not in present:
            present.append(pat)
        am.plot([r["start_x_mm"], r["x_mm"], r["end_x_mm"]],
                [r["start_y_mm"], r["y_mm"], r["end_y_mm"]], "-", color=c, lw=1.5,
                alpha=0.8)  # fmt: skip
        size = 4 + 8 * float(r.get("duration_s") or 0.0) / longest
        am.plot(r["x_mm"], r["y_mm"], "o", ms=size, mfc=c, mec="w", mew=0.8)
        at.barh(i, r["end_s"] - r["start_s"], left=r["start_s"], height=0.7, color=c)
    am.set_aspect("equal")
    am.set_xlabel("x (mm)")
    am.set_ylabel("y (mm)")
    am.set_title("Where (line: start - mean - end; dot: mean, larger lasts longer)", fontsize=9)
    at.set_xlim(*time_range_s)
    at.set_xlabel("time (s)")
    at.set_ylabel("track (by start)")
    if shown:
        at.set_ylim(max(len(shown), 8) - 0.5, -0.5)  # a few tracks: bars of a readable height
        at.set_yticks([])
        handles = [Line2D([], [], color=colours.get(p, "k"), lw=4, label=p) for p in present]
        at.legend(handles=handles, frameon=False, fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))  # fmt: skip
    else:
        at.set_yticks([])
        at.text(0.5, 0.5, "no tracks", ha="center", va="center", transform=at.transAxes)
    at.set_title("When", fontsize=9)
    rule = f" lasting >= {min_duration_s:.3g} s" if min_duration_s else ""
    more = f", the {len(shown)} longest drawn" if n > len(shown) else ""
    fig.suptitle(
        f"Critical points of the phase flow tracked through time: {n} track(s){rule}{more}"
    )
    return fig


def save(fig: Any, path: Path) -> Path:
    """Save a figure atomically (format from the suffix) and close it."""
    plt = _plt()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=120)
    plt.close(fig)
    return path


def save_all(
    frames: Any,
    snapshot: dict | None,
    report: dict,
    out_dir: Path,
    fig_format: str,
    kw: Any = None,
    tracks: list[dict] | None = None,
) -> list[str]:
    """Draw every figure of an analysis into ``out_dir``; return the file names.

    ``frames`` is the per-frame measures Dataset, ``snapshot`` the phase frame kept by the
    analysis (or None); both are also what ``frames.h5`` stores, so ``wavekit plot`` redraws
    the same figures from a results folder. ``tracks`` (the rows of ``critical_points.csv``,
    when the ``flow`` stage ran) adds ``critical_points``.
    """
    from .summary import estimator_prefix, wave_frames

    fs = report["flow_structure"]
    prefix = estimator_prefix(frames)
    mask = wave_frames(frames)
    figs = {}
    if snapshot is not None:
        figs["phase_snapshot"] = lambda: phase_snapshot(snapshot, fs.get("dominant_direction_deg"))
    if f"{prefix}direction_deg" in frames:
        figs["direction_rose"] = lambda: direction_rose(
            frames[f"{prefix}direction_deg"].values[mask], fs.get("dominant_direction_deg")
        )
        figs["speed_distribution"] = lambda: speed_distribution(
            frames[f"{prefix}speed_mm_per_s"].values[mask], fs.get("speed_mm_per_s")
        )
    if kw is not None:
        figs["kw_spectrum"] = lambda: kw_figure(kw, fs.get("spectral"), fs.get("band_hz"))
    figs["timeline"] = lambda: timeline(
        frames["time"].values, {k: frames[k].values for k in frames.data_vars}, report["events"]
    )
    null = report.get("event_null")
    if null is not None:  # the events stage ran (possibly finding none)
        t = frames["time"].values
        thr = null.get("threshold")
        note = f"threshold {thr:.3g} of {null.get('measure')}" if thr is not None else ""
        figs["events"] = lambda: events_raster(
            report["events"], (float(t[0]), float(t[-1])), alpha=null.get("alpha"),
            threshold_note=note,
        )  # fmt: skip
    if tracks is not None:
        t = frames["time"].values
        xy = None if snapshot is None else (snapshot["x"], snapshot["y"])
        rule = (fs.get("phase_flow") or {}).get("min_track_duration_s")
        figs["critical_points"] = lambda: critical_points_figure(
            tracks, xy, (float(t[0]), float(t[-1])), rule
        )
    return [save(make(), out_dir / f"{name}.{fig_format}").name for name, make in figs.items()]
