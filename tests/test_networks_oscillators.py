"""Coupled-oscillator networks and the Kuramoto lattice against their analytic solutions."""

import numpy as np
import pytest

from wavekit.errors import UsageError
from wavekit.networks import ImageOscillator, KuramotoLattice, NeuralWaveMachine, simulate


def test_nwm_defaults_are_the_cornn_values():
    nwm = NeuralWaveMachine(shape=(8, 8))
    assert (nwm.dt, nwm.gamma, nwm.eps) == (0.042, 2.7, 4.7)
    with pytest.raises(UsageError):
        NeuralWaveMachine(shape=(8, 8), coupling=400.0)  # explicit scheme unstable


def test_nwm_point_source_wavenumber_matches_discrete_dispersion():
    a, truth = simulate("nwm", seed=0, steps=400, size=48)
    y = a.values
    dt = 1 / a.attrs["fs_hz"]
    omega = 2 * np.pi * float(truth.frequency_hz[0])
    t = np.arange(400) * dt
    proj = (y[200:] * np.exp(-1j * omega * t[200:])[:, None, None]).mean(axis=0)
    row = proj[24, 24:44]
    r = np.arange(row.size)
    slope = np.polyfit(r[3:15], np.unwrap(np.angle(row))[3:15], 1)[0]
    k_true = 2 * np.pi / float(truth.wavelength_mm[0])
    assert -slope == pytest.approx(k_true, rel=0.03)  # outgoing: phase falls with distance
    assert float(truth.speed_mm_per_s[0]) == pytest.approx(omega / k_true)
    # the same along y (isotropic coupling)
    col = proj[24:44, 24]
    slope_y = np.polyfit(r[3:15], np.unwrap(np.angle(col))[3:15], 1)[0]
    assert slope_y == pytest.approx(slope, rel=1e-6)


def test_image_oscillator_uncoupled_pixels_ring_at_their_frequency():
    img = np.zeros((8, 8))
    img[2:6, 2:6] = 1.0
    osc = ImageOscillator(img, c2=0.0, dt=0.01, damping_in=0.0)
    y = osc.run(4000)  # 40 time units
    # an undamped pixel at image value 1: y = cos(omega_max t) up to the scheme's O(dt) phase
    spec = np.abs(np.fft.rfft(y[:, 3, 3]))
    freqs = np.fft.rfftfreq(4000, d=0.01) * 2 * np.pi
    assert freqs[np.argmax(spec)] == pytest.approx(2.0, abs=2 * np.pi / 40)
    # background pixels start at 0 and, uncoupled, stay at 0
    assert np.abs(y[:, 0, 0]).max() == 0.0


def test_image_oscillator_coupling_spreads_activity_outside_the_image():
    img = np.zeros((32, 32))
    img[12:20, 12:20] = 1.0
    coupled = ImageOscillator(img).run(100)
    uncoupled = ImageOscillator(img, c2=0.0).run(100)
    assert np.abs(uncoupled[:, 12, 4]).max() == 0.0
    assert np.abs(coupled[:, 12, 4]).max() > 1e-4
    with pytest.raises(UsageError):
        ImageOscillator(np.zeros((2, 2)))


@pytest.mark.parametrize("twist", [(0, 1), (0, 2), (1, -1), (2, 3)])
def test_kuramoto_twisted_state_is_exact_traveling_wave(twist):
    lat = KuramotoLattice(shape=(16, 16), coupling=3.0, alpha=0.7, dt=0.01)
    th = lat.run(lat.twisted_state(twist), 200)
    big = lat.twisted_frequency(twist)
    expected = lat.twisted_state(twist)[None] + big * lat.dt * np.arange(200)[:, None, None]
    np.testing.assert_allclose(th, expected, atol=1e-9)


def test_kuramoto_stable_twisted_state_attracts_perturbations():
    lat = KuramotoLattice(n=32, coupling=5.0, alpha=1.0, dt=0.02)
    assert lat.is_stable(2) and not lat.is_stable(9)
    rng = np.random.default_rng(0)
    th = lat.run(lat.twisted_state(2) + 0.1 * rng.standard_normal((1, 32)), 2000)
    dev = th[-1] - lat.twisted_state(2)
    assert np.std(dev) < 0.01  # from 0.1: slowest mode decays as exp(-0.048 t), t = 40 s
    rate = (th[-1] - th[-101]).mean() / (100 * lat.dt)
    assert rate == pytest.approx(lat.twisted_frequency(2), rel=1e-4)
    # an unstable twist (|k| > pi / 2) does not keep its shape
    th9 = lat.run(lat.twisted_state(9) + 0.01 * rng.standard_normal((1, 32)), 1000)
    dev9 = th9[-1] - lat.twisted_state(9)
    assert np.std(np.angle(np.exp(1j * (dev9 - dev9.mean())))) > 0.1


def test_kuramoto_truth_speed_matches_measured_phase_velocity():
    a, truth = simulate("kuramoto", seed=0, steps=200, size=32, twist=(1, 0), noise=0.0)
    omega = 2 * np.pi * float(truth.frequency_hz[0])
    k = 2 * np.pi / float(truth.wavelength_mm[0])
    assert float(truth.speed_mm_per_s[0]) == pytest.approx(omega / k)
    assert float(truth.direction_deg[0]) == -90.0  # k along +y: travels toward -y
    # displacement d of the profile along y between t = 0 and t = 50 steps, from the Fourier
    # shift theorem: yhat_50(k) = yhat_0(k) exp(-i k d)
    y = a.values[:, :, 0]
    dt = 1 / a.attrs["fs_hz"]
    c0 = np.sum(y[0] * np.exp(-1j * k * np.arange(32)))
    c1 = np.sum(y[50] * np.exp(-1j * k * np.arange(32)))
    d = -np.angle(c1 / c0) / k
    assert d == pytest.approx(-float(truth.speed_mm_per_s[0]) * 50 * dt, rel=1e-6)
