"""The benchmark cases of ``wavekit validate``: simulate with known truth, estimate, compare.

Each ``case_*`` function takes ``(rng_for, quick)`` and returns a list of rows (dicts, see
:func:`wavekit.validate.run_validation`). ``rng_for(name)`` gives an independent, reproducible
``numpy.random.Generator`` for a named part of the benchmark (from the user's seed), so adding a
case never changes the draws of another. Thresholds come from :data:`wavekit.validate.THRESHOLDS`
(looked up when the rows are made, so a test can change them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

Row = dict[str, Any]
RngFor = Callable[[str], np.random.Generator]


# ----------------------------------------------------------------------------- helpers


def ang_err(a: Any, b: Any) -> np.ndarray:
    """Absolute wrapped difference of angles in degrees, in [0, 180]."""
    return np.abs((np.asarray(a, float) - np.asarray(b, float) + 180.0) % 360.0 - 180.0)


def _threshold(key: str) -> Any:
    from . import THRESHOLDS

    return THRESHOLDS[key]


def row(
    name: str,
    metric: str,
    value: float,
    *,
    unit: str,
    n: int,
    detail: str,
    key: str | None = None,
    op: str = "<=",
) -> Row:
    """One table row; ``key`` names its threshold in THRESHOLDS (None: informational)."""
    value = float(value)
    if key is None:
        thr, passed = None, None
    else:
        thr = _threshold(key)
        if op == "<=":
            passed = bool(np.isfinite(value) and value <= thr)
        elif op == ">=":
            passed = bool(np.isfinite(value) and value >= thr)
        else:  # "in": closed interval
            passed = bool(np.isfinite(value) and thr[0] <= value <= thr[1])
    return {
        "name": name,
        "metric": metric,
        "value": value,
        "threshold": thr,
        "op": op if key is not None else None,
        "passed": passed,
        "n": int(n),
        "unit": unit,
        "detail": detail,
    }


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _trim(z: xr.DataArray, lo_hz: float) -> xr.DataArray:
    """Drop three periods of the band's low edge at both ends (filter edge transients)."""
    fs = float(z.attrs["fs_hz"])
    m = int(np.ceil(3.0 * fs / lo_hz))
    return z.isel(time=slice(m, z.sizes["time"] - m))


def _plane_params(rng: np.random.Generator, n: int) -> list[tuple[float, float, float]]:
    """The four corners of 4-30 Hz x 100-1000 mm/s, then uniform draws; random directions."""
    corners = [(4.0, 1000.0), (30.0, 100.0), (4.0, 100.0), (30.0, 1000.0)]
    out = []
    for i in range(n):
        if i < len(corners):
            f, c = corners[i]
        else:
            f, c = float(rng.uniform(4.0, 30.0)), float(rng.uniform(100.0, 1000.0))
        out.append((f, c, float(rng.uniform(-180.0, 180.0))))
    return out


PLANE_HALF_BAND_HZ = 1.0
PLANE_ANALYSED_S = 2.0


def _plane_record(f, c, d, *, snr_db, seed, layout="grid", noise="white", **kw):
    """Simulate a plane wave, band-pass f +- 1 Hz into the analytic signal, trim the edges."""
    from wavekit.analysis import analytic_signal
    from wavekit.simulate import simulate

    lo = f - PLANE_HALF_BAND_HZ
    pad_s = 3.0 / lo
    act, truth = simulate(
        "plane",
        layout=layout,
        frequency_hz=f,
        speed_mm_per_s=c,
        direction_deg=d,
        snr_db=snr_db,
        noise=noise,
        seed=seed,
        duration_s=PLANE_ANALYSED_S + 2 * pad_s,
        **kw,
    )
    z = analytic_signal(act, band_hz=(lo, f + PLANE_HALF_BAND_HZ))
    return _trim(z, lo), truth


def _plane_fit_errors(records) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame plane-fit errors pooled over records: (direction deg, |speed/c - 1| in %)."""
    from wavekit.analysis import plane_wave_fit

    de, se = [], []
    for z, (_, c, d) in records:
        fit = plane_wave_fit(z)
        de.append(ang_err(fit.direction_deg.values, d))
        se.append(100.0 * np.abs(fit.speed_mm_per_s.values / c - 1.0))
    return np.concatenate(de), np.concatenate(se)


def _plane_setting(layout: str, noise: str = "white") -> str:
    return (
        f"f 4-30 Hz, c 100-1000 mm/s (corners + uniform), random direction, {noise} noise, "
        "fs 500 Hz,"
        f" band f+-{PLANE_HALF_BAND_HZ:g} Hz, {PLANE_ANALYSED_S:g} s analysed per record, "
        f"{layout}"
    )


# ----------------------------------------------------------------------------- plane waves


def case_plane_grid(rng_for: RngFor, quick: bool) -> list[Row]:
    """16 x 16 grid at 0.4 mm: global plane fit (thresholded) and the grid-gradient routes."""
    from wavekit.analysis import mean_wave_vector, phase_gradients, pooled_wave_vector

    n_rec = 8 if quick else 24
    rows: list[Row] = []
    for snr, tag in ((20.0, "20db"), (0.0, "0db")):
        rng = rng_for(f"plane_grid_{tag}")
        params = _plane_params(rng, n_rec)
        recs = [
            (_plane_record(f, c, d, snr_db=snr, seed=_seed(rng))[0], (f, c, d))
            for f, c, d in params
        ]
        de, se = _plane_fit_errors(recs)
        setting = _plane_setting("16 x 16 grid at 0.4 mm") + f", {snr:g} dB"
        name = f"plane grid {snr:g} dB, plane_wave_fit"
        det = f"{n_rec} records, median over all frames; {setting}"
        rows.append(
            row(
                name,
                "median direction error",
                np.median(de),
                unit="deg",
                n=de.size,
                detail=det,
                key=f"plane_grid_{tag}_direction_deg",
            )
        )
        rows.append(
            row(
                name,
                "median speed error",
                np.median(se),
                unit="%",
                n=se.size,
                detail=det,
                key=f"plane_grid_{tag}_speed_pct",
            )
        )
        # grid-gradient routes: one estimate per record, median over records
        pd_, ps_, md_, ms_ = [], [], [], []
        for z, (_, c, d) in recs:
            p = pooled_wave_vector(z)
            m = mean_wave_vector(phase_gradients(z), dims=("time", "y", "x"))
            pd_.append(float(ang_err(float(p.direction_deg), d)))
            ps_.append(100.0 * abs(float(p.speed_mm_per_s) / c - 1.0))
            md_.append(float(ang_err(float(m.direction_deg), d)))
            ms_.append(100.0 * abs(float(m.speed_mm_per_s) / c - 1.0))
        det = f"one estimate per record, median over {n_rec} records; same records"
        for route, dd, ss in (("pooled_wave_vector", pd_, ps_), ("mean_wave_vector", md_, ms_)):
            nm = f"plane grid {snr:g} dB, {route}"
            rows.append(
                row(nm, "median direction error", np.median(dd), unit="deg", n=n_rec, detail=det)
            )
            rows.append(row(nm, "median speed error", np.median(ss), unit="%", n=n_rec, detail=det))
    return rows


def case_plane_random(rng_for: RngFor, quick: bool) -> list[Row]:
    """64 random electrodes in 6 x 6 mm, 10 % (6) missing as NaN, 0 dB (thresholded) and 20 dB."""
    n_rec = 8 if quick else 24
    rows: list[Row] = []
    for snr, tag, keyed in ((0.0, "0db", True), (20.0, "20db", False)):
        rng = rng_for(f"plane_random_{tag}")
        recs = []
        for f, c, d in _plane_params(rng, n_rec):
            bad = sorted(int(i) for i in rng.choice(64, size=6, replace=False))
            z, _ = _plane_record(
                f,
                c,
                d,
                snr_db=snr,
                seed=_seed(rng),
                layout="random",
                n_channels=64,
                extent_mm=6.0,
                bad_channels=bad,
            )
            recs.append((z, (f, c, d)))
        de, se = _plane_fit_errors(recs)
        det = (
            f"{n_rec} records (a new random layout each), median over all frames; "
            + _plane_setting("64 uniform random electrodes in 6 x 6 mm, 6 of 64 NaN")
            + f", {snr:g} dB"
        )
        name = f"plane random-64 (10 % NaN) {snr:g} dB, plane_wave_fit"
        rows.append(
            row(
                name,
                "median direction error",
                np.median(de),
                unit="deg",
                n=de.size,
                detail=det,
                key="plane_random_0db_direction_deg" if keyed else None,
            )
        )
        rows.append(
            row(
                name,
                "median speed error",
                np.median(se),
                unit="%",
                n=se.size,
                detail=det,
                key="plane_random_0db_speed_pct" if keyed else None,
            )
        )
    return rows


def case_plane_layouts_and_sweep(rng_for: RngFor, quick: bool) -> list[Row]:
    """Informational: Utah and hexagonal layouts at 0 dB, pink noise, and an SNR sweep."""
    n_rec = 4 if quick else 12
    rows: list[Row] = []
    for layout, desc in (
        ("utah", "Utah 10 x 10 at 0.4 mm without corners (96)"),
        ("hex", "hexagonal MEA, 4 rings at 0.4 mm (61)"),
    ):
        rng = rng_for(f"plane_{layout}")
        recs = [
            (_plane_record(f, c, d, snr_db=0.0, seed=_seed(rng), layout=layout)[0], (f, c, d))
            for f, c, d in _plane_params(rng, n_rec)
        ]
        de, se = _plane_fit_errors(recs)
        det = f"{n_rec} records; " + _plane_setting(desc) + ", 0 dB"
        name = f"plane {layout} 0 dB, plane_wave_fit"
        rows.append(
            row(name, "median direction error", np.median(de), unit="deg", n=de.size, detail=det)
        )
        rows.append(row(name, "median speed error", np.median(se), unit="%", n=se.size, detail=det))
    rng = rng_for("plane_grid_pink")
    recs = [
        (_plane_record(f, c, d, snr_db=0.0, seed=_seed(rng), noise="pink")[0], (f, c, d))
        for f, c, d in _plane_params(rng, n_rec)
    ]
    de, se = _plane_fit_errors(recs)
    det = f"{n_rec} records; " + _plane_setting("16 x 16 grid at 0.4 mm", "1/f (pink)") + ", 0 dB"
    name = "plane grid 0 dB pink noise, plane_wave_fit"
    rows.append(
        row(name, "median direction error", np.median(de), unit="deg", n=de.size, detail=det)
    )
    rows.append(row(name, "median speed error", np.median(se), unit="%", n=se.size, detail=det))
    for snr in (-10.0, -5.0, 5.0, 10.0):
        rng = rng_for(f"plane_sweep_{snr:g}")
        recs = [
            (_plane_record(f, c, d, snr_db=snr, seed=_seed(rng))[0], (f, c, d))
            for f, c, d in _plane_params(rng, n_rec)
        ]
        de, se = _plane_fit_errors(recs)
        det = f"SNR sweep, {n_rec} records; " + _plane_setting("16 x 16 grid at 0.4 mm")
        name = f"plane grid {snr:g} dB, plane_wave_fit"
        rows.append(
            row(name, "median direction error", np.median(de), unit="deg", n=de.size, detail=det)
        )
        rows.append(row(name, "median speed error", np.median(se), unit="%", n=se.size, detail=det))
    return rows


# ----------------------------------------------------------------------------- patterns

PATTERN_KINDS = ("plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle", "synchronous")
PATTERN_FS = 200.0
PATTERN_BAND = (5.0, 15.0)
PATTERN_EDGE_S = 0.15  # frames this close to an episode switch or to the record's ends: excluded
PATTERN_GRID = {"nx": 16, "ny": 16, "spacing_mm": 0.5}
PATTERN_SPEED = 65.0  # mm/s: wavelength 6.5 mm at 10 Hz on a 7.5 mm array


def _classify(act: xr.DataArray) -> xr.Dataset:
    from wavekit.analysis import analytic_signal, classify_patterns

    return classify_patterns(analytic_signal(act, band_hz=PATTERN_BAND))


def _edge_mask(episode: np.ndarray, fs: float) -> np.ndarray:
    keep = np.ones(episode.size, bool)
    e = int(round(PATTERN_EDGE_S * fs))
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(episode) != 0) + 1, [episode.size]])
    for i in cuts:
        keep[max(0, i - e) : i + e] = False
    return keep


def _f1(truth: np.ndarray, pred: np.ndarray, c: str) -> float:
    tp = np.sum((truth == c) & (pred == c))
    fp = np.sum((truth != c) & (pred == c))
    fn = np.sum((truth == c) & (pred != c))
    return float(2 * tp / max(2 * tp + fp + fn, 1))


def _sequence_f1(rng: np.random.Generator, repeats: int, n_seq: int, **sim: Any):
    from wavekit.simulate import simulate

    truths, preds = [], []
    for _ in range(n_seq):
        act, truth = simulate(
            "sequence",
            patterns=list(PATTERN_KINDS),
            repeats=repeats,
            shuffle=True,
            episode_s=1.0,
            snr_db=5.0,
            fs_hz=PATTERN_FS,
            frequency_hz=10.0,
            seed=_seed(rng),
            **sim,
        )
        keep = _edge_mask(truth["episode"].values, PATTERN_FS)
        truths.append(truth["pattern"].values.astype(str)[keep])
        preds.append(_classify(act)["pattern"].values.astype(str)[keep])
    t, p = np.concatenate(truths), np.concatenate(preds)
    return {c: _f1(t, p, c) for c in PATTERN_KINDS}, {c: int(np.sum(t == c)) for c in PATTERN_KINDS}


def case_patterns(rng_for: RngFor, quick: bool) -> list[Row]:
    repeats, n_seq = (2, 1) if quick else (3, 4)
    rng = rng_for("patterns")
    f1, counts = _sequence_f1(rng, repeats, n_seq, speed_mm_per_s=PATTERN_SPEED, **PATTERN_GRID)
    det = (
        f"simulate('sequence'): {n_seq} x {repeats * len(PATTERN_KINDS)} shuffled 1-s episodes "
        f"(each pattern {n_seq * repeats} times), 16 x 16 grid at 0.5 mm, 10 Hz, "
        f"{PATTERN_SPEED:g} mm/s (wavelength 6.5 mm), 5 dB white noise, fs 200 Hz, "
        f"band 5-15 Hz; frames within {PATTERN_EDGE_S:g} s of an episode switch or of the "
        "record's ends excluded"
    )
    rows = [
        row(
            f"patterns 5 dB, classify_patterns: {c}",
            "frame-wise F1",
            f1[c],
            unit="",
            n=counts[c],
            detail=det,
            key="pattern_f1",
            op=">=",
        )
        for c in PATTERN_KINDS
    ]
    # informational: the simulator's default sequence geometry (0.4 mm, 100 mm/s: 10 mm
    # wavelength on a 6 mm array, where a centred target spans under half a cycle)
    f1d, cd = _sequence_f1(rng_for("patterns_default"), repeats, n_seq)
    worst = min(f1d, key=f1d.get)
    rows.append(
        row(
            "patterns 5 dB, simulator defaults",
            "lowest per-class F1",
            f1d[worst],
            unit="",
            n=sum(cd.values()),
            detail=(
                f"worst class {worst}; 16 x 16 at 0.4 mm, 100 mm/s (10 mm wavelength "
                "on a 6 mm array); " + ", ".join(f"{c} {v:.2f}" for c, v in f1d.items())
            ),
        )
    )
    return rows


def case_centres_and_sense(rng_for: RngFor, quick: bool) -> list[Row]:
    """Informational: target (source/sink) centre error and spiral sense accuracy at 5 dB."""
    from wavekit.simulate import simulate

    n = 4 if quick else 16
    half = 0.25 * 15 * PATTERN_GRID["spacing_mm"]
    mid = 7.5 * PATTERN_GRID["spacing_mm"]
    common = dict(
        fs_hz=PATTERN_FS,
        duration_s=1.0,
        frequency_hz=10.0,
        speed_mm_per_s=PATTERN_SPEED,
        snr_db=5.0,
        **PATTERN_GRID,
    )
    det_common = (
        "16 x 16 grid at 0.5 mm, 10 Hz, 65 mm/s, 5 dB white noise, 1 s records, "
        f"centre uniform in the central half; first/last {PATTERN_EDGE_S:g} s excluded"
    )
    rng = rng_for("target_centre")
    errs, correct, total = [], 0, 0
    for i in range(n):
        cx, cy = mid + rng.uniform(-half, half, 2)
        mode = "source" if i % 2 == 0 else "sink"
        act, truth = simulate(
            "target",
            mode=mode,
            centre_x_mm=float(cx),
            centre_y_mm=float(cy),
            seed=_seed(rng),
            **common,
        )
        res = _classify(act)
        keep = _edge_mask(np.zeros(act.sizes["time"], int), PATTERN_FS)
        e = np.hypot(res.centre_x_mm.values - cx, res.centre_y_mm.values - cy)[keep]
        errs.append(e[np.isfinite(e)])
        correct += int(np.sum(res.pattern.values[keep] == mode))
        total += int(keep.sum())
    e = np.concatenate(errs)
    rows = [
        row(
            "target (source/sink) 5 dB, classify_patterns",
            "median centre error",
            np.median(e) if e.size else np.nan,
            unit="mm",
            n=e.size,
            detail=f"{n} records (source and sink alternate); 95th percentile "
            f"{np.quantile(e, 0.95) if e.size else np.nan:.2f} mm; labelled correctly in "
            f"{correct / max(total, 1):.3f} of frames; " + det_common,
        ),
    ]
    rng = rng_for("spiral_sense")
    right = wrong = total = 0
    for i in range(n):
        cx, cy = mid + rng.uniform(-half, half, 2)
        chir = "ccw" if i % 2 == 0 else "cw"
        act, _ = simulate(
            "spiral",
            chirality=chir,
            centre_x_mm=float(cx),
            centre_y_mm=float(cy),
            seed=_seed(rng),
            **common,
        )
        lab = _classify(act).pattern.values.astype(str)
        keep = _edge_mask(np.zeros(lab.size, int), PATTERN_FS)
        lab = lab[keep]
        right += int(np.sum(lab == f"spiral_{chir}"))
        wrong += int(np.sum(lab == f"spiral_{'cw' if chir == 'ccw' else 'ccw'}"))
        total += lab.size
    rows.append(
        row(
            "spiral 5 dB, classify_patterns",
            "sense accuracy",
            right / max(total, 1),
            unit="",
            n=total,
            detail=f"{n} spirals (ccw and cw alternate): fraction of frames labelled "
            f"with the true sense; opposite sense in {wrong / max(total, 1):.3f}; " + det_common,
        )
    )
    return rows


# ----------------------------------------------------------------------------- events

EVENT_FS = 200.0


def _order_measure(act: xr.DataArray) -> xr.DataArray:
    """Activity -> per-frame order parameter of the direction of travel (5-15 Hz)."""
    from wavekit.analysis import analytic_signal
    from wavekit.analysis.vectorfield import direction_field, order_parameter

    d = direction_field(analytic_signal(act, band_hz=PATTERN_BAND))
    return order_parameter(d.dir_x, d.dir_y).assign_attrs(fs_hz=EVENT_FS).rename("order")


def case_events_false_positives(rng_for: RngFor, quick: bool) -> list[Row]:
    from wavekit.analysis import detect_events, null_distribution
    from wavekit.model import grid_activity
    from wavekit.simulate.noise import make_noise

    n_rec = 2 if quick else 8
    rows: list[Row] = []
    for kind, label in (("white", "white"), ("pink", "1/f")):
        rng = rng_for(f"events_fp_{kind}")
        fr, raw_fr, n_ev = [], [], 0
        for _ in range(n_rec):
            x = make_noise(kind, (3000, 8, 8), rng)
            act = grid_activity(x, fs_hz=EVENT_FS, dx_mm=0.5)
            m = _order_measure(act)
            null = null_distribution(act, _order_measure, n=10, seed=_seed(rng))
            ev = detect_events(m, null=null, alpha=0.05, min_duration_s=0.02)
            raw = detect_events(m, null=null, alpha=0.05)
            fr.append(int(ev.n_frames.sum()) / 3000)
            raw_fr.append(int(raw.n_frames.sum()) / 3000)
            n_ev += ev.sizes["event"]
        det = (
            f"{n_rec} recordings of pure {label} noise, 8 x 8 grid at 0.5 mm, 3000 frames at "
            "200 Hz; measure: order parameter of the direction of travel (5-15 Hz); "
            "threshold from 10 phase-randomised surrogates at alpha 0.05, minimum duration "
            f"0.02 s; per recording {', '.join(f'{v:.4f}' for v in fr)} ({n_ev} events); "
            f"without minimum duration mean {np.mean(raw_fr):.4f}"
        )
        rows.append(
            row(
                f"events on {label} noise, detect_events",
                "max fraction of frames in events",
                max(fr),
                unit="",
                n=n_rec * 3000,
                detail=det,
                key="events_false_positive_fraction",
            )
        )
    return rows


def _coverage_interval(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95 % interval of a binomial proportion."""
    from scipy.stats import beta

    lo = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def case_ci_coverage(rng_for: RngFor, quick: bool) -> list[Row]:
    """Bootstrap 95 % CI of event speed: coverage of the true speed over simulated events."""
    from wavekit.analysis import analytic_signal, detect_events, pooled_wave_vector
    from wavekit.simulate import simulate

    n_ev = 200 if quick else 800
    f, n = 10.0, 200
    margin = int(np.ceil(3 * EVENT_FS / PATTERN_BAND[0]))
    rng = rng_for("ci_coverage")
    cover = []
    for _ in range(n_ev):
        lam = float(rng.uniform(4.0, 10.0))
        true = f * lam
        act, _ = simulate(
            "plane",
            nx=8,
            ny=8,
            spacing_mm=0.5,
            fs_hz=EVENT_FS,
            duration_s=(n + 2 * margin) / EVENT_FS,
            frequency_hz=f,
            speed_mm_per_s=true,
            direction_deg=float(rng.uniform(-180, 180)),
            snr_db=5.0,
            seed=_seed(rng),
        )
        z = analytic_signal(act, band_hz=PATTERN_BAND).isel(time=slice(margin, margin + n))
        p = pooled_wave_vector(z, dims=("y", "x"))
        m = xr.DataArray(
            np.ones(n), dims="time", coords={"time": z.time.values}, attrs={"fs_hz": EVENT_FS}
        )
        ev = detect_events(
            m, threshold=0.5, speed_mm_per_s=p.speed_mm_per_s.values, n_boot=1000, seed=_seed(rng)
        )
        cover.append(
            float(ev.speed_ci_low_mm_per_s[0]) <= true <= float(ev.speed_ci_high_mm_per_s[0])
        )
    k = int(np.sum(cover))
    cov = k / n_ev
    lo, hi = _coverage_interval(k, n_ev)
    det = (
        f"{n_ev} plane-wave events of 1 s (8 x 8 grid at 0.5 mm, 10 Hz, wavelength 4-10 mm, "
        "5 dB white noise, band 5-15 Hz), per-frame speeds from pooled_wave_vector, "
        "moving-block bootstrap t interval of the median speed from detect_events "
        f"(n_boot 1000); {k}/{n_ev} covered, Clopper-Pearson 95 % interval of the coverage "
        f"[{lo:.3f}, {hi:.3f}]"
    )
    if quick:
        # few events: pass when the coverage is statistically compatible with 90-98 %
        out = row(
            "event speed 95 % CI, detect_events",
            "coverage",
            cov,
            unit="",
            n=n_ev,
            detail=det + "; quick: passes when that interval meets the 0.90-0.98 band "
            "(the full run enforces the point value)",
            key="ci_coverage",
            op="in",
        )
        band = _threshold("ci_coverage")
        out["op"] = "binomial"
        out["passed"] = bool(hi >= band[0] and lo <= band[1])
        return [out]
    return [
        row(
            "event speed 95 % CI, detect_events",
            "coverage",
            cov,
            unit="",
            n=n_ev,
            detail=det,
            key="ci_coverage",
            op="in",
        )
    ]


# ----------------------------------------------------------------------------- others


def case_superposed_dispersive(rng_for: RngFor, quick: bool) -> list[Row]:
    """Informational: dominant component of superposed waves; each component of a dispersive
    wave, each fitted in its own band (f_j +- 1 Hz)."""
    from wavekit.analysis import analytic_signal
    from wavekit.simulate import simulate

    n_rec = 2 if quick else 8
    rows: list[Row] = []
    rng = rng_for("superposed")
    de, se = [], []
    for _ in range(n_rec):
        d = float(rng.uniform(-180, 180))
        c = float(rng.uniform(150, 600))
        act, truth = simulate(
            "superposed",
            frequency_hz=10.0,
            speed_mm_per_s=c,
            direction_deg=d,
            snr_db=10.0,
            duration_s=3.0,
            seed=_seed(rng),
        )
        z = _trim(analytic_signal(act, band_hz=(9.0, 11.0)), 9.0)
        a, b = _plane_fit_errors([(z, (10.0, c, d))])
        de.append(a)
        se.append(b)
    de, se = np.concatenate(de), np.concatenate(se)
    det = (
        f"{n_rec} records: components (10 Hz, c, theta, amplitude 1) and (15 Hz, c, "
        "theta + 120, 0.6), c uniform 150-600 mm/s, 16 x 16 grid at 0.4 mm, 10 dB, 3 s; "
        "plane_wave_fit in 9-11 Hz, median over frames"
    )
    rows.append(
        row(
            "superposed 10 dB, dominant component",
            "median speed error",
            np.median(se),
            unit="%",
            n=se.size,
            detail=det,
        )
    )
    rows.append(
        row(
            "superposed 10 dB, dominant component",
            "median direction error",
            np.median(de),
            unit="deg",
            n=de.size,
            detail=det,
        )
    )
    rng = rng_for("dispersive")
    per = {}
    for _ in range(n_rec):
        d = float(rng.uniform(-180, 180))
        c = float(rng.uniform(150, 600))
        act, truth = simulate(
            "dispersive",
            frequency_hz=10.0,
            speed_mm_per_s=c,
            direction_deg=d,
            snr_db=10.0,
            duration_s=3.0,
            seed=_seed(rng),
        )
        fj = truth["component_frequency_hz"].values
        cj = truth["component_speed_mm_per_s"].values
        for fk, ck in zip(fj, cj, strict=True):
            z = _trim(analytic_signal(act, band_hz=(fk - 1.0, fk + 1.0)), fk - 1.0)
            _, s = _plane_fit_errors([(z, (fk, ck, d))])
            per.setdefault(float(fk), []).append(s)
    meds = {k: float(np.median(np.concatenate(v))) for k, v in per.items()}
    worst = max(meds.values())
    det = (
        f"{n_rec} records: 5, 10, 20 Hz, c(f) = c (f / 10 Hz)^0.5, c uniform 150-600 mm/s, "
        "16 x 16 grid at 0.4 mm, 10 dB, 3 s; each component fitted in f_j +- 1 Hz; median "
        "speed error per component "
        + ", ".join(f"{k:g} Hz {v:.2f} %" for k, v in sorted(meds.items()))
    )
    rows.append(
        row(
            "dispersive 10 dB, per-component phase speed",
            "worst median speed error",
            worst,
            unit="%",
            n=n_rec * len(meds),
            detail=det,
        )
    )
    return rows


def _fronts(x, y, waves, *, fs, n, rng, snr_db):
    """Depolarisation-like fronts (fast tanh upstroke 1.5 ms, 80 ms up state, 10 ms recovery)
    crossing the array, one per ``(onset_s, direction_deg, speed)`` of ``waves``, timed from the
    origin of ``x``, ``y`` (:func:`wavekit.simulate.waves.pulse_train`); white noise at
    ``snr_db``."""
    from wavekit.simulate.noise import add_noise
    from wavekit.simulate.waves import pulse_train

    t = np.arange(n) / fs
    v, _ = pulse_train(t[:, None], x, y, waves=waves, width_s=0.08, rise_s=0.0015, recovery_s=0.01)
    noisy, _ = add_noise(v, snr_db, kind="white", rng=rng, grid=False)
    return noisy


def case_activation_front(rng_for: RngFor, quick: bool) -> list[Row]:
    from wavekit.analysis import activation_times, fit_activation_times
    from wavekit.model import grid_activity

    n_rec = 4 if quick else 16
    rng = rng_for("activation_front")
    yy, xx = np.mgrid[0:16, 0:16] * 0.4
    se, de = [], []
    for _ in range(n_rec):
        c = float(rng.uniform(200, 1000))
        d = float(rng.uniform(-180, 180))
        beats = [(b, d, c) for b in (0.1, 0.3, 0.5)]
        v = _fronts(xx.ravel(), yy.ravel(), beats, fs=1000.0, n=700, rng=rng, snr_db=20.0)
        da = grid_activity(v.reshape(-1, 16, 16), fs_hz=1000.0, dx_mm=0.4)
        fit = fit_activation_times(activation_times(da), n_boot=100, seed=_seed(rng))
        se.append(100 * np.abs(fit.front_speed_mm_per_s.values / c - 1))
        de.append(ang_err(fit.direction_deg.values, d))
    se, de = np.concatenate(se), np.concatenate(de)
    det = (
        f"{n_rec} records x 3 fronts (tanh upstroke 1.5 ms, 16 x 16 grid at 0.4 mm, fs 1 kHz, "
        "speed uniform 200-1000 mm/s, random direction, 20 dB white noise); activation_times "
        "(max slope) then fit_activation_times (robust time-on-position); median direction "
        f"error {np.median(de):.2f} deg"
    )
    return [
        row(
            "activation-time front speed",
            "median speed error",
            np.median(se),
            unit="%",
            n=se.size,
            detail=det,
        )
    ]


def case_trigger_waves(rng_for: RngFor, quick: bool) -> list[Row]:
    """Trigger-based waves (transitions clustered in space and time) on pulse fronts with known
    direction and speed, on a grid and on scattered electrodes; and on independent bursts."""
    from wavekit.analysis.triggers import transition_times, trigger_waves
    from wavekit.model import grid_activity, irregular_activity
    from wavekit.simulate.noise import add_noise

    n_rec = 4 if quick else 12
    rng = rng_for("trigger_waves")
    fs, n = 1000.0, 1200
    onsets = (0.15, 0.4, 0.65, 0.9)
    found = false = total = 0
    se, de = [], []
    for r in range(n_rec):
        grid = r % 2 == 0
        if grid:
            yy, xx = np.mgrid[0:16, 0:16] * 0.4
            x, y = xx.ravel(), yy.ravel()
        else:
            x, y = rng.uniform(0, 6, 150), rng.uniform(0, 6, 150)
        truth = [(b, float(rng.uniform(-180, 180)), float(rng.uniform(200, 1000))) for b in onsets]
        v = _fronts(x - x.mean(), y - y.mean(), truth, fs=fs, n=n, rng=rng, snr_db=10.0)
        act = (
            grid_activity(v.reshape(n, 16, 16), fs_hz=fs, dx_mm=0.4)
            if grid
            else irregular_activity(v, fs_hz=fs, x_mm=x, y_mm=y)
        )
        tr = transition_times(act, smooth_s=0.003, min_interval_s=0.1)
        w, _ = trigger_waves(tr, n_surrogates=49, n_boot=0, seed=_seed(rng))
        sig = np.flatnonzero(w["significant"].values)
        mid = 0.5 * (w["start_s"].values[sig] + w["end_s"].values[sig])
        used = set()
        for b, d, c in truth:
            k = np.flatnonzero(np.abs(mid - b) < 0.05)
            total += 1
            if k.size:
                j = sig[k[0]]
                used.add(int(k[0]))
                found += 1
                se.append(100 * abs(w["front_speed_mm_per_s"].values[j] / c - 1))
                de.append(float(ang_err(w["direction_deg"].values[j], d)))
        false += sig.size - len(used)
    # independent bursts: every channel on its own, as often as a wave would make it fire
    n_null = 2 if quick else 6
    null_sig = null_clusters = 0
    for _ in range(n_null):
        x, y = rng.uniform(0, 6, 100), rng.uniform(0, 6, 100)
        fsn, dur = 100.0, 300.0
        tn = np.arange(int(fsn * dur)) / fsn
        v = np.zeros((tn.size, x.size))
        for j in range(x.size):
            for b in rng.uniform(0, dur - 1, rng.poisson(dur / 5)):
                v[(tn >= b) & (tn < b + 0.5), j] += 1.0
        v, _ = add_noise(v, 20.0, kind="white", rng=rng, grid=False)
        tr = transition_times(
            irregular_activity(v, fs_hz=fsn, x_mm=x, y_mm=y), smooth_s=0.02, min_interval_s=0.6
        )
        w, _ = trigger_waves(tr, n_surrogates=49, n_boot=0, seed=_seed(rng))
        null_sig += int(w["significant"].sum())
        null_clusters += int(w.attrs["n_clusters"])
    det = (
        f"{n_rec} records (16 x 16 grid at 0.4 mm and 150 scattered electrodes, alternately) x 4 "
        "pulse fronts 250 ms apart (tanh upstroke 1.5 ms, random direction, 200-1000 mm/s, "
        "10 dB white noise, fs 1 kHz); transition_times (threshold, steepest upstroke) then "
        f"trigger_waves (49 shift surrogates): {found}/{total} fronts found as significant "
        f"waves, {false} false significant waves, median speed error {np.median(se):.2f} %"
    )
    det_null = (
        f"{n_null} records of 100 scattered electrodes bursting independently (300 s, one 0.5 s "
        f"burst per 5 s each, 20 dB): {null_clusters} chance clusters, {null_sig} significant"
    )
    return [
        row(
            "trigger waves 10 dB",
            "fronts found",
            found / max(total, 1),
            unit="-",
            n=total,
            detail=det,
        ),  # fmt: skip
        row("trigger waves 10 dB", "false significant waves", false, unit="-", n=total, detail=det),
        row(
            "trigger waves 10 dB",
            "median direction error",
            np.median(de),
            unit="deg",
            n=len(de),
            detail=det,
        ),  # fmt: skip
        row(
            "trigger waves 10 dB",
            "median speed error",
            np.median(se),
            unit="%",
            n=len(se),
            detail=det,
        ),  # fmt: skip
        row(
            "trigger waves, independent bursts",
            "significant waves",
            null_sig,
            unit="-",
            n=null_clusters,
            detail=det_null,
        ),  # fmt: skip
    ]


CASES: list[tuple[str, Callable[[RngFor, bool], list[Row]]]] = [
    ("plane waves on the 16 x 16 grid", case_plane_grid),
    ("plane waves on 64 random electrodes", case_plane_random),
    ("pattern classification", case_patterns),
    ("event false positives", case_events_false_positives),
    ("event speed CI coverage", case_ci_coverage),
    ("other layouts and SNR sweep", case_plane_layouts_and_sweep),
    ("centres and spiral sense", case_centres_and_sense),
    ("superposed and dispersive waves", case_superposed_dispersive),
    ("activation-time fronts", case_activation_front),
    ("trigger-based waves", case_trigger_waves),
]
