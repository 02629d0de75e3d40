"""Spike trains binned into rate maps on the electrode positions, through wavekit.load."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wavekit
from wavekit.errors import InputError
from wavekit.io.spikes import DEFAULT_BIN_MS


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)


def _waverepo(path, trains, epos_um, duration=None, names=None, array="test_mea"):
    with h5py.File(path, "w") as f:
        f["spikes"] = np.concatenate(trains) if trains else np.zeros(0)
        f["sCount"] = np.array([len(t) for t in trains], dtype=np.int32)
        f["epos"] = np.asarray(epos_um, dtype=float)
        f["array"] = np.bytes_(array)
        if duration is not None:
            f["summary/duration"] = float(duration)
        if names is not None:
            f["names"] = np.array(names, dtype="S")


def _grid_units():
    # five units on a 2 x 2 array at 200 um; units 3 and 4 were sorted from one electrode
    epos = np.array([[200, 400, 200, 400, 400], [200, 200, 400, 400, 400]], float)
    trains = [
        np.array([0.05, 0.15, 0.16, 1.95]),  # unit 0
        np.array([0.5]),  # unit 1
        np.array([], float),  # unit 2: silent
        np.array([0.01, 0.02]),  # unit 3
        np.array([0.03, 1.5]),  # unit 4 (same electrode as unit 3)
    ]
    return trains, epos


def test_waverepo_layout_binned_on_the_electrode_grid(tmp_path):
    trains, epos = _grid_units()
    p = tmp_path / "mea.h5"
    _waverepo(p, trains, epos, duration=2.0, names=["a", "b", "c", "d", "e"])
    assert wavekit.detect_format(p) == "spikes"
    f = wavekit.open_activity(p)
    a = f.activity
    assert f.format == "spikes"
    bin_s = DEFAULT_BIN_MS / 1000
    assert a.dims == ("time", "y", "x") and a.shape == (round(2.0 / bin_s), 2, 2)
    assert a.attrs["fs_hz"] == pytest.approx(1 / bin_s) and a.attrs["units"] == "spikes/s"
    np.testing.assert_allclose(a["x"], [0.2, 0.4])
    np.testing.assert_allclose(a["y"], [0.2, 0.4])
    counts = a.values * bin_s
    # unit 0 at (x=0.2, y=0.2): bins 0, 1, 1, 19
    np.testing.assert_allclose(counts[:, 0, 0][[0, 1, 19]], [1, 2, 1])
    assert counts[:, 0, 0].sum() == pytest.approx(4)
    # units 3 + 4 summed at (x=0.4, y=0.4): three spikes in bin 0, one in bin 15
    np.testing.assert_allclose(counts[[0, 15], 1, 1], [3, 1])
    assert counts[:, 1, 1].sum() == pytest.approx(4)
    # the silent unit's electrode is a real channel with zero rate, not NaN
    assert np.all(counts[:, 1, 0] == 0)
    assert counts.sum() == pytest.approx(sum(len(t) for t in trains))
    assert any("summed" in n for n in f.notes)

    b = wavekit.load(p, layout="irregular", bin_ms=500)
    assert b.dims == ("time", "channel") and b.shape == (4, 4)
    assert b.attrs["fs_hz"] == 2.0 and b.attrs["bin_ms"] == 500
    assert "d+e" in list(b["channel"].values)
    np.testing.assert_allclose(b.values.sum(axis=0) * 0.5, [4, 0, 1, 4])  # sorted by x, y


def test_irregular_positions_stay_channels_and_fs_sets_the_bin(tmp_path):
    rng = np.random.default_rng(0)
    epos = rng.uniform(-300, 300, size=(2, 6))
    trains = [np.sort(rng.uniform(0, 10, size=k)) for k in (5, 50, 20, 0, 7, 1)]
    p = tmp_path / "hex.h5"
    _waverepo(p, trains, epos, duration=10.0)
    a = wavekit.load(p, fs=20.0)
    assert a.dims == ("time", "channel") and a.shape == (200, 6)
    assert a.attrs["fs_hz"] == 20.0
    order = np.lexsort((epos[1], epos[0]))  # channels are sorted by x, then y
    np.testing.assert_allclose(a["x"], epos[0, order] / 1000)
    np.testing.assert_allclose(a["y"], epos[1, order] / 1000)
    np.testing.assert_allclose(a.values.sum(axis=0) / 20.0, [len(trains[i]) for i in order])
    _fails(p, "contradicts", fs=20.0, bin_ms=10)


def test_spikes_past_the_stated_duration_extend_the_recording(tmp_path):
    trains = [np.array([0.1, 3.05]), np.array([0.2])]
    p = tmp_path / "late.h5"
    _waverepo(p, trains, [[0, 100], [0, 0]], duration=2.0)
    f = wavekit.open_activity(p, bin_ms=100)
    assert f.activity.sizes["time"] == 31
    assert any("past the stated duration" in n for n in f.notes)
    p2 = tmp_path / "nodur.h5"
    _waverepo(p2, trains, [[0, 100], [0, 0]])
    assert wavekit.load(p2, bin_ms=1000).sizes["time"] == 4


def test_generic_group_of_unit_trains(tmp_path):
    p = tmp_path / "generic.h5"
    with h5py.File(p, "w") as f:
        for i, t in enumerate([[0.1, 0.2], [0.3], [0.9, 0.95, 0.99]]):
            f[f"spikes/unit{i + 1}"] = np.asarray(t)
        f["spikes/unit10"] = np.asarray([0.5])  # numeric order: unit10 after unit3
        ds = f.create_dataset("epos", data=np.array([[0, 0.1, 0.2, 0.3], [0, 0, 0, 0]]))
        ds.attrs["units"] = "mm"
    assert wavekit.detect_format(p) == "spikes"
    a = wavekit.load(p, bin_ms=250, layout="irregular")
    assert a.shape == (4, 4)
    np.testing.assert_allclose(a["x"], [0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(a.values.sum(axis=0) * 0.25, [2, 1, 3, 1])
    assert list(a["channel"].values) == ["unit1", "unit2", "unit3", "unit10"]


def test_bad_spike_files(tmp_path):
    p = tmp_path / "count.h5"
    _waverepo(p, [np.array([0.1, 0.2])], [[0], [0]])
    with h5py.File(p, "r+") as f:
        del f["sCount"]
        f["sCount"] = np.array([3], np.int32)
    _fails(p, "adds up to 3")
    p = tmp_path / "nopos.h5"
    with h5py.File(p, "w") as f:
        f["spikes"] = np.array([0.1, 0.2])
        f["sCount"] = np.array([2], np.int32)
    _fails(p, "no unit positions")
    p = tmp_path / "empty.h5"
    _waverepo(p, [np.zeros(0), np.zeros(0)], [[0, 1], [0, 0]], duration=5.0)
    _fails(p, "no spikes")
    p = tmp_path / "shape.h5"
    _waverepo(p, [np.array([0.1]), np.array([0.2])], [[0, 1, 2, 3, 4], [0, 0, 0, 0, 0]])
    _fails(p, "expected the x, y position")
    p = tmp_path / "short.h5"
    _waverepo(p, [np.array([0.01]), np.array([0.02])], [[0, 100], [0, 0]], duration=0.05)
    _fails(p, "shorter than two bins")
    p = tmp_path / "nan.h5"
    _waverepo(p, [np.array([0.1, np.nan])], [[0], [0]])
    _fails(p, "NaN")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    bin_ms=st.sampled_from([10.0, 50.0, 100.0, 250.0]),
    seed=st.integers(0, 1000),
)
def test_binning_matches_a_per_unit_histogram(tmp_path, counts, bin_ms, seed):
    rng = np.random.default_rng(seed)
    duration = 3.0
    trains = [np.sort(rng.uniform(0, duration, size=k)) for k in counts]
    if sum(counts) == 0:
        trains[0] = np.array([1.0])
    n = len(trains)
    epos = np.vstack([np.arange(n) * 150.0 + rng.uniform(0, 50, n), rng.uniform(0, 900, n)])
    p = tmp_path / f"h{seed}_{bin_ms:g}_{n}.h5"
    _waverepo(p, trains, epos, duration=duration)
    a = wavekit.load(p, bin_ms=bin_ms, layout="irregular")
    bin_s = bin_ms / 1000
    edges = np.arange(a.sizes["time"] + 1) * bin_s
    order = np.lexsort((epos[1], epos[0]))
    expected = np.stack([np.histogram(trains[i], bins=edges)[0] for i in order], axis=1)
    np.testing.assert_allclose(a.values * bin_s, expected, atol=1e-4)
    assert a.sizes["time"] == round(duration / bin_s)
