"""``wavekit validate``: the built-in accuracy benchmark against simulated ground truth.

Waves with known truth (plane waves on grids and irregular layouts over an SNR sweep, pattern
sequences, targets, spirals, superposed and dispersive waves, activation fronts, pure noise) are
simulated with :mod:`wavekit.simulate`, the estimators of :mod:`wavekit.analysis` are run on them,
and each case reports its error next to the threshold set for it. The cases, their settings and
the measured numbers are documented in ``docs/accuracy.md``.

Every random draw comes from ``seed``: each named part of the benchmark gets its own generator
``numpy.random.default_rng([seed, crc32(name)])``, so the same seed gives the same table.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from typing import Any

__all__ = ["THRESHOLDS", "format_table", "run_validation", "summary"]

#: Thresholds set by the issues (never loosen them). Intervals are closed.
THRESHOLDS: dict[str, Any] = {
    "plane_grid_20db_direction_deg": 0.5,
    "plane_grid_20db_speed_pct": 1.0,
    "plane_grid_0db_direction_deg": 2.0,
    "plane_grid_0db_speed_pct": 3.0,
    "plane_random_0db_direction_deg": 3.0,
    "plane_random_0db_speed_pct": 5.0,
    "pattern_f1": 0.9,
    "events_false_positive_fraction": 0.05,
    "ci_coverage": (0.90, 0.98),
}


def _rng_for(seed: int) -> Callable[[str], Any]:
    import numpy as np

    def rng_for(name: str) -> np.random.Generator:
        return np.random.default_rng([int(seed), zlib.crc32(name.encode())])

    return rng_for


def run_validation(
    *,
    quick: bool = True,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Run the benchmark and return one dict per case (row of the table).

    Parameters
    ----------
    quick : bool
        Fewer records per case (under a minute on two cores); ``False`` runs the full benchmark.
    seed : int
        Seed of every simulation and resampling.
    progress : callable, optional
        Called with the name of each group of cases before it runs.

    Returns
    -------
    list of dict
        Keys ``name``, ``metric``, ``value``, ``threshold`` (a number, a ``(low, high)``
        pair, or None for informational rows), ``op`` (``"<="``, ``">="``, ``"in"``, or
        ``"binomial"``: the Clopper-Pearson 95 % interval of a proportion must meet the
        ``(low, high)`` band, used by the quick coverage check; None when informational),
        ``passed`` (bool, or None for informational rows), ``n`` (samples behind the value),
        ``unit``, ``detail`` (simulation settings and the estimator), ``group`` and
        ``seconds`` (time of its group).
    """
    from ._cases import CASES

    rng_for = _rng_for(seed)
    rows: list[dict] = []
    for title, func in CASES:
        if progress is not None:
            progress(title)
        t0 = time.perf_counter()
        group = func(rng_for, quick)
        dt = time.perf_counter() - t0
        for r in group:
            r["group"] = title
            r["seconds"] = round(dt, 2)
        rows.extend(group)
    return rows


def summary(rows: list[dict]) -> dict:
    """Counts of thresholded, passed and failed rows."""
    checked = [r for r in rows if r["passed"] is not None]
    failed = [r for r in checked if not r["passed"]]
    return {
        "n_cases": len(rows),
        "n_thresholded": len(checked),
        "n_passed": len(checked) - len(failed),
        "n_failed": len(failed),
        "all_passed": not failed,
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    v = float(v)
    if math.isnan(v):
        return "nan"
    if v == 0 or 0.01 <= abs(v) < 1e4:
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}"
    return f"{v:.3g}"


def format_table(rows: list[dict], *, details: bool = False) -> str:
    """A plain-text table: case, metric, value, threshold, result (PASS, FAIL or info)."""
    head = ("case", "metric", "value", "unit", "threshold", "n", "result")
    body = []
    for r in rows:
        if r["threshold"] is None:
            thr = "-"
        elif r["op"] == "binomial":  # the 95 % interval of a proportion must meet the band
            thr = f"95% CI meets {_fmt(r['threshold'])}"
        else:
            thr = f"{r['op']} {_fmt(r['threshold'])}"
        res = "info" if r["passed"] is None else ("PASS" if r["passed"] else "FAIL")
        body.append(
            (r["name"], r["metric"], _fmt(r["value"]), r["unit"] or "-", thr, str(r["n"]), res)
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    right = {2, 5}

    def line(cells):
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(head), "  ".join("-" * w for w in widths)]
    for r, b in zip(rows, body, strict=True):
        out.append(line(b))
        if details:
            out.append("    " + r["detail"])
    s = summary(rows)
    out.append(
        f"{s['n_passed']}/{s['n_thresholded']} thresholded cases passed"
        + ("" if s["all_passed"] else f", {s['n_failed']} FAILED")
        + f"; {s['n_cases'] - s['n_thresholded']} informational"
    )
    return "\n".join(out)
