"""Analytic signal (fused FFT band-pass), Morlet, generalized phase, instantaneous frequency."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from wavekit.analysis import (
    amplitude,
    analytic_signal,
    generalized_phase,
    instantaneous_frequency,
    morlet,
    phase,
)
from wavekit.analysis.preprocess import butter_power_gain
from wavekit.errors import UsageError
from wavekit.model import grid_activity, irregular_activity

# compiling the kernels (first run without numba's cache) trips a harmless pedantic IR check
pytestmark = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaIRAssumptionWarning")

FS = 1000.0


def _act(x, fs=FS):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None, None]
    return grid_activity(x, fs_hz=fs, dx_mm=0.4)


def test_plain_hilbert_equals_scipy():
    x = np.random.default_rng(0).normal(size=(777, 3, 2))
    z = analytic_signal(_act(x), pad="none")
    np.testing.assert_allclose(z.values, signal.hilbert(x, axis=0), rtol=1e-10, atol=1e-10)
    assert z.dims == ("time", "y", "x") and z.name == "analytic"
    assert z.attrs["fs_hz"] == FS


def test_fused_filter_gain_is_squared_butterworth_magnitude():
    """The specified gain: |H|^2 of scipy.signal.butter(4, band), i.e. the steady-state gain of
    sosfiltfilt. Checked two ways: exactly on the DFT grid (circular mode) and on tones."""
    band = (8.0, 20.0)
    n = 4096
    x = np.random.default_rng(1).normal(size=n)
    z = analytic_signal(_act(x), band_hz=band, pad="none").values[:, 0, 0]
    X, Z = np.fft.fft(x), np.fft.fft(z)
    f = np.fft.fftfreq(n, 1 / FS)
    pos = (f > 0) & (f < FS / 2)
    G = butter_power_gain(f[pos], fs_hz=FS, band_hz=band)
    np.testing.assert_allclose(Z[pos] / X[pos], 2 * G, rtol=1e-9, atol=1e-12)
    assert np.max(np.abs(Z[f < 0])) < 1e-9 * np.max(np.abs(Z))
    # tones: the middle of the record has amplitude G(f), as sosfiltfilt's steady state
    sos = signal.butter(4, band, btype="bandpass", fs=FS, output="sos")
    t = np.arange(6000) / FS
    for ftone in (5.0, 8.0, 12.5, 20.0, 31.0):
        tone = np.cos(2 * np.pi * ftone * t + 0.3)
        a = np.abs(analytic_signal(_act(tone), band_hz=band).values[2000:4000, 0, 0])
        g_spec = butter_power_gain(np.array([ftone]), fs_hz=FS, band_hz=band)[0]
        g_sff = np.abs(signal.hilbert(signal.sosfiltfilt(sos, tone))[2000:4000]).mean()
        assert a.mean() == pytest.approx(g_spec, abs=2e-3)
        assert g_sff == pytest.approx(g_spec, abs=2e-3)
    # at the band edges the gain is 1/2 (-6 dB after forward-backward)
    assert butter_power_gain(np.array(band), fs_hz=FS, band_hz=band) == pytest.approx(0.5)


def test_fused_equals_exact_zero_phase_convolution():
    """Real part = linear convolution with the impulse response of the specified gain G;
    closer to it than sosfiltfilt, whose initial-condition transients last ~1 s here."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=5000)
    band = (4.0, 12.0)
    n_long = 2**16
    gain = butter_power_gain(np.fft.rfftfreq(n_long, 1 / FS), fs_hz=FS, band_hz=band)
    h = np.roll(np.fft.irfft(gain, n=n_long), n_long // 2)  # centred zero-phase response
    exact = np.convolve(x, h, mode="full")[n_long // 2 : n_long // 2 + x.size]
    z = analytic_signal(_act(x), band_hz=band).values[:, 0, 0]
    mid = slice(1000, 4000)
    scale = np.abs(exact[mid]).mean()
    assert np.abs(z.real[mid] - exact[mid]).max() < 1e-4 * scale
    sos = signal.butter(4, band, btype="bandpass", fs=FS, output="sos")
    sff = signal.sosfiltfilt(sos, x)
    assert np.abs(sff[mid] - exact[mid]).max() > 10 * np.abs(z.real[mid] - exact[mid]).max()


def test_fused_vs_scipy_chain_far_from_edges():
    """Far from the ends the real parts (band-pass) agree to round-off; the imaginary part of
    the fused route is the exact analytic filter, while the chain's circular Hilbert transform
    of an untapered record is off by a few 1e-3."""
    x = np.random.default_rng(3).normal(size=20000)
    band = (4.0, 12.0)
    zf = analytic_signal(_act(x), band_hz=band).values[:, 0, 0]
    zs = analytic_signal(_act(x), band_hz=band, method="sosfiltfilt").values[:, 0, 0]
    n_long = 2**17
    f = np.fft.fftfreq(n_long, 1 / FS)
    h = butter_power_gain(np.abs(f), fs_hz=FS, band_hz=band) * 2 * (f > 0)
    h = np.roll(np.fft.ifft(h), n_long // 2)  # centred analytic band-pass impulse response
    exact = signal.fftconvolve(x, h, mode="full")[n_long // 2 : n_long // 2 + x.size]
    mid = slice(8000, 12000)
    scale = np.abs(exact[mid]).mean()
    assert np.abs(zf[mid].real - zs[mid].real).max() < 1e-9 * scale
    assert np.abs(zf[mid] - exact[mid]).max() < 1e-9 * scale
    assert np.abs(zs[mid] - exact[mid]).max() < 1e-2 * scale


def test_single_precision_and_padding_modes():
    x = np.random.default_rng(3).normal(size=(3000, 4, 4)).astype(np.float32)
    z32 = analytic_signal(_act(x), band_hz=(5, 30))
    assert z32.dtype == np.complex64
    z64 = analytic_signal(_act(x.astype(np.float64)), band_hz=(5, 30))
    assert np.abs(z32.values - z64.values).max() < 1e-5 * np.abs(z64.values).max() * 10
    for pad in ("odd", "even", "none", 100):
        zp = analytic_signal(_act(x), band_hz=(5, 30), pad=pad)
        assert zp.shape == x.shape
        mid = slice(1000, 2000)
        assert np.abs(zp.values[mid] - z32.values[mid]).max() < 1e-3


def test_tone_phase_amplitude_frequency():
    t = np.arange(3000) / FS
    x = 2.5 * np.cos(2 * np.pi * 11.0 * t + 0.7)
    z = analytic_signal(_act(x), band_hz=(6, 20))
    mid = slice(800, 2200)
    np.testing.assert_allclose(amplitude(z).values[mid, 0, 0], 2.5 * 0.99, rtol=0.02)
    ph = phase(z).values[mid, 0, 0]
    expected = np.angle(np.exp(1j * (2 * np.pi * 11.0 * t[mid] + 0.7)))
    assert np.abs(np.angle(np.exp(1j * (ph - expected)))).max() < 1e-3
    f = instantaneous_frequency(z)
    assert f.name == "frequency_hz" and f.attrs["units"] == "Hz"
    np.testing.assert_allclose(f.values[mid, 0, 0], 11.0, rtol=1e-4)


def test_instantaneous_frequency_of_chirp():
    t = np.arange(4000) / FS
    f0, f1 = 5.0, 25.0
    x = signal.chirp(t, f0=f0, t1=t[-1], f1=f1, method="linear")
    z = analytic_signal(_act(x))
    f = instantaneous_frequency(z).values[:, 0, 0]
    truth = f0 + (f1 - f0) * t / t[-1]
    mid = slice(300, -300)
    assert np.abs(f[mid] - truth[mid]).max() < 0.3


def test_morlet_calibration_and_bandwidth():
    t = np.arange(4000) / FS
    f0, n_cycles = 12.0, 7.0
    sigma_f = f0 / n_cycles
    for ftone, expect in ((f0, 1.0), (f0 + sigma_f, np.exp(-0.5)), (f0 - 2 * sigma_f, np.exp(-2))):
        x = 3.0 * np.cos(2 * np.pi * ftone * t)
        z = morlet(_act(x), freq_hz=f0, n_cycles=n_cycles)
        a = np.abs(z.values[1500:2500, 0, 0]).mean()
        assert a == pytest.approx(3.0 * expect, rel=5e-3)
    assert z.attrs["phase_method"] == "morlet" and z.attrs["n_cycles"] == 7.0
    with pytest.raises(UsageError):
        morlet(_act(x), freq_hz=600.0)


def test_generalized_phase_has_non_negative_frequency():
    rng = np.random.default_rng(4)
    t = np.arange(5000) / FS
    # a slow wave with a strong riding fast component: Hilbert phase runs backwards at times
    x = np.cos(2 * np.pi * 7 * t) + 0.9 * np.cos(2 * np.pi * 33 * t + 1.0)
    x = x[:, None, None] + 0.05 * rng.normal(size=(t.size, 2, 2))
    a = _act(x)
    f_h = instantaneous_frequency(analytic_signal(a, band_hz=(5, 40))).values
    z = generalized_phase(a)
    f_gp = instantaneous_frequency(z).values
    mid = slice(300, -300)
    assert (f_h[mid] < 0).mean() > 0.02  # the problem GP solves is present
    assert (f_gp[mid] < -1e-6).sum() == 0
    assert z.attrs["phase_method"] == "generalized"
    # amplitude is the wide-band envelope
    np.testing.assert_allclose(
        np.abs(z.values), np.abs(analytic_signal(a, band_hz=(5, 40)).values), rtol=1e-6
    )
    # on a clean narrow-band signal nothing is corrected
    clean = _act(np.cos(2 * np.pi * 10 * t))
    np.testing.assert_allclose(
        generalized_phase(clean).values, analytic_signal(clean, band_hz=(5, 40)).values
    )


def test_nan_channel_stays_nan_and_irregular_layout():
    x = np.random.default_rng(5).normal(size=(1000, 5))
    x[:, 2] = np.nan
    a = irregular_activity(x, fs_hz=FS, x_mm=np.arange(5.0), y_mm=np.zeros(5))
    z = analytic_signal(a, band_hz=(5, 30))
    assert z.dims == ("time", "channel")
    assert np.isnan(z.values[:, 2]).all() and np.isfinite(z.values[:, [0, 1, 3, 4]]).all()


def test_dask_backed_input_matches_numpy():
    x = np.random.default_rng(6).normal(size=(2000, 6, 6)).astype(np.float32)
    a = _act(x)
    lazy = a.chunk({"time": 500, "y": 3, "x": 6})  # time gets rechunked to one chunk
    for fn in (
        lambda d: analytic_signal(d, band_hz=(5, 30)),
        lambda d: morlet(d, freq_hz=15.0),
        lambda d: instantaneous_frequency(analytic_signal(d, band_hz=(5, 30))),
    ):
        lz = fn(lazy)
        assert lz.chunks is not None
        np.testing.assert_allclose(lz.values, fn(a).values, rtol=1e-3, atol=1e-3)


def test_bad_options():
    a = _act(np.zeros(100))
    with pytest.raises(UsageError):
        analytic_signal(a, band_hz=(30, 10))
    with pytest.raises(UsageError):
        analytic_signal(a, band_hz=(600, None))
    with pytest.raises(UsageError):
        analytic_signal(a, method="wavelet")
    with pytest.raises(UsageError):
        analytic_signal(a, band_hz=(1, 10), pad="mirror")
