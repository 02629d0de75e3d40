"""The opt-in ``flow`` stage of ``wavekit analyze``: the optical flow of the phase, its per-frame
measures, its critical points tracked through the recording (critical_points.csv), the report
block, fields.h5 and the figure."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

import wavekit
from wavekit.pipeline.analyze import analyze, analyze_file
from wavekit.pipeline.config import DEFAULT_STAGES, STAGES, make_config
from wavekit.pipeline.fields import read_fields
from wavekit.pipeline.phaseflow import TRACK_COLUMNS, TrackRule, track_table
from wavekit.pipeline.report import validate_report
from wavekit.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SPIRAL = ROOT / "sample_data" / "spiral_grid.h5"
FLOW = ("gradients", "flow")
PITCH = 0.4  # simulate's default grid pitch (mm)


def _run(a, **kw):
    cfg = make_config(**{"band_hz": (7, 14), "stages": FLOW, "plots": False, **kw})
    return analyze(a, cfg)


def _longest(res):
    tr = res.flow_tracks
    i = int(np.argmax(tr["duration_s"].values))
    return {k: tr[k].values[i].item() for k in tr.data_vars}


def _long_tracks(res, min_s=0.5):
    return int((res.flow_tracks["duration_s"].values >= min_s).sum())


def test_flow_is_an_opt_in_stage():
    assert "flow" in STAGES and "flow" not in DEFAULT_STAGES
    a, _ = simulate("plane", duration_s=1.0, seed=1)
    res = analyze(a, make_config(band_hz=(7, 14), stages=("gradients",)))
    assert res.flow_tracks is None and "phase_flow" not in res.flow_structure
    assert not any(k.startswith("flow_") for k in res.frames.data_vars)


@pytest.mark.parametrize("chirality", ["ccw", "cw"])
def test_spiral_gives_one_long_track_at_its_core_with_its_sense(chirality):
    a, truth = simulate("spiral", chirality=chirality, snr_db=5.0, seed=1)
    res = _run(a)
    assert _long_tracks(res) == 1
    t = _longest(res)
    # the phase flow follows the direction of travel: it circulates with the spiral
    assert t["pattern"] == f"spiral_{chirality}" and t["kind"].endswith(f"_{chirality}")
    assert t["kind_fraction"] > 0.9
    inner_s = float(np.ptp(res.frames["time"].values[~res.frames["edge"].values]))
    assert t["duration_s"] > 0.9 * inner_s  # alive through every frame that is summarised
    cx, cy = float(truth["centre_x_mm"][0]), float(truth["centre_y_mm"][0])
    assert np.hypot(t["x_mm"] - cx, t["y_mm"] - cy) < 0.5 * PITCH
    pf = res.flow_structure["phase_flow"]
    assert np.sign(pf["curl_per_s"]["median"]) == (1 if chirality == "ccw" else -1)
    assert pf["order_parameter"]["median"] < 0.2  # vectors around a centre cancel
    assert pf["n_tracks_by_pattern"][f"spiral_{chirality}"] >= 1
    assert pf["longest_track"]["pattern"] == t["pattern"]


@pytest.mark.parametrize(
    "kind, params", [("target", {"mode": "source"}), ("target", {"mode": "sink"}), ("saddle", {})]
)
def test_source_sink_and_saddle_tracks_at_their_centre(kind, params):
    # 10 mm wavelength on the 6 mm array (longer waves leave too little phase across it for
    # the flow to have a centre: docs/methods/patterns.md, the flow stage)
    a, truth = simulate(kind, speed_mm_per_s=100.0, snr_db=5.0, seed=3, **params)
    expected = params.get("mode", kind)
    res = _run(a)
    assert _long_tracks(res) == 1
    t = _longest(res)
    assert t["kind"] == expected and t["pattern"] == expected
    cx, cy = float(truth["centre_x_mm"][0]), float(truth["centre_y_mm"][0])
    assert np.hypot(t["x_mm"] - cx, t["y_mm"] - cy) < PITCH
    div = res.flow_structure["phase_flow"]["divergence_per_s"]["median"]
    if expected != "saddle":
        assert (div > 0) == (expected == "source")  # sources diverge, sinks converge


def test_plane_wave_has_no_long_lived_track():
    a, _ = simulate("plane", direction_deg=30.0, snr_db=0.0, seed=5)
    res = _run(a)
    pf = res.flow_structure["phase_flow"]
    assert pf["n_tracks"] == 0 and pf["longest_track"] is None
    assert pf["order_parameter"]["median"] > 0.95
    assert res.flow_tracks.sizes["track"] == 0


def test_tracks_do_not_depend_on_chunking():
    """A drifting spiral core (0.5 mm/s) across 8 chunks of 0.5 s and in one piece: the same
    track, and the same per-frame measures (the flow of each core is warm-started in its
    margins)."""
    a, truth = simulate(
        "spiral", snr_db=5.0, seed=6, duration_s=4.0, centre_x_mm=2.0, centre_vx_mm_per_s=0.5
    )
    whole = _run(a, chunk_s=100.0)
    chunked = _run(a, chunk_s=0.5)
    tw, tc = whole.flow_tracks, chunked.flow_tracks
    assert tw.sizes["track"] == tc.sizes["track"] == 1
    for k in ("kind", "pattern", "n_frames", "start_s", "end_s"):
        assert tw[k].values[0] == tc[k].values[0], k
    for k in ("x_mm", "y_mm", "net_displacement_mm", "path_length_mm"):
        assert tc[k].values[0] == pytest.approx(tw[k].values[0], abs=1e-3), k
    # it moved with the core: 0.5 mm/s over its duration
    assert tw["net_displacement_mm"].values[0] == pytest.approx(
        0.5 * tw["duration_s"].values[0], abs=PITCH / 2
    )
    inner = ~whole.frames["edge"].values
    for k in ("flow_order_parameter", "flow_divergence_per_s", "flow_curl_per_s"):
        w, c = whole.frames[k].values[inner], chunked.frames[k].values[inner]
        assert np.max(np.abs(w - c)) < 1e-3 * max(1.0, float(np.max(np.abs(w)))), k
    np.testing.assert_array_equal(
        whole.frames["flow_n_critical_points"], chunked.frames["flow_n_critical_points"]
    )


def test_irregular_layout_skips_the_stage_with_a_note(tmp_path):
    a, _ = simulate("spiral", layout="utah", snr_db=10.0, seed=1, duration_s=1.0)
    p = wavekit.save(a, tmp_path / "u.h5")
    cfg = make_config(band_hz=(7, 14), stages=FLOW, plots=False)
    report = analyze_file(p, tmp_path / "out", config=cfg)
    validate_report(report)
    fs = report["flow_structure"]
    assert "phase_flow" not in fs
    assert any(n.startswith("flow:") and "grid" in n for n in fs["notes"])
    assert "critical_points.csv" not in report["outputs"]
    assert not (tmp_path / "out" / "critical_points.csv").exists()
    assert report["parameters"]["stages"] == list(FLOW)


def test_fields_hold_the_flow_when_the_stage_ran(tmp_path):
    a, _ = simulate("spiral", snr_db=10.0, seed=2, duration_s=2.0)
    p = wavekit.save(a, tmp_path / "s.h5")
    cfg = make_config(band_hz=(7, 14), stages=FLOW, fields=True, chunk_s=0.5, plots=False)
    report = analyze_file(p, tmp_path / "out", config=cfg)
    assert "fields.h5" in report["outputs"]
    ds = read_fields(tmp_path / "out" / "fields.h5")
    for k in ("flow_x", "flow_y"):
        assert ds[k].dims == ("time", "y", "x") and ds[k].shape == a.shape
        assert ds[k].dtype == np.float32 and ds[k].attrs["units"] == "mm/s"
        assert "not a speed" in ds[k].attrs["long_name"]
        assert np.isfinite(ds[k].values).all()
    # streamed chunk by chunk = the flow of the whole recording held in memory
    whole = analyze(a, make_config(band_hz=(7, 14), stages=FLOW, fields=True, chunk_s=100.0))
    assert whole.fields is not None and "flow_x" in whole.fields
    inner = ~whole.frames["edge"].values
    w = whole.fields["flow_x"].values[inner]
    c = ds["flow_x"].values[inner]
    assert np.max(np.abs(w - c)) < 1e-3 * np.max(np.abs(w))
    # the flow circulates anticlockwise around the spiral's core (positive curl)
    from wavekit.analysis.vectorfield import curl

    assert float(curl(ds["flow_x"][inner], ds["flow_y"][inner]).median()) > 0
    # an in-memory result written later keeps the flow; a window reads it too
    from wavekit.pipeline.fields import write_fields

    write_fields(tmp_path / "m.h5", whole.fields)
    back = read_fields(tmp_path / "m.h5", time_s=(0.5, 0.6))
    np.testing.assert_array_equal(
        back["flow_y"].values, whole.fields["flow_y"].sel(time=back["time"]).values
    )
    # without the stage the file is the usual one: no flow
    cfg = make_config(band_hz=(7, 14), stages=("gradients",), fields=True, plots=False)
    analyze_file(p, tmp_path / "plain", config=cfg)
    plain = read_fields(tmp_path / "plain" / "fields.h5")
    assert "flow_x" not in plain and "phase" in plain
    with h5py.File(tmp_path / "plain" / "fields.h5") as f:
        assert "flow_x" not in f


def test_report_validates_and_docs_name_every_flow_key(tmp_path):
    a, _ = simulate("target", mode="sink", speed_mm_per_s=100.0, snr_db=5.0, seed=4)
    p = wavekit.save(a, tmp_path / "t.h5")
    cfg = make_config(band_hz=(7, 14), stages=(*FLOW, "patterns"), plots=False)
    report = analyze_file(p, tmp_path / "out", config=cfg)
    validate_report(report)
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    validate_report(on_disk)
    pf = on_disk["flow_structure"]["phase_flow"]
    assert "not speeds" in pf["caution"]
    assert pf["longest_track"]["kind"] == "sink"
    frames = wavekit.pipeline.write.read_frames(tmp_path / "out" / "frames.h5")[0]
    measures = [k for k in frames.data_vars if k.startswith("flow_")]
    assert sorted(measures) == sorted(
        ["flow_order_parameter", "flow_divergence_per_s", "flow_curl_per_s",
         "flow_n_critical_points"]
    )  # fmt: skip
    docs = (ROOT / "docs" / "report.md").read_text()
    for key in [*pf, *pf["longest_track"], *measures, "critical_points.csv"]:
        assert re.search(rf"`{re.escape(key)}`", docs), key


def test_track_table_drops_short_tracks_and_measures_paths():
    # track A: 10 frames moving 0.1 mm per frame along x; track B: 2 frames (dropped);
    # a point in an edge frame (left out)
    frame = np.r_[np.arange(10), [20, 21], [0]]
    x = np.r_[np.arange(10) * 0.1, [5.0, 5.0], [3.0]]
    y = np.r_[np.zeros(10), [5.0, 5.1], [3.0]]
    kind = np.r_[[0] * 9 + [3], [2, 2], [1]]  # mostly source (one spiral_out_ccw); saddles
    index = np.r_[np.ones(10), [-1, -1], [1]]
    pts = xr.Dataset(
        {
            "frame": ("point", frame.astype(np.int64)),
            "x_mm": ("point", x.astype(np.float32)),
            "y_mm": ("point", y.astype(np.float32)),
            "kind_code": ("point", kind.astype(np.int8)),
            "index": ("point", index.astype(np.int8)),
        }
    )
    time_s = np.arange(30) / 100.0
    edge = np.zeros(30, bool)
    edge[0] = True
    pts = pts.isel(point=np.r_[np.arange(1, 12), 12])  # frame 0 of track A is an edge frame too
    rule = TrackRule(max_distance_mm=0.3, max_gap_frames=1, min_duration_s=0.05)
    tracks, counts = track_table(pts, time_s, edge, 100.0, rule)
    assert counts == {"n_points": 11, "n_tracks_found": 2, "n_short_tracks_dropped": 1}
    assert tracks.sizes["track"] == 1
    row = {k: tracks[k].values[0].item() for k in tracks.data_vars}
    assert row["kind"] == "source" and row["pattern"] == "source"
    assert row["kind_fraction"] == pytest.approx(8 / 9)
    assert row["start_s"] == pytest.approx(0.01) and row["end_s"] == pytest.approx(0.10)
    assert row["n_frames"] == 9 and row["duration_s"] == pytest.approx(0.09)
    assert row["path_length_mm"] == pytest.approx(0.8, abs=1e-6)
    assert row["net_displacement_mm"] == pytest.approx(0.8, abs=1e-6)
    assert row["x_mm"] == pytest.approx(0.5, abs=1e-6) and row["y_mm"] == 0.0
    assert list(tracks.data_vars) == TRACK_COLUMNS[1:]


def test_cli_writes_critical_points_csv_and_figure_and_plot_redraws_it(run_cli, tmp_path):
    out = tmp_path / "res"
    code, _, err = run_cli("analyze", SPIRAL, "--stages", "gradients,flow", "--out", out, "-v")
    assert code == 0, err
    assert "flow:" in err and "critical-point tracks" in err
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    assert {"critical_points.csv", "critical_points.png"} <= set(report["outputs"])
    assert report["timings_s"]["flow"] > 0
    with open(out / "critical_points.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(out / "critical_points.csv", newline="") as fh:
        assert next(csv.reader(fh)) == TRACK_COLUMNS
    pf = report["flow_structure"]["phase_flow"]
    assert len(rows) == pf["n_tracks"] == 1  # sample_data/spiral_grid.h5: one ccw spiral
    assert rows[0]["pattern"] == "spiral_ccw" and float(rows[0]["duration_s"]) > 1.0
    (out / "critical_points.png").unlink()
    code, _, err = run_cli("plot", out)
    assert code == 0, err
    assert (out / "critical_points.png").exists()
    # a rerun without the stage into the same folder leaves no stale table or figure
    code, _, err = run_cli("analyze", SPIRAL, "--stages", "gradients", "--out", out)
    assert code == 0, err
    assert not (out / "critical_points.csv").exists()
    assert not (out / "critical_points.png").exists()


def test_flow_stage_from_the_config_file(tmp_path):
    toml = tmp_path / "a.toml"
    toml.write_text('[stages]\nrun = ["gradients", "flow"]\n[output]\nplots = false\n')
    cfg = make_config(toml)
    assert cfg.stages == FLOW
    report = analyze_file(SPIRAL, None, config=cfg)
    assert report["flow_structure"]["phase_flow"]["n_tracks"] == 1


def test_flow_settings_from_the_config_file_turn_the_stage_on_and_are_recorded(tmp_path):
    from wavekit.errors import UsageError

    toml = tmp_path / "f.toml"
    toml.write_text("[flow]\nalpha = 2.0\n[output]\nplots = false\n")
    cfg = make_config(toml)
    assert "flow" in cfg.stages and cfg.flow_alpha == 2.0 and cfg.flow_beta == 0.01
    both = make_config(toml, polarity="up")
    assert "flow" in both.stages and "activation" in both.stages
    smooth = analyze_file(SPIRAL, None, config=cfg)["flow_structure"]["phase_flow"]
    default = analyze_file(SPIRAL, None, config=make_config(toml, flow_alpha=0.5))
    default = default["flow_structure"]["phase_flow"]
    assert smooth["alpha"] == 2.0 and default["alpha"] == 0.5
    assert smooth["n_tracks"] == default["n_tracks"] == 1  # the same spiral core
    # a larger smoothness weight: a smaller flow, so a smaller curl around the core
    assert abs(smooth["curl_per_s"]["median"]) < abs(default["curl_per_s"]["median"])
    for bad in ("alpha = 0", "beta = -1", 'alpha = "big"'):
        toml.write_text(f"[flow]\n{bad}\n")
        with pytest.raises(UsageError, match="flow"):
            make_config(toml)
