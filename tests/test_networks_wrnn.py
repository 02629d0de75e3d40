"""Wave-RNN, its baselines and ``simulate``: hidden states checked against theory."""

import json

import numpy as np
import pytest

from wavekit.errors import UsageError
from wavekit.model import validate_activity
from wavekit.networks import (
    IRNN,
    KINDS,
    ConvRNN,
    WaveRNN,
    plane_power_fraction,
    simulate,
)


def test_impulse_moves_one_cell_per_step_on_every_ring():
    n, c = 12, 3
    net = WaveRNN(n=n, channels=c)
    x = np.zeros((30, c))
    x[0] = 1.0
    h = net.run_source(x)[0, :, :, 0, :]  # (T, C, n)
    for t in range(30):
        expected = np.zeros(n)
        expected[t % n] = 1.0
        for ch in range(c):
            np.testing.assert_array_equal(h[t, ch], expected)


@pytest.mark.parametrize("shift", [(0, 1), (1, 0), (0, -1), (-1, 0)])
def test_torus_impulse_moves_along_its_shift(shift):
    net = WaveRNN(shape=(9, 11), shift=shift, input_mode="field")
    x = np.zeros((15, 9, 11))
    x[0, 4, 5] = 1.0
    h = net.run(x)[0, :, 0]
    for t in range(15):
        y, xx = np.unravel_index(np.argmax(h[t]), h[t].shape)
        assert (y, xx) == ((4 + shift[0] * t) % 9, (5 + shift[1] * t) % 11)
        assert h[t].sum() == pytest.approx(1.0)


def test_free_propagation_rolls_and_delay_rolls_back():
    """After the input stops, h_{t+tau} = roll(h_t, tau); delaying the input by tau gives
    roll(h_t, -tau) (the same content, tau cells less far)."""
    rng = np.random.default_rng(3)
    n, length, tau = 32, 10, 4
    net = WaveRNN(n=n, channels=2)
    x = np.zeros((40, 2))
    x[:length] = rng.standard_normal((length, 2))
    h = net.run_source(x)[0, :, :, 0, :]
    for t in range(length, 40 - tau):
        np.testing.assert_array_equal(h[t + tau], np.roll(h[t], tau, axis=-1))
    delayed = np.zeros_like(x)
    delayed[tau:] = x[:-tau]
    hd = net.run_source(delayed)[0, :, :, 0, :]
    for t in range(length + tau, 40):
        np.testing.assert_array_equal(hd[t], np.roll(h[t], -tau, axis=-1))


def test_source_driven_state_is_exactly_a_function_of_t_minus_x():
    rng = np.random.default_rng(0)
    net = WaveRNN(n=16, channels=1)
    h = net.run_source(rng.standard_normal((200, 1)))[0, :, 0, 0, :]
    # h_{t+1}[i] = h_t[i-1] for every cell but the source
    np.testing.assert_array_equal(h[1:, 1:], h[:-1, :-1])


def test_wrnn_plane_power_at_least_80_percent_and_baselines_far_below():
    rng = np.random.default_rng(7)
    n, c, t = 32, 4, 1024
    h = WaveRNN(n=n, channels=c).run_source(rng.standard_normal((t, c)))[0, :, :, 0, :]
    frac = plane_power_fraction(np.moveaxis(h, 1, 0), 1.0)  # (C, T, n)
    assert frac >= 0.95  # measured 0.98
    # the same activity does not sit on the plane of the opposite velocity
    assert plane_power_fraction(np.moveaxis(h, 1, 0), -1.0) < 0.2
    conv = ConvRNN(n=n, seed=1).run(rng.standard_normal((t, n)))[0, :, 0, 0, :]
    assert plane_power_fraction(conv, 1.0) < 0.2
    dense = IRNN(n=n).run(rng.standard_normal((t, n)) * 0.1)[0, :, 0, 0, :]
    assert plane_power_fraction(dense, 1.0) < 0.3


def test_wrnn2d_plane_power_vertical_and_speed_two():
    rng = np.random.default_rng(2)
    h = WaveRNN(shape=(24, 24), shift=(1, 0)).run_source(rng.standard_normal((1, 240, 1, 24)))
    assert plane_power_fraction(h[0, :, 0], (1.0, 0.0)) >= 0.95  # measured 0.99
    assert plane_power_fraction(h[0, :, 0], (0.0, 1.0)) < 0.3
    net = WaveRNN(shape=(24, 24), shift=(0, 2), kernel_size=5)
    h = net.run_source(rng.standard_normal((1, 240, 1, 24)))[0, :, 0]
    assert plane_power_fraction(h, (0.0, 2.0)) >= 0.95  # measured 0.99
    assert plane_power_fraction(h, (0.0, 1.0)) < 0.2


def test_plane_fraction_of_analytic_wave_is_one():
    t, x = np.mgrid[0:64, 0:16]
    assert plane_power_fraction(np.cos(2 * np.pi * (x - 2 * t) / 16), 2.0, window=None) == (
        pytest.approx(1.0)
    )
    yy = np.arange(8)[None, :, None]
    wave2d = np.cos(2 * np.pi * (yy + t[:, None, :1] * 1.0) / 8) * np.ones((1, 1, 8))
    assert plane_power_fraction(wave2d, (-1.0, 0.0), window=None) == pytest.approx(1.0)


def test_wave_rnn_bad_parameters():
    with pytest.raises(UsageError):
        WaveRNN(n=8, shift=0.5)
    with pytest.raises(UsageError):
        WaveRNN(n=8, shift=2, kernel_size=3)
    with pytest.raises(UsageError):
        WaveRNN(shape=(8, 8), shift=(1, 1))  # source input needs an axis-aligned shift
    with pytest.raises(UsageError):
        WaveRNN(n=8).run_source(np.zeros((4, 3)))
    with pytest.raises(UsageError):
        ConvRNN(n=8).run(np.zeros((4, 9)))


@pytest.mark.parametrize("kind", list(KINDS))
def test_simulate_every_kind_is_valid_activity_with_truth(kind):
    small = {
        "wrnn": {"n": 16, "channels": 2},
        "wrnn2d": {"size": 12},
        "irnn": {"n": 12},
        "convrnn": {"n": 12},
        "nwm": {"size": 16},
        "oscillator-image": {"size": 16},
        "kuramoto": {"size": 16},
        "flow-rnn": {"n": 8},
    }[kind]
    a, truth = simulate(kind, seed=5, steps=30, **small)
    validate_activity(a)
    assert a.dims == ("time", "y", "x") and a.sizes["time"] == 30
    assert np.isfinite(a.values).all()
    assert a.attrs["kind"] == kind and a.attrs["seed"] == 5
    params = json.loads(a.attrs["parameters"])
    assert params["seed"] == 5 and params["steps"] == 30
    assert set(truth.data_vars) == {
        "pattern",
        "direction_deg",
        "speed_mm_per_s",
        "wavelength_mm",
        "frequency_hz",
    }
    assert truth.sizes["time"] == 30 and truth.attrs["kind"] == kind
    b, _ = simulate(kind, seed=5, steps=30, **small)
    np.testing.assert_array_equal(a.values, b.values)  # deterministic


def test_simulate_truth_values():
    a, truth = simulate("wrnn", steps=20, n=16, channels=3, shift=-1)
    assert a.shape == (20, 3, 16) and a.attrs["fs_hz"] == 1.0
    assert float(truth.direction_deg[0]) == 180.0 and float(truth.speed_mm_per_s[0]) == 1.0
    _, t2 = simulate("wrnn2d", steps=20, size=8, shift=(1, 0))
    assert float(t2.direction_deg[0]) == 90.0  # +y is 90 degrees CCW from +x
    a3, t3 = simulate("kuramoto", steps=20, size=16, twist=(0, 2), noise=0.0)
    assert a3.attrs["fs_hz"] == pytest.approx(100.0)
    assert float(t3.wavelength_mm[0]) == pytest.approx(8.0)
    assert float(t3.direction_deg[0]) == 180.0  # k along +x, wave travels along -x
    _, t4 = simulate("irnn", steps=5, n=4)
    assert t4.pattern.values[0] == "none" and np.isnan(t4.speed_mm_per_s.values).all()


def test_simulate_is_seeded():
    a, _ = simulate("convrnn", seed=1, steps=10, n=8)
    b, _ = simulate("convrnn", seed=2, steps=10, n=8)
    assert not np.array_equal(a.values, b.values)


def test_simulate_usage_errors():
    with pytest.raises(UsageError, match="unknown network kind"):
        simulate("lstm")
    with pytest.raises(UsageError, match="unknown parameter"):
        simulate("wrnn", speed=3)
    with pytest.raises(UsageError):
        simulate("wrnn", steps=1)
    with pytest.raises(UsageError):
        simulate("nwm", size=8, dt=1.0)
    with pytest.raises(UsageError):
        simulate("wrnn", n="many")
