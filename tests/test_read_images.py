"""Folders of numbered PNG frames and multi-page TIFF stacks, through wavekit.load."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

import wavekit
from wavekit.errors import InputError


def _fails(path, match, **kw):
    with pytest.raises(InputError, match=match) as ei:
        wavekit.load(path, **kw)
    assert str(ei.value).startswith(str(path))
    assert "\n" not in str(ei.value)
    return str(ei.value)


def _frames(folder, n, shape=(6, 5), name="{}.png", dtype=np.uint16, start=0):
    folder.mkdir(exist_ok=True)
    stack = []
    for i in range(start, start + n):
        frame = (np.arange(np.prod(shape)).reshape(shape) + 1000 * i).astype(dtype)
        Image.fromarray(frame).save(folder / name.format(i))
        stack.append(frame)
    return np.stack(stack)


def test_frames_are_ordered_numerically_and_keep_uint16(tmp_path):
    d = tmp_path / "movie"
    stack = _frames(d, 12)  # 0.png ... 11.png: lexical order would put 10 before 2
    assert wavekit.detect_format(d) == "frames"
    f = wavekit.open_activity(d, fs=1000.0, spacing_mm=0.21875)
    a = f.activity
    assert f.format == "frames"
    assert a.dims == ("time", "y", "x") and a.shape == (12, 6, 5) and a.dtype == np.uint16
    np.testing.assert_array_equal(a.values, stack)
    np.testing.assert_allclose(a["x"], np.arange(5) * 0.21875)
    np.testing.assert_allclose(a["time"][-1], 0.011)
    lazy = wavekit.load(d, fs=1000.0, spacing_mm=0.2, lazy=True)
    assert hasattr(lazy.data, "compute")
    np.testing.assert_array_equal(lazy.values, stack)


def test_frames_with_prefix_and_padding_start_anywhere(tmp_path):
    d = tmp_path / "padded"
    stack = _frames(d, 11, name="frame_{:04d}.png", dtype=np.uint8, start=1)
    (d / "notes.txt").write_text("not a frame")
    a = wavekit.load(d, fs=50.0, spacing_mm=0.1)
    assert a.shape == (11, 6, 5) and a.dtype == np.uint8
    np.testing.assert_array_equal(a.values, stack)


def test_colour_frames_become_luminance(tmp_path):
    d = tmp_path / "rgb"
    d.mkdir()
    for i in range(3):
        Image.fromarray(np.full((4, 4, 3), 40 * i, np.uint8)).save(d / f"{i}.png")
    f = wavekit.open_activity(d, fs=10.0, spacing_mm=1.0)
    assert f.activity.shape == (3, 4, 4)
    np.testing.assert_array_equal(f.activity.values[:, 0, 0], [0, 40, 80])
    assert any("luminance" in n for n in f.notes)


def test_bad_frame_folders(tmp_path):
    d = tmp_path / "gap"
    _frames(d, 6)
    (d / "3.png").unlink()
    msg = _fails(d, "gap in the frame numbers", fs=1.0, spacing_mm=1.0)
    assert "4.png" in msg and "frame 3 missing" in msg

    d = tmp_path / "size"
    _frames(d, 3)
    Image.fromarray(np.zeros((7, 5), np.uint16)).save(d / "3.png")
    msg = _fails(d, "frame size", fs=1.0, spacing_mm=1.0)
    assert "3.png" in msg

    d = tmp_path / "mode"
    _frames(d, 3)
    Image.fromarray(np.zeros((6, 5), np.uint8)).save(d / "2.png")
    assert "2.png" in _fails(d, "pixel mode", fs=1.0, spacing_mm=1.0)

    d = tmp_path / "dup"
    _frames(d, 3)
    Image.fromarray(np.zeros((6, 5), np.uint16)).save(d / "frame1.png")
    _fails(d, "repeats", fs=1.0, spacing_mm=1.0)

    d = tmp_path / "noname"
    _frames(d, 2)
    Image.fromarray(np.zeros((6, 5), np.uint16)).save(d / "background.png")
    assert "background.png" in _fails(d, "no number", fs=1.0, spacing_mm=1.0)

    d = tmp_path / "trunc"
    _frames(d, 3)
    raw = (d / "1.png").read_bytes()
    (d / "1.png").write_bytes(raw[: len(raw) // 2])
    assert "1.png" in _fails(d, "unreadable PNG", fs=1.0, spacing_mm=1.0)

    d = tmp_path / "empty"
    d.mkdir()
    _fails(d, "no PNG frames")

    d = tmp_path / "flags"
    _frames(d, 3)
    _fails(d, "no sampling rate")
    _fails(d, "no grid spacing", fs=10.0)


def test_imagej_tiff_calibration(tmp_path):
    data = np.random.default_rng(0).integers(0, 60000, size=(20, 6, 7)).astype(np.uint16)
    p = tmp_path / "ij.tif"
    tifffile.imwrite(
        p,
        data,
        imagej=True,
        resolution=(1 / 50.0, 1 / 40.0),
        metadata={"unit": "um", "finterval": 0.002, "axes": "TYX"},
    )
    assert wavekit.detect_format(p) == "tiff"
    f = wavekit.open_activity(p)
    a = f.activity
    assert f.format == "tiff"
    assert a.shape == (20, 6, 7) and a.dtype == np.uint16
    np.testing.assert_array_equal(a.values, data)
    assert a.attrs["fs_hz"] == pytest.approx(500.0)
    np.testing.assert_allclose(a["x"], np.arange(7) * 0.05)
    np.testing.assert_allclose(a["y"], np.arange(6) * 0.04)
    b = wavekit.load(p, fs=100.0, spacing_mm=1.0)
    assert b.attrs["fs_hz"] == 100.0 and float(b["x"][1]) == 1.0


def test_plain_multipage_tiff_needs_flags(tmp_path):
    data = np.arange(9 * 5 * 6, dtype=np.float32).reshape(9, 5, 6)
    p = tmp_path / "pages.tiff"
    with tifffile.TiffWriter(p) as tw:
        for frame in data:
            tw.write(frame, contiguous=False, metadata=None)
    _fails(p, "no sampling rate")
    _fails(p, "no grid spacing", fs=30.0)
    a = wavekit.load(p, fs=30.0, spacing_mm=0.5)
    assert a.shape == (9, 5, 6)
    np.testing.assert_array_equal(a.values, data)
    lazy = wavekit.load(p, fs=30.0, spacing_mm=0.5, lazy=True)
    np.testing.assert_array_equal(np.asarray(lazy.values), data)


def test_tifffile_description_round_trip(tmp_path):
    data = np.random.default_rng(1).normal(size=(15, 4, 4)).astype(np.float32)
    p = tmp_path / "desc.tif"
    tifffile.imwrite(
        p,
        data,
        photometric="minisblack",
        metadata={"fs_hz": 250.0, "spacing_mm": 0.3, "units": "dF/F"},
    )
    a = wavekit.load(p)
    np.testing.assert_array_equal(a.values, data)
    assert a.attrs["fs_hz"] == 250.0 and a.attrs["units"] == "dF/F"
    np.testing.assert_allclose(a["x"], np.arange(4) * 0.3)


def test_bad_tiffs(tmp_path):
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, np.zeros((5, 8, 8, 3), np.uint8), photometric="rgb")
    _fails(p, "colour", fs=1.0, spacing_mm=1.0)
    p = tmp_path / "single.tif"
    tifffile.imwrite(p, np.zeros((8, 8), np.uint16))
    _fails(p, "single 8 x 8 image", fs=1.0, spacing_mm=1.0)
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.ones((50, 32, 32), np.uint16), photometric="minisblack")
    t = tmp_path / "trunc.tif"
    t.write_bytes(good.read_bytes()[:40000])
    _fails(t, "truncated", fs=1.0, spacing_mm=1.0)


def test_cli_reports_a_frame_gap_on_one_line_with_exit_status_3(tmp_path, run_cli):
    d = tmp_path / "gap"
    _frames(d, 5)
    (d / "2.png").unlink()
    code, out, err = run_cli("info", d, "--fs", "100", "--spacing-mm", "0.1")
    assert code == 3 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(d / "3.png") in lines[0] and "Traceback" not in err
