"""CLI responsiveness: `wavekit --help` start-up and a repeat `wavekit analyze` of a sample.

Targets (issue 6): `wavekit --help` under 0.5 s; a repeat analyze of a sample file (numba cache
warm) in a few seconds. Each figure is the median of several runs in fresh processes, printed
next to the same process doing nothing (`python -c pass`) as the baseline.

    python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    py = [sys.executable]
    base = wall(py + ["-c", "pass"], a.repeat)
    helpt = wall(py + ["-m", "wavekit", "--help"], a.repeat)
    print(f"python -c pass         {base:.3f} s (baseline)")
    print(f"wavekit --help         {helpt:.3f} s  ({helpt / base:.1f}x baseline; target < 0.5 s)")
    sample = ROOT / "sample_data" / "plane_grid.h5"
    with tempfile.TemporaryDirectory() as d:
        cmd = py + ["-m", "wavekit", "analyze", str(sample), "--out", d]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the numba cache
        warm = wall(cmd, max(3, a.repeat // 2))
        cmd_np = cmd + ["--no-plots"]
        warm_np = wall(cmd_np, max(3, a.repeat // 2))
    print(
        f"wavekit analyze sample {warm:.2f} s with figures, {warm_np:.2f} s without "
        f"(numba cache warm; target: a few seconds)"
    )


if __name__ == "__main__":
    main()
