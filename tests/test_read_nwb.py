"""NWB files written with pynwb (a test dependency), read by wavekit with h5py alone."""

from __future__ import annotations

from datetime import UTC, datetime

import h5py
import numpy as np
import pytest

import wavekit
from wavekit.errors import InputError

pynwb = pytest.importorskip("pynwb")
from pynwb import NWBHDF5IO, NWBFile  # noqa: E402
from pynwb.ecephys import LFP, ElectricalSeries  # noqa: E402
from pynwb.image import ImageSeries  # noqa: E402
from pynwb.ophys import OpticalChannel, TwoPhotonSeries  # noqa: E402


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)


def _nwb():
    return NWBFile(
        session_description="test",
        identifier="wavekit",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )


def _electrodes(nwb, xy_um, rel=True):
    dev = nwb.create_device(name="array")
    grp = nwb.create_electrode_group(name="g", description="d", location="ctx", device=dev)
    for x, y in xy_um:
        kw = {"rel_x": float(x), "rel_y": float(y)} if rel else {}
        # brain coordinates deliberately different from the array layout
        nwb.add_electrode(x=1000.0 + y, y=2000.0, z=0.0, group=grp, location="ctx", **kw)
    return nwb.create_electrode_table_region(list(range(len(xy_um))), "all")


def _write(nwb, path):
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _lattice_um(ny=3, nx=4, pitch=400.0):
    yy, xx = np.mgrid[0:ny, 0:nx] * pitch
    return np.column_stack([xx.ravel(), yy.ravel()])


def test_electrical_series_on_an_array_becomes_a_grid(tmp_path):
    nwb = _nwb()
    xy = _lattice_um()
    region = _electrodes(nwb, xy)
    raw = np.random.default_rng(0).integers(-500, 500, size=(200, 12)).astype(np.int16)
    nwb.add_acquisition(
        ElectricalSeries(
            name="lfp", data=raw, electrodes=region, rate=1000.0, conversion=1e-6, starting_time=2.0
        )
    )
    p = _write(nwb, tmp_path / "grid.nwb")
    assert wavekit.detect_format(p) == "nwb"
    f = wavekit.open_activity(p)
    a = f.activity
    assert f.format == "nwb" and f.dataset == "/acquisition/lfp"
    assert a.dims == ("time", "y", "x") and a.shape == (200, 3, 4)
    assert a.attrs["fs_hz"] == 1000.0 and a.attrs["units"] == "volts"
    assert float(a["time"][0]) == pytest.approx(2.0)
    np.testing.assert_allclose(a["x"], np.arange(4) * 0.4, atol=1e-9)  # um -> mm
    np.testing.assert_allclose(a.values.reshape(200, 12), raw * 1e-6)
    b = wavekit.load(p, layout="irregular")
    np.testing.assert_allclose(b["x"], xy[:, 0] / 1000)
    np.testing.assert_allclose(b["y"], xy[:, 1] / 1000)


@pytest.mark.filterwarnings("ignore:The linked table")
def test_lfp_in_a_processing_module_with_timestamps_and_brain_xy(tmp_path):
    nwb = _nwb()
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 2000, size=(5, 2))
    dev = nwb.create_device(name="probe")
    grp = nwb.create_electrode_group(name="g", description="d", location="ctx", device=dev)
    for x, y in xy:
        nwb.add_electrode(x=float(x), y=float(y), z=0.0, group=grp, location="ctx")
    region = nwb.create_electrode_table_region(list(range(5)), "all")
    data = rng.normal(size=(50, 5))
    es = ElectricalSeries(
        name="lfp_series", data=data, electrodes=region, timestamps=0.5 + np.arange(50) / 250.0
    )
    mod = nwb.create_processing_module(name="ecephys", description="lfp")
    mod.add(LFP(electrical_series=es))
    p = _write(nwb, tmp_path / "lfp.nwb")
    a = wavekit.load(p)
    assert a.dims == ("time", "channel") and a.shape == (50, 5)
    assert a.attrs["fs_hz"] == pytest.approx(250.0)
    assert float(a["time"][0]) == pytest.approx(0.5)
    np.testing.assert_allclose(a["x"], xy[:, 0] / 1000, rtol=1e-6)
    np.testing.assert_array_equal(a.values, data)


def _plane(nwb, **kw):
    dev = nwb.create_device(name="scope")
    oc = OpticalChannel(name="oc", description="green", emission_lambda=510.0)
    return nwb.create_imaging_plane(
        name="plane",
        optical_channel=oc,
        description="d",
        device=dev,
        excitation_lambda=920.0,
        indicator="GCaMP6",
        location="V1",
        **kw,
    )


def test_two_photon_series_is_time_width_height_with_grid_spacing(tmp_path):
    nwb = _nwb()
    plane = _plane(nwb, grid_spacing=[2.0, 3.0], grid_spacing_unit="micrometers")
    movie = np.arange(30 * 5 * 4, dtype=np.uint16).reshape(30, 5, 4)  # time x width x height
    nwb.add_acquisition(
        TwoPhotonSeries(name="movie", data=movie, imaging_plane=plane, rate=30.0, unit="a.u.")
    )
    p = _write(nwb, tmp_path / "ophys.nwb")
    a = wavekit.load(p)
    assert a.dims == ("time", "y", "x") and a.shape == (30, 4, 5)
    np.testing.assert_array_equal(a.values, np.swapaxes(movie, 1, 2))
    np.testing.assert_allclose(a["x"], np.arange(5) * 0.002)
    np.testing.assert_allclose(a["y"], np.arange(4) * 0.003)
    assert a.attrs["fs_hz"] == 30.0 and a.dtype == np.uint16
    b = wavekit.load(p, dims="time,y,x")
    np.testing.assert_array_equal(b.values, movie)


def test_several_series_largest_first_and_dataset_selects(tmp_path):
    nwb = _nwb()
    region = _electrodes(nwb, _lattice_um(2, 2))
    nwb.add_acquisition(
        ElectricalSeries(name="small", data=np.ones((20, 4)), electrodes=region, rate=100.0)
    )
    nwb.add_acquisition(
        ImageSeries(name="camera", data=np.ones((40, 6, 6), np.float32), rate=50.0, unit="a.u.")
    )
    p = _write(nwb, tmp_path / "two.nwb")
    f = wavekit.open_activity(p, spacing_mm=0.1)
    assert f.dataset == "/acquisition/camera" and f.activity.shape == (40, 6, 6)
    assert any("others: /acquisition/small" in n for n in f.notes)
    _fails(p, "no grid spacing")  # an ImageSeries has no imaging plane
    g = wavekit.open_activity(p, dataset="small")
    assert g.dataset == "/acquisition/small" and g.activity.shape == (20, 2, 2)
    h = wavekit.open_activity(p, dataset="/acquisition/small/data", layout="irregular")
    assert h.activity.shape == (20, 4)
    _fails(p, "no such electrical or imaging series", dataset="nope")


def test_bad_nwb_files(tmp_path):
    nwb = _nwb()
    p = _write(nwb, tmp_path / "empty.nwb")
    _fails(p, "without an ElectricalSeries")
    nwb = _nwb()
    nwb.add_acquisition(
        ImageSeries(
            name="ext",
            external_file=["movie.avi"],
            format="external",
            starting_frame=[0],
            rate=30.0,
            num_samples=100,
        )
    )
    p = _write(nwb, tmp_path / "external.nwb")
    _fails(p, "external file")
    nwb = _nwb()
    region = _electrodes(nwb, [(0, 0), (0, 0)], rel=False)
    nwb.add_acquisition(
        ElectricalSeries(name="e", data=np.ones((10, 2)), electrodes=region, rate=10.0)
    )
    p = _write(nwb, tmp_path / "shared.nwb")
    _fails(p, "no usable x, y")
    raw = p.read_bytes()
    t = tmp_path / "truncated.nwb"
    t.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(InputError) as ei:
        wavekit.load(t)
    assert str(ei.value).startswith(str(t))
    with h5py.File(tmp_path / "one.nwb", "w") as f:
        f.attrs["nwb_version"] = "2.7.0"
        g = f.create_group("acquisition/ts")
        g.attrs["neurodata_type"] = "ElectricalSeries"
        g["data"] = np.arange(10.0)
        g["starting_time"] = 0.0
        g["starting_time"].attrs["rate"] = 10.0
    _fails(tmp_path / "one.nwb", "1-D")
