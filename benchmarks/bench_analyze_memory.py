"""Peak memory of `wavekit analyze` on a recording and on one 20x longer (issue: <= 1.3x).

Writes two plane-wave recordings (16 x 16 grid, 500 Hz, float32; 60 s and 1200 s by default)
to a temporary folder, runs `wavekit analyze --no-plots` on each in a fresh process, and prints
the peak resident memory of each run and their ratio. Usage:

    python benchmarks/bench_analyze_memory.py [--short-s 60] [--factor 20]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_recording(path: Path, seconds: float, fs: float = 500.0) -> Path:
    """Stream a plane wave to wavekit's HDF5 layout block by block (never all in memory)."""
    import h5py

    import wavekit
    from wavekit.model import grid_activity

    n = int(seconds * fs)
    yy, xx = np.mgrid[0:16, 0:16] * 0.4
    k = 2 * np.pi * 10.0 / 300.0
    proj = np.cos(np.radians(30)) * xx + np.sin(np.radians(30)) * yy
    head = grid_activity(np.zeros((2, 16, 16), np.float32), fs_hz=fs, dx_mm=0.4)
    wavekit.save(head, path)  # layout, coords and attrs; then grow the arrays to n samples
    rng = np.random.default_rng(0)
    with h5py.File(path, "r+") as f:
        del f["activity"], f["coords/time"]
        ds = f.create_dataset(
            "activity",
            shape=(n, 16, 16),
            dtype=np.float32,
            chunks=(1024, 16, 16),
            compression="gzip",
            shuffle=True,
        )
        ds.attrs["dims"] = "time,y,x"
        ds.attrs["name"] = "activity"
        ds.attrs["fs_hz"] = fs
        ds.attrs["units"] = ""
        t = f["coords"].create_dataset("time", data=np.arange(n) / fs)
        t.attrs["dims"] = "time"
        t.attrs["units"] = "s"
        block = 50_000
        for s in range(0, n, block):
            tt = np.arange(s, min(n, s + block))[:, None, None] / fs
            x = np.cos(2 * np.pi * 10.0 * tt - k * proj) + 0.3 * rng.normal(size=(tt.size, 16, 16))
            ds[s : s + tt.size] = x.astype(np.float32)
    return path


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    """Run a command in a child process; return (peak RSS in MiB, wall seconds)."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
        "time.perf_counter() - t); sys.exit(r.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    mb, wall = out.stdout.split()[-2:]
    return float(mb), float(wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short-s", type=float, default=60.0)
    ap.add_argument("--factor", type=float, default=20.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        short = write_recording(d / "short.h5", a.short_s)
        long = write_recording(d / "long.h5", a.short_s * a.factor)
        cmd = [sys.executable, "-m", "wavekit", "analyze", "--no-plots", "--band", "7", "14"]
        peak_rss_mb(cmd + [str(short), "--out", str(d / "warm")])  # numba cache warm-up
        m_short, t_short = peak_rss_mb(cmd + [str(short), "--out", str(d / "s")])
        m_long, t_long = peak_rss_mb(cmd + [str(long), "--out", str(d / "l")])
    print(
        f"recording        short {a.short_s:g} s   long {a.short_s * a.factor:g} s "
        f"(16x16, 500 Hz, float32)"
    )
    print(
        f"peak RSS (MiB)   short {m_short:.0f}   long {m_long:.0f}   ratio {m_long / m_short:.2f}"
        f"  (target <= 1.3)"
    )
    print(f"wall time (s)    short {t_short:.1f}   long {t_long:.1f}")


if __name__ == "__main__":
    _ = resource, time
    main()
