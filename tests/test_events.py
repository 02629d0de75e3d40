"""Event detection: segments, the event table, and false positives on noise without waves."""

from __future__ import annotations

import _patternwaves as pw
import numpy as np
import pytest
import xarray as xr

from wavekit.analysis.events import detect_events, event_segments, null_distribution
from wavekit.analysis.vectorfield import direction_field, order_parameter
from wavekit.errors import UsageError
from wavekit.model import grid_activity

FS = 200.0


def wave_measure(act: xr.DataArray) -> xr.DataArray:
    """Pipeline activity -> per-frame order parameter of the direction of travel (PGD-like)."""
    z = act.copy(data=pw.analytic(act.values, FS, (5.0, 15.0)))
    d = direction_field(z)
    return order_parameter(d.dir_x, d.dir_y).assign_attrs(fs_hz=FS).rename("order")


def test_event_segments_merge_and_minimum():
    above = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], bool)
    assert event_segments(above).tolist() == [[1, 3], [4, 5], [7, 10]]
    assert event_segments(above, min_frames=2).tolist() == [[1, 3], [7, 10]]
    assert event_segments(above, max_gap_frames=1).tolist() == [[1, 5], [7, 10]]
    assert event_segments(above, max_gap_frames=2).tolist() == [[1, 10]]
    assert event_segments(np.zeros(4, bool)).shape == (0, 2)
    assert event_segments(np.ones(3, bool)).tolist() == [[0, 3]]


def test_event_table_from_per_frame_inputs():
    n = 200
    t = np.arange(n) / 100.0
    m = np.full(n, 0.1)
    m[50:80] = 0.9
    m[120:123] = 0.9  # too short
    m[150:170] = 0.8
    meas = xr.DataArray(m, dims="time", coords={"time": t}, name="pgd")
    rng = np.random.default_rng(0)
    direction = np.where(np.arange(n) < 100, 179.0, -30.0) + rng.normal(0, 2, n)
    direction = (direction + 180) % 360 - 180
    speed = 250.0 + rng.normal(0, 5, n)
    pattern = np.array(["plane"] * n, dtype=object)
    pattern[150:158] = "source"
    cx = np.full(n, np.nan)
    cx[150:170] = 1.5
    ev = detect_events(
        meas,
        threshold=0.5,
        min_duration_s=0.05,
        direction_deg=direction,
        speed_mm_per_s=speed,
        planarity=m,
        pattern=pattern,
        centre_x_mm=cx,
        centre_y_mm=cx * 0 - 0.5,
        seed=1,
        split_on_pattern=False,  # the majority label; splits: test_events_split_where_...
    )
    assert ev.sizes["event"] == 2
    np.testing.assert_allclose(ev.start_s, [0.5, 1.5])
    np.testing.assert_allclose(ev.end_s, [0.8, 1.7])
    np.testing.assert_allclose(ev.duration_s, [0.3, 0.2])
    assert ev.n_frames.values.tolist() == [30, 20]
    # circular mean across +-180, not the arithmetic mean (which would be near 0)
    assert abs(abs(float(ev.direction_deg[0])) - 179.0) < 2.0
    assert abs(float(ev.direction_deg[1]) + 30.0) < 2.0
    assert ev.pattern.values.tolist() == ["plane", "plane"]
    assert float(ev.pattern_fraction[1]) == pytest.approx(12 / 20)
    for k in range(2):
        assert ev.speed_ci_low_mm_per_s[k] < ev.speed_mm_per_s[k] < ev.speed_ci_high_mm_per_s[k]
    assert np.isnan(float(ev.centre_x_mm[0])) and float(ev.centre_x_mm[1]) == 1.5
    np.testing.assert_allclose(ev.planarity, [0.9, 0.8])
    assert np.isnan(ev.p_value).all()  # no null given
    assert ev.attrs["threshold"] == 0.5 and ev.attrs["threshold_from"] == "fixed"
    assert ev.speed_mm_per_s.attrs["units"] == "mm/s"
    # same seed, same table
    ev2 = detect_events(meas, threshold=0.5, min_duration_s=0.05, speed_mm_per_s=speed, seed=1)
    np.testing.assert_array_equal(ev2.speed_ci_low_mm_per_s, ev.speed_ci_low_mm_per_s)


def test_no_events_gives_an_empty_table():
    meas = xr.DataArray(np.zeros(50), dims="time", attrs={"fs_hz": 10.0})
    ev = detect_events(meas, threshold=1.0)
    assert ev.sizes["event"] == 0 and "p_value" in ev


def test_wrong_usage_is_caught():
    meas = xr.DataArray(np.zeros(5), dims="time", attrs={"fs_hz": 10.0})
    with pytest.raises(UsageError):
        detect_events(meas)
    with pytest.raises(UsageError):
        detect_events(meas, threshold=1.0, null=np.zeros(5))
    with pytest.raises(UsageError):
        detect_events(meas, threshold=1.0, speed_mm_per_s=np.zeros(4))


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_false_positive_rate_on_noise_is_at_most_nominal(noise):
    """No waves: independent white or 1/f noise per channel. Threshold from phase-randomised
    surrogates of the same recording at alpha = 0.05."""
    fracs_min, fracs_raw, pvals = [], [], []
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        shape = (3000, 8, 8)
        x = rng.normal(size=shape) if noise == "white" else pw.pink_noise(shape, rng)
        act = grid_activity(x, fs_hz=FS, dx_mm=0.5)
        m = wave_measure(act)
        null = null_distribution(act, wave_measure, n=10, seed=seed)
        raw = detect_events(m, null=null, alpha=0.05)
        ev = detect_events(m, null=null, alpha=0.05, min_duration_s=0.02)
        fracs_raw.append(int(raw.n_frames.sum()) / shape[0])
        fracs_min.append(int(ev.n_frames.sum()) / shape[0])
        pvals.extend(raw.p_value.values.tolist())
    print(
        f"{noise}: frames in events {np.round(fracs_raw, 4)} (no minimum), "
        f"{np.round(fracs_min, 4)} (>= 20 ms); events with p < 0.05: "
        f"{np.mean(np.array(pvals) < 0.05):.3f}"
    )
    # the surrogate null is calibrated: frames above threshold ~ alpha (sampling error of
    # strongly autocorrelated measures is large, hence the tolerance)
    assert abs(np.mean(fracs_raw) - 0.05) <= 0.015
    # the detector (minimum duration 20 ms): false-positive frames at or below nominal
    assert max(fracs_min) <= 0.05
    assert np.mean(np.array(pvals) < 0.05) <= 0.10  # event p-values are calibrated


def test_real_waves_are_detected_with_small_p_values():
    rng = np.random.default_rng(7)
    x, y = pw.grid(8, 8, 0.5)
    n = 1200
    act = rng.normal(size=(n, 8, 8))
    t = np.arange(n) / FS
    on = (t >= 2.0) & (t < 3.0)
    ph = pw.phase_field("plane", t, x, y, k=1.0, direction_deg=150.0)
    act = act + 2.0 * np.cos(ph) * on[:, None, None]
    act = grid_activity(act, fs_hz=FS, x_mm=x, y_mm=y)
    m = wave_measure(act)
    null = null_distribution(act, wave_measure, n=8, seed=3)
    speed, direction = pw.mean_wave(pw.analytic(act.values, FS, (5.0, 15.0)), 0.5, FS)
    ev = detect_events(
        m,
        null=null,
        alpha=0.01,
        min_duration_s=0.1,
        speed_mm_per_s=speed,
        direction_deg=direction,
        seed=0,
    )
    main = int(np.argmax(ev.duration_s.values))
    assert abs(float(ev.start_s[main]) - 2.0) < 0.15 and abs(float(ev.end_s[main]) - 3.0) < 0.15
    true_speed = 2 * np.pi * 10.0 / 1.0
    assert ev.speed_ci_low_mm_per_s[main] <= true_speed <= ev.speed_ci_high_mm_per_s[main]
    assert abs(float(ev.direction_deg[main]) - 150.0) < 3.0
    assert float(ev.direction_rayleigh_p[main]) < 1e-6
    assert float(ev.p_value[main]) <= 1 / 9 and float(ev.p_value_fwer[main]) == 1 / 9
    ev = detect_events(m, null=null, alpha=0.05, min_duration_s=0.02)
    main = int(np.argmax(ev.duration_s.values))
    assert float(ev.p_value[main]) < 0.05  # beyond every null event (pooled: finer resolution)
    assert ev.attrs["alpha"] == 0.05 and "quantile" in ev.attrs["threshold_from"]


def test_docstring_examples_run():
    import doctest

    import wavekit.analysis.events as mod

    assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# ----------------------------------------------------------------------------- pattern splits


def test_pattern_pieces_cut_only_where_a_new_pattern_holds():
    from wavekit.analysis.events import pattern_pieces

    assert pattern_pieces([], 3) == []
    assert pattern_pieces(["none"] * 4, 2) == [(0, 4)]
    # brief flickers and "none" frames never cut
    flicker = ["plane"] * 6 + ["source"] + ["none"] * 2 + ["plane"] * 6
    assert pattern_pieces(flicker, 3) == [(0, 15)]
    seq = ["plane"] * 10 + ["none"] * 4 + ["spiral_cw"] * 10 + ["saddle"] * 5
    assert pattern_pieces(seq, 3) == [(0, 12), (12, 24), (24, 29)]


def test_events_split_where_the_pattern_changes():
    t = np.arange(300) / 100.0
    m = xr.DataArray(np.where((t > 0.5) & (t < 2.5), 0.9, 0.1), dims="time", coords={"time": t})
    pattern = np.where(t < 1.5, "plane", "spiral_ccw")
    direction = np.where(t < 1.5, 30.0, -60.0)
    ev = detect_events(
        m, threshold=0.5, min_duration_s=0.1, pattern=pattern, direction_deg=direction
    )
    assert list(ev["pattern"].values) == ["plane", "spiral_ccw"]
    np.testing.assert_allclose(ev["start_s"].values, [0.51, 1.5])
    np.testing.assert_allclose(ev["direction_deg"].values, [30.0, -60.0], atol=1e-9)
    assert np.all(ev["pattern_fraction"].values == 1.0)
    whole = detect_events(
        m, threshold=0.5, min_duration_s=0.1, pattern=pattern, split_on_pattern=False
    )
    assert whole.sizes["event"] == 1


def test_analyze_splits_the_pattern_sequence_sample():
    """The shipped sequence (plane, source, sink, ... 1 s each): events follow the episodes."""
    from pathlib import Path

    from wavekit.io import load
    from wavekit.pipeline.analyze import analyze
    from wavekit.pipeline.config import make_config

    path = Path(__file__).resolve().parents[1] / "sample_data" / "patterns_sequence.h5"
    res = analyze(load(path), make_config(n_surrogates=19))
    ev = res.events
    assert ev.sizes["event"] >= 4
    assert np.all(ev["pattern_fraction"].values > 0.9)
    for pattern, start in (("plane", 0.0), ("source", 1.0), ("sink", 2.0)):
        rows = np.flatnonzero(ev["pattern"].values == pattern)
        assert rows.size == 1, pattern
        assert ev["start_s"].values[rows[0]] == pytest.approx(max(start, 0.4), abs=0.05)
