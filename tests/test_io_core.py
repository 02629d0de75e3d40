"""wavekit's own HDF5 layout and generic HDF5 files, through wavekit.load."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wavekit
from wavekit.errors import InputError
from wavekit.model import grid_activity, irregular_activity


def _truth(n):
    return xr.Dataset(
        {
            "pattern": ("time", np.array(["plane"] * n)),
            "direction_deg": ("time", np.full(n, 30.0), {"units": "deg"}),
            "speed_mm_per_s": ("time", np.full(n, 300.0)),
        },
        coords={"time": ("time", np.arange(n) / 100.0)},
        attrs={"kind": "plane", "seed": 3, "parameters": '{"a": 1}'},
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=st.tuples(st.integers(2, 30), st.integers(1, 5), st.integers(1, 5)),
    dtype=st.sampled_from(["float32", "float64", "int16", "uint16"]),
    irregular=st.booleans(),
    trial=st.booleans(),
    units=st.sampled_from(["", "uV", "dF/F"]),
)
def test_native_round_trip_is_identical(tmp_path, shape, dtype, irregular, trial, units):
    rng = np.random.default_rng(0)
    data = (rng.normal(size=((2,) if trial else ()) + shape) * 100).astype(dtype)
    if irregular:
        flat = data.reshape(*data.shape[:-2], -1)
        n = flat.shape[-1]
        a = irregular_activity(
            flat,
            fs_hz=512.5,
            x_mm=rng.uniform(0, 3, n),
            y_mm=rng.uniform(0, 3, n),
            channel=[f"e{i}" for i in range(n)],
            units=units,
            attrs={"note": "x", "gain": 2.5, "flag": False},
        )
    else:
        a = grid_activity(
            data,
            fs_hz=1000.0,
            dx_mm=0.21875,
            dy_mm=0.3,
            t0_s=1.5,
            units=units,
            attrs={"meta": {"k": [1, 2]}, "count": 3},
        )
    p = wavekit.save(a, tmp_path / "a.h5")
    b = wavekit.load(p)
    xr.testing.assert_identical(a, b)
    assert b.dtype == a.dtype
    lazy = wavekit.load(p, lazy=True)
    assert hasattr(lazy.data, "compute")
    xr.testing.assert_identical(a, lazy.compute())


def test_ground_truth_round_trip(tmp_path):
    a = grid_activity(np.zeros((10, 2, 2), np.float32), fs_hz=100.0, dx_mm=1.0)
    p = wavekit.save(a, tmp_path / "sim.h5", ground_truth=_truth(10))
    t = wavekit.load_ground_truth(p)
    xr.testing.assert_identical(t, _truth(10))
    assert wavekit.load_ground_truth(wavekit.save(a, tmp_path / "plain.h5")) is None


def test_native_file_is_chunked_compressed_and_atomic(tmp_path):
    a = grid_activity(np.zeros((4000, 16, 16), np.float32), fs_hz=1000.0, dx_mm=0.4)
    p = wavekit.save(a, tmp_path / "a.h5")
    with h5py.File(p) as f:
        ds = f["activity"]
        assert ds.compression == "gzip" and ds.chunks[1:] == (16, 16)
        assert ds.chunks[0] < 4000
        assert f.attrs["wavekit_format"] == "wavekit.activity"
    assert [q.name for q in tmp_path.iterdir()] == ["a.h5"]  # no temporary left behind


def test_save_failure_leaves_no_file(tmp_path):
    bad = xr.DataArray(np.zeros((3, 3)), dims=("a", "b"))
    with pytest.raises(InputError):
        wavekit.save(bad, tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []


def _h5(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, (value, attrs) in datasets.items():
            f[name] = value
            f[name].attrs.update(attrs)
    return path


def test_generic_hdf5_grid_with_attributes(tmp_path):
    data = np.random.default_rng(0).normal(size=(200, 6, 6))
    p = _h5(
        tmp_path / "g.h5",
        data=(data, {"fs": 250.0, "spacing_um": 400, "units": "uV"}),
        small=(np.zeros((3, 3)), {}),
    )
    found = wavekit.open_activity(p)
    a = found.activity
    assert a.dims == ("time", "y", "x") and a.attrs["fs_hz"] == 250.0 and a.attrs["units"] == "uV"
    np.testing.assert_allclose(a.x, np.arange(6) * 0.4)
    np.testing.assert_array_equal(a.values, data)
    assert found.dataset == "/data" and any("largest" in n for n in found.notes)


def test_generic_hdf5_channels_positions_and_time(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(8, 500))  # channel x time
    pos = rng.uniform(0, 2, size=(8, 2))
    p = _h5(
        tmp_path / "c.h5",
        lfp=(data, {}),
        positions=(pos, {}),
        timestamps=(10 + np.arange(500) / 2000.0, {}),
    )
    a = wavekit.load(p)
    assert a.dims == ("time", "channel")
    assert a.attrs["fs_hz"] == pytest.approx(2000.0)
    assert float(a.time[0]) == pytest.approx(10.0)
    np.testing.assert_allclose(a.x, pos[:, 0])
    np.testing.assert_array_equal(a.values, data.T)


def test_generic_hdf5_overrides(tmp_path):
    data = np.random.default_rng(0).normal(size=(5, 7, 300))  # y, x, time
    p = _h5(tmp_path / "o.h5", a=(data, {}), b=(np.ones((400, 2)), {}))
    a = wavekit.load(p, dataset="/a", dims="y,x,time", fs=100.0, spacing_mm=(0.5, 0.25))
    assert a.shape == (300, 5, 7)
    np.testing.assert_allclose(a.x[:2], [0, 0.25])
    np.testing.assert_allclose(a.y[:2], [0, 0.5])
    np.testing.assert_array_equal(a.values, np.moveaxis(data, 2, 0))


def test_positions_file_and_grid_detection(tmp_path):
    yy, xx = np.mgrid[0:4, 0:5] * 0.2
    pos = np.column_stack([xx.ravel(), yy.ravel()])
    np.savetxt(tmp_path / "pos.csv", pos, delimiter=",", header="x_mm,y_mm")
    p = _h5(tmp_path / "d.h5", d=(np.random.default_rng(0).normal(size=(100, 20)), {"fs": 1e3}))
    a = wavekit.load(p, positions=str(tmp_path / "pos.csv"))
    assert a.dims == ("time", "y", "x") and a.shape == (100, 4, 5)
    b = wavekit.load(p, positions=str(tmp_path / "pos.csv"), layout="irregular")
    assert b.dims == ("time", "channel") and b.sizes["channel"] == 20


def test_lazy_generic_hdf5_streams(tmp_path):
    data = np.random.default_rng(0).normal(size=(1000, 4, 4)).astype(np.float32)
    p = _h5(tmp_path / "big.h5", data=(data, {"fs": 1000.0, "spacing_mm": 1.0}))
    a = wavekit.load(p, lazy=True)
    assert hasattr(a.data, "compute")
    np.testing.assert_allclose(float(a.mean()), data.mean(dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize(
    "make, overrides, message",
    [
        (lambda p: p.write_bytes(b"not an hdf5 file at all" * 10), {}, "not an HDF5 file"),
        (lambda p: p.write_bytes(b""), {}, "empty"),
        (lambda p: _h5(p, d=(np.zeros((0, 4)), {"fs": 1.0})), {}, "empty"),
        (lambda p: _h5(p, d=(np.arange(10.0), {"fs": 1.0})), {}, "1-D"),
        (lambda p: _h5(p, d=(np.array([b"a", b"b"]), {})), {}, "no numeric dataset"),
        (
            lambda p: _h5(p, d=(np.zeros((5, 3, 3)), {"fs": 1.0})),
            {"dataset": "/nope"},
            "no such dataset",
        ),
        (
            lambda p: _h5(p, d=(np.full((5, 3, 3), np.nan), {"fs": 1.0, "spacing_mm": 1.0})),
            {},
            "NaN",
        ),
        (lambda p: _h5(p, d=(np.zeros((5, 3, 3)), {"spacing_mm": 1.0})), {}, "sampling rate"),
        (
            lambda p: _h5(p, d=(np.zeros((5, 3, 3)), {"fs": 1.0, "spacing_mm": 1.0})),
            {"dims": "time,x"},
            "do not fit",
        ),
        (
            lambda p: _h5(p, d=(np.zeros((5, 3, 3)), {"fs": 1.0, "spacing_mm": 1.0})),
            {"dims": "time,y,z"},
            "not valid",
        ),
        (lambda p: _h5(p, d=(np.zeros((50, 3)), {"fs": 1.0})), {}, "no electrode positions"),
    ],
)
def test_bad_inputs_raise_one_clear_input_error(tmp_path, make, overrides, message):
    p = tmp_path / "bad.h5"
    make(p)
    with pytest.raises(InputError) as err:
        wavekit.load(p, **overrides)
    text = str(err.value)
    assert text.startswith(str(p)) and message in text and "\n" not in text


def test_truncated_hdf5(tmp_path):
    good = _h5(tmp_path / "g.h5", d=(np.zeros((500, 8, 8)), {"fs": 1.0, "spacing_mm": 1.0}))
    bad = tmp_path / "t.h5"
    bad.write_bytes(good.read_bytes()[:4096])
    with pytest.raises(InputError, match="truncated"):
        wavekit.load(bad)
