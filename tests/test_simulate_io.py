"""Simulator plumbing: noise and SNR, determinism, layouts, the file round trip and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wavekit
from wavekit.errors import UsageError
from wavekit.model import detect_grid
from wavekit.simulate import layouts as L
from wavekit.simulate import noise as N
from wavekit.simulate import simulate
from wavekit.simulate.waves import local_properties, plane_wave_local, wrap_deg

# ----------------------------------------------------------------------------- SNR and noise


@pytest.mark.parametrize("noise", ["white", "pink", "spatial", "pink+spatial"])
@pytest.mark.parametrize("layout", ["grid", "utah", "random"])
@pytest.mark.parametrize("snr", [-5.0, 0.0, 12.0])
def test_snr_matches_request(noise, layout, snr):
    clean, _ = simulate("plane", layout=layout, duration_s=1.0, seed=5)
    noisy, truth = simulate("plane", layout=layout, duration_s=1.0, snr_db=snr, noise=noise, seed=5)
    n = noisy.values - clean.values
    measured = 10 * np.log10(np.mean(clean.values**2) / np.mean(n**2))
    assert abs(measured - snr) < 0.5
    assert abs(N.snr_db(clean.values, n) - snr) < 1e-9  # exact for the realisation
    assert truth.attrs["snr_db"] == snr and truth.attrs["noise"] == noise


def test_snr_with_mask_and_bad_channels_uses_finite_samples():
    clean, _ = simulate("target", mask="gaussian", bad_channels=[3, 40], duration_s=0.5)
    noisy, _ = simulate("target", mask="gaussian", bad_channels=[3, 40], duration_s=0.5, snr_db=3.0)
    assert abs(N.snr_db(clean.values, noisy.values - clean.values) - 3.0) < 1e-9
    assert np.isnan(noisy.values[:, 0, 3]).all()


def test_pink_noise_spectrum_is_one_over_f():
    n = N.pink_noise((8192, 16), np.random.default_rng(0))
    p = (np.abs(np.fft.rfft(n, axis=0)) ** 2).mean(1)
    f = np.arange(p.size)
    band = (f >= 4) & (f <= 2000)
    slope = np.polyfit(np.log(f[band]), np.log(p[band]), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1)
    w = N.white_noise((8192, 16), np.random.default_rng(0))
    pw = (np.abs(np.fft.rfft(w, axis=0)) ** 2).mean(1)
    assert np.polyfit(np.log(f[band]), np.log(pw[band]), 1)[0] == pytest.approx(0.0, abs=0.1)


def test_spatial_noise_is_correlated_on_grids_and_irregular_layouts():
    for layout in ("grid", "random"):
        clean, _ = simulate("synchronous", layout=layout, duration_s=2.0)
        for noise, lo, hi in (("white", -0.15, 0.15), ("spatial", 0.6, 1.0)):
            noisy, _ = simulate(
                "synchronous",
                layout=layout,
                duration_s=2.0,
                snr_db=0.0,
                noise=noise,
                noise_corr_mm=0.6,
            )
            n = (noisy.values - clean.values).reshape(1000, -1)
            x, y = wavekit.channel_positions(noisy)
            d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
            c = np.corrcoef(n.T)
            close = (d > 0) & (d < 0.45)
            assert lo < np.median(c[close]) < hi, (layout, noise)


def test_spatial_noise_kernel_same_on_grid_and_as_irregular():
    """The grid path (gaussian_filter) and the irregular path (kernel sum) agree inside."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((3, 20, 20))
    x = y = np.arange(20) * 0.5
    g = N.spatially_correlated_noise(base, corr_mm=0.5, x_mm=x, y_mm=y, grid=True)
    yy, xx = np.meshgrid(y, x, indexing="ij")
    k = N.spatially_correlated_noise(
        base.reshape(3, -1), corr_mm=0.5, x_mm=xx.ravel(), y_mm=yy.ravel(), grid=False
    ).reshape(3, 20, 20)
    k = k / np.exp(-(np.arange(-4, 5) ** 2) / 2.0).sum() ** 2  # gaussian_filter normalises
    assert np.abs(g[:, 6:14, 6:14] - k[:, 6:14, 6:14]).max() < 1e-3


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_array_different_seed_different_noise():
    a1, t1 = simulate("spiral", snr_db=5.0, noise="pink", seed=11)
    a2, t2 = simulate("spiral", snr_db=5.0, noise="pink", seed=11)
    a3, t3 = simulate("spiral", snr_db=5.0, noise="pink", seed=12)
    np.testing.assert_array_equal(a1.values, a2.values)
    assert not np.allclose(a1.values, a3.values)
    assert t1.attrs["seed"] == 11 and t3.attrs["seed"] == 12
    c1, _ = simulate("spiral", seed=11)
    c3, _ = simulate("spiral", seed=12)
    np.testing.assert_array_equal(c1.values, c3.values)  # the noise-free field has no randomness


def test_random_layout_and_sequence_follow_the_seed():
    a1, _ = simulate("plane", layout="random", seed=1)
    a2, _ = simulate("plane", layout="random", seed=1)
    a3, _ = simulate("plane", layout="random", seed=2)
    np.testing.assert_array_equal(a1.x.values, a2.x.values)
    assert not np.allclose(a1.x.values, a3.x.values)
    s1, t1 = simulate("sequence", episode_s=0.2, seed=1)
    s2, t2 = simulate("sequence", episode_s=0.2, seed=1)
    s3, t3 = simulate("sequence", episode_s=0.2, seed=2)
    np.testing.assert_array_equal(s1.values, s2.values)
    np.testing.assert_array_equal(t1.centre_x_mm.values, t2.centre_x_mm.values)
    assert not np.array_equal(t1.centre_x_mm.values, t3.centre_x_mm.values, equal_nan=True)


# ----------------------------------------------------------------------------- layouts


def test_utah_layout():
    x, y = L.utah_layout(0.4)
    assert x.size == 96
    g = detect_grid(x, y)
    assert (g.nx, g.ny, g.n_holes) == (10, 10, 4)
    assert g.dx == pytest.approx(0.4) and g.dy == pytest.approx(0.4)
    corners = {(0.0, 0.0), (3.6, 0.0), (0.0, 3.6), (3.6, 3.6)}
    assert not corners & set(zip(np.round(x, 9).tolist(), np.round(y, 9).tolist(), strict=True))
    act, _ = simulate("plane", layout="utah")
    assert act.sizes["channel"] == 96
    grid = wavekit.to_grid(act)
    assert grid.shape == (1000, 10, 10) and int(np.isnan(grid.values[0]).sum()) == 4


@pytest.mark.parametrize(("rings", "pitch"), [(1, 0.1), (4, 0.2), (5, 0.03)])
def test_hex_layout(rings, pitch):
    x, y = L.hex_mea_layout(rings, pitch)
    assert x.size == 1 + 3 * rings * (rings + 1)
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    np.fill_diagonal(d, np.inf)
    assert d.min(axis=1) == pytest.approx(np.full(x.size, pitch))
    neighbours = (np.abs(d - pitch) < 1e-9).sum(axis=1)
    centre = np.argmin(np.hypot(x, y))
    assert neighbours[centre] == 6 and neighbours.max() == 6
    assert np.hypot(x, y).max() == pytest.approx(rings * pitch)


def test_eeg_and_random_layouts():
    x, y = L.eeg_cap_layout(90.0)
    assert x.size == 19 == len(L.EEG_10_20_NAMES)
    names = dict(zip(L.EEG_10_20_NAMES, zip(x, y, strict=True), strict=True))
    assert names["Cz"] == (0.0, 0.0)
    assert names["Fz"][1] == pytest.approx(45.0) and names["Oz" if "Oz" in names else "O1"][1] < 0
    assert names["T4"][0] == pytest.approx(90.0) and names["T3"][0] == pytest.approx(-90.0)
    assert np.hypot(x, y).max() == pytest.approx(90.0)
    x, y = L.random_layout(50, 3.0, seed=0)
    assert x.size == 50 and x.min() >= 0 and max(x.max(), y.max()) <= 3.0
    act, truth = simulate("plane", layout="random", n_channels=30, extent_mm=2.0)
    assert act.sizes["channel"] == 30 and float(act.x.max()) <= 2.0
    assert json.loads(truth.attrs["parameters"])["extent_mm"] == 2.0


def test_custom_layout_and_grid_shape():
    act, truth = simulate("plane", layout=([0.0, 1.0, 2.0], [0.0, 0.5, 0.0]), duration_s=0.1)
    assert act.dims == ("time", "channel") and truth.attrs["layout"] == "custom"
    act, _ = simulate("plane", nx=8, ny=5, spacing_mm=0.25, duration_s=0.1)
    assert act.shape == (50, 5, 8) and float(act.x[1]) == 0.25


# ----------------------------------------------------------------------------- save / load


@pytest.mark.parametrize(("kind", "kw"), [
    ("spiral", {"layout": "grid", "snr_db": 10.0}),
    ("target", {"layout": "utah", "mode": "sink"}),
    ("superposed", {"layout": "hex"}),
    ("sequence", {"episode_s": 0.2}),
    ("synchronous", {}),
])  # fmt: skip
def test_save_load_round_trip_keeps_truth(tmp_path, kind, kw):
    act, truth = simulate(kind, seed=3, **kw)
    path = wavekit.save(act, tmp_path / f"{kind}.h5", ground_truth=truth)
    back = wavekit.load(path)
    np.testing.assert_array_equal(back.values, act.values)
    assert back.dims == act.dims and back.attrs["fs_hz"] == act.attrs["fs_hz"]
    gt = wavekit.load_ground_truth(path)
    assert gt["pattern"].values.tolist() == truth["pattern"].values.tolist()
    for name in truth.data_vars:
        if name != "pattern":
            np.testing.assert_array_equal(gt[name].values, truth[name].values)
    np.testing.assert_array_equal(gt.time.values, act.time.values)
    for key in ("kind", "seed", "parameters", "snr_db", "noise", "layout"):
        assert gt.attrs[key] == truth.attrs[key]
    if kind != "superposed":
        lt = wavekit.simulate.local_truth(gt, back)  # the file alone is enough for local truth
        assert lt.sizes["time"] == act.sizes["time"]


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def cli():
    from typer.testing import CliRunner

    import wavekit.cli.simulate  # noqa: F401 - registers the command
    from wavekit.cli._app import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_cli_writes_a_readable_file(cli, tmp_path):
    out = tmp_path / "s.h5"
    r = cli(
        "simulate",
        "spiral",
        "--out",
        out,
        "--layout",
        "utah",
        "--snr-db",
        "10",
        "--speed",
        "250",
        "--seed",
        "7",
        "-p",
        "chirality=cw",
        "--param",
        "arms=2",
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["kind"] == "spiral" and summary["shape"] == [1000, 96]
    assert summary["seed"] == 7 and summary["snr_db"] == 10.0
    act = wavekit.load(out)
    assert act.sizes["channel"] == 96
    gt = wavekit.load_ground_truth(out)
    p = json.loads(gt.attrs["parameters"])
    assert p["arms"] == 2 and p["speed_mm_per_s"] == 250.0 and gt.pattern.values[0] == "spiral_cw"


def test_cli_params_lists_and_objects(cli, tmp_path):
    out = tmp_path / "q.h5"
    r = cli(
        "simulate",
        "sequence",
        "--out",
        out,
        "-p",
        "patterns=plane,sink",
        "-p",
        "episode_s=0.3",
        "--nx",
        "8",
        "--ny",
        "6",
        "--fs",
        "250",
    )
    assert r.exit_code == 0, r.output
    gt = wavekit.load_ground_truth(out)
    assert set(gt.pattern.values.tolist()) == {"plane", "sink"}
    assert wavekit.load(out).shape == (150, 6, 8)
    comps = json.dumps([{"frequency_hz": 10, "direction_deg": 90}])
    r = cli("simulate", "superposed", "--out", out, "-p", f"components={comps}")
    assert r.exit_code == 0, r.output
    assert float(wavekit.load_ground_truth(out).component_direction_deg[0]) == 90.0


def test_cli_list(cli):
    r = cli("simulate", "--list")
    assert r.exit_code == 0
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    for k in ("plane", "target", "spiral", "saddle", "synchronous", "sequence"):
        assert k in names


@pytest.mark.parametrize("args", [
    ("simulate", "vortex", "--out", "x.h5"),
    ("simulate", "plane"),
    ("simulate",),
    ("simulate", "plane", "--out", "x.h5", "-p", "novalue"),
    ("simulate", "plane", "--out", "x.h5", "-p", "speed_mm_per_s=3", "--speed", "4"),
    ("simulate", "plane", "--out", "x.h5", "--layout", "moon"),
])  # fmt: skip
def test_cli_usage_errors(cli, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    r = cli(*args)
    assert isinstance(r.exception, UsageError), (r.exception, r.output)
    assert not (tmp_path / "x.h5").exists()


def test_cli_exit_status_through_main(run_cli, tmp_path):
    code, out, err = run_cli("simulate", "plane", "--out", tmp_path / "p.h5", "--duration", "0.5")
    assert code == 0 and json.loads(out)["shape"] == [250, 16, 16]
    code, out, err = run_cli("simulate", "plane", "--out", tmp_path / "p.h5", "-p", "x=1")
    assert code == 2 and out == "" and "unknown parameter" in err


def test_cli_network_kind_dispatch(cli, tmp_path):
    from wavekit.cli.simulate import _network_module

    net = _network_module()
    if net is None or not net.KINDS:
        pytest.skip("wavekit.networks is not available")
    r = cli("simulate", next(iter(net.KINDS)), "--out", tmp_path / "n.h5", "--speed", "3")
    assert isinstance(r.exception, UsageError) and "analytic kinds only" in str(r.exception)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False))
def test_wrap_deg_range_and_equivalence(a):
    w = float(wrap_deg(a))
    assert -180.0 < w <= 180.0
    assert np.cos(np.deg2rad(w - a)) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(-180, 180), st.floats(1.0, 1e4), st.floats(0.5, 100.0))
def test_plane_local_properties_recover_parameters(direction, speed, frequency):
    w, kx, ky = plane_wave_local(
        0.0, 0.0, 0.0, frequency_hz=frequency, speed_mm_per_s=speed, direction_deg=direction
    )
    p = local_properties(w, kx, ky)
    assert float(p["speed_mm_per_s"]) == pytest.approx(speed, rel=1e-9)
    assert float(p["frequency_hz"]) == pytest.approx(frequency, rel=1e-12)
    assert (
        abs(
            float(
                np.rad2deg(np.angle(np.exp(1j * np.deg2rad(float(p["direction_deg"]) - direction))))
            )
        )
        < 1e-6
    )
    with pytest.raises(UsageError):
        simulate("plane", direction_deg=float("nan"))
