"""The data model: constructors, validation, grid detection and the two views."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import wavekit
from wavekit.errors import InputError
from wavekit.model import (
    bad_channels,
    detect_grid,
    grid_activity,
    irregular_activity,
    layout,
    spacing_mm,
    to_grid,
    to_irregular,
    validate_activity,
)


def utah_positions(pitch=0.4):
    yy, xx = np.mgrid[0:10, 0:10] * pitch + pitch / 2
    keep = np.ones((10, 10), bool)
    keep[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    return xx[keep], yy[keep]


def test_grid_activity_coords_and_attrs():
    a = grid_activity(
        np.zeros((7, 3, 4), np.float32), fs_hz=200.0, dx_mm=0.5, dy_mm=0.25, units="uV"
    )
    assert a.name == "activity" and a.dims == ("time", "y", "x")
    np.testing.assert_allclose(a.x, [0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(a.y, [0, 0.25, 0.5])
    np.testing.assert_allclose(a.time, np.arange(7) / 200.0)
    assert a.attrs == {"fs_hz": 200.0, "units": "uV"}
    assert spacing_mm(a) == pytest.approx((0.25, 0.5))
    assert layout(a) == "grid"


def test_trial_dim_is_leading():
    a = grid_activity(np.zeros((2, 5, 3, 3)), fs_hz=10.0, dx_mm=1.0)
    assert a.dims == ("trial", "time", "y", "x")
    b = irregular_activity(np.zeros((2, 5, 3)), fs_hz=10.0, x_mm=[0, 1, 2], y_mm=[0, 0, 0])
    assert b.dims == ("trial", "time", "channel")
    validate_activity(a)
    validate_activity(b)


@pytest.mark.parametrize("fs", [0, -1, float("nan"), "abc"])
def test_bad_sampling_rate(fs):
    with pytest.raises(InputError, match="sampling rate"):
        grid_activity(np.zeros((5, 2, 2)), fs_hz=fs, dx_mm=1.0)


def test_validate_rejects_wrong_dims():
    da = xr.DataArray(np.zeros((3, 4)), dims=("a", "b"), attrs={"fs_hz": 1.0})
    with pytest.raises(InputError, match="dims"):
        validate_activity(da, "f.h5")


def test_detect_utah_grid_with_corners_missing():
    x, y = utah_positions()
    g = detect_grid(x, y)
    assert (g.ny, g.nx, g.n_holes) == (10, 10, 4)
    assert g.dx == pytest.approx(0.4) and g.dy == pytest.approx(0.4)
    assert g.x0 == pytest.approx(0.2)
    np.testing.assert_allclose(g.x0 + g.col * g.dx, x, atol=1e-12)


def test_detect_grid_rejects_random_and_duplicates():
    rng = np.random.default_rng(1)
    assert detect_grid(rng.uniform(0, 4, 64), rng.uniform(0, 4, 64)) is None
    assert detect_grid([0, 0, 1], [0, 0, 1]) is None  # two electrodes at one site
    # a sparse subset of a fine lattice is not a grid (mostly holes)
    assert detect_grid([0, 1, 10, 20], [0, 7, 3, 20]) is None


@settings(max_examples=40, deadline=None)
@given(
    ny=st.integers(1, 6),
    nx=st.integers(2, 6),
    pitch=st.floats(0.01, 5.0),
    x0=st.floats(-10, 10),
    y0=st.floats(-10, 10),
    jitter=st.floats(0, 0.01),
    seed=st.integers(0, 99),
)
def test_detect_grid_recovers_shuffled_lattices(ny, nx, pitch, x0, y0, jitter, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx]
    x = x0 + xx.ravel() * pitch + rng.uniform(-jitter, jitter, nx * ny) * pitch
    y = y0 + yy.ravel() * pitch * 1.5 + rng.uniform(-jitter, jitter, nx * ny) * pitch
    order = rng.permutation(x.size)
    g = detect_grid(x[order], y[order])
    assert g is not None
    assert (g.nx, g.ny) == (nx, ny)
    assert g.dx == pytest.approx(pitch, rel=0.03)
    np.testing.assert_array_equal(g.col, xx.ravel()[order])
    np.testing.assert_array_equal(g.row, yy.ravel()[order])


def test_grid_and_irregular_views_round_trip():
    x, y = utah_positions()
    rng = np.random.default_rng(0)
    data = rng.normal(size=(20, x.size))
    a = irregular_activity(data, fs_hz=500.0, x_mm=x, y_mm=y, units="uV")
    g = to_grid(a)
    assert g.shape == (20, 10, 10)
    assert int(np.isnan(g.isel(time=0)).sum()) == 4
    assert bool(np.isnan(g[:, 0, 0]).all()) and bool(np.isnan(g[:, 9, 9]).all())
    back = to_irregular(g)
    assert back.sizes["channel"] == 96
    # same samples at the same positions
    key = dict(zip(zip(np.round(x, 6), np.round(y, 6), strict=True), data.T, strict=True))
    for i in range(96):
        xy = (round(float(back.x[i]), 6), round(float(back.y[i]), 6))
        np.testing.assert_array_equal(back.values[:, i], key[xy])
    assert back.attrs == a.attrs


def test_to_grid_lazy_matches_eager():
    da = pytest.importorskip("dask.array")
    x, y = utah_positions()
    data = np.random.default_rng(2).normal(size=(30, 96))
    a = irregular_activity(data, fs_hz=10.0, x_mm=x, y_mm=y)
    lazy = a.copy(data=da.from_array(data, chunks=(10, 96)))
    g = to_grid(lazy)
    assert hasattr(g.data, "compute")
    np.testing.assert_array_equal(g.values, to_grid(a).values)


def test_to_grid_refuses_irregular_positions():
    a = irregular_activity(np.zeros((4, 3)), fs_hz=1.0, x_mm=[0, 0.3, 1.7], y_mm=[0, 1.1, 0.2])
    with pytest.raises(InputError, match="regular grid"):
        to_grid(a)


def test_bad_channels_nan_and_flat():
    data = np.random.default_rng(0).normal(size=(50, 3, 4))
    data[:, 0, 1] = np.nan
    data[:, 2, 3] = 7.0
    a = grid_activity(data, fs_hz=100.0, dx_mm=1.0)
    assert bad_channels(a) == {"nan": [[0, 1]], "flat": [[2, 3]]}
    ir = to_irregular(a, drop_empty=False)
    assert bad_channels(ir) == {"nan": ["r0c1"], "flat": ["r2c3"]}


def test_top_level_lazy_exports():
    assert wavekit.load.__module__ == "wavekit.io"
    assert "to_grid" in dir(wavekit)
    with pytest.raises(AttributeError):
        wavekit.no_such_thing  # noqa: B018
