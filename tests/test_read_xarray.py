"""netCDF (3 and 4) files and Zarr stores through xarray, via wavekit.load."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import wavekit
from wavekit.errors import InputError
from wavekit.model import grid_activity, irregular_activity


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)


def _to_zarr(obj, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr 3 consolidated-metadata notice
        obj.to_zarr(path, mode="w")


def _grid():
    data = np.random.default_rng(0).normal(size=(40, 3, 5)).astype(np.float32)
    return grid_activity(
        data,
        fs_hz=250.0,
        dx_mm=0.4,
        dy_mm=0.3,
        t0_s=1.5,
        units="uV",
        attrs={"subject": "m1", "gain": 2.5},
    )


@pytest.mark.parametrize("kind", ["netcdf4", "netcdf3", "zarr"])
def test_wavekit_dataarray_round_trips(tmp_path, kind):
    a = _grid()
    if kind == "zarr":
        p = tmp_path / "a.zarr"
        _to_zarr(a, p)
    else:
        p = tmp_path / "a.nc"
        a.to_netcdf(p, engine="h5netcdf" if kind == "netcdf4" else "scipy")
    assert wavekit.detect_format(p) == "xarray"
    f = wavekit.open_activity(p)
    assert f.format == "xarray" and f.dataset == "activity"
    xr.testing.assert_identical(f.activity, a)
    lazy = wavekit.load(p, lazy=True)
    assert hasattr(lazy.data, "compute")
    xr.testing.assert_identical(lazy.compute(), a)


def test_irregular_round_trip_and_micrometre_positions(tmp_path):
    rng = np.random.default_rng(1)
    a = irregular_activity(
        rng.normal(size=(30, 6)),
        fs_hz=1000.0,
        x_mm=rng.uniform(0, 2, 6),
        y_mm=rng.uniform(0, 2, 6),
        channel=[f"e{i}" for i in range(6)],
    )
    p = tmp_path / "irr.nc"
    a.to_netcdf(p, engine="h5netcdf")
    xr.testing.assert_identical(wavekit.load(p), a)

    ds = xr.Dataset(
        {"lfp": (("electrode", "t"), a.values.T)},
        coords={
            "t": ("t", np.arange(30) * 2.0, {"units": "ms"}),
            "x": ("electrode", a["x"].values * 1000, {"units": "um"}),
            "y": ("electrode", a["y"].values * 1000, {"units": "um"}),
        },
    )
    p2 = tmp_path / "um.nc"
    ds.to_netcdf(p2, engine="h5netcdf")
    b = wavekit.load(p2)
    assert b.dims == ("time", "channel") and b.shape == (30, 6)
    assert b.attrs["fs_hz"] == pytest.approx(500.0)
    np.testing.assert_allclose(b["x"], a["x"])
    np.testing.assert_allclose(b.values, a.values)


def test_choice_of_variable_and_guessed_dims(tmp_path):
    rng = np.random.default_rng(2)
    ds = xr.Dataset(
        {
            "big": (("frame", "row", "col"), rng.normal(size=(50, 4, 4))),
            "small": (("a", "b", "c"), rng.normal(size=(20, 4, 4))),
            "trace": (("frame",), rng.normal(size=50)),
        },
        attrs={"fs": 40.0, "spacing_mm": 0.25},
    )
    p = tmp_path / "multi.nc"
    ds.to_netcdf(p, engine="h5netcdf")
    f = wavekit.open_activity(p)
    assert f.dataset == "big" and f.activity.shape == (50, 4, 4)
    assert f.activity.attrs["fs_hz"] == 40.0
    np.testing.assert_allclose(f.activity["x"], np.arange(4) * 0.25)
    g = wavekit.open_activity(p, dataset="small")
    assert g.activity.shape == (20, 4, 4)
    assert any("not recognised" in n for n in g.notes)
    _fails(p, "no such variable", dataset="nope")
    _fails(p, "1-D", dataset="trace")


def test_bad_xarray_files(tmp_path):
    p = tmp_path / "vec.nc"
    xr.Dataset({"v": (("time",), np.arange(10.0))}).to_netcdf(p, engine="h5netcdf")
    _fails(p, "only 1-D numeric")
    p = tmp_path / "nofs.nc"
    xr.Dataset({"v": (("time", "y", "x"), np.ones((10, 2, 2)))}).to_netcdf(p, engine="scipy")
    _fails(p, "no sampling rate")
    good = tmp_path / "good.nc"
    xr.Dataset({"v": (("time", "y", "x"), np.ones((400, 8, 8)))}).to_netcdf(good, engine="scipy")
    t = tmp_path / "trunc.nc"
    t.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(InputError) as ei:
        wavekit.load(t, fs=1.0, spacing_mm=1.0)
    assert str(ei.value).startswith(str(t))
    z = tmp_path / "broken.zarr"
    z.mkdir()
    (z / "zarr.json").write_text("{not json")
    _fails(z, "Zarr")
