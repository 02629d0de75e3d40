"""Writing one analysis to its folder: every file atomic, ``report.json`` last."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .outputs import clean_stale_temporaries, write_json, write_text
from .report import validate_report

EVENT_COLUMNS = ["id", "start_s", "end_s", "duration_s", "pattern", "direction_deg",
                 "speed_mm_per_s", "speed_ci_low_mm_per_s", "speed_ci_high_mm_per_s",
                 "planarity", "centre_x_mm", "centre_y_mm", "p_value"]


def events_csv(events: list[dict[str, Any]]) -> str:
    """The events table as CSV text (header always present; empty cells for missing values)."""
    cols = list(EVENT_COLUMNS)
    for ev in events:
        cols += [k for k in ev if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for ev in events:
        w.writerow({k: "" if ev.get(k) is None else ev.get(k) for k in cols})
    return buf.getvalue()


def write_outputs(res: Any, report: dict[str, Any], out_dir: Path) -> list[str]:
    """Write events.csv, figures (if asked) and, last, report.json into ``out_dir``.

    An existing ``report.json`` is removed first, so a folder whose rewrite is interrupted
    never keeps a report that looks complete next to new partial files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(out_dir)
    (out_dir / "report.json").unlink(missing_ok=True)
    written = [write_text(out_dir / "events.csv", events_csv(report["events"])).name]
    if res.config.plots:
        from .figures import save_all

        written += save_all(res, report, out_dir, res.config.fig_format)
    report["outputs"] = sorted(written)
    validate_report(report)
    write_json(out_dir / "report.json", report)
    return written + ["report.json"]
