"""The optional outputs of ``wavekit analyze``: fields.h5, the movie, the events figure, and what
it says on standard error (--verbose, progress bars)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import wavekit
from wavekit.pipeline.analyze import analyze, analyze_file
from wavekit.pipeline.config import make_config
from wavekit.pipeline.fields import read_fields
from wavekit.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "plane_grid.h5"
FAST = ("--stages", "gradients,planefit,events", "--surrogates", "5")


def _plane(snr_db=None, duration_s=6.0, layout="grid"):
    a, truth = simulate(
        "plane",
        layout=layout,
        direction_deg=30.0,
        speed_mm_per_s=300.0,
        frequency_hz=10.0,
        duration_s=duration_s,
        snr_db=snr_db,
        seed=1,
    )
    return a, truth


def _wrapped(d):
    return np.angle(np.exp(1j * d))


@pytest.mark.parametrize("layout", ["grid", "random"])
def test_fields_match_ground_truth(tmp_path, layout):
    a, _ = _plane(layout=layout, duration_s=4.0)
    p = wavekit.save(a, tmp_path / "w.h5")
    cfg = make_config(band_hz=(7, 14), stages=("gradients",), fields=True, chunk_s=1.5, plots=False)
    report = analyze_file(p, tmp_path / "out", config=cfg)
    assert "fields.h5" in report["outputs"]
    ds = read_fields(tmp_path / "out" / "fields.h5")
    space = ("y", "x") if layout == "grid" else ("channel",)
    assert ds["phase"].dims == ("time", *space) and ds.sizes["time"] == a.sizes["time"]
    assert all(ds[k].dtype == np.float32 for k in ds.data_vars)
    assert ds["vx_mm_per_s"].attrs["units"] == "mm/s" and ds["phase"].attrs["units"] == "rad"
    assert ds.attrs["wavekit_format"] == "wavekit.fields"
    assert ds.attrs["layout"] == ("grid" if layout == "grid" else "irregular")
    if layout != "grid":  # positions stored with the channels
        np.testing.assert_allclose(ds["x"].values, a["x"].values)
    frames = wavekit.pipeline.write.read_frames(tmp_path / "out" / "frames.h5")[0]
    inner = ~frames["edge"].values
    vx, vy = ds["vx_mm_per_s"].values[inner], ds["vy_mm_per_s"].values[inner]
    kx, ky = ds["kx_rad_per_mm"].values[inner], ds["ky_rad_per_mm"].values[inner]
    direction = np.degrees(np.arctan2(vy, vx))
    assert np.nanmedian(np.abs(direction - 30.0)) < 0.5
    assert np.nanmedian(np.hypot(vx, vy)) == pytest.approx(300.0, rel=0.01)
    k_direction = np.degrees(np.arctan2(np.nanmean(ky), np.nanmean(kx)))  # k along travel (f > 0)
    assert k_direction == pytest.approx(30.0, abs=0.5)
    assert np.nanmedian(np.hypot(kx, ky)) == pytest.approx(2 * np.pi * 10 / 300, rel=0.01)
    assert np.nanmedian(ds["frequency_hz"].values[inner]) == pytest.approx(10.0, rel=0.01)
    # the phase itself: cos(phase) follows the recording where the band holds the signal
    ph = ds["phase"].values[inner]
    assert np.nanmax(np.abs(ph)) <= np.pi + 1e-6
    with h5py.File(tmp_path / "out" / "fields.h5") as f:  # chunked whole frames, compressed
        assert f["phase"].compression == "gzip" and f["phase"].chunks[1:] == f["phase"].shape[1:]
        assert f["phase"].attrs["dims"] == ",".join(ds["phase"].dims)
    window = read_fields(tmp_path / "out" / "fields.h5", time_s=(1.0, 1.5))
    assert window["time"].values[0] >= 1.0 and window["time"].values[-1] <= 1.5
    np.testing.assert_array_equal(window["phase"], ds["phase"].sel(time=window["time"]))


def test_fields_streamed_in_chunks_equal_in_memory(tmp_path):
    a, _ = _plane(snr_db=10.0)
    common = dict(band_hz=(7, 14), stages=("gradients",), fields=True)
    whole = analyze(a, make_config(chunk_s=100.0, **common))  # one chunk, kept in memory
    assert whole.fields is not None and whole.fields_file is None
    chunked = analyze(a, make_config(chunk_s=1.0, **common), fields_file=tmp_path / "f.h5")
    assert chunked.fields is None and chunked.fields_file == tmp_path / "f.h5"
    fc, fw = read_fields(tmp_path / "f.h5"), whole.fields
    assert fc.sizes == fw.sizes
    inner = ~whole.frames["edge"].values
    assert inner.sum() > 2000
    fc, fw = fc.isel(time=inner), fw.isel(time=inner)
    assert np.abs(_wrapped(fc["phase"].values - fw["phase"].values)).max() < 2e-3
    for k in ("kx_rad_per_mm", "ky_rad_per_mm", "frequency_hz"):
        scale = float(np.nanmedian(np.abs(fw[k].values)))
        diff = np.abs(fc[k].values - fw[k].values) / scale
        assert np.nanmax(diff) < 1e-2 and np.nanmedian(diff) < 1e-4, k
    # velocity 2 pi f k / |k|^2 is ill-conditioned where |k| is near 0: compare relative to |v|
    vw = np.hypot(fw["vx_mm_per_s"].values, fw["vy_mm_per_s"].values)
    dv = np.hypot(
        fc["vx_mm_per_s"].values - fw["vx_mm_per_s"].values,
        fc["vy_mm_per_s"].values - fw["vy_mm_per_s"].values,
    )
    assert np.nanpercentile(dv / vw, 99.9) < 1e-2 and np.nanmedian(dv / vw) < 1e-4
    # the per-frame measures are unchanged by --fields (gradients computed once for both)
    plain = analyze(a, make_config(chunk_s=1.0, band_hz=(7, 14), stages=("gradients",)))
    np.testing.assert_array_equal(plain.frames["direction_deg"], chunked.frames["direction_deg"])
    # an in-memory result written later is the same file format
    from wavekit.pipeline.fields import write_fields

    write_fields(tmp_path / "m.h5", whole.fields)
    back = read_fields(tmp_path / "m.h5")
    np.testing.assert_array_equal(back["phase"].values, whole.fields["phase"].values)


def test_no_fields_or_movie_unless_asked(run_cli, tmp_path):
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "r", "--no-plots", *FAST)
    assert code == 0, err
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert "fields.h5" not in names and not any(n.startswith("movie") for n in names)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["parameters"]["fields"] is False and report["parameters"]["movie"] is False
    with h5py.File(tmp_path / "r" / "frames.h5") as f:
        assert "movie" not in f
    # a rerun with --fields into the same folder adds it; one without removes the stale file
    code, _, err = run_cli(
        "analyze", SAMPLE, "--out", tmp_path / "r", "--no-plots", "--fields", *FAST
    )
    assert code == 0 and (tmp_path / "r" / "fields.h5").exists()
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "r", "--no-plots", *FAST)
    assert code == 0 and not (tmp_path / "r" / "fields.h5").exists()


def test_failed_run_leaves_no_fields_file(tmp_path, monkeypatch, run_cli):
    from wavekit.pipeline import fields as fmod

    a, _ = _plane(duration_s=4.0)
    p = wavekit.save(a, tmp_path / "w.h5")
    calls = {"n": 0}
    original = fmod.FieldsSink.add

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the first chunk is already in the file
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fmod.FieldsSink, "add", failing)
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "analyze", p, "--out", out, "--fields", "--band", "7", "14", "--stages", "gradients",
        "--no-plots", "--config", _toml(tmp_path, "[output]\nchunk_s = 1.0\n"),
    )  # fmt: skip
    assert code == 1 and stdout == "" and len(err.strip().splitlines()) == 1, err
    assert calls["n"] == 2
    assert not out.exists()  # the folder it made is gone again: nothing that looks complete
    # into an existing folder: no fields.h5, no temporary, no report
    out.mkdir()
    calls["n"] = 0
    with pytest.raises(RuntimeError):
        analyze_file(
            p,
            out,
            config=make_config(
                band_hz=(7, 14), stages=("gradients",), fields=True, chunk_s=1.0, plots=False
            ),  # fmt: skip
        )
    assert list(out.iterdir()) == []
    # a temporary left by a killed run is removed by the next complete run
    (out / ".fields.h5.abc123.tmp").write_bytes(b"partial")
    monkeypatch.setattr(fmod.FieldsSink, "add", original)
    analyze_file(
        p,
        out,
        config=make_config(
            band_hz=(7, 14), stages=("gradients",), fields=True, chunk_s=1.0, plots=False
        ),  # fmt: skip
    )
    names = sorted(q.name for q in out.iterdir())
    assert names == ["events.csv", "fields.h5", "frames.h5", "report.json"]


def _toml(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_movie_gif_frames_atomic_and_redrawn(run_cli, tmp_path, monkeypatch):
    from PIL import Image

    out = tmp_path / "r"
    code, _, err = run_cli("analyze", SAMPLE, "--out", out, "--no-plots", "--movie", *FAST)
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    assert "movie.gif" in report["outputs"]
    clip = wavekit.pipeline.write.read_movie_clip(out / "frames.h5")
    n = clip.sizes["time"]
    assert 50 <= n <= 200
    with Image.open(out / "movie.gif") as im:
        assert im.n_frames == n and im.format == "GIF"
    # at least 8 frames per period of the band's centre frequency, at most 10 s of recording
    dt = float(np.median(np.diff(clip["time"].values)))
    band = report["parameters"]["band_hz_used"]
    assert dt <= 1 / (8 * np.sqrt(band[0] * band[1])) + 1e-9
    assert clip["time"].values[-1] - clip["time"].values[0] <= 10.0
    # the clip is around the strongest event, or at the start of the wave frames
    ev = report["events"]
    if ev:
        strongest = max(ev, key=lambda e: e["mass"])
        mid = 0.5 * (strongest["start_s"] + strongest["end_s"])
        assert clip["time"].values[0] <= mid <= clip["time"].values[-1]
    # wavekit plot redraws it from frames.h5
    (out / "movie.gif").unlink()
    code, stdout, err = run_cli("plot", out)
    assert code == 0, err
    assert "movie.gif" in {Path(s).name for s in stdout.split()}
    with Image.open(out / "movie.gif") as im:
        assert im.n_frames == n
    # a movie that fails half-way leaves neither movie.gif nor a temporary
    from wavekit.pipeline import movie as mmod

    def broken(fig, updates, moving):
        for i, _ in enumerate(updates):
            if i == 3:
                raise RuntimeError("no space left")
            fig.canvas.draw()
            yield Image.new("P", (10, 10))

    monkeypatch.setattr(mmod, "_gif_frames", broken)
    (out / "movie.gif").unlink()
    with pytest.raises(RuntimeError):
        mmod.save_movie(clip, out / "movie.gif")
    assert not (out / "movie.gif").exists() and not list(out.glob(".*.tmp"))


def test_movie_irregular_layout(tmp_path):
    from PIL import Image

    from wavekit.pipeline.fields import movie_clip
    from wavekit.pipeline.movie import save_movie

    a, _ = _plane(layout="random", duration_s=2.0)
    cfg = make_config(band_hz=(7, 14), stages=("gradients",), movie=True)
    res = analyze(a, cfg)
    assert res.movie is not None and res.movie["phase"].dims == ("time", "channel")
    clip = movie_clip(a, res.frames, None, cfg, (7, 14))
    assert clip.attrs["window"].startswith("start of the recording")
    p = save_movie(clip, tmp_path / "m.gif")
    with Image.open(p) as im:
        assert im.n_frames == clip.sizes["time"]


def test_mp4_without_ffmpeg_is_a_usage_error(run_cli, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    code, out, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "r", "--movie-format", "mp4")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "ffmpeg" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "r", "--movie-format", "avi")
    assert code == 2 and "movie_format" in err
    code, _, err = run_cli("analyze", SAMPLE, "--json", "--fields")
    assert code == 2 and "--out" in err


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="ffmpeg not on PATH")
def test_movie_mp4_with_ffmpeg(tmp_path):
    from wavekit.pipeline.fields import movie_clip
    from wavekit.pipeline.movie import save_movie

    a, _ = _plane(duration_s=2.0)
    cfg = make_config(band_hz=(7, 14), stages=("gradients",))
    res = analyze(a, cfg)
    p = save_movie(movie_clip(a, res.frames, None, cfg, (7, 14)), tmp_path / "m.mp4", "mp4")
    assert p.stat().st_size > 1000 and b"ftyp" in p.read_bytes()[:64]


def test_movie_and_fields_options_from_config_file(tmp_path):
    cfg = make_config(_toml(tmp_path, '[output]\nfields = true\nmovie_format = "gif"\n'))
    assert cfg.fields is True and cfg.movie is True and cfg.movie_format == "gif"
    cfg = make_config(_toml(tmp_path, '[output]\nmovie = false\nmovie_format = "gif"\n'))
    assert cfg.movie is False
    assert make_config().fields is False and make_config().movie is False
    with pytest.raises(wavekit.UsageError, match="movie_format"):
        make_config(movie_format="webm")


def test_events_figure_zero_few_and_many(tmp_path):
    from wavekit.pipeline.figures import events_raster, save

    fig = events_raster([], (0.0, 10.0), alpha=0.05, threshold_note="threshold 0.4 of pgd")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("No wave events detected" in t for t in texts)
    assert save(fig, tmp_path / "none.png").stat().st_size > 3000
    rng = np.random.default_rng(0)
    pats = ["plane", "source", "spiral_cw", None]

    def events(n):
        t = np.cumsum(rng.exponential(2.0, n))
        return [
            {"id": i, "start_s": float(t[i]), "end_s": float(t[i] + 0.3), "pattern": pats[i % 4],
             "direction_deg": float(rng.uniform(-180, 180)), "speed_mm_per_s": 200.0,
             "speed_ci_low_mm_per_s": 150.0, "speed_ci_high_mm_per_s": None,
             "p_value": float(rng.uniform(0, 0.1))}
            for i in range(n)
        ]  # fmt: skip

    few = events_raster(events(5), (0.0, 20.0), alpha=0.05)
    assert len(few.axes) == 3 and "n = 5" in few.axes[0].get_title()
    assert any("deg" in t.get_text() for t in few.axes[0].texts)  # labelled bars
    many = events_raster(events(400), (0.0, 900.0), alpha=0.05)
    labels = [t.get_text() for t in many.axes[0].get_yticklabels()]
    assert "plane" in labels and len(labels) == 4  # one row per pattern
    assert save(many, tmp_path / "many.png").stat().st_size > 5000


def _snap(kind, noise=0.0, seed=0):
    from wavekit.simulate.waves import plane_wave, spiral_wave, target_wave

    x = np.arange(16) * 0.4
    y = np.arange(14) * 0.4
    yy, xx = np.meshgrid(y, x, indexing="ij")
    t = np.zeros((1, 1, 1))
    common = dict(frequency_hz=5.0, speed_mm_per_s=10.0)
    centre = dict(centre_x_mm=3.1, centre_y_mm=2.5)
    if kind == "spiral":
        ph, _ = spiral_wave(t, xx, yy, **common, **centre, chirality="ccw")
    elif kind == "source":
        ph, _ = target_wave(t, xx, yy, **common, **centre)
    else:
        ph, _ = plane_wave(t, xx, yy, **common, direction_deg=30.0)
    ph = ph[0] + np.random.default_rng(seed).normal(0.0, noise, ph[0].shape)
    return {"phase": np.angle(np.exp(1j * ph)), "x": x, "y": y, "layout": "grid", "time_s": 0.5}


def test_phase_snapshot_marks_critical_points_and_singularities(tmp_path):
    from wavekit.pipeline.figures import MAX_POINTS, phase_snapshot, save, snapshot_points

    points, charges = snapshot_points(_snap("spiral"))
    assert [k for _, _, k in points] == ["spiral_out_ccw"] and len(charges) == 1
    assert np.hypot(points[0][0] - 3.1, points[0][1] - 2.5) < 0.4  # within one cell
    assert np.hypot(charges[0][0] - 3.1, charges[0][1] - 2.5) < 0.4
    points, charges = snapshot_points(_snap("source"))
    assert [k for _, _, k in points] == ["source"] and charges == []
    assert snapshot_points(_snap("plane")) == ([], [])
    noisy = snapshot_points(_snap("spiral", noise=0.5))  # the 3 x 3 mean keeps the centre
    assert "spiral_out_ccw" in [k for _, _, k in noisy[0]] and len(noisy[0]) <= MAX_POINTS
    pure = _snap("plane")
    pure["phase"] = np.random.default_rng(1).uniform(-np.pi, np.pi, pure["phase"].shape)
    assert all(len(v) <= MAX_POINTS for v in snapshot_points(pure))  # noise: capped, not drawn
    fig = phase_snapshot(_snap("spiral"), 10.0)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "spiral out" in labels and any("phase singularity" in s for s in labels)
    assert save(fig, tmp_path / "snap.png").stat().st_size > 5000


def test_a_rerun_leaves_no_figure_of_the_earlier_run(run_cli, tmp_path):
    """Figures of an earlier run that this one does not draw would contradict its report."""
    out = tmp_path / "r"
    code, _, err = run_cli("analyze", SAMPLE, "--out", out, *FAST)
    assert code == 0, err
    assert (out / "events.png").exists() and (out / "timeline.png").exists()
    code, _, err = run_cli("analyze", SAMPLE, "--out", out, "--stages", "gradients", "--no-plots")
    assert code == 0, err
    assert not list(out.glob("*.png"))
    report = json.loads((out / "report.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(report["outputs"] + ["report.json"])


def test_events_figure_written_and_redrawn(run_cli, tmp_path):
    out = tmp_path / "r"
    code, _, err = run_cli("analyze", SAMPLE, "--out", out, *FAST)
    assert code == 0, err
    assert (out / "events.png").stat().st_size > 5000
    report = json.loads((out / "report.json").read_text())
    assert "events.png" in report["outputs"]
    code, _, err = run_cli("analyze", SAMPLE, "--out", tmp_path / "s", "--stages", "gradients")
    assert code == 0 and not (tmp_path / "s" / "events.png").exists()  # events did not run


def test_verbose_goes_to_stderr_and_json_stays_valid(run_cli):
    code, out, err = run_cli("analyze", SAMPLE, "--json", "--no-plots", "--verbose", *FAST)
    assert code == 0, err
    report = json.loads(out)  # standard output: only the report
    assert report["flow_structure"]["dominant_direction_deg"] == pytest.approx(30.0, abs=0.5)
    lines = err.strip().splitlines()
    assert all(line.startswith("wavekit [") for line in lines), err
    for what in ("read ", "band ", "bad channels", "chunk(s)", "surrogates", "events: "):
        assert any(what in line for line in lines), (what, err)
    code, out, err = run_cli("analyze", SAMPLE, "--json", "--quiet", "--verbose")
    assert code == 2 and out == "" and "--quiet" in err


def test_progress_only_on_a_terminal(run_cli, tmp_path, monkeypatch):
    args = ("analyze", SAMPLE, "--json", "--no-plots", *FAST)
    code, out, err = run_cli(*args)  # standard error is not a terminal here
    assert code == 0 and err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run_cli(*args)
    assert code == 0 and json.loads(out)
    assert "chunks [" in err and "1/1" in err
    assert "surrogates [" in err and "5/5" in err
    assert err.endswith("\n")
    code, out, err = run_cli(*args, "--quiet")
    assert code == 0 and err == ""


def test_progress_bar_text():
    from wavekit.pipeline.progress import Progress, counted, show_progress

    bar = Progress("inputs", 4, enabled=False)
    bar.update(3)
    assert bar.line().startswith("inputs [" + "#" * 18) and "3/4" in bar.line()
    with show_progress(False):
        f = counted(lambda v: v * 2, "x", 2)
        assert f(2) == 4 and f(3) == 6


def test_help_lists_the_new_options(run_cli):
    code, out, _ = run_cli("analyze", "--help")
    for opt in ("--fields", "--movie", "--movie-format", "--verbose", "--quiet"):
        assert opt in out, opt
    code, out, _ = run_cli("batch", "--help")
    for opt in ("--fields", "--movie", "--movie-format", "--quiet"):
        assert opt in out, opt
    code, out, _ = run_cli("plot", "--help")
    assert "--movie-format" in out


def test_outputs_get_the_usual_permissions(tmp_path):
    """Atomic writes go through mkstemp (0600); the finished file follows the umask instead."""
    import os
    import stat

    from wavekit.pipeline.outputs import _umask, write_text

    old = os.umask(0o027)
    _umask.cache_clear()  # read once per process: read again under this test's umask
    try:
        path = write_text(tmp_path / "report.json", "{}")
    finally:
        os.umask(old)
        _umask.cache_clear()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
