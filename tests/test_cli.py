"""The command line: exit statuses, one-line errors, no partial output, fast start."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

import wavekit
from wavekit.model import grid_activity


@pytest.fixture
def good(tmp_path):
    rng = np.random.default_rng(0)
    a = grid_activity(
        rng.normal(size=(100, 4, 5)).astype(np.float32), fs_hz=500.0, dx_mm=0.4, units="uV"
    )
    return wavekit.save(a, tmp_path / "good.h5")


def test_version_and_help(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"wavekit {wavekit.__version__}"
    code, out, _ = run_cli("--help")
    assert code == 0 and "info" in out and "convert" in out


def test_help_does_not_import_the_science_stack():
    code = (
        "import sys, wavekit.cli\n"
        "heavy = [m for m in ('numpy', 'xarray', 'scipy', 'numba', 'h5py', 'matplotlib', 'dask')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_info_json(run_cli, good):
    code, out, err = run_cli("info", "--json", good)
    assert code == 0 and err == ""
    d = json.loads(out)
    assert d["format"] == "wavekit" and d["shape"] == [100, 4, 5] and d["fs_hz"] == 500.0
    assert d["layout"] == "grid" and d["duration_s"] == pytest.approx(0.2)
    assert d["spacing_mm"] == pytest.approx([0.4, 0.4]) and d["units"] == "uV"
    assert d["bad_channels"] == {"nan": [], "flat": []}


def test_info_human_explains_choices(run_cli, tmp_path):
    p = tmp_path / "g.h5"
    with h5py.File(p, "w") as f:
        f["lfp"] = np.random.default_rng(0).normal(size=(64, 3, 3))
        f["lfp"].attrs["rate"] = 100.0
    code, out, _ = run_cli("info", p, "--spacing-mm", "0.5")
    assert code == 0
    assert "100 Hz" in out and "attribute 'rate'" in out and "given by --spacing-mm" in out


def test_info_many_files_one_bad(run_cli, good, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"garbage" * 100)
    code, out, err = run_cli("info", "--json", good, bad)
    assert code == 3
    assert len(out.strip().splitlines()) == 1  # the good file is still reported
    assert err.count("\n") == 1 and err.startswith(f"wavekit: error: {bad}")
    assert "Traceback" not in err


BAD_INPUTS = {
    "not_hdf5.h5": lambda p: p.write_bytes(b"\x00\x01 plain bytes" * 50),
    "empty.h5": lambda p: _h5(p, np.zeros((0, 5)), fs=1.0),
    "one_d.h5": lambda p: _h5(p, np.arange(100.0), fs=1.0),
    "nan_only.h5": lambda p: _h5(p, np.full((10, 3, 3), np.nan), fs=1.0, spacing_mm=1.0),
    "strings.h5": lambda p: _h5(p, np.array([b"abc", b"def"])),
    "no_fs.h5": lambda p: _h5(p, np.zeros((10, 3, 3)), spacing_mm=1.0),
}


def _h5(path, data, **attrs):
    with h5py.File(path, "w") as f:
        f["data"] = data
        f["data"].attrs.update(attrs)


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["info", "convert"])
def test_bad_inputs_exit_3_one_line_no_output(run_cli, tmp_path, name, command):
    p = tmp_path / name
    BAD_INPUTS[name](p)
    out_file = tmp_path / "out.h5"
    args = [command, p] + (["--out", out_file] if command == "convert" else [])
    code, out, err = run_cli(*args)
    assert code == 3
    assert out == ""
    assert err.startswith(f"wavekit: error: {p}: ") and err.count("\n") == 1
    assert not out_file.exists()
    assert [q.name for q in tmp_path.iterdir()] == [name]


def test_wrong_dims_and_truncated(run_cli, good, tmp_path):
    code, _, err = run_cli("convert", tmp_path / "g2.h5", "--out", tmp_path / "o.h5")
    assert code == 3 and "no such file" in err
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(good.read_bytes()[:2000])
    code, _, err = run_cli("info", trunc)
    assert code == 3 and "truncated" in err
    g = tmp_path / "g.h5"
    _h5(g, np.zeros((10, 3, 3)), fs=1.0, spacing_mm=1.0)
    code, _, err = run_cli("info", g, "--dims", "time,channel")
    assert code == 3 and "do not fit" in err


def test_usage_errors_exit_2(run_cli, good):
    assert run_cli("info")[0] == 2
    assert run_cli("nonsense-command")[0] == 2
    code, _, err = run_cli("info", good, "--spacing-mm", "a,b,c")
    assert code == 2 and "--spacing-mm" in err


def test_convert_round_trip(run_cli, tmp_path):
    src = tmp_path / "src.h5"
    data = np.random.default_rng(0).normal(size=(7, 9, 300))
    with h5py.File(src, "w") as f:
        f["x"] = data
    out = tmp_path / "out.h5"
    code, stdout, err = run_cli(
        "convert",
        src,
        "--dims",
        "y,x,time",
        "--fs",
        "250",
        "--spacing-mm",
        "0.5,0.25",
        "--out",
        out,
    )
    assert code == 0, err
    assert json.loads(stdout)["shape"] == [300, 7, 9]
    a = wavekit.load(out)
    np.testing.assert_array_equal(a.values, np.moveaxis(data, 2, 0))
    assert a.attrs["fs_hz"] == 250.0 and float(a.x[1]) == 0.25 and float(a.y[1]) == 0.5


def test_console_script_exit_status(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"x" * 64)
    r = subprocess.run(
        [sys.executable, "-m", "wavekit", "info", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 3 and "Traceback" not in r.stderr and r.stdout == ""
