"""NumPy .npy / .npz files, through wavekit.load."""

from __future__ import annotations

import numpy as np
import pytest

import wavekit
from wavekit.errors import InputError


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)


def test_npy_grid_needs_flags_and_keeps_values(tmp_path):
    data = np.random.default_rng(0).integers(0, 4000, size=(60, 4, 5)).astype(np.uint16)
    p = tmp_path / "a.npy"
    np.save(p, data)
    assert wavekit.detect_format(p) == "numpy"
    _fails(p, "no sampling rate")
    _fails(p, "no grid spacing", fs=100.0)
    a = wavekit.load(p, fs=100.0, spacing_mm=(0.2, 0.1))
    assert a.dims == ("time", "y", "x") and a.shape == (60, 4, 5) and a.dtype == np.uint16
    np.testing.assert_array_equal(a.values, data)
    np.testing.assert_allclose(a["y"], np.arange(4) * 0.2)
    np.testing.assert_allclose(a["x"], np.arange(5) * 0.1)
    np.testing.assert_allclose(a["time"][:3], [0, 0.01, 0.02])
    b = wavekit.load(p, fs=100.0, spacing_mm=0.2, dims="time,x,y")
    np.testing.assert_array_equal(b.values, np.swapaxes(data, 1, 2))


def test_npy_lazy_memory_map(tmp_path):
    data = np.arange(40 * 3 * 3, dtype=np.float32).reshape(40, 3, 3)
    p = tmp_path / "big.npy"
    np.save(p, data)
    a = wavekit.load(p, fs=10.0, spacing_mm=1.0, lazy=True)
    assert hasattr(a.data, "compute")
    np.testing.assert_array_equal(a.values, data)


def test_npy_channels_with_positions_file(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(100, 5))
    pos = rng.uniform(0, 2, size=(5, 2))
    p = tmp_path / "ch.npy"
    np.save(p, data)
    np.savetxt(tmp_path / "pos.csv", pos, delimiter=",", header="x,y", comments="")
    _fails(p, "no electrode positions", fs=250.0)
    a = wavekit.load(p, fs=250.0, positions=str(tmp_path / "pos.csv"))
    assert a.dims == ("time", "channel") and a.shape == (100, 5)
    np.testing.assert_allclose(a["x"], pos[:, 0])
    np.testing.assert_allclose(a["y"], pos[:, 1])


def test_npz_metadata_by_name(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.normal(size=(6, 80))  # channel x time, as its dims string says
    yy, xx = np.mgrid[0:2, 0:3] * 0.25
    pos = np.column_stack([xx.ravel(), yy.ravel()])
    p = tmp_path / "rec.npz"
    np.savez(
        p, signal=data, fs_hz=np.float64(512.0), positions=pos, dims="channel,time", units="uV"
    )
    f = wavekit.open_activity(p, layout="irregular")
    a = f.activity
    assert f.format == "numpy" and f.dataset == "signal"
    assert a.dims == ("time", "channel") and a.shape == (80, 6)
    np.testing.assert_array_equal(a.values, data.T)
    np.testing.assert_allclose(a["x"], pos[:, 0])
    assert a.attrs["fs_hz"] == 512.0 and a.attrs["units"] == "uV"
    g = wavekit.load(p)
    assert g.dims == ("time", "y", "x") and g.shape == (80, 2, 3)


def test_npz_compressed_cube_and_dataset_choice(tmp_path):
    rng = np.random.default_rng(3)
    cube = rng.normal(size=(50, 3, 4)).astype(np.float32)
    other = rng.normal(size=(20, 3, 4))
    p = tmp_path / "c.npz"
    np.savez_compressed(p, movie=cube, small=other, dt=np.float64(0.004), spacing_um=50.0)
    a = wavekit.load(p)
    assert a.shape == (50, 3, 4) and a.attrs["fs_hz"] == pytest.approx(250.0)
    np.testing.assert_allclose(a["x"], np.arange(4) * 0.05)
    np.testing.assert_array_equal(a.values, cube)
    b = wavekit.open_activity(p, dataset="small")
    assert b.dataset == "small" and b.activity.shape == (20, 3, 4)
    _fails(p, "no such entry", dataset="nope")


def test_bad_numpy_files(tmp_path):
    p = tmp_path / "vec.npy"
    np.save(p, np.arange(100.0))
    _fails(p, "1-D", fs=10.0, spacing_mm=1.0)
    p = tmp_path / "text.npy"
    np.save(p, np.array([["a", "b"], ["c", "d"]]))
    _fails(p, "non-numeric")
    p = tmp_path / "obj.npy"
    np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    _fails(p, "Python objects")
    p = tmp_path / "obj.npz"
    np.savez(p, a=np.array([{"a": 1}], dtype=object), b=np.zeros((3, 3)))
    _fails(p, "Python objects")
    p = tmp_path / "good.npy"
    np.save(p, np.zeros((1000, 8)))
    t = tmp_path / "trunc.npy"
    t.write_bytes(p.read_bytes()[:3000])
    _fails(t, "truncated", fs=1.0)
    p = tmp_path / "good.npz"
    np.savez(p, a=np.zeros((1000, 8)))
    t = tmp_path / "trunc.npz"
    t.write_bytes(p.read_bytes()[:3000])
    _fails(t, "truncated", fs=1.0)
    p = tmp_path / "onlyvec.npz"
    np.savez(p, a=np.arange(10.0), fs=1.0)
    _fails(p, "only 1-D")
