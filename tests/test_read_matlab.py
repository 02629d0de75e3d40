"""MATLAB .mat files (v5 through SciPy, v7.3 through h5py), through wavekit.load."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

import wavekit
from wavekit.errors import InputError


def _utah_positions(n=6, pitch=0.4):
    yy, xx = np.mgrid[0:n, 0:n] * pitch
    keep = np.ones((n, n), bool)
    keep[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    return np.column_stack([xx[keep], yy[keep]]), keep


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)
    return str(ei.value)


def test_v5_channels_on_a_lattice_become_a_grid_with_nan_holes(tmp_path):
    pos, keep = _utah_positions()
    rng = np.random.default_rng(1)
    data = rng.normal(size=(300, pos.shape[0]))
    p = tmp_path / "utah.mat"
    scipy.io.savemat(p, {"data": data, "fs": 500.0056, "position": pos})
    a = wavekit.load(p)
    assert a.dims == ("time", "y", "x") and a.shape == (300, 6, 6)
    assert a.attrs["fs_hz"] == pytest.approx(500.0056)
    np.testing.assert_allclose(a["x"], np.arange(6) * 0.4, atol=1e-9)
    assert int(np.isnan(a.isel(time=0)).sum()) == 4
    # the values land at their electrode's site
    grid = a.values
    rows, cols = np.nonzero(keep)
    np.testing.assert_array_equal(grid[:, rows, cols], data)

    b = wavekit.load(p, layout="irregular")
    assert b.dims == ("time", "channel") and b.shape == (300, 32)
    np.testing.assert_array_equal(b.values, data)
    np.testing.assert_allclose(b["x"], pos[:, 0])
    np.testing.assert_allclose(b["y"], pos[:, 1])


def test_v5_irregular_positions_and_channels_by_time(tmp_path):
    rng = np.random.default_rng(2)
    pos = rng.uniform(0, 3, size=(2, 7))  # 2 x n
    data = rng.normal(size=(7, 120))  # channels x samples
    p = tmp_path / "irr.mat"
    scipy.io.savemat(p, {"lfp": data, "srate": 1000, "xy": pos})
    f = wavekit.open_activity(p)
    a = f.activity
    assert a.dims == ("time", "channel") and a.shape == (120, 7)
    np.testing.assert_array_equal(a.values, data.T)
    np.testing.assert_allclose(a["x"], pos[0])
    assert a.attrs["fs_hz"] == 1000.0
    assert any("srate" in n for n in f.notes)


def test_v5_cube_rows_cols_time_with_spacing_and_units(tmp_path):
    cube = np.arange(4 * 5 * 40, dtype=np.float32).reshape(4, 5, 40)
    p = tmp_path / "cube.mat"
    scipy.io.savemat(p, {"movie": cube, "Fs": 200.0, "spacing_mm": 0.1, "units": "dF/F"})
    a = wavekit.load(p)
    assert a.dims == ("time", "y", "x") and a.shape == (40, 4, 5)
    np.testing.assert_array_equal(a.values, np.moveaxis(cube, 2, 0))
    np.testing.assert_allclose(a["x"], np.arange(5) * 0.1)
    assert a.attrs["units"] == "dF/F" and a.dtype == np.float32


def test_v5_fs_from_time_vector_and_dims_variable(tmp_path):
    cube = np.random.default_rng(0).normal(size=(30, 3, 3))
    t = 2.0 + np.arange(30) / 50.0
    p = tmp_path / "t.mat"
    scipy.io.savemat(p, {"X": cube, "t": t, "dims": "time,rows,cols", "pitch_um": 250.0})
    a = wavekit.load(p)
    assert a.shape == (30, 3, 3)
    assert a.attrs["fs_hz"] == pytest.approx(50.0)
    assert float(a["time"][0]) == pytest.approx(2.0)
    np.testing.assert_allclose(a["y"], [0, 0.25, 0.5])


def test_v5_struct_fields_and_dataset_choice(tmp_path):
    rng = np.random.default_rng(3)
    rec = {"signal": rng.normal(size=(100, 4, 4)), "fs": 100.0, "spacing_mm": 0.5}
    p = tmp_path / "s.mat"
    scipy.io.savemat(
        p, {"rec": rec, "big": rng.normal(size=(200, 4, 4)), "fs": 100.0, "spacing_mm": 0.5}
    )
    assert wavekit.open_activity(p).dataset == "big"
    f = wavekit.open_activity(p, dataset="rec.signal")
    assert f.dataset == "rec.signal" and f.activity.shape == (100, 4, 4)
    np.testing.assert_array_equal(f.activity.values, rec["signal"])


def _v73(path, variables):
    """Write a MATLAB v7.3 file as MATLAB does: HDF5 after a 512-byte header, axes reversed."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            if isinstance(value, dict):
                g = f.create_group(name)
                g.attrs["MATLAB_class"] = np.bytes_("struct")
                for k, v in value.items():
                    ds = g.create_dataset(k, data=np.asarray(v, dtype=float).T)
                    ds.attrs["MATLAB_class"] = np.bytes_("double")
            elif isinstance(value, str):
                ds = f.create_dataset(name, data=np.array([[ord(c)] for c in value], np.uint16))
                ds.attrs["MATLAB_class"] = np.bytes_("char")
            else:
                v = np.atleast_2d(value)
                ds = f.create_dataset(name, data=v.T)
                cls = {"f": "double" if v.dtype == np.float64 else "single"}.get(
                    v.dtype.kind, str(v.dtype)
                )
                ds.attrs["MATLAB_class"] = np.bytes_(cls)
    with open(path, "r+b") as fh:
        fh.write(
            b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 2024 "
            b"HDF5 schema 1.00 .".ljust(116, b" ")
        )


def test_v73_axes_are_seen_as_matlab_shows_them(tmp_path):
    cube = np.arange(6 * 7 * 50, dtype=np.float64).reshape(6, 7, 50)  # rows x cols x time
    p = tmp_path / "v73.mat"
    _v73(p, {"data": cube, "fs": np.array(250.0), "dx_mm": np.array(0.2), "units": "uV"})
    assert wavekit.detect_format(p) == "matlab"
    f = wavekit.open_activity(p)
    a = f.activity
    assert a.dims == ("time", "y", "x") and a.shape == (50, 6, 7)
    np.testing.assert_array_equal(a.values, np.moveaxis(cube, 2, 0))
    assert a.attrs["fs_hz"] == 250.0 and a.attrs["units"] == "uV"
    assert any("v7.3" in n for n in f.notes)
    # --dims refers to MATLAB's view: say the cube is cols x rows x time
    b = wavekit.load(p, dims="x,y,time")
    assert b.shape == (50, 7, 6)
    np.testing.assert_array_equal(b.values, np.transpose(cube, (2, 1, 0)))
    lazy = wavekit.load(p, lazy=True)
    assert hasattr(lazy.data, "compute")
    np.testing.assert_array_equal(lazy.values, a.values)


def test_v73_channels_with_positions_in_a_struct(tmp_path):
    pos, _ = _utah_positions(5, 0.4)
    data = np.random.default_rng(4).normal(size=(80, pos.shape[0]))
    p = tmp_path / "rec.mat"
    _v73(p, {"rec": {"data": data, "fs": 1000.0, "positions": pos}})
    a = wavekit.load(p, layout="irregular")
    assert a.shape == (80, pos.shape[0])
    np.testing.assert_array_equal(a.values, data)
    np.testing.assert_allclose(a["x"], pos[:, 0])
    assert wavekit.load(p).dims == ("time", "y", "x")


def test_bad_matlab_files(tmp_path):
    p = tmp_path / "vec.mat"
    scipy.io.savemat(p, {"v": np.arange(100.0), "fs": 10.0})
    _fails(p, "only 1-D numeric")
    p = tmp_path / "text.mat"
    scipy.io.savemat(p, {"name": "hello", "c": np.array([["a", "b"]], dtype=object)})
    _fails(p, "no numeric variable")
    p = tmp_path / "nofs.mat"
    scipy.io.savemat(p, {"cube": np.zeros((10, 3, 3)), "spacing_mm": 1.0})
    _fails(p, "no sampling rate")
    p = tmp_path / "nospacing.mat"
    scipy.io.savemat(p, {"cube": np.ones((10, 3, 3)), "fs": 10.0})
    _fails(p, "no grid spacing")
    p = tmp_path / "ok.mat"
    scipy.io.savemat(p, {"cube": np.ones((10, 3, 3)), "fs": 10.0, "name": "x", "spacing_mm": 1.0})
    _fails(p, "no such variable", dataset="missing")
    _fails(p, "not numeric", dataset="name")
    raw = p.read_bytes()
    t = tmp_path / "truncated.mat"
    t.write_bytes(raw[: len(raw) // 2])
    _fails(t, "truncated")
    v = tmp_path / "t73.mat"
    _v73(v, {"data": np.ones((20, 4)), "fs": np.array(1.0)})
    raw = v.read_bytes()
    v.write_bytes(raw[:700])
    _fails(v, "truncated")
