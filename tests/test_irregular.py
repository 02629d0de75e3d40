"""Local circular-linear fits over neighbours: plane, radial and rotating waves, noise, dask."""

from __future__ import annotations

import numpy as np
import xarray as xr
from _fitwaves import ang_err, irregular_case, random_positions
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis import _kernels_fit as K
from wavekit.analysis.irregular import local_wave_vectors, neighbourhoods
from wavekit.model import grid_activity, irregular_activity


def _z(phase_fn, x, y, fs=1000.0, n=40, f=10.0):
    t = np.arange(n)[:, None] / fs
    return np.exp(1j * (2 * np.pi * f * t + phase_fn(x[None, :], y[None, :])))


def test_plane_wave_exact_on_irregular_layout_with_nan():
    rng = np.random.default_rng(0)
    x, y = random_positions(64, 6.0, rng)
    k = np.array([0.8, -0.3])
    z = _z(lambda x, y: -(k[0] * x + k[1] * y), x, y)
    z[:, rng.choice(64, 6, replace=False)] = np.nan
    z[5, 10] = np.nan
    lw = local_wave_vectors(irregular_activity(z, fs_hz=1000.0, x_mm=x, y_mm=y).rename("phase"))
    ok = np.isfinite(z)
    assert (np.isfinite(lw.kx_rad_per_mm.values) == ok).all()
    np.testing.assert_allclose(lw.kx_rad_per_mm.values[ok], k[0], atol=1e-8)
    np.testing.assert_allclose(lw.ky_rad_per_mm.values[ok], k[1], atol=1e-8)
    speed = 2 * np.pi * 10.0 / np.hypot(*k)
    np.testing.assert_allclose(lw.speed_mm_per_s.values[ok], speed, rtol=1e-6)
    np.testing.assert_allclose(lw.wavelength_mm.values[ok], 2 * np.pi / np.hypot(*k), rtol=1e-8)
    d = np.degrees(np.arctan2(k[1], k[0]))
    assert ang_err(lw.direction_deg.values[ok], d).max() < 1e-6
    # reversing time reverses the direction
    rev = local_wave_vectors(
        irregular_activity(z[::-1], fs_hz=1000.0, x_mm=x, y_mm=y).rename("phase")
    )
    assert ang_err(rev.direction_deg.values[::-1][ok], d + 180.0).max() < 1e-6


def test_noisy_plane_wave_accuracy():
    """64 random electrodes, 10 % missing, 10 dB broadband SNR: local estimates are unbiased."""
    errs_d, errs_s = [], []
    for i, (f, c, d) in enumerate(
        [(10.0, 200.0, 30.0), (20.0, 400.0, -100.0), (6.0, 150.0, 170.0)]
    ):
        z = irregular_case(f_hz=f, speed=c, direction_deg=d, snr_db=10.0, seed=i, duration_s=1.0)
        lw = local_wave_vectors(z, frequency_hz=f)
        errs_d.append(ang_err(lw.direction_deg.values, d)[np.isfinite(lw.direction_deg.values)])
        s = lw.speed_mm_per_s.values
        errs_s.append(np.abs(s[np.isfinite(s)] / c - 1) * 100)
    de, se = np.median(np.concatenate(errs_d)), np.median(np.concatenate(errs_s))
    print(f"local fits, 10 dB: median direction error {de:.2f} deg, speed error {se:.2f} %")
    assert de < 3.0
    assert se < 5.0


def test_radial_and_rotating_waves_on_grid():
    yy, xx = np.mgrid[0:15, 0:15] * 0.3
    x0, y0 = 2.1, 2.1
    r = np.hypot(xx - x0, yy - y0)
    t = np.arange(20)[:, None, None] / 1000.0
    z = np.exp(1j * (2 * np.pi * 10 * t - 1.2 * r[None]))  # outward (source)
    lw = local_wave_vectors(grid_activity(z, fs_hz=1000.0, dx_mm=0.3).rename("phase"))
    assert lw.direction_deg.dims == ("time", "y", "x")
    far = (r > 1.0)[None] & np.ones((20, 1, 1), bool)
    radial = np.degrees(np.arctan2(yy - y0, xx - x0))[None] + 0 * t
    assert np.median(ang_err(lw.direction_deg.values[far], radial[far])) < 1.0
    np.testing.assert_allclose(
        np.median(lw.spatial_frequency_rad_per_mm.values[far]), 1.2, rtol=0.02
    )
    # rotating wave: phase = w t - angle(r - r0); travels counter-clockwise at speed w |r - r0|
    zr = np.exp(1j * (2 * np.pi * 10 * t - np.arctan2(yy - y0, xx - x0)[None]))
    lr = local_wave_vectors(grid_activity(zr, fs_hz=1000.0, dx_mm=0.3).rename("phase"))
    tang = radial + 90.0
    far2 = (r > 1.2)[None] & np.ones((20, 1, 1), bool)
    assert np.median(ang_err(lr.direction_deg.values[far2], tang[far2])) < 1.0
    ratio = lr.speed_mm_per_s.values[far2] / (2 * np.pi * 10 * (r[None] + 0 * t)[far2])
    assert abs(np.median(ratio) - 1) < 0.03


def test_dask_matches_numpy_and_grid_radius():
    rng = np.random.default_rng(2)
    x, y = random_positions(30, 4.0, rng)
    z = _z(lambda x, y: -(0.5 * x + 0.2 * y) + 0.1 * rng.standard_normal(x.shape), x, y, n=60)
    da = irregular_activity(z, fs_hz=1000.0, x_mm=x, y_mm=y).rename("phase")
    lazy = local_wave_vectors(da.chunk({"time": 25}))
    assert lazy.kx_rad_per_mm.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), local_wave_vectors(da))
    nb = neighbourhoods(*np.meshgrid(np.arange(4.0), np.arange(4.0)), radius_mm=1.5)
    assert nb.shape == (16, 9)
    assert (nb[:, 0] == np.arange(16)).all()
    assert ((nb >= 0).sum(1) == [4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4]).all()


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(5, 30),
    seed=st.integers(0, 2**31),
    noise=st.sampled_from([0.0, 0.3, 2.0]),
    nan_frac=st.sampled_from([0.0, 0.3]),
    k=st.integers(3, 8),
)
def test_local_kernel_matches_reference(n, seed, noise, nan_frac, k):
    rng = np.random.default_rng(seed)
    x, y = random_positions(n, 3.0, rng)
    th = -(rng.normal() * x + rng.normal() * y)[None] + noise * rng.standard_normal((2, n))
    w = (rng.uniform(size=(2, n)) >= nan_frac).astype(float)
    c, s = np.cos(th) * w, np.sin(th) * w
    nbr = neighbourhoods(x, y, n_neighbours=min(k, n - 1))
    got = K.local_fit(c, s, w, x, y, nbr, 20, 1e-9)
    ref = K.ref_local_fit(c, s, w, x, y, nbr, 20, 1e-9)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[..., 2], ref[..., 2], rtol=1e-8, atol=1e-12)


def test_frequency_per_channel_input():
    rng = np.random.default_rng(4)
    x, y = random_positions(25, 3.0, rng)
    z = _z(lambda x, y: -(0.6 * x - 0.4 * y), x, y, n=30)
    da = irregular_activity(z, fs_hz=1000.0, x_mm=x, y_mm=y).rename("phase")
    f = xr.full_like(da.real, 10.0)
    a = local_wave_vectors(da, frequency_hz=f)
    b = local_wave_vectors(da, frequency_hz=10.0)
    c = local_wave_vectors(da)
    xr.testing.assert_allclose(a, b)
    np.testing.assert_allclose(c.speed_mm_per_s, b.speed_mm_per_s, rtol=1e-6)
