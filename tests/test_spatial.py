"""Spatial statistics: sources and rotation centres, the rho statistics, correlation length, lags.

The analytic wave generators here (plane, target, spiral, noise at an SNR) are also used by
``test_spectra.py`` and ``test_motion.py``; they do not depend on ``wavekit.simulate``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis.spatial import (
    _fisher_lee,
    correlation_vs_distance,
    find_rotation_centre,
    find_source,
    lag_map,
    phase_distance_correlation,
    phase_rotation_correlation,
)
from wavekit.model import grid_activity

# ----------------------------------------------------------------------------- generators


def _grid(n: int, pitch: float):
    yy, xx = np.mgrid[0:n, 0:n] * pitch
    return xx, yy


def _finish(phase, *, fs, pitch, snr_db, seed, complex_out):
    rng = np.random.default_rng(seed)
    x = np.exp(1j * phase) if complex_out else np.cos(phase)
    if snr_db is not None:
        # signal power of cos is 1/2 (of exp(i.) 1): noise power = signal power / 10^(snr/10)
        p_sig = 1.0 if complex_out else 0.5
        sigma = np.sqrt(p_sig / 10 ** (snr_db / 10))
        if complex_out:
            sigma /= np.sqrt(2)
            x = x + sigma * (rng.normal(size=x.shape) + 1j * rng.normal(size=x.shape))
        else:
            x = x + rng.normal(0.0, sigma, x.shape)
    return grid_activity(x, fs_hz=fs, dx_mm=pitch)


def plane(
    *,
    direction_deg=30.0,
    wavelength_mm=4.0,
    freq_hz=10.0,
    n=32,
    pitch=0.4,
    fs=200.0,
    duration_s=1.0,
    snr_db=None,
    seed=0,
    complex_out=False,
):
    """``cos(2 pi f t - k.r)``, ``k`` along ``direction_deg``, ``|k| = 2 pi / wavelength``."""
    t = np.arange(int(round(duration_s * fs)))[:, None, None] / fs
    xx, yy = _grid(n, pitch)
    k = 2 * np.pi / wavelength_mm
    th = np.radians(direction_deg)
    ph = 2 * np.pi * freq_hz * t - k * (np.cos(th) * xx + np.sin(th) * yy)
    return _finish(ph, fs=fs, pitch=pitch, snr_db=snr_db, seed=seed, complex_out=complex_out)


def target(
    *,
    cx=5.0,
    cy=7.0,
    outward=True,
    wavelength_mm=3.0,
    freq_hz=10.0,
    n=32,
    pitch=0.4,
    fs=200.0,
    duration_s=1.0,
    snr_db=None,
    seed=0,
    complex_out=False,
):
    """Target (ring) wave about ``(cx, cy)``: ``cos(w t -+ k r)``, outward for a source."""
    t = np.arange(int(round(duration_s * fs)))[:, None, None] / fs
    xx, yy = _grid(n, pitch)
    r = np.hypot(xx - cx, yy - cy)
    s = 1.0 if outward else -1.0
    ph = 2 * np.pi * freq_hz * t - s * (2 * np.pi / wavelength_mm) * r
    return _finish(ph, fs=fs, pitch=pitch, snr_db=snr_db, seed=seed, complex_out=complex_out)


def spiral(
    *,
    cx=6.3,
    cy=6.1,
    ccw=True,
    k_radial=0.3,
    freq_hz=10.0,
    n=32,
    pitch=0.4,
    fs=200.0,
    duration_s=1.0,
    snr_db=None,
    seed=0,
    complex_out=False,
):
    """One-armed spiral ``cos(w t - m theta - k r)``; ``m = +1`` rotates anticlockwise."""
    t = np.arange(int(round(duration_s * fs)))[:, None, None] / fs
    xx, yy = _grid(n, pitch)
    th = np.arctan2(yy - cy, xx - cx)
    r = np.hypot(xx - cx, yy - cy)
    m = 1.0 if ccw else -1.0
    ph = 2 * np.pi * freq_hz * t - m * th - k_radial * r
    return _finish(ph, fs=fs, pitch=pitch, snr_db=snr_db, seed=seed, complex_out=complex_out)


def noise(*, n=32, pitch=0.4, fs=200.0, duration_s=1.0, seed=0):
    """Spatially and temporally white Gaussian noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(int(round(duration_s * fs)), n, n))
    return grid_activity(x, fs_hz=fs, dx_mm=pitch)


def exp_correlated_noise(*, length_mm=2.0, n=32, pitch=0.4, nt=1500, fs=100.0, seed=0):
    """Gaussian noise whose correlation between sites is ``exp(-d / length_mm)``."""
    rng = np.random.default_rng(seed)
    xx, yy = _grid(n, pitch)
    px, py = xx.ravel(), yy.ravel()
    d = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
    chol = np.linalg.cholesky(np.exp(-d / length_mm) + 1e-10 * np.eye(d.shape[0]))
    x = rng.normal(size=(nt, n * n)) @ chol.T
    return grid_activity(x.reshape(nt, n, n), fs_hz=fs, dx_mm=pitch)


# ----------------------------------------------------------------------------- Fisher-Lee


def _fisher_lee_pairs(a, b):
    """Reference: the O(n^2) pair-sum definition of Fisher & Lee (1983)."""
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    da = np.sin(a[:, None] - a[None, :])
    db = np.sin(b[:, None] - b[None, :])
    iu = np.triu_indices(a.size, 1)
    num = np.sum(da[iu] * db[iu])
    den = np.sqrt(np.sum(da[iu] ** 2) * np.sum(db[iu] ** 2))
    return num / den


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 2**31 - 1),
    nan_frac=st.floats(0.0, 0.4),
    slope=st.floats(-3, 3),
)
def test_fisher_lee_closed_form_matches_pair_sum(n, seed, nan_frac, slope):
    rng = np.random.default_rng(seed)
    b = rng.uniform(-np.pi, np.pi, n)
    a = slope * b + rng.normal(0, 0.5, n)
    a[rng.random(n) < nan_frac] = np.nan
    ok = np.isfinite(a)
    if ok.sum() < 3:
        return
    ref = _fisher_lee_pairs(a, b)
    got = float(_fisher_lee(a, b))
    if np.isfinite(ref):
        assert got == pytest.approx(ref, abs=1e-9)


def test_fisher_lee_sign_and_rotation_invariance():
    rng = np.random.default_rng(3)
    th = rng.uniform(-np.pi, np.pi, 200)  # covers the circle uniformly: J-S would be unstable
    assert float(_fisher_lee(-th + 1.0, th)) == pytest.approx(-1.0)
    assert float(_fisher_lee(th + 2.0, th)) == pytest.approx(1.0)
    assert float(_fisher_lee(th + 2.0, th + 0.7)) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- sources, rho


@pytest.mark.parametrize("outward", [True, False])
def test_source_and_sink_found_within_one_cell_with_signed_rho(outward):
    cx, cy = 5.13, 7.31
    a = target(cx=cx, cy=cy, outward=outward, duration_s=0.3, snr_db=5.0, complex_out=True)
    loc = find_source(a)
    assert str(loc.kind.values) == ("source" if outward else "sink")
    err = np.hypot(float(loc.x_mm) - cx, float(loc.y_mm) - cy)
    assert err < 0.4, err  # one grid cell (pitch 0.4 mm)
    frames = a.isel(time=slice(10, 14))
    res = phase_distance_correlation(frames, source=loc, n_permutations=19, seed=1)
    rho = res.rho.values
    if outward:  # phase decreases with distance from a source
        assert (rho < -0.7).all(), rho  # about -0.82 at 5 dB, -1 without noise
    else:
        assert (rho > 0.7).all(), rho
    assert (res.p_value.values <= 0.05).all()  # = 1/20: no shuffle reaches |rho|
    assert bool(res.outward.all()) is outward
    k = 2 * np.pi / 3.0
    assert np.allclose(np.abs(res.slope_rad_per_mm.values), k, rtol=0.05)


def test_rho_is_small_for_noise_and_plane_direction_does_not_fake_a_sink():
    a = noise(duration_s=0.2)
    z = np.exp(1j * 2 * np.pi * np.random.default_rng(0).random(a.shape))
    res = phase_distance_correlation(a.copy(data=z), source=(6.0, 6.0), n_permutations=19)
    assert np.median(np.abs(res.rho.values)) < 0.15
    assert np.median(res.p_value.values) > 0.05


def test_rho_excludes_nan_sites():
    a = target(cx=6.0, cy=6.0, duration_s=0.1, complex_out=True)
    data = a.values.copy()
    data[:, 3:9, 10:20] = np.nan
    res = phase_distance_correlation(a.copy(data=data), source=(6.0, 6.0))
    assert (res.n_channels.values == 32 * 32 - 60).all()
    assert (res.rho.values < -0.95).all()


@pytest.mark.parametrize("ccw", [True, False])
def test_rotation_correlation_detects_spiral_and_its_sense(ccw):
    cx, cy = 6.3, 6.1
    a = spiral(cx=cx, cy=cy, ccw=ccw, duration_s=0.3, snr_db=5.0, complex_out=True)
    cen = find_rotation_centre(a)
    assert str(cen.kind.values) == ("ccw" if ccw else "cw")
    assert np.hypot(float(cen.x_mm) - cx, float(cen.y_mm) - cy) < 0.8  # two cells
    res = phase_rotation_correlation(a.isel(time=slice(10, 13)), centre=cen, n_permutations=19)
    if ccw:
        assert (res.rho.values < -0.7).all(), res.rho.values
    else:
        assert (res.rho.values > 0.7).all(), res.rho.values
    assert (res.sense.values == ("ccw" if ccw else "cw")).all()
    assert (res.p_value.values <= 0.05).all()


def test_time_reversal_flips_sense_of_source_and_rotation():
    a = target(cx=6.0, cy=6.0, duration_s=0.2, complex_out=True)
    rev = a.copy(data=a.values[::-1])
    assert str(find_source(rev).kind.values) == "sink"
    s = spiral(duration_s=0.2, complex_out=True)
    srev = s.copy(data=s.values[::-1])
    res = phase_rotation_correlation(srev, centre=(6.3, 6.1))
    assert (res.sense.values[1:-1] == "cw").all()


def test_dask_input_gives_the_numpy_answer():
    a = target(cx=5.0, cy=6.0, duration_s=0.15, snr_db=10.0, complex_out=True)
    ad = a.chunk({"time": 7})
    s1, s2 = find_source(a), find_source(ad)
    assert float(s1.x_mm) == pytest.approx(float(s2.x_mm), abs=1e-9)
    assert float(s1.y_mm) == pytest.approx(float(s2.y_mm), abs=1e-9)
    r1 = phase_distance_correlation(a, source=(5.0, 6.0))
    r2 = phase_distance_correlation(ad, source=(5.0, 6.0))
    np.testing.assert_allclose(r1.rho.values, r2.rho.values, atol=1e-12)
    np.testing.assert_array_equal(r1.outward.values, r2.outward.values)
    c1 = phase_rotation_correlation(a, centre=(5.0, 6.0))
    c2 = phase_rotation_correlation(ad, centre=(5.0, 6.0))
    np.testing.assert_allclose(c1.rho.values, c2.rho.values, atol=1e-12)


def test_frequency_sign_for_frames_picked_out_of_a_record():
    # 10 Hz at 200 Hz, every 7th sample: between a frame's two neighbours the phase advances
    # 0.7 turn, i.e. it seems to run backwards by 0.3 turn: the estimated sign is wrong
    a = target(cx=6.0, cy=6.0, duration_s=1.0, complex_out=True)
    picked = a.isel(time=slice(20, 180, 7))
    assert str(find_source(picked).kind.values) == "sink"  # wrong without the sign
    assert str(find_source(picked, frequency_sign=1.0).kind.values) == "source"
    res = phase_distance_correlation(picked, source=(6.0, 6.0), frequency_sign=1.0)
    assert bool(res.outward.all())


# ----------------------------------------------------------------------------- correlation length


def test_correlation_length_recovered_on_exponentially_correlated_noise():
    a = exp_correlated_noise(length_mm=2.0)
    c = correlation_vs_distance(a)
    lam = float(c.correlation_length_mm)
    assert lam == pytest.approx(2.0, rel=0.2), lam
    assert float(c.amplitude) == pytest.approx(1.0, abs=0.15)
    assert float(c.fit_r2) > 0.9
    # subset of sites (seeded) agrees
    c2 = correlation_vs_distance(a, max_sites=300, seed=4)
    assert float(c2.correlation_length_mm) == pytest.approx(2.0, rel=0.2)


def test_correlation_vs_distance_dask_matches_numpy_and_skips_nan_channels():
    a = exp_correlated_noise(length_mm=1.0, n=12, nt=600)
    data = a.values.copy()
    data[:, 0, 0] = np.nan
    a = a.copy(data=data)
    c1 = correlation_vs_distance(a)
    c2 = correlation_vs_distance(a.chunk({"time": 100}))
    assert c1.attrs["n_channels"] == 12 * 12 - 1
    np.testing.assert_allclose(c1.correlation.values, c2.correlation.values, rtol=1e-10)
    assert float(c1.correlation_length_mm) == pytest.approx(1.0, rel=0.25)


# ----------------------------------------------------------------------------- lag maps


def test_lag_map_on_plane_wave_is_distance_along_k_over_speed():
    direction, wavelength, f = 25.0, 8.0, 5.0
    speed = wavelength * f  # 40 mm/s
    a = plane(direction_deg=direction, wavelength_mm=wavelength, freq_hz=f, n=12, pitch=0.4,
              fs=1000.0, duration_s=2.0)  # fmt: skip
    ref = {"x": 2.0, "y": 2.0}
    m = lag_map(a, reference=ref, max_lag_s=0.09)  # < half a period (0.1 s)
    xx, yy = _grid(12, 0.4)
    th = np.radians(direction)
    expected = ((xx - 2.0) * np.cos(th) + (yy - 2.0) * np.sin(th)) / speed
    np.testing.assert_allclose(m.lag_s.values, expected, atol=2e-4)  # 0.2 samples
    assert float(m.peak_correlation.min()) > 0.99
    assert m.attrs["reference_x_mm"] == pytest.approx(2.0)


def test_lag_map_nan_channel_and_dask():
    a = plane(n=8, fs=500.0, freq_hz=4.0, wavelength_mm=10.0, duration_s=1.0)
    data = a.values.copy()
    data[:, 1, 1] = np.nan
    a = a.copy(data=data)
    m1 = lag_map(a, max_lag_s=0.1)
    m2 = lag_map(a.chunk({"x": 4}), max_lag_s=0.1)
    assert np.isnan(float(m1.lag_s[1, 1]))
    np.testing.assert_allclose(m1.lag_s.values, m2.lag_s.values, atol=1e-12, equal_nan=True)


def test_irregular_layout_gives_the_grid_answer():
    from wavekit.model import to_irregular

    a = target(cx=5.0, cy=6.0, duration_s=0.1, snr_db=10.0, complex_out=True)
    irr = to_irregular(a)
    r1 = phase_distance_correlation(a, source=(5.0, 6.0))
    r2 = phase_distance_correlation(irr, source=(5.0, 6.0))
    np.testing.assert_allclose(r1.rho.values, r2.rho.values, atol=1e-12)
    s = spiral(duration_s=0.1, complex_out=True)
    c1 = phase_rotation_correlation(s, centre=(6.3, 6.1))
    c2 = phase_rotation_correlation(to_irregular(s), centre=(6.3, 6.1))
    np.testing.assert_allclose(c1.rho.values, c2.rho.values, atol=1e-12)
    n = exp_correlated_noise(length_mm=1.0, n=10, nt=400)
    l1 = correlation_vs_distance(n)
    l2 = correlation_vs_distance(to_irregular(n))
    assert float(l1.correlation_length_mm) == pytest.approx(float(l2.correlation_length_mm))
