"""wavekit against Cobrawap on the same synthetic slow-wave recording: wall time and accuracy.

Issue 7 target: wavekit at least 50x faster end to end than the Cobrawap pipeline (PyPI
``cobrawap``) on its own kind of input (pulse-like waves with triggers), with smaller direction
and speed errors.

Both tools get the same recording, written by the peer harness's generator
(``make_synthetic.py``: a train of Gaussian plane-wave pulses, each with its own direction and
speed, with white noise): a NIX file for Cobrawap and the same (T, ny, nx) array as ``.npy`` for
wavekit. Cobrawap runs through the harness (``run_cobrawap.sh``: its stages block by block, each
block timed, ``timings.tsv``); wavekit runs ``wavekit analyze`` in fresh processes, timed as whole
commands. Cobrawap is GPL-3 and is only ever run as an external program here.

Every detected wave of either tool is scored with the same rules (this file, ``match_waves``):

* a detected wave's time is its central activation time: for Cobrawap the median time of the
  wave's triggers (from its ``waves.nix``), for a wavekit front its fitted plane of activation
  times at the array centre, for a wavekit phase-based event the middle of the event; the true
  wave's time is the moment it crosses the array centre (``t_center``). (Both tools mark the
  upstroke, about one pulse width, 0.1 s, before the peak that defines the true times.)
* detected and true waves are paired one to one, closest in time first, if less than ``--tol``
  seconds apart (0.6 s, as the harness's ``evaluate.py``; true waves are at least 2 s apart);
  a detected wave left over is *false* (``split`` if a true wave was within ``--tol`` but already
  taken), a true wave left over is *missed*;
* direction error: circular ``|estimate - truth|`` in degrees; speed error: ``|estimate - truth| /
  truth`` in %; the bias is the signed mean. Median and 90th percentile over matched waves.

The same rows are also scored with each wave's time taken as the midpoint of its first and last
activation (Cobrawap: ``time_stamp + duration / 2``; wavekit: ``(start_s + end_s) / 2``), which
is sensitive to a single stray trigger. The per-channel trigger times of both tools are compared
with the true arrival times too (robust SD of the timing error, each wave's offset removed): the
timing jitter that the plane fits turn into direction and speed errors.

Cobrawap's rows: its trigger-interpolation wave direction after undoing its wave-id mix-up (rows
written in string order of the ids once there are more than 10 waves; ``as written`` is what a
user reads), its optical-flow direction, and ``velocity_planar`` as speed. Its time is the sum of
the block wall times in ``timings.tsv`` (the whole harness: optical flow, figures and
channel-wise measures included) and, on a second line, of the blocks that the trigger route needs
(no optical flow, no channel-wise stage); CPU time (user + system) from each block's
``/usr/bin/time -v`` record. wavekit's rows: the activation route (``--stages activation``:
per-wave front fits) and the default analysis plus fronts (``--polarity up``, with figures),
whose phase-based events are scored too. wavekit's wall and CPU times are medians of ``--repeat``
runs after one warm-up run (numba cache warm); one run with an empty numba cache
(``NUMBA_CACHE_DIR`` pointed at a fresh folder, the shared cache untouched) is reported
separately. On a shared machine wall times grow with the load (the load average before each
wavekit command is recorded); CPU times much less.

    python benchmarks/bench_cobrawap.py                      # README configuration, ~7 min
    python benchmarks/bench_cobrawap.py --cobrawap-run /work/peer-runs/runs/NAME   # reuse a run
    python benchmarks/bench_cobrawap.py --nx 64 --ny 64 --noise 0.3

Outputs under ``--work``: ``data/NAME.nix`` (+ ``.npy``, ``.truth.json``, ``.truth.npz``),
``runs/NAME/`` (Cobrawap), ``wavekit/NAME/`` (wavekit's results folders) and
``results/NAME/``: ``bench.json`` (every figure), ``per_wave.csv`` (each true wave with every
method's estimate) and ``table.md`` (the printed table).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

# the blocks of the harness that Cobrawap's trigger route (threshold triggers, DBSCAN wave
# clustering, trigger-interpolation direction, planar velocity) cannot do without
COBRAWAP_TRIGGER_ROUTE = {
    "enter_data",
    "check_input01",
    "frequency_filter",
    "zscore",
    "check_input02",
    "check_input03",
    "calc_threshold_fixed",
    "threshold",
    "remove_short_states",
    "check_input04",
    "trigger_clustering",
    "merge_wave_definitions",
    "check_input05",
    "velocity_planar",
    "direction_planar",
    "time_stamp",
    "duration",
    "merge_dataframes",
}


# ----------------------------------------------------------------------------- set-up


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python3"


def check_venv(venv: Path, peer: Path) -> None:
    """Exit 2 with the recipe when the Cobrawap virtualenv is missing or incomplete."""
    py = venv_python(venv)
    ok = py.exists()
    if ok:
        r = subprocess.run(
            [str(py), "-c", "import cobrawap, neo, nixio, pandas"], capture_output=True
        )
        ok = r.returncode == 0
    if not ok:
        print(
            f"Cobrawap virtualenv not found or incomplete at {venv}. Create it (about 70 s, "
            "660 MB) outside the repository:\n"
            f"    python3 -m venv {venv}\n"
            f'    {venv}/bin/pip install cobrawap==0.2.3 "matplotlib==3.9.4" "pandas==2.3.3" '
            '"shapely==1.8.5.post1"\n'
            f"({peer}/requirements-lock.txt is an environment that worked.) Then rerun, or "
            "pass --venv DIR.",
            file=sys.stderr,
        )
        sys.exit(2)


def run_name(a: argparse.Namespace) -> str:
    def num(v: float) -> str:
        return f"{v:g}".replace(".", "p").replace("-", "m")

    name = f"plane_{a.ny}x{a.nx}_fs{num(a.fs)}_{num(a.duration)}s_noise{num(a.noise)}"
    if a.vmin != 5.0 or a.vmax != 20.0:
        name += f"_v{num(a.vmin)}-{num(a.vmax)}"
    if a.smooth_noise:
        name += f"_smooth{num(a.smooth_noise)}"
    return name + f"_seed{a.seed}"


def synth_args(a: argparse.Namespace) -> dict[str, object]:
    return {
        "kind": "plane",
        "nx": a.nx,
        "ny": a.ny,
        "fs": a.fs,
        "duration": a.duration,
        "noise": a.noise,
        "smooth_noise": a.smooth_noise,
        "spacing": a.spacing,
        "vmin": a.vmin,
        "vmax": a.vmax,
        "seed": a.seed,
    }


def make_input(a: argparse.Namespace, name: str) -> Path:
    """The synthetic recording (NIX for Cobrawap, .npy for wavekit); reused when the same
    generator arguments wrote it before."""
    nix = a.work / "data" / f"{name}.nix"
    truth = Path(f"{nix}.truth.json")
    want = synth_args(a)
    if truth.exists() and Path(f"{nix}.npy").exists() and nix.exists():
        have = json.loads(truth.read_text()).get("args", {})
        if all(have.get(k) == v for k, v in want.items()):
            print(f"input: {nix} (exists, same generator arguments)")
            return nix
    nix.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(venv_python(a.venv)), str(a.peer / "make_synthetic.py")]
    for k, v in want.items():
        cmd += [f"--{k}", str(v)]
    cmd += ["--npy", "--out", str(nix)]
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return nix


def run_cobrawap(a: argparse.Namespace, nix: Path, name: str) -> Path:
    out = a.work / "runs" / name
    cmd = ["bash", str(a.peer / "run_cobrawap.sh"), str(nix), str(out)]
    env = dict(os.environ, VENV=str(a.venv))
    print(f"$ VENV={a.venv} " + " ".join(cmd) + "   # minutes", flush=True)
    subprocess.run(cmd, env=env)  # exit 1 when an optional block failed: judged below
    return out


def read_timings(run: Path) -> list[dict[str, object]]:
    """The harness's per-block wall time and peak RSS (``timings.tsv``), with each block's CPU
    time (user + system) from its ``/usr/bin/time -v`` record."""
    with open(run / "timings.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        cpu = math.nan
        rec = run / "timing" / f"{r['step']}.txt"
        if rec.exists():
            vals = {}
            for line in rec.read_text().splitlines():
                key, _, val = line.strip().partition(": ")
                vals[key] = val
            cpu = _f(vals.get("User time (seconds)")) + _f(vals.get("System time (seconds)"))
        out.append(
            {
                "stage": r["stage"],
                "step": r["step"],
                "wall_s": float(r["wall_s"]),
                "cpu_s": cpu,
                "max_rss_mb": float(r["max_rss_mb"] or 0),
                "exit": int(r["exit"]),
            }
        )
    return out


def check_run(run: Path) -> None:
    ww = run / "stage05_wave_characterization" / "wave-wise_measures.csv"
    if not (run / "timings.tsv").exists() or not ww.exists():
        sys.exit(f"{run}: not a finished Cobrawap run (no timings.tsv or wave-wise_measures.csv)")


def run_input(run: Path) -> Path:
    """The recording a finished harness run read (``--data`` of its data-entry block)."""
    cmds = run / "commands.sh"
    words = cmds.read_text().split() if cmds.exists() else []
    for k, w in enumerate(words[:-1]):
        if w.endswith("enter_data_template.py") and "--data" in words[k:]:
            return Path(words[words.index("--data", k) + 1])
    sys.exit(f"{run}: no commands.sh naming its input; is it a run of run_cobrawap.sh?")


def reuse_input(a: argparse.Namespace, ap: argparse.ArgumentParser, run: Path) -> tuple:
    """Input and name of a finished run; generator options given on the command line must agree
    with the ones that wrote that input."""
    nix = run_input(run).resolve()
    truth = Path(f"{nix}.truth.json")
    if not truth.exists() or not Path(f"{nix}.npy").exists():
        sys.exit(
            f"{run} read {nix}, which has no .truth.json or .npy beside it: make_synthetic.py "
            "--npy writes both"
        )
    have = json.loads(truth.read_text()).get("args", {})
    for k, v in synth_args(a).items():
        if v != ap.get_default(k) and have.get(k) != v:
            sys.exit(f"{run} is a run on {nix.name} ({k}={have.get(k)}), not {k}={v}")
    for k in synth_args(a):
        if k in have and k != "kind":
            setattr(a, k, have[k])
    return nix, nix.stem


# ----------------------------------------------------------------------------- reading results


def _f(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


# run with the Cobrawap virtualenv's Python (neo): every trigger of Cobrawap's waves
_COBRAWAP_TRIGGERS = """
import json, sys
import numpy as np
import neo
io = neo.io.NixIO(sys.argv[1], mode="ro")
blk = io.read_block()
io.close()
ev = [e for e in blk.segments[0].events if e.name == "wavefronts"][0]
print(json.dumps({"wave": np.asarray(ev.labels).astype(float).astype(int).tolist(),
                  "time_s": ev.times.rescale("s").magnitude.tolist(),
                  "channel": ev.array_annotations["channels"].astype(int).tolist()}))
"""


def cobrawap_triggers(run: Path, venv: Path) -> dict[str, np.ndarray] | None:
    """Cobrawap's wave triggers (``wave``, ``time_s``, ``channel``) from its ``waves.nix``."""
    waves_nix = run / "stage04_wave_detection" / "waves.nix"
    r = subprocess.run(
        [str(venv_python(venv)), "-c", _COBRAWAP_TRIGGERS, str(waves_nix)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        print(f"warning: could not read {waves_nix}: {r.stderr[-500:]}")
        return None
    return {k: np.asarray(v) for k, v in json.loads(r.stdout).items()}


def wavekit_triggers(folder: Path) -> dict[str, np.ndarray] | None:
    """wavekit's transitions with their wave (``triggers.csv``), if the version writes it."""
    f = folder / "triggers.csv"
    if not f.exists():
        return None
    with open(f) as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"time_s", "channel", "wave"} <= set(rows[0]):
        return None
    return {
        "wave": np.array([int(float(r["wave"])) if r["wave"] != "" else -1 for r in rows]),
        "time_s": np.array([float(r["time_s"]) for r in rows]),
        "channel": np.array([int(float(r["channel"])) for r in rows]),
    }


def trigger_jitter(trig: dict[str, np.ndarray] | None, arrival: np.ndarray, tol: float) -> dict:
    """Per-channel timing error of a tool's wave triggers against the true arrival times
    (``arrival``: true wave x channel, row-major channels as both tools number them): each
    trigger of a detected wave is compared with the true wave nearest in time at its channel
    (within ``tol``), each wave's median offset removed (a trigger marks the upstroke, not the
    peak). Robust SD (1.4826 MAD) and SD in ms, pooled over waves, and the median offset."""
    if trig is None:
        return {}
    keep = trig["wave"] >= 0
    t, ch, lab = trig["time_s"][keep], trig["channel"][keep], trig["wave"][keep]
    d = np.abs(arrival[:, ch] - t[None, :])
    j = np.argmin(d, axis=0)
    ok = d[j, np.arange(t.size)] < tol
    res, offs = [], []
    for w in np.unique(lab):
        m = ok & (lab == w)
        if m.sum() < 3:
            continue
        e = t[m] - arrival[j[m], ch[m]]
        offs.append(np.median(e))
        res.append(e - np.median(e))
    if not res:
        return {}
    r = np.concatenate(res)
    return {
        "n_triggers": int(r.size),
        "robust_sd_ms": float(1000 * 1.4826 * np.median(np.abs(r))),
        "sd_ms": float(1000 * r.std()),
        "median_offset_ms": float(1000 * np.median(offs)),
    }


def cobrawap_waves(run: Path, trig: dict | None) -> dict[str, list[dict[str, float]]]:
    """Cobrawap's waves from its wave-wise table, one list per direction estimate. Times:
    ``t_span``, the midpoint of the wave's first and last trigger (``time_stamp + duration/2``),
    and ``t_centre``, the median of its trigger times (read from its ``waves.nix``)."""
    s5 = run / "stage05_wave_characterization"
    with open(s5 / "wave-wise_measures.csv") as f:
        rows = [r for r in csv.DictReader(f) if int(float(r["wavefronts_id"])) != -1]
    of = {}
    of_csv = s5 / "direction_planar_of" / "wavefronts_direction_planar_of.csv"
    if of_csv.exists():
        with open(of_csv) as f:
            for r in csv.DictReader(f):
                of[int(float(r["wavefronts_id"]))] = (_f(r["direction_x"]), _f(r["direction_y"]))
    med: dict[int, float] = {}
    if trig is not None:
        for w in np.unique(trig["wave"]):
            med[int(w)] = float(np.median(trig["time_s"][trig["wave"] == w]))
    ids = [int(float(r["wavefronts_id"])) for r in rows]
    written = {
        i: math.degrees(math.atan2(_f(r["direction_y"]), _f(r["direction_x"])))
        for i, r in zip(ids, rows, strict=True)
    }
    # Cobrawap 0.2.3's direction_planar computes the waves in the order of their ids sorted as
    # strings ('0', '1', '10', ..., '2') and writes the results next to the ids sorted as
    # integers: the value in the row of the k-th integer id belongs to the k-th string id.
    by_int = sorted(ids)
    by_str = sorted(ids, key=str)
    fixed = {s: written[i] for s, i in zip(by_str, by_int, strict=True)}
    out: dict[str, list[dict[str, float]]] = {"TI": [], "TI_as_written": [], "OF": []}
    for i, r in zip(ids, rows, strict=True):
        span = _f(r["time_stamp"]) + _f(r["duration"]) / 2
        base = {
            "id": i,
            "t_span": span,
            "t_centre": med.get(i, span),
            "speed": _f(r["velocity_planar"]),
        }
        out["TI"].append(base | {"direction": fixed[i]})
        out["TI_as_written"].append(base | {"direction": written[i]})
        if i in of:
            d = math.degrees(math.atan2(of[i][1], of[i][0]))
            out["OF"].append(base | {"direction": d})
    if not out["OF"]:
        del out["OF"]
    return out


def array_centre(report: dict) -> tuple[float, float]:
    """(x, y) in mm of the middle of the analysed grid (a .npy grid starts at x = y = 0)."""
    inp = report.get("input", {})
    ny, nx = inp["shape"][-2:]
    dy, dx = inp["spacing_mm"]
    return (nx - 1) * dx / 2, (ny - 1) * dy / 2


def wavekit_fronts(report: dict, significant_only: bool) -> list[dict[str, float]]:
    """Activation fronts of a wavekit report (the report is the interface: tolerant of keys).
    Times: ``t_span``, the midpoint of the front's first and last activation
    (``start_s``, ``end_s``), and ``t_centre``, its fitted plane of activation times at the
    array centre (``t0_s + s . centre``)."""
    alpha = _f(report.get("parameters", {}).get("alpha", 0.05))
    cx, cy = array_centre(report)
    out = []
    for i, w in enumerate(report.get("activation_waves") or []):
        # "significant" (size and front tests) when the report has it, else p_value <= alpha
        sig = w["significant"] if "significant" in w else _f(w.get("p_value")) <= alpha
        if significant_only and not sig:
            continue
        span = (_f(w.get("start_s")) + _f(w.get("end_s"))) / 2
        centre = (
            _f(w.get("t0_s"))
            + _f(w.get("slowness_x_s_per_mm")) * cx
            + _f(w.get("slowness_y_s_per_mm")) * cy
        )
        fallback = _f(w.get("event_s"))
        speed = w.get("front_speed_mm_per_s", w.get("speed_mm_per_s"))
        out.append(
            {
                "id": w.get("id", i),
                "t_span": span if np.isfinite(span) else fallback,
                "t_centre": centre if np.isfinite(centre) else fallback,
                "direction": _f(w.get("direction_deg")),
                "speed": _f(speed),
            }
        )
    return out


def wavekit_events(report: dict) -> list[dict[str, float]]:
    return [
        {
            "id": e.get("id", i),
            "t_span": (_f(e["start_s"]) + _f(e["end_s"])) / 2,
            "t_centre": (_f(e["start_s"]) + _f(e["end_s"])) / 2,
            "direction": _f(e.get("direction_deg")),
            "speed": _f(e.get("speed_mm_per_s")),
        }
        for i, e in enumerate(report.get("events") or [])
    ]


def phase_frames_at_truth(folder: Path, true_waves: list[dict]) -> list[dict[str, float]]:
    """The default analysis's per-frame plane-wave fit (phase-based) at the frame nearest each
    true wave's centre crossing: phase-based direction and speed when the wave times are given
    (an oracle for detection, so only its errors mean something)."""
    try:
        import h5py

        with h5py.File(folder / "frames.h5", "r") as f:
            g = f["frames"]
            t = g["coords"]["time"][()] if "coords" in g else g["time"][()]
            d, v = g["plane_direction_deg"][()], g["plane_speed_mm_per_s"][()]
    except (OSError, KeyError) as exc:
        print(f"note: no per-frame plane fits in {folder}/frames.h5 ({exc})")
        return []
    out = []
    for w in true_waves:
        i = int(np.argmin(np.abs(t - w["t_center"])))
        c = float(w["t_center"])
        out.append(
            {
                "id": w["id"],
                "t_span": c,
                "t_centre": c,
                "direction": float(d[i]),
                "speed": float(v[i]),
            }
        )
    return out


# ----------------------------------------------------------------------------- scoring


def circ_err(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def match_waves(det: list[dict], truth: list[dict], tol: float, key: str = "t_centre") -> dict:
    """Pair detected and true waves one to one by time (closest first, within ``tol`` s) and
    score direction and speed of the pairs. The same rules for every method; ``key`` is the
    detected wave's time (``t_centre`` or ``t_span``) compared with the true ``t_center``."""
    pairs = sorted(
        (abs(d[key] - w["t_center"]), i, j)
        for i, d in enumerate(det)
        for j, w in enumerate(truth)
        if abs(d[key] - w["t_center"]) < tol
    )
    d_of, t_of = {}, {}
    for _, i, j in pairs:
        if i not in d_of and j not in t_of:
            d_of[i], t_of[j] = j, i
    near = {i for _, i, _ in pairs}
    n_split = sum(1 for i in range(len(det)) if i not in d_of and i in near)
    dir_err, sp_err, sp_bias, per_true = [], [], [], {}
    for i, j in d_of.items():
        d, w = det[i], truth[j]
        de = circ_err(d["direction"], w["direction_deg"]) if np.isfinite(d["direction"]) else np.nan
        rel = 100.0 * (d["speed"] - w["speed_mm_s"]) / w["speed_mm_s"]
        dir_err.append(de)
        sp_err.append(abs(rel))
        sp_bias.append(rel)
        per_true[j] = {"t": d[key], "direction": d["direction"], "speed": d["speed"]}

    def stats(x: list[float]) -> dict:
        v = np.asarray(x, float)
        n_nan = int((~np.isfinite(v)).sum())
        v = v[np.isfinite(v)]
        if not v.size:
            return {"n": 0, "n_nan": n_nan}
        return {
            "n": int(v.size),
            "n_nan": n_nan,
            "median": float(np.median(v)),
            "p90": float(np.percentile(v, 90)),
            "max": float(v.max()),
            "mean": float(v.mean()),
        }

    return {
        "n_true": len(truth),
        "n_detected": len(det),
        "n_matched": len(d_of),
        "n_missed": len(truth) - len(t_of),
        "n_false": len(det) - len(d_of) - n_split,
        "n_split": n_split,
        "direction_err_deg": stats(dir_err),
        "speed_err_pct": stats(sp_err),
        "speed_bias_pct": float(np.nanmean(sp_bias)) if sp_bias else None,
        "per_true": per_true,
    }


# ----------------------------------------------------------------------------- wavekit


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float | None]:
    """Wall time (s) of one fresh process, with its CPU time (user + system, s) and peak RSS
    (MiB) from /usr/bin/time when present."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [gnu_time, "-f", "%M %U %S", "-o", tf.name, *cmd] if gnu_time else cmd
        t = time.perf_counter()
        r = subprocess.run(full, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        if r.returncode != 0:
            sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
        out: dict[str, float | None] = {"wall_s": wall, "cpu_s": None, "max_rss_mb": None}
        if gnu_time:
            last = Path(tf.name).read_text().strip().splitlines()[-1].split()
            out["max_rss_mb"] = float(last[0]) / 1024
            out["cpu_s"] = float(last[1]) + float(last[2])
    return out


def run_wavekit(a, npy: Path, truth: dict, out: Path, extra: list[str], label: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "wavekit",
        "analyze",
        str(npy),
        "--fs",
        f"{truth['fs_hz']:g}",
        "--spacing-mm",
        f"{truth['spacing_mm']:g}",
        "--dims",
        "time,y,x",
        *extra,
        "--out",
        str(out),
    ]
    shown = "wavekit " + " ".join(cmd[3:])
    print(f"$ {shown}", flush=True)
    res: dict[str, object] = {"label": label, "command": shown, "loadavg_before": os.getloadavg()}
    if a.cold:
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            res["cold_wall_s"] = timed(cmd, env)["wall_s"]
        print(f"  empty numba cache: {res['cold_wall_s']:.2f} s", flush=True)
    timed(cmd)  # warm-up: fills the numba cache if the sources changed
    runs = [timed(cmd) for _ in range(a.repeat)]
    res["wall_s_runs"] = [r["wall_s"] for r in runs]
    res["wall_s"] = statistics.median(res["wall_s_runs"])
    cpu = [r["cpu_s"] for r in runs if r["cpu_s"] is not None]
    res["cpu_s"] = statistics.median(cpu) if cpu else None
    res["max_rss_mb"] = max((r["max_rss_mb"] for r in runs if r["max_rss_mb"]), default=None)
    report = json.loads((out / "report.json").read_text())
    res["stage_timings_s"] = report.get("timings_s")
    res["report"] = report
    print(
        f"  warm: median {res['wall_s']:.2f} s of {[round(w, 2) for w in res['wall_s_runs']]}",
        flush=True,
    )
    return res


# ----------------------------------------------------------------------------- table


def fmt_stats(s: dict, f: str = "{:.2f}") -> str:
    if not s.get("n"):
        return "-"
    txt = (f + " / " + f).format(s["median"], s["p90"])
    return txt + (f" ({s['n_nan']} NaN)" if s.get("n_nan") else "")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--peer", type=Path, default=Path("/work/shared/peer"))
    ap.add_argument("--venv", type=Path, default=Path("/work/peer-venv"))
    ap.add_argument("--work", type=Path, default=Path("/work/peer-runs"))
    ap.add_argument(
        "--cobrawap-run",
        type=Path,
        default=None,
        help="a finished run_cobrawap.sh folder to reuse (its input and generator options too)",
    )
    ap.add_argument("--nx", type=int, default=32)
    ap.add_argument("--ny", type=int, default=32)
    ap.add_argument("--fs", type=float, default=25.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--smooth-noise", type=float, default=0.0)
    ap.add_argument("--spacing", type=float, default=0.1, help="mm")
    ap.add_argument("--vmin", type=float, default=5.0, help="mm/s")
    ap.add_argument("--vmax", type=float, default=20.0, help="mm/s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=0.6, help="matching tolerance (s)")
    ap.add_argument("--repeat", type=int, default=3, help="warm wavekit runs (median)")
    ap.add_argument("--no-cold", dest="cold", action="store_false", help="skip the cold run")
    ap.add_argument("--polarity", default="up")
    ap.add_argument(
        "--marker",
        default="steepest",
        choices=("steepest", "half", "crossing"),
        help="wavekit's transition marker ([activation] marker, passed with --config); results "
        "of a marker other than the default go to folders suffixed _marker-NAME",
    )
    a = ap.parse_args()
    a.peer, a.venv, a.work = a.peer.resolve(), a.venv.resolve(), a.work.resolve()

    check_venv(a.venv, a.peer)
    if a.cobrawap_run:  # the input that run read; its generator options are taken from it
        run = a.cobrawap_run.resolve()
        check_run(run)
        nix, name = reuse_input(a, ap, run)
        print(f"input: {nix} (read by {run})")
    else:
        name = run_name(a)
        nix = make_input(a, name)
        run = run_cobrawap(a, nix, name)
        check_run(run)
    npy = Path(f"{nix}.npy")
    truth = json.loads(Path(f"{nix}.truth.json").read_text())
    true_waves = truth["waves"]
    steps = read_timings(run)
    failed = [s["step"] for s in steps if s["exit"] != 0]
    cw_full = sum(s["wall_s"] for s in steps)
    cw_route = sum(s["wall_s"] for s in steps if s["step"] in COBRAWAP_TRIGGER_ROUTE)
    cw_full_cpu = sum(s["cpu_s"] for s in steps)
    cw_route_cpu = sum(s["cpu_s"] for s in steps if s["step"] in COBRAWAP_TRIGGER_ROUTE)
    cw_rss = max(s["max_rss_mb"] for s in steps)
    cw_trig = cobrawap_triggers(run, a.venv)
    cw = cobrawap_waves(run, cw_trig)
    suffix = "" if a.marker == "steepest" else f"_marker-{a.marker}"
    res_dir = a.work / "results" / (name + suffix)
    res_dir.mkdir(parents=True, exist_ok=True)
    # cross-check with the harness's own scoring (trigger-vote matching); evaluate.py writes
    # eval_waves.csv into the run folder, so not for a run inside the harness's folder
    harness_eval = None
    if not run.is_relative_to(a.peer):
        eval_json = res_dir / "harness_evaluate.json"
        r = subprocess.run(
            [str(venv_python(a.venv)), str(a.peer / "evaluate.py"), str(nix), str(run)]
            + ["--json", str(eval_json)],
            capture_output=True,
            text=True,
        )
        harness_eval = json.loads(eval_json.read_text()) if r.returncode == 0 else None

    wk_dir = a.work / "wavekit" / (name + suffix)
    pol = ["--polarity", a.polarity]
    if a.marker != "steepest":
        wk_dir.mkdir(parents=True, exist_ok=True)
        toml = wk_dir / "marker.toml"
        toml.write_text(f'[activation]\nmarker = "{a.marker}"\n')
        pol += ["--config", str(toml)]
    wk_act = run_wavekit(
        a,
        npy,
        truth,
        wk_dir / "activation",
        ["--stages", "activation", *pol, "--no-plots"],
        "activation route",
    )
    a_cold = a.cold
    a.cold = False  # one cold figure is enough
    wk_full = run_wavekit(a, npy, truth, wk_dir / "default", pol, "default + fronts")
    a.cold = a_cold
    arrival = np.load(f"{nix}.truth.npz")["arrival_times"].reshape(len(true_waves), -1)
    jitter = {
        "cobrawap": trigger_jitter(cw_trig, arrival, a.tol),
        "wavekit": trigger_jitter(wavekit_triggers(wk_dir / "activation"), arrival, a.tol),
    }

    rows = []

    def score(label, det, wall=None, cpu=None, note="same run") -> dict:
        s = match_waves(det, true_waves, a.tol, "t_centre")
        span = match_waves(det, true_waves, a.tol, "t_span")
        span.pop("per_true")
        s.update(label=label, wall_s=wall, cpu_s=cpu, note=note, span_rule=span)
        rows.append(s)
        return s

    score(
        "Cobrawap 0.2.3 whole harness: TI direction (ids re-mapped), velocity_planar",
        cw["TI"],
        cw_full,
        cw_full_cpu,
        "",
    )
    score("Cobrawap: TI direction as written (wave-id bug)", cw["TI_as_written"])
    if "OF" in cw:
        score("Cobrawap: optical-flow direction, velocity_planar", cw["OF"])
    rows.append(
        {
            "label": "Cobrawap trigger route only (sum of its blocks)",
            "wall_s": cw_route,
            "cpu_s": cw_route_cpu,
            "note": "",
        }
    )
    rep_a = wk_act["report"]
    score(
        "wavekit --stages activation: all fronts",
        wavekit_fronts(rep_a, False),
        wk_act["wall_s"],
        wk_act["cpu_s"],
        "",
    )
    score("wavekit --stages activation: significant fronts", wavekit_fronts(rep_a, True))
    rep_f = wk_full["report"]
    score(
        "wavekit default + --polarity up (figures): significant fronts",
        wavekit_fronts(rep_f, True),
        wk_full["wall_s"],
        wk_full["cpu_s"],
        "",
    )
    score("wavekit default: phase-based events", wavekit_events(rep_f))
    oracle = phase_frames_at_truth(wk_dir / "default", true_waves)
    if oracle:
        score("wavekit default: per-frame plane fit at each true wave's time (oracle)", oracle)

    # ----- the table
    lines = [
        f"{name}: {truth['ny']} x {truth['nx']} grid, {truth['fs_hz']:g} Hz, "
        f"{truth['duration_s']:g} s, noise {truth['noise_std']:g}, {len(true_waves)} true waves, "
        f"speeds {a.vmin:g}-{a.vmax:g} mm/s, spacing {truth['spacing_mm']:g} mm; "
        f"{date.today().isoformat()}. Waves matched one to one by their central activation time "
        f"(Cobrawap: median trigger time; wavekit fronts: fitted plane at the array centre; "
        f"phase events: middle) within {a.tol:g} s of the true centre crossing.",
        "",
        "| method | wall time s (CPU s) | Cobrawap whole harness / this: wall (CPU) | "
        "true / det / matched / missed / false / split | direction err deg (median / p90) | "
        "speed err % (median / p90) | speed bias % |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in rows:
        wall, cpu = s.get("wall_s"), s.get("cpu_s")
        w, ratio = s.get("note", ""), ""
        if wall is not None:
            w = f"{wall:.2f}" + (f" ({cpu:.2f})" if cpu is not None else "")
            ratio = f"{cw_full / wall:.1f}x" + (f" ({cw_full_cpu / cpu:.1f}x)" if cpu else "")
        if "n_true" not in s:
            lines.append(f"| {s['label']} | {w} | {ratio} | | | | |")
            continue
        det = "/".join(
            str(s[k])
            for k in ("n_true", "n_detected", "n_matched", "n_missed", "n_false", "n_split")
        )
        bias = f"{s['speed_bias_pct']:+.1f}" if s.get("speed_bias_pct") is not None else "-"
        lines.append(
            f"| {s['label']} | {w} | {ratio} | {det} | {fmt_stats(s['direction_err_deg'])} | "
            f"{fmt_stats(s['speed_err_pct'], '{:.1f}')} | {bias} |"
        )
    lines += ["", "Same rows matched by the midpoint of each wave's first and last activation:"]
    for s in rows:
        sp = s.get("span_rule")
        if sp:
            lines.append(
                f"- {s['label']}: matched {sp['n_matched']}, missed {sp['n_missed']}, false "
                f"{sp['n_false']}, split {sp['n_split']}; direction "
                f"{fmt_stats(sp['direction_err_deg'])} deg, speed "
                f"{fmt_stats(sp['speed_err_pct'], '{:.1f}')} %"
            )
    lines += [
        "",
        f"Cobrawap: {len(steps)} blocks, whole harness {cw_full:.1f} s wall, {cw_full_cpu:.1f} s "
        f"CPU (peak RSS {cw_rss:.0f} MB), trigger route only {cw_route:.1f} s wall, "
        f"{cw_route_cpu:.1f} s CPU; run folder {run}"
        + (f"; blocks that failed: {', '.join(failed)}" if failed else ""),
    ]
    for wk in (wk_act, wk_full):
        cold = f", empty numba cache {wk['cold_wall_s']:.2f} s" if "cold_wall_s" in wk else ""
        lines.append(
            f"wavekit {wk['label']}: median {wk['wall_s']:.2f} s wall of {len(wk['wall_s_runs'])} "
            f"warm runs {[round(x, 2) for x in wk['wall_s_runs']]} (median CPU "
            f"{wk['cpu_s'] or float('nan'):.2f} s){cold}, peak RSS "
            f"{wk['max_rss_mb'] or float('nan'):.0f} MiB, load average before "
            f"{wk['loadavg_before'][0]:.1f}; stages {wk['stage_timings_s']}"
        )
    ca, cf = wk_act["cpu_s"] or math.nan, wk_full["cpu_s"] or math.nan
    lines.append(
        "ratios, wall (CPU), target >= 50x: whole Cobrawap harness / wavekit activation route "
        f"{cw_full / wk_act['wall_s']:.1f}x ({cw_full_cpu / ca:.1f}x); Cobrawap trigger route / "
        f"wavekit activation route {cw_route / wk_act['wall_s']:.1f}x ({cw_route_cpu / ca:.1f}x); "
        f"whole harness / wavekit default + fronts {cw_full / wk_full['wall_s']:.1f}x "
        f"({cw_full_cpu / cf:.1f}x)"
    )
    if jitter["cobrawap"] and jitter["wavekit"]:
        c, w = jitter["cobrawap"], jitter["wavekit"]
        lines.append(
            "per-channel trigger times against the true arrival times (each wave's median offset "
            f"removed): Cobrawap robust SD {c['robust_sd_ms']:.1f} ms (SD {c['sd_ms']:.1f}, "
            f"offset {c['median_offset_ms']:+.0f} ms, {c['n_triggers']} triggers), wavekit "
            f"{w['robust_sd_ms']:.1f} ms (SD {w['sd_ms']:.1f}, offset "
            f"{w['median_offset_ms']:+.0f} ms, {w['n_triggers']} triggers)"
        )
    if harness_eval:
        h = harness_eval
        lines.append(
            "harness evaluate.py on the same Cobrawap run (trigger-vote matching): "
            f"true/det/matched/false/split {h.get('n_true_waves')}/{h.get('n_detected_waves')}/"
            f"{h.get('n_matched')}/{h.get('n_false')}/{h.get('n_split_extra')}, TI direction "
            f"median {h.get('dir_err_TI_deg', {}).get('median', float('nan')):.2f} deg, planar "
            f"speed median {h.get('speed_err_planar_pct', {}).get('median', float('nan')):.1f} %"
        )
    table = "\n".join(lines)
    print("\n" + table)

    # ----- files
    (res_dir / "table.md").write_text(table + "\n")
    with open(res_dir / "per_wave.csv", "w", newline="") as f:
        wr = csv.writer(f)
        scored = [s for s in rows if "per_true" in s]
        head = ["true_id", "t_center_s", "direction_deg", "speed_mm_s"]
        for s in scored:
            head += [f"{s['label']}: {k}" for k in ("t_s", "direction_deg", "speed_mm_s")]
        wr.writerow(head)
        for j, w in enumerate(true_waves):
            row = [
                w["id"],
                f"{w['t_center']:.3f}",
                f"{w['direction_deg']:.2f}",
                f"{w['speed_mm_s']:.3f}",
            ]
            for s in scored:
                p = s["per_true"].get(j)
                row += (
                    [f"{p['t']:.3f}", f"{p['direction']:.2f}", f"{p['speed']:.3f}"]
                    if p
                    else ["", "", ""]
                )
            wr.writerow(row)
    for s in rows:
        s.pop("per_true", None)
    for wk in (wk_act, wk_full):
        wk.pop("report", None)
    bench = {
        "date": date.today().isoformat(),
        "name": name,
        "input": str(nix),
        "truth": {k: v for k, v in truth.items() if k != "waves"},
        "cobrawap_run": str(run),
        "cobrawap_steps": steps,
        "cobrawap_whole_s": cw_full,
        "cobrawap_trigger_route_s": cw_route,
        "cobrawap_whole_cpu_s": cw_full_cpu,
        "cobrawap_trigger_route_cpu_s": cw_route_cpu,
        "cobrawap_failed_blocks": failed,
        "harness_evaluate": harness_eval,
        "trigger_jitter": jitter,
        "wavekit": [wk_act, wk_full],
        "rows": rows,
    }
    (res_dir / "bench.json").write_text(json.dumps(bench, indent=1, default=str))
    print(f"\nwritten: {res_dir}/table.md, per_wave.csv, bench.json")


if __name__ == "__main__":
    main()
