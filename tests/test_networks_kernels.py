"""Numba kernels of wavekit.networks against their NumPy references, and the shift operators."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.errors import UsageError
from wavekit.networks import Flow, translate
from wavekit.networks._kernels import (
    circular_conv_ref,
    conv_rnn_run,
    conv_rnn_run_ref,
    oscillator_run,
    oscillator_run_ref,
)

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def conv_case(draw):
    b = draw(st.integers(1, 2))
    t = draw(st.integers(1, 5))
    c = draw(st.integers(1, 3))
    ny = draw(st.integers(1, 6))
    nx = draw(st.integers(2, 7))
    ky = draw(st.sampled_from([1, 3])) if ny > 1 else 1
    kx = draw(st.sampled_from([1, 3, 5]))
    seed = draw(st.integers(0, 2**31 - 1))
    sparsity = draw(st.floats(0.0, 0.9))
    scale = draw(st.sampled_from([1e-3, 0.5, 1.0, 3.0]))
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal((c, c, ky, kx)) * scale
    kernel[rng.random(kernel.shape) < sparsity] = 0.0
    h0 = rng.standard_normal((b, c, ny, nx))
    drive = rng.standard_normal((b, t, c, ny, nx)) * scale
    bias = rng.standard_normal(c)
    return h0, kernel, drive, bias


@SETTINGS
@given(conv_case(), st.sampled_from([0, 1, 2]))
def test_conv_rnn_kernel_matches_reference(case, act):
    h0, kernel, drive, bias = case
    fast = conv_rnn_run(h0, kernel, drive, bias, act)
    ref = conv_rnn_run_ref(h0, kernel, drive, bias, act)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(conv_case(), st.sampled_from([0, 2]), st.floats(0.001, 0.1), st.floats(0.0, 5.0))
def test_oscillator_kernel_matches_reference(case, act, dt, eps):
    y0, w_y, drive, bias = case
    rng = np.random.default_rng(1)
    z0 = rng.standard_normal(y0.shape)
    w_z = rng.standard_normal(w_y.shape) * 0.1
    gamma = rng.random(y0.shape[1:]) * 3
    eps_arr = np.full(y0.shape[1:], eps)
    fast = oscillator_run(y0, z0, w_y, w_z, drive, bias, dt, gamma, eps_arr, act)
    ref = oscillator_run_ref(y0, z0, w_y, w_z, drive, bias, dt, gamma, eps_arr, act)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)


def test_convolution_not_correlation():
    """A single tap at offset +1 moves activity toward +x, exactly like numpy.roll(+1)."""
    h = np.zeros((1, 1, 1, 5))
    h[0, 0, 0, 1] = 1.0
    k = np.zeros((1, 1, 1, 3))
    k[0, 0, 0, 2] = 1.0  # offset +1
    out = circular_conv_ref(h, k)
    assert out[0, 0, 0].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    fast = conv_rnn_run(np.zeros((1, 1, 1, 5)), k, h[:, None], np.zeros(1), 0)
    assert fast[0, 0, 0, 0].tolist() == h[0, 0, 0].tolist()  # first step: drive only


@SETTINGS
@given(
    st.integers(1, 6),
    st.integers(2, 9),
    st.integers(-20, 20),
    st.integers(-20, 20),
    st.integers(0, 1000),
)
def test_integer_translate_is_roll_and_fourier_agrees(ny, nx, sy, sx, seed):
    a = np.random.default_rng(seed).standard_normal((2, ny, nx))
    sy = sy if ny > 1 else 0
    rolled = translate(a, (sy, sx))
    np.testing.assert_array_equal(rolled, np.roll(a, (sy, sx), axis=(-2, -1)))
    np.testing.assert_allclose(translate(a, (sy, sx), fourier=True), rolled, atol=1e-12)


@SETTINGS
@given(
    st.sampled_from([5, 7, 9, 15]),
    st.floats(-4, 4),
    st.floats(-4, 4),
    st.integers(0, 1000),
)
def test_fourier_shifts_form_a_group_on_odd_sizes(n, a, b, seed):
    f = np.random.default_rng(seed).standard_normal((3, n, n))
    ab = translate(translate(f, (a, b), fourier=True), (b, -a), fourier=True)
    np.testing.assert_allclose(ab, translate(f, (a + b, b - a), fourier=True), atol=1e-11)
    back = translate(translate(f, (a, b), fourier=True), (-a, -b), fourier=True)
    np.testing.assert_allclose(back, f, atol=1e-11)


def test_flow_apply_moves_frame_t_by_v_t():
    f = np.zeros((4, 1, 9))
    f[:, 0, 0] = 1.0
    moved = Flow(-2).apply(f)
    assert [int(np.argmax(moved[t, 0])) for t in range(4)] == [0, 7, 5, 3]
    with pytest.raises(UsageError):
        translate(f, 0.5, fourier=False)
    with pytest.raises(UsageError):
        Flow((1, 2, 3))


@pytest.mark.parametrize("act", [0, 1, 2])
def test_nan_propagates_like_the_reference(act):
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((1, 1, 3, 3))
    drive = rng.standard_normal((1, 4, 1, 5, 5))
    drive[0, 1, 0, 2, 2] = np.nan
    args = (np.zeros((1, 1, 5, 5)), kernel, drive, np.zeros(1), act)
    fast, ref = conv_rnn_run(*args), conv_rnn_run_ref(*args)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(ref))
    assert np.isnan(fast[0, 3]).sum() > 1  # the NaN spreads through the coupling
    np.testing.assert_allclose(fast, ref, rtol=1e-12)
