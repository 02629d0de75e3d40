"""The optical-flow benchmark's accuracy functions (benchmarks/bench_flow.py), on small cases."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_flow.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_flow", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_truth_is_the_normal_velocity(bench):
    """Plane wave: the truth is w k / |k|^2 along the direction of travel (0.8 px/frame)."""
    c = bench.make_case("plane", 30.0, n=16, n_frames=3)
    np.testing.assert_allclose(np.hypot(c["u"], c["v"]), 0.8)
    np.testing.assert_allclose(np.degrees(np.arctan2(c["v"], c["u"])), 30.0)
    s = bench.make_case("spiral", "ccw", n=16, n_frames=3, border=2, core=2.0)
    assert not s["mask"][:2].any() and not s["mask"][8, 8]  # border and core left out


def test_angular_error_counts_zero_vectors_as_no_direction(bench):
    ut = np.ones((4, 4))
    vt = np.zeros((4, 4))
    mask = np.ones((4, 4), bool)
    u = np.zeros((1, 4, 4))
    v = np.zeros((1, 4, 4))
    u[0, 0, 0] = 1.0  # one right, one opposite, the rest zero
    u[0, 0, 1] = -1.0
    e = bench.angular_error(u, v, ut, vt, mask)
    assert e["undefined"] == 14
    assert e["mean"] == pytest.approx((0 + 180 + 14 * 90) / 16)
    assert e["mag_ratio"] == 1.0


@pytest.mark.parametrize(
    "kind, arg, noise, limit",
    [
        ("plane", 30.0, 0.0, 0.01),
        ("plane", -150.0, 0.3, 10.0),
        ("spiral", "ccw", 0.0, 10.0),
        ("spiral", "cw", 0.3, 10.0),
    ],
)
def test_wavekit_flow_direction_is_accurate(bench, kind, arg, noise, limit):
    c = bench.make_case(kind, arg, n=32, n_frames=12, noise_rad=noise)
    e = bench.accuracy_wavekit(c, max_iter=100)
    assert e["mean"] < limit and e["undefined"] == 0
    assert 0.5 < e["mag_ratio"] < 1.5
    p = bench.accuracy_pairs(c, "wavekit", max_iter=100)  # two frames, no warm start
    assert p["mean"] < max(limit, 10.0)


def test_skimage_peer_runs_on_the_same_frames(bench):
    pytest.importorskip("skimage")
    c = bench.make_case("plane", 0.0, n=32, n_frames=3)
    e = bench.accuracy_skimage(c, "tvl1", "cos")
    assert e["mean"] < 5.0  # TV-L1 finds a plane wave along an axis


def test_main_exits_2_without_scikit_image(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench, "have_skimage", lambda: False)
    assert bench.main([]) == 2
    assert "scikit-image is not installed" in capsys.readouterr().err
