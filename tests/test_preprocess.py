"""Preprocessing: detrend, z-score, band-pass, notch, smoothing, downsampling, bad channels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from wavekit.analysis import (
    bandpass,
    detect_bad_channels,
    detrend,
    downsample,
    interpolate_bad,
    notch,
    smooth_spatial,
    zscore,
)
from wavekit.analysis.preprocess import butter_power_gain
from wavekit.errors import UsageError
from wavekit.model import grid_activity, irregular_activity

# compiling the kernels (first run without numba's cache) trips a harmless pedantic IR check
pytestmark = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaIRAssumptionWarning")

FS = 500.0


def _grid(x, fs=FS, dx=0.4):
    return grid_activity(np.asarray(x), fs_hz=fs, dx_mm=dx)


def test_detrend_removes_lines_and_keeps_nan():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    noise = rng.normal(size=(400, 3, 3))
    x = 5.0 + 0.02 * t[:, None, None] * np.arange(1, 10).reshape(3, 3) + noise
    x[:, 1, 1] = np.nan
    x[::7, 0, 2] = np.nan  # a channel with some missing samples: fitted on the others
    d = detrend(_grid(x))
    ok = np.isfinite(x)
    assert np.isnan(d.values[:, 1, 1]).all() and np.array_equal(np.isfinite(d.values), ok)
    # what is left is the noise minus its own fitted line: small mean, no slope
    res = d.values[:, 0, 0]
    assert abs(res.mean()) < 1e-10 and abs(np.polyfit(t, res, 1)[0]) < 1e-10
    np.testing.assert_allclose(
        res, signal.detrend(x[:, 0, 0]), atol=1e-9
    )  # equals SciPy on complete channels
    c = detrend(_grid(x), kind="constant").values
    has = ok.any(0)
    np.testing.assert_allclose(np.nanmean(c[:, has], axis=0), 0.0, atol=1e-10)
    with pytest.raises(UsageError):
        detrend(_grid(x), kind="quadratic")


def test_zscore_and_float32():
    rng = np.random.default_rng(1)
    x = (rng.normal(3.0, 2.0, (1000, 2, 3))).astype(np.float32)
    x[:, 0, 0] = 7.0  # flat: no signal to standardise
    z = zscore(_grid(x))
    assert z.dtype == np.float32 and z.attrs["units"] == "z"
    assert np.isnan(z.values[:, 0, 0]).all()
    np.testing.assert_allclose(z.values[:, 1:, :].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.values[:, 1:, :].std(0), 1.0, atol=1e-5)


@pytest.mark.parametrize("method", ["sosfiltfilt", "fft"])
def test_bandpass_passes_band_and_rejects_outside(method):
    t = np.arange(5000) / FS
    inside = np.sin(2 * np.pi * 10 * t)
    outside = np.sin(2 * np.pi * 60 * t) + np.sin(2 * np.pi * 1 * t)
    y = bandpass(_grid((inside + outside)[:, None, None]), band_hz=(6, 15), method=method)
    mid = slice(1000, 4000)
    g10 = butter_power_gain(np.array([10.0]), fs_hz=FS, band_hz=(6, 15))[0]
    np.testing.assert_allclose(y.values[mid, 0, 0], g10 * inside[mid], atol=5e-3)
    assert y.attrs["band_hz"] == [6.0, 15.0]


def test_bandpass_methods_agree_and_lowpass_highpass():
    x = np.random.default_rng(2).normal(size=(6000, 2, 2))
    a = _grid(x)
    mid = slice(2000, 4000)
    for band in ((5.0, 20.0), (None, 30.0), (3.0, None)):
        y1 = bandpass(a, band_hz=band).values[mid]
        y2 = bandpass(a, band_hz=band, method="fft").values[mid]
        assert np.abs(y1 - y2).max() < 2e-2 * y1.std()
    with pytest.raises(UsageError):
        bandpass(a, band_hz=(None, None))
    with pytest.raises(UsageError):
        bandpass(a, band_hz=(5, 20), method="fir")


def test_notch_removes_line_noise_only():
    t = np.arange(4000) / 1000.0
    x = (
        np.sin(2 * np.pi * 12 * t)
        + 0.8 * np.sin(2 * np.pi * 50 * t)
        + 0.5 * np.sin(2 * np.pi * 100 * t)
    )
    y = notch(_grid(x[:, None, None], fs=1000.0), freq_hz=50.0, harmonics=2)
    mid = slice(1000, 3000)
    np.testing.assert_allclose(y.values[mid, 0, 0], np.sin(2 * np.pi * 12 * t[mid]), atol=0.02)
    with pytest.raises(UsageError):
        notch(_grid(x[:, None, None], fs=1000.0), freq_hz=600.0)


def test_smooth_spatial_nan_aware():
    yy, xx = np.mgrid[0:9, 0:9] * 0.5
    plane = 2.0 + 0.3 * xx - 0.1 * yy  # a linear field is unchanged by a symmetric kernel...
    x = np.repeat(plane[None], 3, axis=0)
    x[:, 4, 4] = np.nan
    s = smooth_spatial(_grid(x, dx=0.5), sigma_mm=0.5)
    assert np.isnan(s.values[:, 4, 4]).all()  # NaN stays NaN, not filled
    interior = (slice(None), slice(2, 7), slice(2, 7))
    ok = np.isfinite(x[interior])
    # ...in the interior (symmetric support); holes and edges renormalise, no pull to zero
    np.testing.assert_allclose(s.values[interior][ok], x[interior][ok], atol=0.05)
    assert np.all(s.values[:, 0, 0] > 1.5)  # no darkening at the edge (zero-filled would)
    # noise is reduced, and complex fields are smoothed as phasors
    rng = np.random.default_rng(3)
    n = rng.normal(size=(4, 20, 20))
    assert smooth_spatial(_grid(n), sigma_mm=0.8).values.std() < 0.5 * n.std()
    z = np.exp(1j * rng.uniform(0, 0.1, (2, 5, 5)))
    sz = smooth_spatial(_grid(z), sigma_mm=0.4)
    assert sz.dtype == z.dtype and np.allclose(np.abs(sz.values), 1.0, atol=1e-2)
    with pytest.raises(UsageError):
        smooth_spatial(irregular_activity(n[:, 0], fs_hz=1.0, x_mm=range(20), y_mm=[0] * 20),
                       sigma_mm=1.0)  # fmt: skip


def test_downsample_keeps_band_and_updates_fs():
    t = np.arange(6000) / 1000.0
    x = np.sin(2 * np.pi * 8 * t) + np.sin(2 * np.pi * 300 * t)  # 300 Hz would alias at 250
    a = _grid(x[:, None, None], fs=1000.0)
    d = downsample(a, factor=4)
    assert d.attrs["fs_hz"] == 250.0 and d.sizes["time"] == 1500
    np.testing.assert_allclose(d.time.values, a.time.values[::4])
    mid = slice(200, 1300)
    np.testing.assert_allclose(d.values[mid, 0, 0], np.sin(2 * np.pi * 8 * t[::4][mid]), atol=0.02)
    lazy = downsample(a.chunk({"time": 1000}), factor=4)
    np.testing.assert_allclose(lazy.values, d.values, atol=1e-12)
    assert downsample(a, factor=1) is a
    with pytest.raises(UsageError):
        downsample(a, factor=0)


def test_detect_and_interpolate_bad_channels():
    rng = np.random.default_rng(4)
    t = np.arange(1000) / FS
    yy, xx = np.mgrid[0:8, 0:8] * 0.4
    x = np.cos(2 * np.pi * 10 * t[:, None, None] - 0.5 * xx) + 0.1 * rng.normal(size=(1000, 8, 8))
    x[:, 2, 3] = np.nan  # dead
    x[:, 5, 5] = 0.0  # flat
    x[:, 6, 1] *= 40.0  # noisy
    x[:, 1, 6] *= 0.01  # nearly dead
    b = detect_bad_channels(_grid(x))
    assert bool(b.nan[2, 3]) and bool(b.flat[5, 5])
    assert bool(b.variance_outlier[6, 1]) and bool(b.variance_outlier[1, 6])
    assert int(b.bad.sum()) == 4
    assert b.bad.dims == ("y", "x")
    fixed = interpolate_bad(_grid(x), b.bad)
    assert fixed.attrs["interpolated_sites"] == [[1, 6], [2, 3], [5, 5], [6, 1]]
    truth = np.cos(2 * np.pi * 10 * t - 0.5 * xx[2, 3])
    assert np.corrcoef(fixed.values[:, 2, 3], truth)[0, 1] > 0.95
    good = ~b.bad.values
    np.testing.assert_array_equal(fixed.values[:, good], x[:, good])
    # irregular layout: detection works on channels
    irr = irregular_activity(x.reshape(1000, -1), fs_hz=FS, x_mm=xx.ravel(), y_mm=yy.ravel())
    bi = detect_bad_channels(irr)
    assert bi.bad.dims == ("channel",) and int(bi.bad.sum()) == 4
    # a channel only 3 times quieter is not bad, however tight the spread of the others
    x2 = x.copy()
    x2[:, 4, 4] /= np.sqrt(3.0)
    b2 = detect_bad_channels(_grid(x2))
    assert not bool(b2.bad[4, 4]) and abs(float(b2.log_variance_z[4, 4])) > 5
    assert bool(detect_bad_channels(_grid(x2), min_fold=2.0).variance_outlier[4, 4])


@settings(max_examples=40, deadline=None)
@given(
    lo_frac=st.one_of(st.none(), st.floats(0.002, 0.9)),
    hi_frac=st.one_of(st.none(), st.floats(0.003, 0.97)),
    order=st.integers(1, 8),
    fs=st.sampled_from([25.0, 500.0, 1000.0]),
)
def test_butterworth_gain_in_closed_form_matches_scipy(lo_frac, hi_frac, order, fs):
    """The closed-form gain (no scipy.signal import) against butter + freqz_sos."""
    from scipy import signal

    nyq = fs / 2
    lo = None if lo_frac is None else lo_frac * nyq
    hi = None if hi_frac is None else hi_frac * nyq
    if (lo is None and hi is None) or (lo is not None and hi is not None and hi <= 1.01 * lo):
        return
    from wavekit.analysis.preprocess import _butter_sos

    f = np.concatenate([np.linspace(-fs / 2, fs / 2, 801), [0.0]])
    _, h = signal.freqz_sos(_butter_sos((lo, hi), fs, order), worN=f, fs=fs)
    got = butter_power_gain(f, fs_hz=fs, band_hz=(lo, hi), order=order)
    np.testing.assert_allclose(got, np.abs(h) ** 2, atol=1e-8)
    assert np.all((got >= 0) & (got <= 1))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(16, 600), frac=st.floats(0.05, 1.0), seed=st.integers(0, 2**31 - 1))
def test_welch_without_scipy_signal_matches_scipy(n, frac, seed):
    from scipy.signal import welch

    from wavekit.analysis.bandselect import welch_linear

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) + np.linspace(0, 3, n)[:, None]  # a trend for the detrending
    nper = max(8, int(frac * n))
    f0, p0 = welch(x, fs=100.0, nperseg=nper, axis=0, detrend="linear")
    f1, p1 = welch_linear(x, 100.0, nper)
    np.testing.assert_allclose(f1, f0)
    np.testing.assert_allclose(p1, p0, rtol=1e-9, atol=1e-12 * p0.max())
