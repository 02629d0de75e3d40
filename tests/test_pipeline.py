"""analyze and batch end to end: numbers against ground truth, atomic outputs, resume, Dask."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import wavekit
from wavekit.model import grid_activity
from wavekit.pipeline.analyze import analyze
from wavekit.pipeline.config import make_config
from wavekit.pipeline.report import validate_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "plane_grid.h5"


def plane_wave(
    direction_deg=30.0,
    speed=300.0,
    freq=10.0,
    n=1000,
    fs=500.0,
    noise=0.1,
    seed=0,
    ny=16,
    nx=16,
    pitch=0.4,
):
    t = np.arange(n)[:, None, None] / fs
    yy, xx = np.mgrid[0:ny, 0:nx] * pitch
    th = np.radians(direction_deg)
    k = 2 * np.pi * freq / speed
    ph = 2 * np.pi * freq * t - k * (np.cos(th) * xx + np.sin(th) * yy)
    x = np.cos(ph) + noise * np.random.default_rng(seed).normal(size=ph.shape)
    return grid_activity(x.astype(np.float32), fs_hz=fs, dx_mm=pitch)


def strip(report):
    r = json.loads(json.dumps(report))
    r.pop("timings_s")
    return r


@pytest.mark.parametrize("direction", [-120.0, 30.0, 170.0])
def test_analyze_cli_recovers_plane_wave(run_cli, tmp_path, direction):
    p = wavekit.save(plane_wave(direction_deg=direction, speed=450.0, freq=12.0), tmp_path / "w.h5")
    code, out, err = run_cli(
        "analyze", p, "--out", tmp_path / "res", "--no-plots", "--surrogates", "19"
    )
    assert code == 0, err
    report = json.loads((tmp_path / "res" / "report.json").read_text())
    validate_report(report)
    fs = report["flow_structure"]
    err_deg = (fs["dominant_direction_deg"] - direction + 180) % 360 - 180
    assert abs(err_deg) < 0.5
    assert fs["speed_mm_per_s"]["median"] == pytest.approx(450.0, rel=0.01)
    assert fs["frequency_hz"]["median"] == pytest.approx(12.0, rel=0.01)
    assert report["parameters"]["band_hz_used"][0] < 12 < report["parameters"]["band_hz_used"][1]
    assert report["input"]["sha256"] and report["input"]["shape"] == [1000, 16, 16]
    assert (tmp_path / "res" / "events.csv").read_text().startswith("id,start_s")


def test_sample_analysis_writes_figures_and_is_deterministic(run_cli, tmp_path):
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "a", "--seed", "3")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    for fig in (
        "phase_snapshot.png",
        "direction_rose.png",
        "speed_distribution.png",
        "timeline.png",
        "kw_spectrum.png",
    ):
        assert fig in names
        assert (tmp_path / "a" / fig).stat().st_size > 5000
    assert not [n for n in names if n.endswith(".tmp")]
    code, _, _ = run_cli("analyze", SAMPLE, "--out", tmp_path / "b", "--seed", "3")
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert strip(a) == strip(b)
    assert a["parameters"]["seed"] == 3


def test_analyze_json_on_stdout(run_cli):
    code, out, _ = run_cli("analyze", SAMPLE, "--json", "--no-plots")
    assert code == 0
    report = json.loads(out)
    assert report["flow_structure"]["dominant_direction_deg"] == pytest.approx(30.0, abs=0.5)


def test_chunked_matches_whole_recording():
    a = plane_wave(n=6000, fs=500.0)
    stages = ("gradients", "planefit")
    whole = analyze(a, make_config(chunk_s=100.0, band_hz=(7, 14), stages=stages))
    chunked = analyze(a, make_config(chunk_s=2.0, band_hz=(7, 14), stages=stages))
    fw, fc = whole.frames, chunked.frames
    assert fw.sizes == fc.sizes
    np.testing.assert_array_equal(fw["edge"], fc["edge"])
    inner = ~fw["edge"].values  # the record's own ends: filter transients in both
    assert inner.sum() > 5000
    fw, fc = fw.isel(time=inner), fc.isel(time=inner)
    np.testing.assert_allclose(fc["plane_direction_deg"], fw["plane_direction_deg"], atol=1e-3)
    np.testing.assert_allclose(fc["plane_speed_mm_per_s"], fw["plane_speed_mm_per_s"], rtol=5e-4)
    np.testing.assert_allclose(fc["pgd_unit_resultant"], fw["pgd_unit_resultant"], atol=1e-4)
    assert whole.flow_structure["dominant_direction_deg"] == pytest.approx(
        chunked.flow_structure["dominant_direction_deg"], abs=1e-3
    )


def test_config_file_and_flags(tmp_path, run_cli):
    toml = tmp_path / "c.toml"
    toml.write_text("seed = 7\n[preprocess]\nband_hz = [5.0, 20.0]\n[output]\nplots = false\n")
    cfg = make_config(toml, seed=9)
    assert cfg.seed == 9 and cfg.band_hz == (5.0, 20.0) and cfg.plots is False
    bad = tmp_path / "bad.toml"
    bad.write_text("[preprocess]\nbnd_hz = [1, 2]\n")
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "o", "--config", bad)
    assert code == 2 and "bnd_hz" in err and not (tmp_path / "o").exists()
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "o", "--phase", "wavelet")
    assert code == 2 and "phase" in err


def _inputs(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(n):
        paths.append(
            wavekit.save(plane_wave(direction_deg=20.0 * i, n=600, seed=i), folder / f"rec{i}.h5")
        )
    return paths


def test_batch_failed_input_exit_4_others_complete(run_cli, tmp_path):
    paths = _inputs(tmp_path / "in", 2)
    bad = tmp_path / "in" / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)  # HDF5 signature, then nothing
    code, out, err = run_cli(
        "batch", tmp_path / "in", "--out", tmp_path / "out", "--no-plots", "--surrogates", "9"
    )
    assert code == 4
    lines = [json.loads(s) for s in out.strip().splitlines()]
    assert {d["status"] for d in lines} == {"ok", "failed"}
    assert len(lines) == 3 and "broken.h5" in err
    for p in paths:
        report = json.loads((tmp_path / "out" / p.stem / "report.json").read_text())
        validate_report(report)
    assert not (tmp_path / "out" / "broken" / "report.json").exists()
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert [Path(r["input"]).name for r in rows] == ["broken.h5", "rec0.h5", "rec1.h5"]
    assert abs(float(rows[2]["direction_deg"]) - 20.0) < 0.5


def test_batch_summary_has_the_opt_in_stages_columns(run_cli, tmp_path):
    """Pulse fronts through batch with the activation and flow stages: summary.csv and the JSON
    lines carry the number of significant trigger waves, their median front speed and the
    number of critical-point tracks; empty for a run without those stages."""
    from wavekit.simulate import simulate

    (tmp_path / "in").mkdir()
    act, truth = simulate(
        "pulses", nx=10, ny=10, duration_s=4.0, fs_hz=250.0, speed_mm_per_s=40.0,
        direction_deg=30.0, interval_s=1.0, width_s=0.2, rise_s=0.01, snr_db=20.0,
    )  # fmt: skip
    wavekit.save(act, tmp_path / "in" / "pulses.h5")
    args = ("--no-plots", "--surrogates", "19", "--polarity", "up")
    code, out, err = run_cli("batch", tmp_path / "in", "--out", tmp_path / "a",
                             "--stages", "gradients,flow,activation", *args)  # fmt: skip
    assert code == 0, err
    line = json.loads(out.strip().splitlines()[0])
    row = next(csv.DictReader((tmp_path / "a" / "summary.csv").open()))
    n_true = truth.sizes["wave"]
    assert int(row["n_significant_activation_waves"]) == line["n_significant_activation_waves"]
    assert line["n_significant_activation_waves"] == n_true
    assert abs(float(row["front_speed_mm_per_s"]) / 40.0 - 1) < 0.05
    assert row["n_critical_point_tracks"] != ""
    code, out, err = run_cli("batch", tmp_path / "in", "--out", tmp_path / "b", "--no-plots",
                             "--stages", "gradients")  # fmt: skip
    row = next(csv.DictReader((tmp_path / "b" / "summary.csv").open()))
    assert code == 0 and row["n_significant_activation_waves"] == ""
    assert row["n_critical_point_tracks"] == ""


def test_batch_verbose_names_each_input_and_excludes_quiet(run_cli, tmp_path):
    paths = _inputs(tmp_path / "in", 2)
    code, out, err = run_cli("batch", tmp_path / "in", "--out", tmp_path / "o", "--no-plots",
                             "--stages", "gradients", "--verbose")  # fmt: skip
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2  # standard output: the JSON lines only
    for p in paths:
        assert any(f"] {p.name}: band" in line for line in err.splitlines()), err
    code, _, err = run_cli("batch", tmp_path / "in", "--out", tmp_path / "q", "-q", "-v")
    assert code == 2 and "not both" in err


def test_batch_inputs_from_stdin_and_list(tmp_path, monkeypatch):
    import io

    from wavekit.pipeline.batch import expand_inputs

    paths = _inputs(tmp_path / "in", 2)
    lst = tmp_path / "files.txt"
    lst.write_text("# recordings\n" + "\n".join(str(p) for p in paths) + "\n")
    assert expand_inputs([str(lst)]) == paths
    assert expand_inputs(["-"], stdin=io.StringIO(f"{paths[1]}\n{paths[0]}\n")) == paths[::-1]
    assert expand_inputs([str(tmp_path / "in" / "*.h5")]) == paths


def test_batch_killed_then_resumed_matches_uninterrupted(tmp_path):
    paths = _inputs(tmp_path / "in", 4)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "wavekit",
        "batch",
        *map(str, paths),
        "--no-plots",
        "--surrogates",
        "9",
        "--out",
    ]
    full = subprocess.run(
        cmd + [str(tmp_path / "full")], env=env, capture_output=True, text=True, timeout=300
    )
    assert full.returncode == 0, full.stderr
    proc = subprocess.Popen(
        cmd + [str(tmp_path / "part")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = proc.stdout.readline()  # the first input is finished: kill during the others
    assert json.loads(first)["status"] == "ok"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    done_before = sorted(p.parent.name for p in (tmp_path / "part").glob("*/report.json"))
    assert 1 <= len(done_before) < 4
    res = subprocess.run(
        cmd + [str(tmp_path / "part"), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    statuses = [json.loads(s)["status"] for s in res.stdout.strip().splitlines()]
    assert statuses.count("skipped") == len(done_before)
    for p in paths:
        a = json.loads((tmp_path / "full" / p.stem / "report.json").read_text())
        b = json.loads((tmp_path / "part" / p.stem / "report.json").read_text())
        assert strip(a) == strip(b)
    assert not list((tmp_path / "part").rglob("*.tmp"))


def test_batch_on_a_local_dask_cluster(tmp_path, run_cli):
    distributed = pytest.importorskip("distributed")
    paths = _inputs(tmp_path / "in", 2)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code, out, err = run_cli(
            "batch",
            *paths,
            "--out",
            tmp_path / "out",
            "--no-plots",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2
    for p in paths:
        assert (tmp_path / "out" / p.stem / "report.json").exists()
    time.sleep(0)


def test_plot_redraws_from_saved_results(run_cli, tmp_path):
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "r", "--no-plots")
    assert code == 0, err
    assert not list((tmp_path / "r").glob("*.png"))
    code, out, err = run_cli("plot", tmp_path / "r", "--fig-format", "svg")
    assert code == 0, err
    names = sorted(Path(s).name for s in out.split())
    assert names == [
        "direction_rose.svg",
        "events.svg",
        "kw_spectrum.svg",
        "phase_snapshot.svg",
        "speed_distribution.svg",
        "timeline.svg",
    ]
    assert "<svg" in (tmp_path / "r" / "timeline.svg").read_text()[:500]
    code, _, err = run_cli("plot", tmp_path / "nothing")
    assert code == 3 and "report.json" in err


@pytest.mark.realdata
def test_seizure_recording_has_a_consistent_travelling_wave(tmp_path):
    from conftest import HAS_REAL, REAL

    if not HAS_REAL:
        pytest.skip("../shared/data/real is absent")
    path = REAL / "seizure_utah_martinet2017" / "example_seizure_waves.mat"
    report = wavekit.analyze_file(path, tmp_path / "s", config=make_config(plots=False))
    fs = report["flow_structure"]
    assert report["input"]["shape"] == [5000, 10, 10]
    assert 3.0 < fs["frequency_hz"]["median"] < 6.5  # the seizure's 4-5 Hz rhythm
    assert fs["direction_resultant_length"] > 0.8  # one dominant direction of travel
    assert fs["planarity"]["pgd_unit_resultant_median"] > 0.6
    assert fs["wave_frame_fraction"] > 0.5
    assert 20 < fs["speed_mm_per_s"]["median"] < 500
    assert fs["speed_mm_per_s"]["q75"] / fs["speed_mm_per_s"]["q25"] < 1.5  # a tight spread


def test_pattern_sequence_fractions_and_events_match_truth(run_cli, tmp_path):
    seq = ROOT / "sample_data" / "patterns_sequence.h5"
    truth = wavekit.load_ground_truth(seq)
    code, _, err = run_cli("analyze", seq, "--out", tmp_path / "q", "--no-plots", "--seed", "1")
    assert code == 0, err
    report = json.loads((tmp_path / "q" / "report.json").read_text())
    fractions = report["flow_structure"]["pattern_fractions"]
    labels = truth["pattern"].values
    for pattern in ("plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle", "synchronous"):
        # the edge frames (first and last ~0.4 s) are not counted: compare within 0.05
        assert fractions[pattern] == pytest.approx(np.mean(labels == pattern), abs=0.05)
    null = report["event_null"]
    assert null["n_surrogates"] == 99 and null["surrogate"] == "phase"
    assert 0 < null["threshold"] < 0.5  # PGD of spatially scrambled activity stays low
    events = report["events"]
    assert events and all(e["p_value"] is not None and e["p_value"] < 0.05 for e in events)
    rows = list(csv.DictReader((tmp_path / "q" / "events.csv").open()))
    assert len(rows) == len(events)
    assert float(rows[0]["start_s"]) == pytest.approx(events[0]["start_s"])


def test_bad_channels_are_excluded_not_zero_filled():
    a = plane_wave(direction_deg=-60.0, speed=200.0, n=1000).astype(np.float64)
    a[:, 3, 4] *= 100.0  # a loud, noisy channel
    a[:, 5, 5] *= 0.01  # a nearly dead one
    a[:, 7, 7] *= 0.5  # merely quieter: kept
    a[:, 9, 2] = 1.0  # flat
    res = analyze(a, make_config(stages=("gradients", "planefit")))
    bad = res.activity_info["bad_channels"]
    assert bad["flat"] == [[9, 2]]
    assert bad["variance_outlier"] == [[3, 4], [5, 5]]
    fs = res.flow_structure
    assert abs((fs["dominant_direction_deg"] + 60.0 + 180) % 360 - 180) < 0.5
    assert fs["speed_mm_per_s"]["median"] == pytest.approx(200.0, rel=0.01)
