"""Circular statistics: values, NaN handling, invariances and calibration under the null."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis.circstats import (
    adjusted_r2,
    angle_deg,
    circ_corrcc,
    circ_corrcl,
    circ_diff,
    circ_mean,
    rayleigh_test,
    resultant_length,
    wrap_angle,
)


def test_wrap_and_angle_conventions():
    a = np.array([-np.pi, np.pi, 3 * np.pi, -3 * np.pi + 1e-9, 0.5])
    w = wrap_angle(a)
    assert ((w > -np.pi) & (w <= np.pi)).all()
    np.testing.assert_allclose(w[:3], np.pi)
    np.testing.assert_allclose(
        angle_deg(np.array([0, 1, 0, -1, -0.0]), np.array([1, 0, -1, 0, -1])),
        [0, 90, 180, -90, 180],
    )
    np.testing.assert_allclose(circ_diff(0.1, 2 * np.pi - 0.1), 0.2)


def test_mean_and_resultant_with_nan_and_weights():
    a = np.array([0.1, -0.1, np.nan, 0.0])
    assert abs(float(circ_mean(a))) < 1e-12
    np.testing.assert_allclose(resultant_length(a), (2 * np.cos(0.1) + 1) / 3)
    np.testing.assert_allclose(circ_mean(np.array([0.0, np.pi / 2]), weights=np.array([1, 0])), 0)
    assert np.isnan(circ_mean(np.array([np.nan, np.nan])))
    m = circ_mean(np.array([[3.0, -3.0], [1.0, 1.2]]), axis=1)
    np.testing.assert_allclose(m, [np.pi, 1.1], atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), shift=st.floats(-10, 10), n=st.integers(2, 50))
def test_mean_equivariant_and_length_invariant(seed, shift, n):
    rng = np.random.default_rng(seed)
    a = rng.vonmises(0.3, 2.0, n)
    if resultant_length(a) < 1e-6:
        return
    np.testing.assert_allclose(np.cos(circ_mean(a + shift) - circ_mean(a) - shift), 1, atol=1e-9)
    np.testing.assert_allclose(resultant_length(a + shift), resultant_length(a), atol=1e-12)
    np.testing.assert_allclose(np.cos(circ_mean(-a) + circ_mean(a)), 1, atol=1e-9)  # mirror


def test_rayleigh_calibrated_under_null_and_powerful():
    rng = np.random.default_rng(0)
    p = np.array([rayleigh_test(rng.uniform(-np.pi, np.pi, 30))[1] for _ in range(2000)])
    assert 0.035 < np.mean(p < 0.05) < 0.065
    assert 0.08 < np.mean(p < 0.1) < 0.12
    z, p1 = rayleigh_test(rng.vonmises(1.0, 1.0, 50))
    assert p1 < 1e-4 and z > 5
    # along an axis
    z2, p2 = rayleigh_test(np.stack([np.zeros(10), np.linspace(0, 2 * np.pi, 10, endpoint=False)]))
    assert p2[0] < 1e-3 and p2[1] > 0.9


def test_circ_corrcc_properties():
    rng = np.random.default_rng(1)
    a = rng.vonmises(0, 1.0, 200)
    b = a + rng.normal(0, 0.3, 200)
    r = float(circ_corrcc(a, b))
    assert 0.7 < r < 1
    np.testing.assert_allclose(circ_corrcc(a + 1.0, b - 2.0), r, atol=1e-12)  # offsets cancel
    np.testing.assert_allclose(circ_corrcc(a, -b), -r, atol=1e-12)
    null = [
        float(circ_corrcc(rng.uniform(-np.pi, np.pi, 100), rng.uniform(-np.pi, np.pi, 100)))
        for _ in range(200)
    ]
    assert abs(np.mean(null)) < 0.03 and np.std(null) < 0.15
    bb = b.copy()
    bb[:5] = np.nan
    np.testing.assert_allclose(circ_corrcc(a, bb), circ_corrcc(a[5:], b[5:]))
    assert np.isnan(circ_corrcc(a, np.zeros_like(a)))


def test_circ_corrcl_and_adjusted_r2():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 100)
    r, p = circ_corrcl(1.5 * x + rng.normal(0, 0.2, 100), x)
    assert r > 0.8 and p < 1e-10
    ps = [circ_corrcl(rng.uniform(-np.pi, np.pi, 60), rng.uniform(0, 1, 60))[1] for _ in range(500)]
    assert 0.025 < np.mean(np.array(ps) < 0.05) < 0.08
    np.testing.assert_allclose(adjusted_r2(0.9, 20), 1 - (1 - 0.81) * 19 / 17)
    assert np.isnan(adjusted_r2(0.9, 3))
    assert adjusted_r2(0.0, 50) < 0


@pytest.mark.parametrize("kappa", [0.5, 4.0])
def test_resultant_length_matches_von_mises_expectation(kappa):
    from scipy.special import i0, i1

    rng = np.random.default_rng(3)
    a = rng.vonmises(0.0, kappa, 200000)
    np.testing.assert_allclose(resultant_length(a), i1(kappa) / i0(kappa), atol=5e-3)
