"""The real recordings in ../shared/data/real load with the right shape, rate and positions.

They are not part of the repository; every test here is skipped when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wavekit
from wavekit.errors import InputError

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is absent"),
]
SEIZURE = REAL / "seizure_utah_martinet2017" / "example_seizure_waves.mat"
HEART = REAL / "heart_optical_cosmas" / "controlV"
RETINA = REAL / "retina_mea_waverepo"
HENNIG = RETINA / "Hennig2011_spikes_P5_Bic_10uM_16_Mar_2010_wash_day2.h5"
WONG = RETINA / "Wong1993_Adult.h5"


def test_seizure_utah_array_is_a_10x10_grid_without_corners():
    f = wavekit.open_activity(SEIZURE)
    a = f.activity
    assert f.format == "matlab" and f.dataset == "data"
    assert a.dims == ("time", "y", "x") and a.shape == (5000, 10, 10)
    assert a.attrs["fs_hz"] == pytest.approx(500.0056, abs=1e-4)
    np.testing.assert_allclose(np.diff(a["x"]), 0.4)
    np.testing.assert_allclose(np.diff(a["y"]), 0.4)
    empty = np.isnan(a.values).all(axis=0)
    assert empty.sum() == 4
    assert empty[0, 0] and empty[0, -1] and empty[-1, 0] and empty[-1, -1]
    assert not np.isnan(a.values[:, ~empty]).any()


def test_seizure_as_96_irregular_channels():
    a = wavekit.load(SEIZURE, layout="irregular")
    assert a.dims == ("time", "channel") and a.shape == (5000, 96)
    assert float(a["x"].min()) >= 0.0 and float(a["x"].max()) == pytest.approx(3.8)
    assert np.isfinite(a.values).all()
    g = wavekit.load(SEIZURE)
    # every channel's samples are where its position says on the grid
    col = np.rint((a["x"].values - float(g["x"][0])) / 0.4).astype(int)
    row = np.rint((a["y"].values - float(g["y"][0])) / 0.4).astype(int)
    np.testing.assert_array_equal(g.values[:, row, col], a.values)


def test_heart_frames_with_calibration_flags():
    a = wavekit.load(HEART, fs=1000, spacing_mm=0.21875)
    assert a.dims == ("time", "y", "x") and a.shape == (1000, 32, 32)
    assert a.dtype == np.uint16 and a.attrs["fs_hz"] == 1000.0
    assert float(a["x"][-1]) == pytest.approx(31 * 0.21875)
    assert float(a["time"][-1]) == pytest.approx(0.999)
    with pytest.raises(InputError, match="no sampling rate") as ei:
        wavekit.load(HEART)
    assert str(ei.value).startswith(str(HEART))


def test_hennig_retina_is_binned_onto_the_8x8_mea():
    f = wavekit.open_activity(HENNIG)
    a = f.activity
    assert f.format == "spikes"
    assert a.dims == ("time", "y", "x") and a.shape == (152980, 8, 8)  # 15298 s at 100 ms
    assert a.attrs["fs_hz"] == 10.0 and a.attrs["units"] == "spikes/s"
    np.testing.assert_allclose(a["x"], np.arange(1, 9) * 0.2)
    np.testing.assert_allclose(a["y"], np.arange(1, 9) * 0.2)
    empty = np.isnan(a.values[0])
    assert empty.sum() == 64 - 57  # 57 units on 57 electrodes
    # binning keeps every spike: rates x bin width = counts
    assert np.nansum(a.values, dtype=np.float64) * 0.1 == pytest.approx(392779)
    b = wavekit.load(HENNIG, layout="irregular", bin_ms=1000)
    assert b.shape == (15298, 57) and b.attrs["fs_hz"] == 1.0


def test_wong_adult_hex_array_stays_irregular():
    f = wavekit.open_activity(WONG)
    a = f.activity
    assert a.dims == ("time", "channel")
    assert a.sizes["channel"] == 52  # 57 units at 52 distinct electrode positions
    assert float(np.abs(a["x"]).max()) < 0.3  # micrometres converted to mm
    assert a.values.sum(dtype=np.float64) * 0.1 == pytest.approx(15510)
