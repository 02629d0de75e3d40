"""Divergence, curl, order parameter, synchrony and the direction-of-travel field."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from _patternwaves import grid, phase_field, to_da

from wavekit.analysis.vectorfield import (
    curl,
    diff_ref,
    direction_field,
    divergence,
    order_parameter,
    synchrony,
    vector_field_measures,
)


def _linear(a, b, c, d, x, y):
    """Field (a x + b y, c x + d y) with dims (time=2, y, x)."""
    yy, xx = np.meshgrid(y, x, indexing="ij")
    coords = {"time": [0.0, 0.1], "y": y, "x": x}
    vx = np.stack([a * xx + b * yy] * 2)
    vy = np.stack([c * xx + d * yy] * 2)
    return (
        xr.DataArray(vx, dims=("time", "y", "x"), coords=coords),
        xr.DataArray(vy, dims=("time", "y", "x"), coords=coords),
    )


X_NONUNIFORM = np.array([0.0, 0.3, 0.7, 1.4, 1.5, 2.3])
Y_NONUNIFORM = np.array([-1.0, -0.2, 0.1, 0.9, 2.0])


@pytest.mark.parametrize(
    "abcd, div, rot",
    [
        ((1, 0, 0, 1), 2.0, 0.0),  # source
        ((-1, 0, 0, -1), -2.0, 0.0),  # sink
        ((0, -1, 1, 0), 0.0, 2.0),  # (-y, x): anticlockwise, curl +2
        ((0, 1, -1, 0), 0.0, -2.0),  # (y, -x): clockwise
        ((1, 0, 0, -1), 0.0, 0.0),  # saddle
        ((0.5, -2.0, 3.0, 0.25), 0.75, 5.0),
    ],
)
def test_divergence_and_curl_of_linear_fields(abcd, div, rot):
    vx, vy = _linear(*abcd, X_NONUNIFORM, Y_NONUNIFORM)
    np.testing.assert_allclose(divergence(vx, vy).values, div, atol=1e-12)
    np.testing.assert_allclose(curl(vx, vy).values, rot, atol=1e-12)
    assert curl(vx, vy).dims == ("time", "y", "x")


def test_nan_sites_stay_nan_and_are_never_zero_filled():
    x = y = np.arange(6) * 0.5
    vx, vy = _linear(1, 0, 0, 1, x, y)
    vx = vx.copy()
    vx[:, 2, 3] = np.nan
    d = divergence(vx, vy)
    assert np.isnan(d[:, 2, 3]).all()
    ok = np.isfinite(d.values)
    assert ok.sum() == d.size - 2
    np.testing.assert_allclose(d.values[ok], 2.0)  # one-sided next to the hole, still exact


def test_diff_ref_quadratic_central_and_edges():
    u = np.array([0.0, 1.0, 2.0, 4.0])
    a = u**2
    d = diff_ref(a, u, 0)
    np.testing.assert_allclose(d, [1.0, 2.0, 5.0, 6.0])  # (16 - 1) / (4 - 1) = 5


def test_order_parameter_plane_source_and_normalisation():
    x = y = np.arange(-3.75, 4.0, 0.5)
    vx, vy = _linear(0, 0, 0, 0, x, y)
    assert float(order_parameter(vx + 2.0, vy)[0]) == pytest.approx(1.0)
    sx, sy = _linear(1, 0, 0, 1, x, y)
    assert float(order_parameter(sx, sy)[0]) < 1e-12
    assert float(order_parameter(sx, sy, normalize=True)[0]) < 1e-12
    # magnitude weighting differs from unit vectors
    a = xr.DataArray(np.array([[[3.0, -1.0]]]), dims=("time", "y", "x"))
    assert float(order_parameter(a, 0 * a)[0]) == pytest.approx(0.5)
    assert float(order_parameter(a, 0 * a, normalize=True)[0]) == pytest.approx(0.0)
    allnan = a * np.nan
    assert np.isnan(float(order_parameter(allnan, allnan)[0]))


def test_synchrony_of_synchronous_and_plane_frames():
    x, y = grid(16, 16, 0.5)
    t = np.arange(3) / 100.0
    sync = synchrony(to_da(phase_field("synchronous", t, x, y), x, y, 100.0))
    np.testing.assert_allclose(sync.values, 1.0)
    plane = synchrony(to_da(phase_field("plane", t, x, y, k=2 * np.pi / 8.0), x, y, 100.0))
    assert np.all(plane.values < 0.2)
    z = np.exp(1j * phase_field("plane", t, x, y))
    z[:, 0, 0] = np.nan
    assert np.isfinite(synchrony(to_da(z, x, y, 100.0)).values).all()
    ch = xr.DataArray(np.zeros((2, 5)), dims=("time", "channel"))
    np.testing.assert_allclose(synchrony(ch).values, 1.0)


@pytest.mark.parametrize("f_hz", [10.0, -10.0])
@pytest.mark.parametrize("direction_deg", [0.0, 90.0, 135.0, -60.0])
def test_direction_field_points_along_travel(f_hz, direction_deg):
    """cos(w t - k.r) travels along +k for w > 0; with w < 0 the phase pattern travels along -k."""
    x, y = grid(10, 10, 0.5)
    t = np.arange(5) / 200.0
    ph = phase_field("plane", t, x, y, f_hz=f_hz, direction_deg=direction_deg)
    d = direction_field(to_da(ph, x, y, 200.0))
    expected = direction_deg if f_hz > 0 else direction_deg + 180.0
    ang = np.degrees(np.arctan2(d.dir_y.values, d.dir_x.values))
    err = (ang - expected + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(err, 0.0, atol=1e-5)


def test_direction_field_of_source_diverges_and_sink_converges():
    x, y = grid(12, 12, 0.5)
    t = np.arange(4) / 200.0
    for kind, sign in (("source", 1), ("sink", -1)):
        d = direction_field(to_da(phase_field(kind, t, x, y), x, y, 200.0))
        div = divergence(d.dir_x, d.dir_y)
        assert np.sign(float(div.median())) == sign, kind


def test_dask_input_gives_the_same_answer():
    x = y = np.arange(-2.0, 2.5, 0.5)
    vx, vy = _linear(0.5, -2.0, 3.0, 0.25, x, y)
    eager = vector_field_measures(vx, vy)
    lazy = vector_field_measures(vx.chunk({"time": 1}), vy.chunk({"time": 1}))
    assert lazy.curl.chunks is not None
    xr.testing.assert_allclose(eager, lazy.compute())


def test_docstring_examples_run():
    import doctest

    import wavekit.analysis.vectorfield as mod

    assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
