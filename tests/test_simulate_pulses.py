"""The ``pulses`` kind: trains of pulse fronts whose arrival times are the truth.

The stored arrival times are checked against :func:`wavekit.simulate.waves.pulse_train`, the
trigger-based analysis (``transition_times`` then ``trigger_waves``) must recover every wave's
direction and speed from the recording on a grid and on scattered electrodes, and the answer
must rotate with the waves and scale with the array.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import wavekit
from wavekit.analysis.triggers import transition_times, trigger_waves
from wavekit.errors import UsageError
from wavekit.simulate import simulate
from wavekit.simulate.waves import pulse_train

#: a fast, well-sampled train: 1 kHz, 12 x 12 grid (or 100 scattered electrodes) at 0.4 mm
SMALL = {"nx": 12, "ny": 12, "n_channels": 100, "fs_hz": 1000.0, "speed_mm_per_s": 200.0}


def _circ(a, b):
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def _positions(act):
    """Site positions in the truth's site order (row-major on grids, channels otherwise)."""
    if "channel" in act.dims:
        return act["x"].values, act["y"].values
    yy, xx = np.meshgrid(act["y"].values, act["x"].values, indexing="ij")
    return xx.ravel(), yy.ravel()


def _fronts(act):
    """Significant trigger waves of ``act``: direction, front speed and start, in time order."""
    tr = transition_times(act, smooth_s=0.003, min_interval_s=0.2)
    w, _ = trigger_waves(tr, n_surrogates=19, n_boot=0, seed=1)
    sig = np.flatnonzero(w["significant"].values)
    order = sig[np.argsort(w["start_s"].values[sig])]
    return (
        w["direction_deg"].values[order],
        w["front_speed_mm_per_s"].values[order],
        w["start_s"].values[order],
    )


# ----------------------------------------------------------------------------- generator


def test_pulse_train_follows_its_equation():
    t = np.linspace(0.0, 0.5, 501)
    x, y = np.array([0.0, 2.0, -1.0]), np.array([0.0, 1.0, 3.0])
    waves = [(0.1, 30.0, 50.0), (0.3, -120.0, 80.0)]
    s, a = pulse_train(
        t[:, None], x, y, waves=waves, width_s=0.05, rise_s=0.003, recovery_s=0.01,
        centre_x_mm=0.5, centre_y_mm=1.0,
    )  # fmt: skip
    assert s.shape == (501, 3) and a.shape == (2, 3)
    want = np.zeros_like(s)
    for i, (t0, d, c) in enumerate(waves):
        u = np.array([np.cos(np.radians(d)), np.sin(np.radians(d))])
        onset = t0 + ((x - 0.5) * u[0] + (y - 1.0) * u[1]) / c
        np.testing.assert_allclose(a[i], onset, rtol=0, atol=1e-15)
        tau = t[:, None] - onset
        want += 0.5 * (np.tanh(tau / 0.003) - np.tanh((tau - 0.05) / 0.01))
    np.testing.assert_allclose(s, want, rtol=0, atol=1e-12)
    # recovery_s defaults to rise_s; no waves give silence
    s1, _ = pulse_train(t[:, None], x, y, waves=waves[:1], width_s=0.05, rise_s=0.003)
    s2, _ = pulse_train(t[:, None], x, y, waves=waves[:1], width_s=0.05, rise_s=0.003,
                        recovery_s=0.003)  # fmt: skip
    np.testing.assert_array_equal(s1, s2)
    s0, a0 = pulse_train(t[:, None], x, y, waves=[])
    assert not s0.any() and a0.shape == (0, 3)


# ----------------------------------------------------------------------------- truth


@pytest.mark.parametrize("layout", ["grid", "random"])
def test_truth_arrival_times_are_the_generator_onsets(layout):
    act, truth = simulate("pulses", layout=layout, random_directions=True, speed_spread=0.4,
                          interval_s=0.5, seed=5, **SMALL)  # fmt: skip
    p = json.loads(truth.attrs["parameters"])
    x, y = _positions(act)
    waves = [(w["t0_s"], w["direction_deg"], w["speed_mm_per_s"]) for w in p["waves"]]
    signal, arrival = pulse_train(
        act["time"].values[:, None], x, y, waves=waves, width_s=0.1, rise_s=0.002,
        centre_x_mm=p["centre_x_mm"], centre_y_mm=p["centre_y_mm"],
    )  # fmt: skip
    assert truth["arrival_time_s"].dims == ("wave", "site")
    np.testing.assert_array_equal(truth["arrival_time_s"].values, arrival)
    np.testing.assert_array_equal(act.values.reshape(act.sizes["time"], -1), signal)
    assert p["centre_x_mm"] == pytest.approx(float(x.mean()))
    # regular train: 4 waves at 0.25, 0.75, ... s
    np.testing.assert_allclose(truth["wave_t0_s"].values, [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_array_equal(truth["wave_direction_deg"].values, [w[1] for w in waves])
    speeds = truth["wave_speed_mm_per_s"].values
    assert np.all((speeds >= 200.0 / 1.4) & (speeds <= 200.0 * 1.4)) and np.ptp(speeds) > 0
    # per time step: "plane" while a front crosses the array, with that wave's direction and speed
    t = truth["time"].values
    for i in range(len(waves)):
        on = (t >= arrival[i].min()) & (t <= arrival[i].max())
        assert on.sum() >= 2 and set(truth["pattern"].values[on]) == {"plane"}
        np.testing.assert_array_equal(truth["direction_deg"].values[on], waves[i][1])
        np.testing.assert_array_equal(truth["speed_mm_per_s"].values[on], waves[i][2])
    off = truth["pattern"].values == "none"
    assert off.sum() > 0.9 * t.size and np.isnan(truth["direction_deg"].values[off]).all()
    assert np.isnan(truth["wavelength_mm"].values).all()
    assert np.isnan(truth["frequency_hz"].values).all()


def test_regular_train_defaults_and_seed():
    _, truth = simulate("pulses", duration_s=3.0, direction_deg=60.0)
    np.testing.assert_array_equal(truth["wave_t0_s"].values, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(truth["wave_direction_deg"].values, [60.0] * 3)
    np.testing.assert_array_equal(truth["wave_speed_mm_per_s"].values, [300.0] * 3)
    p = json.loads(truth.attrs["parameters"])
    assert (p["interval_s"], p["width_s"], p["rise_s"], p["recovery_s"]) == (1.0, 0.1, 0.002, 0.002)
    kw = {"random_directions": True, "duration_s": 3.0}
    d1 = simulate("pulses", seed=1, **kw)[1]["wave_direction_deg"].values
    assert np.array_equal(d1, simulate("pulses", seed=1, **kw)[1]["wave_direction_deg"].values)
    assert not np.array_equal(d1, simulate("pulses", seed=2, **kw)[1]["wave_direction_deg"].values)
    assert np.all((d1 > -180.0) & (d1 <= 180.0))


def test_explicit_waves_take_missing_keys_from_the_common_options():
    waves = [{"t0_s": 0.4}, {"t0_s": 1.2, "direction_deg": 190.0, "speed_mm_per_s": 150}]
    kw = {**SMALL, "speed_mm_per_s": 250.0, "direction_deg": 45.0}
    _, truth = simulate("pulses", waves=waves, centre_x_mm=0.0, centre_y_mm=0.0, **kw)
    np.testing.assert_array_equal(truth["wave_t0_s"].values, [0.4, 1.2])
    np.testing.assert_array_equal(truth["wave_direction_deg"].values, [45.0, -170.0])
    np.testing.assert_array_equal(truth["wave_speed_mm_per_s"].values, [250.0, 150.0])
    # timed from the given reference point: the site at the origin is reached at t0
    assert truth["arrival_time_s"].values[:, 0].tolist() == [0.4, 1.2]
    p = json.loads(truth.attrs["parameters"])
    assert p["waves"][1] == {"t0_s": 1.2, "direction_deg": -170.0, "speed_mm_per_s": 150.0}
    assert p["interval_s"] is None


@pytest.mark.parametrize("layout", ["grid", "random", "utah", "hex", "eeg", "custom"])
def test_every_layout_with_noise_mask_and_bad_channels(layout):
    kw = {"speed_mm_per_s": 5000.0} if layout == "eeg" else {}
    lay = ([0.0, 1.0, 2.0, 0.5], [0.0, 0.5, 0.0, 1.5]) if layout == "custom" else layout
    act, truth = simulate("pulses", layout=lay, snr_db=10.0, noise="pink", mask="gaussian",
                          bad_channels=[1], duration_s=2.0, **kw)  # fmt: skip
    n_sites = int(np.prod(act.shape[1:]))
    assert truth.sizes["wave"] == 2 and truth["arrival_time_s"].shape == (2, n_sites)
    flat = act.values.reshape(act.sizes["time"], -1)
    assert np.isnan(flat[:, 1]).all() and np.isfinite(np.delete(flat, 1, axis=1)).all()
    assert truth.attrs["snr_db"] == 10.0 and "plane" in truth["pattern"].values


# ----------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("snr_db", [None, 10.0])
@pytest.mark.parametrize("layout", ["grid", "random"])
def test_trigger_waves_recover_every_wave(layout, snr_db):
    act, truth = simulate("pulses", layout=layout, random_directions=True, speed_spread=0.5,
                          interval_s=0.4, snr_db=snr_db, seed=4, **SMALL)  # fmt: skip
    d, v, start = _fronts(act)
    td, tv = truth["wave_direction_deg"].values, truth["wave_speed_mm_per_s"].values
    assert d.size == td.size == 5
    tol_d, tol_v = (0.1, 0.002) if snr_db is None else (3.0, 0.05)
    assert _circ(d, td).max() < tol_d, (d, td)
    assert np.abs(v / tv - 1).max() < tol_v, (v, tv)
    first = truth["arrival_time_s"].values.min(axis=1)
    assert np.abs(start - first).max() < 0.01


def test_rotating_the_waves_rotates_the_answer_and_spacing_scales_the_speed():
    base = [{"t0_s": 0.3, "direction_deg": 20.0}, {"t0_s": 0.9, "direction_deg": -130.0}]
    turned = [{**w, "direction_deg": w["direction_deg"] + 90.0} for w in base]
    d0, v0, _ = _fronts(simulate("pulses", waves=base, duration_s=1.2, **SMALL)[0])
    d1, v1, _ = _fronts(simulate("pulses", waves=turned, duration_s=1.2, **SMALL)[0])
    assert d0.size == d1.size == 2
    assert _circ(d1, d0 + 90.0).max() < 1e-6
    np.testing.assert_allclose(v1, v0, rtol=1e-9)
    # twice the pitch and twice the speed: the same arrival times, so twice the measured speed
    wide = {**SMALL, "spacing_mm": 0.8, "speed_mm_per_s": 400.0}
    act2, truth2 = simulate("pulses", waves=base, duration_s=1.2, **wide)
    _, truth1 = simulate("pulses", waves=base, duration_s=1.2, **SMALL)
    np.testing.assert_allclose(
        truth2["arrival_time_s"].values, truth1["arrival_time_s"].values, rtol=0, atol=1e-12
    )
    d2, v2, _ = _fronts(act2)
    assert _circ(d2, d0).max() < 1e-6
    np.testing.assert_allclose(v2, 2.0 * v0, rtol=1e-9)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("kw", "match"), [
    ({"waves": 3}, "non-empty list"),
    ({"waves": []}, "non-empty list"),
    ({"waves": [{"direction_deg": 10}]}, "t0_s"),
    ({"waves": [{"t0_s": 0.5, "colour": 1}]}, "each wave is an object"),
    ({"waves": [{"t0_s": 0.5, "speed_mm_per_s": -3}]}, "speed_mm_per_s must be a positive"),
    ({"waves": [{"t0_s": 0.5}], "random_directions": True}, "regular train"),
    ({"waves": [{"t0_s": 0.5}], "interval_s": 0.5}, "regular train"),
    ({"waves": [{"t0_s": 0.5}, {"t0_s": 0.51, "direction_deg": 90}]}, "at the same time"),
    ({"waves": [{"t0_s": 0.005}]}, "outside the recording"),
    ({"waves": [{"t0_s": 1.995}]}, "outside the recording"),
    ({"rise_s": 0.0005}, "half a sample"),
    ({"rise_s": 0.0}, "rise_s must be a positive"),
    ({"width_s": -0.1}, "width_s must be a positive"),
    ({"recovery_s": -1}, "recovery_s must be a positive"),
    ({"interval_s": 5.0}, "no wave fits"),
    ({"interval_s": 0.0}, "interval_s must be a positive"),
    ({"interval_s": 0.01}, "outside the recording|at the same time"),
    ({"speed_spread": -0.5}, "speed_spread"),
    ({"random_directions": "yes"}, "random_directions must be true or false"),
    ({"phase0_rad": 1.0}, "unknown parameter"),
])  # fmt: skip
def test_usage_errors(kw, match):
    with pytest.raises(UsageError, match=match):
        simulate("pulses", **kw)


# ----------------------------------------------------------------------------- files and CLI


def test_save_load_round_trip_keeps_the_arrivals(tmp_path):
    act, truth = simulate("pulses", layout="utah", snr_db=10.0, random_directions=True, seed=3)
    path = wavekit.save(act, tmp_path / "p.h5", ground_truth=truth)
    np.testing.assert_array_equal(wavekit.load(path).values, act.values)
    back = wavekit.load_ground_truth(path)
    assert back["pattern"].values.tolist() == truth["pattern"].values.tolist()
    for name in truth.data_vars:
        assert back[name].dims == truth[name].dims, name
        if name != "pattern":
            np.testing.assert_array_equal(back[name].values, truth[name].values)
    for key in ("kind", "seed", "parameters", "snr_db", "noise", "layout"):
        assert back.attrs[key] == truth.attrs[key]


def test_cli_simulate_pulses_with_a_list_of_waves(run_cli, tmp_path):
    out = tmp_path / "pulses.h5"
    waves = json.dumps([{"t0_s": 0.5, "direction_deg": 30}, {"t0_s": 1.2, "speed_mm_per_s": 150}])
    code, stdout, err = run_cli("simulate", "pulses", "--out", out, "--fs", "1000", "--layout",
                                "random", "--snr-db", "20", "-p", f"waves={waves}",
                                "-p", "rise_s=0.001")  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["kind"] == "pulses" and summary["shape"] == [2000, 64]
    gt = wavekit.load_ground_truth(out)
    assert gt["wave_direction_deg"].values.tolist() == [30.0, 0.0]
    assert gt["wave_speed_mm_per_s"].values.tolist() == [300.0, 150.0]
    assert gt["arrival_time_s"].shape == (2, 64)
    code, stdout, err = run_cli("simulate", "pulses", "--out", tmp_path / "no.h5", "-p",
                                "rise_s=0.0001")  # fmt: skip
    assert code == 2 and stdout == "" and "half a sample" in err
    assert not (tmp_path / "no.h5").exists()
