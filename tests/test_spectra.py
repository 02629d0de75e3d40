"""k-omega spectra: sign convention, dominant wave vector, forward/backward power, complex SVD."""

from __future__ import annotations

import numpy as np
import pytest
from test_spatial import plane

from wavekit.analysis.spectra import (
    complex_svd_modes,
    directional_power,
    dominant_wave_vector,
    kw_spectrum,
)
from wavekit.model import grid_activity


def _ang(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _centred(a):
    """Same activity with coordinates centred on 0 (so that a 90 deg rotation of the array is
    a rotation of space about the origin)."""
    return a.assign_coords(x=a.x - a.x.mean(), y=a.y - a.y.mean())


# ----------------------------------------------------------------------------- sign convention


def test_kw_peak_is_in_the_travel_quadrant_and_parseval_holds():
    # toward +x and -y (on DFT bins: 2 bins along each axis of a 16 x 0.4 mm grid): kx > 0,
    # ky < 0 at f > 0
    wl = 6.4 / (2 * np.sqrt(2))
    a = plane(direction_deg=-45.0, wavelength_mm=wl, freq_hz=12.0, n=16, fs=100.0)
    p = kw_spectrum(a, taper="none")
    f, ky, kx = np.unravel_index(int(np.argmax(p.values)), p.shape)
    assert float(p.frequency_hz[f]) == pytest.approx(12.0)
    k = 2 * np.pi / wl / np.sqrt(2)
    assert float(p.kx_rad_per_mm[kx]) == pytest.approx(k, rel=1e-9)
    assert float(p.ky_rad_per_mm[ky]) == pytest.approx(-k, rel=1e-9)
    assert float(p.max()) == pytest.approx(0.5, rel=1e-6)  # all the power of cos in one bin
    # Parseval: sum of the one-sided spectrum = mean square (untapered)
    x = a.values - a.values.mean(axis=0)
    assert float(p.sum()) == pytest.approx(float(np.mean(x**2)), rel=1e-9)
    assert np.all(np.diff(p.kx_rad_per_mm.values) > 0)


# ----------------------------------------------------------------------------- dominant k


@pytest.mark.parametrize("direction", [0.0, 30.0, 97.0, 180.0, -135.0, -60.0])
def test_dominant_wave_vector_direction_and_wavelength(direction):
    wl, f = 4.3, 10.0
    a = plane(direction_deg=direction, wavelength_mm=wl, freq_hz=f, snr_db=0.0, seed=7)
    d = dominant_wave_vector(a)
    assert _ang(float(d.direction_deg), direction) < 2.0
    assert float(d.wavelength_mm) == pytest.approx(wl, rel=0.03)
    assert float(d.frequency_hz) == pytest.approx(f, rel=0.01)
    assert float(d.speed_mm_per_s) == pytest.approx(wl * f, rel=0.04)
    assert 0.3 < float(d.spectral_planarity) <= 1.0


def test_dominant_wave_vector_noise_free_is_exact_and_planarity_one():
    a = plane(direction_deg=33.3, wavelength_mm=5.1, freq_hz=9.0)
    d = dominant_wave_vector(a)
    assert float(d.direction_deg) == pytest.approx(33.3, abs=0.05)
    assert float(d.wavelength_mm) == pytest.approx(5.1, rel=2e-3)
    assert float(d.spectral_planarity) > 0.99


def test_dominant_wave_vector_invariances():
    a = _centred(plane(direction_deg=20.0, wavelength_mm=4.0, freq_hz=10.0, snr_db=5.0))
    d0 = dominant_wave_vector(a)
    # rotate the field by +90 deg about the origin: new(y, x) = old(R^-1 (x, y)) = old at
    # (x', y') = (y, -x): row index of y' = -x is n-1-j, column index of x' = y is i
    rot = a.copy(data=np.transpose(a.values[:, ::-1, :], (0, 2, 1)))
    d90 = dominant_wave_vector(rot)
    assert _ang(float(d90.direction_deg), float(d0.direction_deg) + 90.0) < 0.5
    assert float(d90.speed_mm_per_s) == pytest.approx(float(d0.speed_mm_per_s), rel=1e-5)
    # reverse time: direction + 180
    rev = a.copy(data=a.values[::-1])
    drev = dominant_wave_vector(rev)
    assert _ang(float(drev.direction_deg), float(d0.direction_deg) + 180.0) < 0.5
    # scale coordinates by 2.5: speed and wavelength scale, direction does not
    big = a.assign_coords(x=a.x * 2.5, y=a.y * 2.5)
    db = dominant_wave_vector(big)
    assert float(db.speed_mm_per_s) == pytest.approx(2.5 * float(d0.speed_mm_per_s), rel=1e-5)
    assert float(db.direction_deg) == pytest.approx(float(d0.direction_deg), abs=1e-4)


def test_dominant_wave_vector_excludes_nan_sites_and_accepts_dask():
    a = plane(direction_deg=-70.0, wavelength_mm=4.0, snr_db=5.0, seed=2)
    data = a.values.copy()
    data[:, 10:14, 5:25] = np.nan  # a dead stripe of 80 channels
    data[:, 0, 0] = np.nan
    an = a.copy(data=data)
    d = dominant_wave_vector(an)
    assert _ang(float(d.direction_deg), -70.0) < 2.0
    assert float(d.wavelength_mm) == pytest.approx(4.0, rel=0.03)
    dd = dominant_wave_vector(an.chunk({"time": 50, "y": 16}))
    for k in ("direction_deg", "wavelength_mm", "frequency_hz"):
        assert float(dd[k]) == pytest.approx(float(d[k]), rel=1e-6)


def test_kw_spectrum_dask_matches_numpy_and_linear_array():
    a = plane(direction_deg=180.0, wavelength_mm=3.0, n=12, duration_s=0.5)
    p1 = kw_spectrum(a)
    p2 = kw_spectrum(a.chunk({"time": 25}))
    np.testing.assert_allclose(p1.values, p2.values, rtol=1e-9, atol=1e-15)
    line = a.isel(y=[0])  # a 1 x 12 linear array: the 2-D (f, k) spectrum
    pl = kw_spectrum(line)
    assert pl.sizes["ky_rad_per_mm"] == 1
    d = dominant_wave_vector(line)
    assert float(d.direction_deg) == 180.0
    assert float(d.wavelength_mm) == pytest.approx(3.0, rel=0.03)


# ----------------------------------------------------------------------------- forward/backward


def test_forward_backward_power_ratio():
    a = plane(direction_deg=20.0, wavelength_mm=4.0, freq_hz=10.0, snr_db=0.0, seed=3)
    band = (8.0, 12.0)
    fwd = directional_power(a, axis="x", band_hz=band)
    assert float(fwd.forward_backward_ratio) > 10
    rev = a.copy(data=a.values[::-1])
    bwd = directional_power(rev, axis="x", band_hz=band)
    assert float(bwd.forward_backward_ratio) < 0.1
    # along the direction of travel itself, and the opposite axis
    assert float(directional_power(a, axis=20.0, band_hz=band).forward_fraction) > 0.9
    assert float(directional_power(a, axis="-x", band_hz=band).forward_backward_ratio) < 0.1
    # broadband white noise at 0 dB adds equal power both ways: the ratio drops but stays > 1
    assert 1.5 < float(directional_power(a, axis="x").forward_backward_ratio) < 10
    # a standing wave (sum of both) is balanced
    st = a.copy(data=a.values + rev.values)
    r = float(directional_power(st, axis="x", band_hz=band).forward_backward_ratio)
    assert 0.5 < r < 2.0
    # a precomputed spectrum gives the same numbers
    p = kw_spectrum(a)
    assert float(directional_power(p, axis="x", band_hz=band).forward_power) == pytest.approx(
        float(fwd.forward_power)
    )


# ----------------------------------------------------------------------------- complex SVD


def test_complex_svd_single_travelling_wave_is_one_mode():
    a = plane(direction_deg=-120.0, wavelength_mm=5.0, freq_hz=8.0, n=16, duration_s=2.0)
    m = complex_svd_modes(a, n_modes=3, band_hz=(4, 16))
    assert float(m.explained_variance_ratio[0]) > 0.98
    assert _ang(float(m.direction_deg[0]), -120.0) < 1.0
    assert float(m.wavelength_mm[0]) == pytest.approx(5.0, rel=0.02)
    assert float(m.frequency_hz[0]) == pytest.approx(8.0, rel=0.02)
    assert float(m.speed_mm_per_s[0]) == pytest.approx(40.0, rel=0.03)
    v = m.spatial_mode[0].values
    assert np.sum(np.abs(v) ** 2) == pytest.approx(1.0)


def test_complex_svd_separates_two_waves_and_keeps_nan_sites_out():
    t = np.arange(800)[:, None, None] / 200.0
    yy, xx = np.mgrid[0:16, 0:16] * 0.4
    w1 = 1.0 * np.cos(2 * np.pi * 6 * t - (2 * np.pi / 5.0) * xx)  # +x
    w2 = 0.6 * np.cos(2 * np.pi * 15 * t + (2 * np.pi / 3.0) * yy)  # -y
    data = w1 + w2
    data[:, 3, 4] = np.nan
    a = grid_activity(data, fs_hz=200.0, dx_mm=0.4)
    m = complex_svd_modes(a, n_modes=2)
    assert np.isnan(m.spatial_mode[0, 3, 4].values)
    dirs = sorted(float(d) for d in m.direction_deg)
    assert _ang(dirs[0], -90.0) < 2.0 and _ang(dirs[1], 0.0) < 2.0
    assert float(m.explained_variance_ratio.sum()) > 0.97
    assert float(m.explained_variance_ratio[0]) > float(m.explained_variance_ratio[1])


def test_complex_svd_dask_matches_numpy():
    from wavekit.analysis.phase import analytic_signal

    a = plane(direction_deg=45.0, wavelength_mm=5.0, freq_hz=8.0, n=10, duration_s=1.0)
    z = analytic_signal(a, band_hz=(4, 16))
    m1 = complex_svd_modes(z, n_modes=2)
    m2 = complex_svd_modes(z.chunk({"time": 50}), n_modes=2)
    np.testing.assert_allclose(
        m1.explained_variance_ratio.values, m2.explained_variance_ratio.values, rtol=1e-9
    )
    np.testing.assert_allclose(m1.spatial_mode[0].values, m2.spatial_mode[0].values, atol=1e-9)
    np.testing.assert_allclose(
        m1.temporal_coefficient[0].values, m2.temporal_coefficient[0].values, atol=1e-9
    )
