"""Surrogates, quantile thresholds, block bootstrap (with a coverage test on simulated events)."""

from __future__ import annotations

import _patternwaves as pw
import numpy as np
import pytest

from wavekit.analysis.stats import (
    block_length,
    bootstrap_ci,
    circular_dispersion,
    circular_summary,
    iter_surrogates,
    quantile_threshold,
    surrogate,
)
from wavekit.errors import UsageError
from wavekit.model import grid_activity, irregular_activity


def _wave_activity(rng, n=512, nan_site=True):
    x, y = pw.grid(6, 6, 0.5)
    ph = pw.phase_field("plane", np.arange(n) / 200.0, x, y, k=1.0)
    act = pw.add_noise(np.cos(ph), 10.0, rng)
    if nan_site:
        act[:, 2, 3] = np.nan
    return grid_activity(act, fs_hz=200.0, x_mm=x, y_mm=y)


def test_phase_surrogate_keeps_spectra_and_breaks_coordination():
    act = _wave_activity(np.random.default_rng(0))
    s = surrogate(act, method="phase", seed=1)
    assert s.dims == act.dims and s.attrs["surrogate_method"] == "phase"
    assert np.isnan(s.values[:, 2, 3]).all()  # NaN channel stays NaN, never zero-filled
    for i, j in ((0, 0), (4, 5)):
        p0 = np.abs(np.fft.rfft(act.values[:, i, j])) ** 2
        p1 = np.abs(np.fft.rfft(s.values[:, i, j])) ** 2
        np.testing.assert_allclose(p1, p0, rtol=1e-8, atol=1e-8 * p0.max())

    # the wave's phase step between neighbouring columns is consistent in the data, random in
    # the surrogate (Fourier phase at the wave's frequency)
    def steps(v):
        spec = np.fft.rfft(np.nan_to_num(v), axis=0)
        ph = np.angle(spec[np.argmax(np.abs(spec[:, 0, 0]))])
        d = np.exp(1j * (ph[:, 1:] - ph[:, :-1]))
        return abs(np.mean(d[np.isfinite(v[0, :, 1:]) & np.isfinite(v[0, :, :-1])]))

    assert steps(act.values) > 0.9 and steps(s.values) < 0.5


def test_phase_surrogate_keeps_scattered_nan_samples_in_place():
    act = _wave_activity(np.random.default_rng(0))
    v = act.values.copy()
    v[10:20, 0, 0] = np.nan
    s = surrogate(act.copy(data=v), method="phase", seed=2)
    assert np.array_equal(np.isnan(s.values), np.isnan(v))


def test_shuffle_and_shift_surrogates():
    act = _wave_activity(np.random.default_rng(0))
    sh = surrogate(act, method="shuffle", seed=3)
    assert np.isnan(sh.values[:, 2, 3]).all()
    sites = [(i, j) for i in range(6) for j in range(6) if (i, j) != (2, 3)]
    orig = {tuple(np.round(act.values[:5, i, j], 12)) for i, j in sites}
    new = {tuple(np.round(sh.values[:5, i, j], 12)) for i, j in sites}
    assert orig == new and not np.array_equal(sh.values, act.values, equal_nan=True)
    st = surrogate(act, method="shift", seed=4, min_shift_s=0.1)
    a, b = act.values[:, 1, 1], st.values[:, 1, 1]
    shifts = [k for k in range(a.size) if np.allclose(np.roll(a, k), b)]
    assert len(shifts) == 1 and 20 <= shifts[0] <= a.size - 20
    irr = irregular_activity(
        np.random.default_rng(1).normal(size=(50, 4)),
        fs_hz=10.0,
        x_mm=[0, 1, 2, 3],
        y_mm=[0, 0, 0, 0],
    )
    assert surrogate(irr, method="shift", seed=0).dims == ("time", "channel")


def test_surrogates_are_reproducible_from_the_seed():
    act = _wave_activity(np.random.default_rng(0))
    a = [s.values for s in iter_surrogates(act, n=3, method="phase", seed=11)]
    b = [s.values for s in iter_surrogates(act, n=2, method="phase", seed=11)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], a[1], equal_nan=True)
    with pytest.raises(UsageError):
        surrogate(act, method="bogus")


def test_quantile_threshold_rank_rule():
    assert quantile_threshold(np.arange(1, 101), alpha=0.05) == 96.0
    assert quantile_threshold(np.array([1.0, np.nan, 2.0]), alpha=0.05) == 2.0
    null = np.random.default_rng(0).normal(size=20000)
    thr = quantile_threshold(null, alpha=0.05)
    fresh = np.random.default_rng(1).normal(size=200000)
    assert abs(np.mean(fresh > thr) - 0.05) < 0.005
    with pytest.raises(UsageError):
        quantile_threshold([np.nan])
    with pytest.raises(UsageError):
        quantile_threshold([1.0], alpha=1.5)


def test_block_length_grows_with_autocorrelation():
    from scipy.signal import lfilter

    rng = np.random.default_rng(0)
    e = rng.normal(size=1000)
    assert block_length(e) <= 3
    b5 = block_length(lfilter([1.0], [1.0, -0.5], e))
    b9 = block_length(lfilter([1.0], [1.0, -0.95], e))
    assert 1 <= b5 < b9 <= 500


def test_bootstrap_iid_coverage_and_edge_cases():
    rng = np.random.default_rng(3)
    cover = []
    for _ in range(200):
        x = rng.normal(5.0, 2.0, 60)
        _, lo, hi = bootstrap_ci(x, n_boot=500, seed=rng)
        cover.append(lo <= 5.0 <= hi)
    assert 0.88 <= np.mean(cover) <= 0.99
    assert np.isnan(bootstrap_ci([np.nan])[0])
    assert bootstrap_ci([3.0]) == (3.0, 3.0, 3.0)
    est, lo, hi = bootstrap_ci(np.arange(10.0), statistic="mean", interval="percentile", seed=0)
    assert lo < est == 4.5 < hi
    assert bootstrap_ci(np.arange(10.0), seed=5) == bootstrap_ci(np.arange(10.0), seed=5)


def test_bootstrap_interval_of_event_speed_covers_truth_90_to_98_percent():
    """Plane-wave events of 1 s at 5 dB (white noise, band-passed): per-frame speeds are
    strongly autocorrelated; the moving-block t interval must cover the true speed."""
    rng = np.random.default_rng(2024)
    fs, f, dx, n, margin = 200.0, 10.0, 0.5, 200, 60
    x, y = pw.grid(8, 8, dx)
    t = np.arange(n + 2 * margin) / fs
    cover, cover_pct = [], []
    for _ in range(160):
        lam = rng.uniform(4.0, 10.0)
        true = f * lam
        ph = pw.phase_field(
            "plane", t, x, y, f_hz=f, k=2 * np.pi / lam, direction_deg=rng.uniform(-180, 180)
        )
        z = pw.analytic(pw.add_noise(np.cos(ph), 5.0, rng), fs, (5.0, 15.0))[margin:-margin]
        speeds, _ = pw.mean_wave(z, dx, fs)
        _, lo, hi = bootstrap_ci(speeds, n_boot=1000, seed=rng)
        cover.append(lo <= true <= hi)
        _, lo, hi = bootstrap_ci(speeds, n_boot=1000, seed=rng, interval="percentile")
        cover_pct.append(lo <= true <= hi)
    print(f"speed CI coverage: t {np.mean(cover):.3f}, percentile {np.mean(cover_pct):.3f}")
    assert 0.90 <= np.mean(cover) <= 0.98


def test_circular_summary_and_dispersion():
    rng = np.random.default_rng(0)
    a = np.degrees(rng.vonmises(np.radians(170.0), 4.0, 400))
    s = circular_summary(np.concatenate([a, [np.nan]]))
    assert abs(((s["mean_deg"] - 170.0 + 180) % 360) - 180) < 5
    assert s["n"] == 400 and s["rayleigh_p"] < 1e-10
    assert 0 < s["circular_sd_deg"] < 60
    u = circular_summary(rng.uniform(-180, 180, 400))
    assert u["rayleigh_p"] > 0.001
    assert np.isnan(circular_summary([])["mean_deg"])
    assert float(circular_dispersion(np.array([0.0, np.pi]))) > 8  # R ~ 0: dispersion huge


def test_docstring_examples_run():
    import doctest

    import wavekit.analysis.stats as mod

    assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
