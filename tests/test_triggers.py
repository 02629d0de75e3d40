"""Trigger-based waves: kernels against their NumPy twins, ground truth, invariances, the null,
the pipeline, and the retinal recordings (the issue's criterion)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._pulsewaves import pulse_activity
from wavekit.analysis import _kernels_triggers as K
from wavekit.analysis.triggers import (
    cluster_triggers,
    coincidence_window,
    neighbour_matrix,
    shift_surrogate,
    transition_times,
    trigger_waves,
)
from wavekit.errors import UsageError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "retina_mea_waverepo"
HENNIG = REAL / "Hennig2011_spikes_P5_Bic_10uM_16_Mar_2010_wash_day2.h5"
WONG = REAL / "Wong1993_Adult.h5"


def _circ(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _grid(n=12, pitch=0.2):
    yy, xx = np.mgrid[0:n, 0:n] * pitch
    return xx.ravel(), yy.ravel()


WAVES = [(0.5, 30.0, 40.0), (1.3, 150.0, 60.0), (2.1, -100.0, 25.0), (2.9, -20.0, 80.0)]


# ----------------------------------------------------------------------------- kernels


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(5, 60),
    st.integers(1, 4),
    st.integers(1, 6),
    st.booleans(),
)
def test_hysteresis_kernel_matches_numpy(seed, nt, nc, gap, with_nan):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(nt, nc)).cumsum(axis=0)
    if with_nan:
        s[rng.integers(0, nt), rng.integers(0, nc)] = np.nan
    level = rng.normal(size=nc)
    rearm = level - rng.uniform(0, 2, nc)
    np.testing.assert_array_equal(
        K.hysteresis_fire(s, level, rearm, gap), K.ref_hysteresis_fire(s, level, rearm, gap)
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 80), st.integers(2, 9), st.floats(0.0, 0.5))
def test_cluster_kernel_matches_connected_components(seed, n, nch, max_dt):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 3, n).round(2))  # ties included
    ch = rng.integers(0, nch, n)
    nb = rng.random((nch, nch)) < 0.4
    nb = nb | nb.T
    np.fill_diagonal(nb, False)
    np.testing.assert_array_equal(
        K.cluster_sorted(t, ch, nb, max_dt), K.ref_cluster_sorted(t, ch, nb, max_dt)
    )


# ----------------------------------------------------------------------------- transitions


def test_threshold_transitions_are_the_onsets():
    x, y = _grid(6)
    act = pulse_activity(x, y, [(0.5, 0.0, 50.0)], fs=1000.0, duration_s=1.2)
    tr = transition_times(act)
    assert tr.sizes["trigger"] == x.size
    onset = 0.5 + (x - x.mean()) / 50.0
    np.testing.assert_allclose(tr["time_s"].values, onset[tr["site"].values], atol=1e-3)


@pytest.mark.parametrize("method", ["threshold", "phase", "minima"])
def test_every_trigger_recovers_front_direction(method):
    x, y = _grid(8)
    waves = [(0.6, 45.0, 40.0), (1.6, 45.0, 40.0), (2.6, 45.0, 40.0)]
    act = pulse_activity(x, y, waves, fs=500.0, duration_s=3.4, width_s=0.4, rise_s=0.02)
    tr = transition_times(act, method=method, smooth_s=0.01, min_interval_s=0.5, band_hz=(0.5, 2.0))
    w, _ = trigger_waves(tr, n_surrogates=19, n_boot=0)
    big = w["n_channels"].values >= 0.8 * x.size
    assert big.sum() >= 2
    for d, v in zip(w["direction_deg"].values[big], w["front_speed_mm_per_s"].values[big],
                    strict=True):  # fmt: skip
        assert _circ(d, 45.0) < 3.0
        assert abs(v / 40.0 - 1) < 0.08


def test_markers_agree_on_a_symmetric_upstroke():
    """A tanh upstroke is steepest at half its rise: all three markers find the onset."""
    x, y = _grid(6)
    act = pulse_activity(x, y, [(0.5, 30.0, 50.0)], fs=1000.0, duration_s=1.2, rise_s=0.01)
    onset = 0.5 + ((x - x.mean()) * np.cos(np.radians(30)) + (y - y.mean()) * 0.5) / 50.0
    for marker, tol in (("steepest", 1e-3), ("half", 1e-3), ("crossing", 2e-3)):
        tr = transition_times(act, marker=marker, min_interval_s=0.3)
        assert tr.sizes["trigger"] == x.size
        np.testing.assert_allclose(tr["time_s"].values, onset[tr["site"].values], atol=tol)


def _timing_error_ms(tr, waves, x, y):
    """Robust SD (ms) of each transition's time minus its true onset, per-wave offsets removed."""
    xc, yc = x - x.mean(), y - y.mean()
    t, site = tr["time_s"].values, tr["site"].values
    res = []
    for t0, d, v in waves:
        th = np.radians(d)
        onset = t0 + (xc * np.cos(th) + yc * np.sin(th)) / v
        e = t - onset[site]
        e = e[np.abs(e) < 0.3]
        res.append(e - np.median(e))
    r = np.concatenate(res)
    return 1000 * 1.4826 * np.median(np.abs(r))


def test_half_marker_jitters_less_when_the_upstroke_spans_few_samples():
    """25 Hz frames of noisy pulses whose rise spans about two samples (slow waves imaged at
    low frame rates): the half-rise marker's per-channel timing error is smaller than that of
    the derivative's peak, and the fronts it gives are at least as accurate."""
    x, y = _grid(12)
    waves = [(1.0 + 1.5 * i, d, v) for i, (d, v) in enumerate(
        [(0.0, 8.0), (60.0, 12.0), (150.0, 6.0), (-100.0, 10.0), (-30.0, 9.0)])]  # fmt: skip
    act = pulse_activity(x, y, waves, fs=25.0, duration_s=8.5, noise_sd=0.1, seed=2,
                         width_s=0.4, rise_s=0.06, grid_shape=(12, 12))  # fmt: skip
    kw = dict(smooth_s=0.08, min_interval_s=1.0)
    err = {m: _timing_error_ms(transition_times(act, marker=m, **kw), waves, x, y)
           for m in ("steepest", "half")}  # fmt: skip
    assert err["half"] < 0.9 * err["steepest"], err
    tr = transition_times(act, marker="half", **kw)
    w, _ = trigger_waves(tr, n_surrogates=19, n_boot=0)
    big = w["n_channels"].values >= 0.8 * x.size
    assert big.sum() == len(waves)
    for (_, d, v), dd, vv in zip(waves, w["direction_deg"].values[big],
                                 w["front_speed_mm_per_s"].values[big], strict=True):  # fmt: skip
        assert _circ(dd, d) < 3.0 and abs(vv / v - 1) < 0.05


@settings(max_examples=30, deadline=None)
@given(n=st.integers(5, 60), seed=st.integers(0, 2**31 - 1))
def test_savitzky_golay_derivative_without_scipy_signal_matches_scipy(n, seed):
    from scipy.signal import savgol_filter

    from wavekit.analysis.triggers import _savgol5_deriv

    x = np.random.default_rng(seed).normal(size=(n, 3))
    np.testing.assert_allclose(
        _savgol5_deriv(x), savgol_filter(x, 5, 2, deriv=1, axis=0), atol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    kind=st.sampled_from(["random", "grid", "clusters", "duplicates"]),
    given_distance=st.one_of(st.none(), st.floats(0.05, 3.0)),
    seed=st.integers(0, 2**31 - 1),
)
def test_neighbour_matrix_matches_the_all_pairs_reference(n, kind, given_distance, seed):
    from wavekit.analysis.triggers import _neighbour_matrix_ref

    rng = np.random.default_rng(seed)
    if kind == "grid":
        side = max(2, int(np.sqrt(n)))
        yy, xx = np.mgrid[0:side, 0:side] * 0.3
        x, y = xx.ravel(), yy.ravel()
    elif kind == "clusters":  # two groups farther apart than the 4 x spacing cap
        x = np.r_[rng.uniform(0, 1, n), rng.uniform(9, 10, n)]
        y = rng.uniform(0, 1, 2 * n)
    else:
        x, y = rng.uniform(0, 5, n), rng.uniform(0, 5, n)
        if kind == "duplicates":
            x[: n // 2], y[: n // 2] = x[n - n // 2 :][: n // 2], y[n - n // 2 :][: n // 2]
    try:
        want = _neighbour_matrix_ref(x, y, given_distance)
    except UsageError:
        with pytest.raises(UsageError):
            neighbour_matrix(x, y, given_distance)
        return
    got = neighbour_matrix(x, y, given_distance)
    assert got[1] == want[1]
    assert np.array_equal(got[0], want[0])


def test_steepest_point_of_tied_slopes_does_not_depend_on_rounding():
    """Count data tie exactly: a run of equal slopes counts by its middle, and of equal peaks
    apart the one nearest the crossing; perturbing the derivative by rounding-sized amounts
    (as another summation order would) changes nothing."""
    from wavekit.analysis import triggers as T

    s = np.zeros((40, 3))
    s[10:, 0] = np.r_[np.arange(1, 5) * 10.0, np.full(26, 40.0)]  # 4 equal steps: slope run
    s[:, 1] = np.cumsum(np.r_[np.zeros(10), [1, 2, 3, 3, 3, 2, 1], np.zeros(23)])
    s[:, 2] = np.cumsum(np.r_[np.zeros(8), [5, 0, 0, 0, 0, 0, 5], np.zeros(25)])  # two peaks
    i, c = np.array([12, 13, 13]), np.array([0, 1, 2])
    want = T._steepest(s, i, c, 4)
    assert want[0] == 11.0 and want[1] == 12.5  # the middle of each slope's plateau
    orig = T._savgol5_deriv
    rng = np.random.default_rng(0)
    try:
        for _ in range(20):
            T._savgol5_deriv = lambda a: orig(a) * (1 + 1e-14 * rng.standard_normal(a.shape))
            np.testing.assert_allclose(T._steepest(s, i, c, 4), want, atol=1e-9)
    finally:
        T._savgol5_deriv = orig


def test_pipeline_config_names_the_same_trigger_choices_as_the_library():
    """The configuration keeps its own copies of the choices, so that checking a config does not
    load the analysis layer (numpy, xarray, numba kernels): they must not drift apart."""
    from wavekit.analysis import triggers as T
    from wavekit.pipeline import config as C

    assert C.TRIGGERS == T.METHODS and C.MARKERS == T.MARKERS


def test_half_rise_keeps_the_steepest_point_without_a_rise():
    from wavekit.analysis.triggers import _half_rise

    s = np.zeros((40, 2))
    k = np.array([20.0, 20.4])
    np.testing.assert_array_equal(_half_rise(s, k, np.array([0, 1]), 3), k)
    assert _half_rise(s, np.zeros(0), np.zeros(0, int), 3).size == 0


def test_bad_method_and_polarity_are_usage_errors():
    from wavekit.errors import UsageError

    x, y = _grid(4)
    act = pulse_activity(x, y, [(0.3, 0.0, 50.0)], duration_s=0.8)
    with pytest.raises(UsageError):
        transition_times(act, method="zero")
    with pytest.raises(UsageError):
        transition_times(act, polarity="sideways")
    with pytest.raises(UsageError):
        transition_times(act, method="phase")  # needs a band
    with pytest.raises(UsageError, match="marker"):
        transition_times(act, marker="middle")


# ----------------------------------------------------------------------------- ground truth


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("layout", ["grid", "random"])
def test_waves_recover_direction_and_speed(noise, layout):
    rng = np.random.default_rng(3)
    if layout == "grid":
        x, y = _grid(12)
        act = pulse_activity(x, y, WAVES, noise_sd=noise, seed=1, grid_shape=(12, 12))
    else:
        x, y = rng.uniform(0, 2.2, 100), rng.uniform(0, 2.2, 100)
        act = pulse_activity(x, y, WAVES, noise_sd=noise, seed=1)
    tr = transition_times(act, smooth_s=0.01, min_interval_s=0.3)
    w, wave_of = trigger_waves(tr, n_surrogates=19, n_boot=200, seed=2)
    sig = w["significant"].values
    assert sig.sum() == len(WAVES), w["n_channels"].values
    tol_d, tol_v = {0.0: (1.0, 0.03), 0.1: (3.0, 0.08), 0.3: (6.0, 0.15)}[noise]
    for (t0, d, v), row in zip(WAVES, np.flatnonzero(sig), strict=True):
        assert abs(w["start_s"].values[row] - t0) < 0.15  # first channel: before the centre
        assert _circ(w["direction_deg"].values[row], d) < tol_d
        assert abs(w["front_speed_mm_per_s"].values[row] / v - 1) < tol_v
        assert w["n_channels"].values[row] >= 0.9 * x.size
        if noise == 0:  # local velocity maps: the same plane front everywhere
            assert abs(w["local_speed_mm_per_s"].values[row] / v - 1) < 0.05
            vx = np.nanmedian(w["local_velocity_x_mm_per_s"].values[row])
            vy = np.nanmedian(w["local_velocity_y_mm_per_s"].values[row])
            assert _circ(np.degrees(np.arctan2(vy, vx)), d) < 3
    assert wave_of.shape == (tr.sizes["trigger"],)


def test_invariances_rotation_mirror_scale():
    """Rotating the layout rotates directions; mirroring mirrors them; scaling space scales
    speeds; shifting time shifts start times only."""
    x, y = _grid(10)
    waves = [(0.5, 20.0, 40.0), (1.3, 200.0, 30.0)]

    def run(xx, yy, ww, t_shift=0.0):
        act = pulse_activity(xx, yy, ww, duration_s=2.2)
        act = act.assign_coords(time=act["time"] + t_shift)
        w, _ = trigger_waves(transition_times(act, min_interval_s=0.3), n_surrogates=9, n_boot=0)
        keep = w["n_channels"].values >= 0.9 * xx.size
        return w.isel(wave=np.flatnonzero(keep))

    base = run(x, y, waves)
    a = np.radians(90.0)
    xr_, yr_ = x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)
    rot = run(xr_, yr_, [(t, d + 90.0, v) for t, d, v in waves])
    mir = run(-x, y, [(t, 180.0 - d, v) for t, d, v in waves])
    big = run(2 * x, 2 * y, [(t, d, 2 * v) for t, d, v in waves])
    late = run(x, y, waves, t_shift=10.0)
    for i in range(2):
        d0 = base["direction_deg"].values[i]
        assert _circ(rot["direction_deg"].values[i], d0 + 90) < 0.5
        assert _circ(mir["direction_deg"].values[i], 180 - d0) < 0.5
        v0 = base["front_speed_mm_per_s"].values[i]
        assert big["front_speed_mm_per_s"].values[i] / v0 == pytest.approx(2.0, rel=1e-3)
        assert late["start_s"].values[i] - base["start_s"].values[i] == pytest.approx(10.0)
        assert late["direction_deg"].values[i] == pytest.approx(d0, abs=1e-6)


def test_reversed_front_reverses_direction():
    x, y = _grid(10)
    fwd = pulse_activity(x, y, [(0.6, 30.0, 40.0)], duration_s=1.4)
    w, _ = trigger_waves(transition_times(fwd, min_interval_s=0.3), n_surrogates=9, n_boot=0)
    rev = pulse_activity(x, y, [(0.6, 210.0, 40.0)], duration_s=1.4)
    wr, _ = trigger_waves(transition_times(rev, min_interval_s=0.3), n_surrogates=9, n_boot=0)
    assert _circ(wr["direction_deg"].values[0], w["direction_deg"].values[0] + 180) < 0.5


# ----------------------------------------------------------------------------- null


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_independent_bursts_give_no_waves(seed):
    """Each channel bursts on its own (same rate as the waves would give): no coordinated
    activity, so clusters are chance coincidences and their q-values are large."""
    rng = np.random.default_rng(seed)
    x, y = _grid(10)
    fs, dur = 100.0, 300.0
    t = np.arange(int(fs * dur)) / fs
    v = np.zeros((t.size, x.size))
    for j in range(x.size):
        for t0 in rng.uniform(0, dur - 1, rng.poisson(dur / 5)):
            v[:, j] += ((t >= t0) & (t < t0 + 0.5)).astype(float)
    v += rng.normal(0, 0.05, v.shape)
    from wavekit.model import irregular_activity

    act = irregular_activity(v, fs_hz=fs, x_mm=x, y_mm=y)
    tr = transition_times(act, smooth_s=0.02, min_interval_s=0.6)
    w, _ = trigger_waves(tr, n_surrogates=49, n_boot=0, seed=seed)
    assert w["significant"].sum() <= 1
    assert w.attrs["n_clusters"] > 100


def test_shift_surrogate_keeps_each_channel_and_span():
    x, y = _grid(5)
    act = pulse_activity(x, y, WAVES, duration_s=3.5)
    tr = transition_times(act, min_interval_s=0.3)
    sur = shift_surrogate(tr, np.random.default_rng(0))
    assert np.all(np.diff(sur["time_s"].values) >= 0)
    np.testing.assert_array_equal(
        np.bincount(sur["site"].values, minlength=25), np.bincount(tr["site"].values, minlength=25)
    )
    assert sur["time_s"].min() >= tr.attrs["t_start_s"]
    assert sur["time_s"].max() < tr.attrs["t_stop_s"]


def test_coincidence_window_covers_neighbour_delays():
    x, y = _grid(10)  # 0.2 mm pitch; neighbour delay at 40 mm/s <= 7 ms (diagonal)
    act = pulse_activity(x, y, WAVES * 1, duration_s=3.5, noise_sd=0.05)
    tr = transition_times(act, smooth_s=0.01, min_interval_s=0.3)
    nb, dist = neighbour_matrix(x, y)
    assert dist == pytest.approx(0.3)
    assert nb.sum(axis=1).max() == 8
    window = coincidence_window(tr, nb)
    assert 0.004 <= window <= 0.1
    labels = cluster_triggers(tr, max_dt_s=window, neighbours=nb)
    assert labels.max() + 1 <= 3 * len(WAVES)


# ----------------------------------------------------------------------------- pipeline


def test_analyze_reports_trigger_waves(tmp_path):
    from wavekit.io import save
    from wavekit.pipeline.analyze import analyze_file
    from wavekit.pipeline.config import make_config

    x, y = _grid(10)
    act = pulse_activity(x, y, WAVES, noise_sd=0.1, grid_shape=(10, 10), duration_s=3.6)
    save(act, tmp_path / "pulses.h5")
    cfg = make_config(polarity="up", chunk_s=1.5, plots=False, n_surrogates=19)
    report = analyze_file(tmp_path / "pulses.h5", tmp_path / "out", config=cfg)
    waves = [w for w in report["activation_waves"] if w["significant"]]
    assert len(waves) == len(WAVES)  # chunked at 1.5 s: fronts across chunk edges still whole
    for (t0, d, v), w in zip(WAVES, waves, strict=True):
        assert abs(w["start_s"] - t0) < 0.15
        assert _circ(w["direction_deg"], d) < 4
        assert abs(w["front_speed_mm_per_s"] / v - 1) < 0.12
        assert w["front_speed_ci_low_mm_per_s"] <= w["front_speed_mm_per_s"]
    fs = report["flow_structure"]
    assert fs["n_significant_activation_waves"] == len(WAVES)
    lines = (tmp_path / "out" / "waves.csv").read_text().splitlines()
    assert len(lines) == 1 + len(report["activation_waves"])
    trig = (tmp_path / "out" / "triggers.csv").read_text().splitlines()
    assert trig[0] == "time_s,channel,x_mm,y_mm,wave"
    assert len(trig) > 4 * 90
    import h5py

    with h5py.File(tmp_path / "out" / "waves.h5") as f:
        assert f["waves/local_velocity_x_mm_per_s"].shape == (len(report["activation_waves"]), 100)
        assert np.isfinite(f["waves/activation_time_s"][()]).sum() > 4 * 90
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    assert on_disk["activation_waves"] == report["activation_waves"]
    assert on_disk["parameters"]["trigger_marker"] == "steepest"


def test_marker_from_the_config_file_and_a_bad_one(tmp_path, run_cli):
    from wavekit.io import save

    x, y = _grid(8)
    act = pulse_activity(x, y, WAVES[:2], noise_sd=0.05, grid_shape=(8, 8), duration_s=2.0)
    save(act, tmp_path / "p.h5")
    toml = tmp_path / "half.toml"
    toml.write_text('[activation]\nmarker = "half"\n')
    code, out, err = run_cli("analyze", tmp_path / "p.h5", "--config", toml, "--no-plots",
                             "--stages", "activation", "--out", tmp_path / "o")  # fmt: skip
    assert code == 0, err
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert rep["parameters"]["trigger_marker"] == "half"
    assert rep["flow_structure"]["n_significant_activation_waves"] == 2
    toml.write_text('[activation]\nmarker = "middle"\n')
    code, out, err = run_cli("analyze", tmp_path / "p.h5", "--config", toml,
                             "--out", tmp_path / "bad")  # fmt: skip
    assert code == 2 and "marker" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


# ----------------------------------------------------------------------------- real data


@pytest.mark.skipif(not HENNIG.exists(), reason="needs ../shared/data/real")
def test_retina_hennig_has_many_waves_ferret_almost_none():
    """The issue's criterion, through the same settings ``wavekit analyze`` uses (band centre
    from the spectrum: 0.125 Hz for Hennig, 1.62 Hz for the ferret)."""
    import wavekit

    out = {}
    for path, fc in ((HENNIG, 0.125), (WONG, 1.62)):
        act = wavekit.load(path)
        fs = act.attrs["fs_hz"]
        tr = transition_times(act, smooth_s=max(1 / fs, 1 / (20 * fc)), min_interval_s=0.5 / fc)
        w, _ = trigger_waves(tr, n_surrogates=99, n_boot=0, seed=0)
        dur_min = (tr.attrs["t_stop_s"] - tr.attrs["t_start_s"]) / 60
        out[path.name] = (int(w["significant"].sum()), dur_min, w)
    n_h, min_h, wh = out[HENNIG.name]
    n_w, _, ww = out[WONG.name]
    assert n_h >= 50  # 93 at the time of writing: one wave every ~3 min over 4.25 h
    assert n_w <= 1  # 0: the adult's coincidences are as frequent as in its surrogates
    assert np.nanmin(ww["q_value"].values) > 0.05
    speeds = wh["front_speed_mm_per_s"].values[wh["significant"].values]
    assert 0.02 < np.median(speeds) < 0.5  # tens to hundreds of um/s


HEART = REAL.parent / "heart_optical_cosmas" / "controlV"


@pytest.mark.skipif(not HEART.exists(), reason="needs ../shared/data/real")
def test_heart_beats_are_the_significant_waves():
    """Optical mapping, paced every 150 ms, inverted dye: the 6 beats and nothing else, at the
    settings ``wavekit analyze --polarity down`` uses (band centre 7 Hz)."""
    import wavekit

    act = wavekit.load(HEART, fs_hz=1000.0, spacing_mm=0.21875)
    tr = transition_times(act, polarity="down", smooth_s=1 / 140, min_interval_s=0.5 / 7)
    w, _ = trigger_waves(tr, n_surrogates=19, n_boot=0, seed=0)
    sig = w["significant"].values
    assert sig.sum() == 6
    np.testing.assert_allclose(np.diff(w["start_s"].values[sig]), 0.15, atol=0.01)
    speed = w["front_speed_mm_per_s"].values[sig]
    assert np.all((speed > 580) & (speed < 720))
    d = w["direction_deg"].values[sig]
    assert np.all(_circ(d, -67.0) < 12)
    # the half-rise marker: the same beats, a more consistent front (smaller plane-fit residual)
    # and faster fronts, since the half-rise and maximum-slope times differ with the upstroke's
    # shape across the tissue (docs/methods/fits.md)
    tr = transition_times(
        act, polarity="down", smooth_s=1 / 140, min_interval_s=0.5 / 7, marker="half"
    )
    wh, _ = trigger_waves(tr, n_surrogates=19, n_boot=0, seed=0)
    sh = wh["significant"].values
    assert sh.sum() == 6
    half = wh["front_speed_mm_per_s"].values[sh]
    assert np.all((half > speed) & (half < 1.25 * speed))
    res = np.median(wh["residual_scale_s"].values[sh])
    assert res < np.median(w["residual_scale_s"].values[sig])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 60), st.integers(2, 8))
def test_nearest_lags_vectorised_matches_loop(seed, n, nch):
    from wavekit.analysis.triggers import _nearest_lags, _nearest_lags_ref

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 50, n))
    site = rng.integers(0, nch, n)
    nb = rng.random((nch, nch)) < 0.5
    np.fill_diagonal(nb, False)
    np.testing.assert_allclose(_nearest_lags(t, site, nb), _nearest_lags_ref(t, site, nb),
                               atol=1e-9)  # fmt: skip
