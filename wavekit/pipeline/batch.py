"""``wavekit batch``: many inputs, one output folder each, safe to kill and resume.

* Inputs are paths, glob patterns, folders (their recordings), text files listing paths
  (``.txt``/``.lst``), or ``-`` (paths on standard input).
* Each input gets ``OUT/<stem>/`` (``<stem>-<hash>`` when two inputs share a stem). Its
  ``report.json`` is written last and atomically, so a folder with a report is complete.
* ``--resume`` skips inputs whose report matches the input's content digest and the requested
  parameters; anything else is recomputed.
* Work runs in ``jobs`` local processes, or on a Dask distributed cluster (``scheduler``);
  every finished input is reported as soon as it finishes (one JSON line), and ``summary.csv``
  (input order) is written at the end. A failed input does not stop the others.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EXIT_ANALYSIS, UsageError
from .outputs import clean_stale_temporaries, write_text

RECORDING_SUFFIXES = {
    ".h5",
    ".hdf5",
    ".hdf",
    ".nwb",
    ".mat",
    ".npy",
    ".npz",
    ".tif",
    ".tiff",
    ".nc",
    ".nc4",
    ".cdf",
    ".zarr",
}
LIST_SUFFIXES = {".txt", ".lst", ".list"}
SUMMARY_FIELDS = [
    "input",
    "status",
    "output",
    "error",
    "duration_s",
    "layout",
    "n_channels",
    "frequency_hz",
    "direction_deg",
    "speed_mm_per_s",
    "wavelength_mm",
    "motion_type",
    "n_events",
    "n_significant_activation_waves",
    "front_speed_mm_per_s",
    "front_direction_deg",
    "n_critical_point_tracks",
]


@dataclass(frozen=True)
class Item:
    """One input and the folder its results go to."""

    input: Path
    out_dir: Path


def _is_recording_folder(p: Path) -> bool:
    """A folder that is itself one recording (PNG frames or a Zarr store)."""
    if p.suffix.lower() == ".zarr" or any(
        (p / m).exists() for m in (".zgroup", ".zarray", "zarr.json")
    ):
        return True
    return any(p.glob("*.png")) and not any(
        q.suffix.lower() in RECORDING_SUFFIXES for q in p.iterdir() if q.is_file()
    )


def expand_inputs(tokens: Iterable[str], *, stdin: io.TextIOBase | None = None) -> list[Path]:
    """Turn the user's input tokens into a list of distinct recordings, in order.

    Raises
    ------
    UsageError
        A token matches nothing.
    """
    out: list[Path] = []

    def add(p: Path) -> None:
        if p not in out:
            out.append(p)

    for tok in tokens:
        if tok == "-":
            src = stdin if stdin is not None else sys.stdin
            for line in src:
                if line.strip() and not line.lstrip().startswith("#"):
                    add(Path(line.strip()))
            continue
        p = Path(tok)
        if any(ch in tok for ch in "*?[") and not p.exists():
            matches = sorted(glob.glob(tok, recursive=True))
            if not matches:
                raise UsageError(f"{tok}: the pattern matches no file")
            for m in matches:
                add(Path(m))
            continue
        if p.is_dir() and not _is_recording_folder(p):
            found = sorted(
                q
                for q in p.iterdir()
                if q.suffix.lower() in RECORDING_SUFFIXES and not q.name.startswith(".")
            )
            found += sorted(q for q in p.iterdir() if q.is_dir() and _is_recording_folder(q))
            if not found:
                raise UsageError(f"{tok}: the folder holds no recordings")
            for q in found:
                add(q)
            continue
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            base = p.parent
            for line in p.read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    q = Path(line.strip())
                    add(q if q.is_absolute() else base / q)
            continue
        add(p)  # missing files fail individually, as inputs
    if not out:
        raise UsageError("no inputs given")
    return out


def plan(inputs: list[Path], out_root: Path) -> list[Item]:
    """Assign each input its output folder (stable for the same input paths)."""
    stems: dict[str, int] = {}
    for p in inputs:
        stems[_stem(p)] = stems.get(_stem(p), 0) + 1
    items = []
    for p in inputs:
        name = _stem(p)
        if stems[name] > 1:
            name += "-" + hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:8]
        items.append(Item(input=p, out_dir=out_root / name))
    return items


def _stem(p: Path) -> str:
    name = p.name.rstrip("/") or "input"
    for suf in (".zarr", *RECORDING_SUFFIXES):
        if name.lower().endswith(suf):
            return name[: -len(suf)] or "input"
    return name


def completed_report(item: Item, requested_digest: str) -> dict | None:
    """The item's report if it is complete and current (same input bytes, same parameters)."""
    from .digest import sha256_of

    rp = item.out_dir / "report.json"
    try:
        report = json.loads(rp.read_text())
        if report.get("parameters", {}).get("requested_sha256") != requested_digest:
            return None
        if report.get("input", {}).get("sha256") != sha256_of(item.input):
            return None
        return report
    except (OSError, ValueError, AttributeError):
        return None


def local_dask():
    """Context in which dask computations inside one analysis run on local threads.

    One analysis is one task (of a process pool or of a Dask cluster, where a nested compute
    would otherwise go back to the cluster's scheduler); naming the scheduler also spares
    dask's search for a ``distributed`` client, an import of about 0.2 s per process."""
    import dask
    import dask.threaded

    # the function itself, not the name "threads": with a name, dask still imports
    # distributed to look for a client
    return dask.config.set(scheduler=dask.threaded.get)


def _run_one(target: str, item: Item, kwargs: dict, verbose: bool = False) -> dict:
    """Run the analysis of one input; never raise (a worker's failure is a result).
    ``verbose``: its stage messages on the worker's standard error, named by the input."""
    import importlib
    import time

    from ..errors import WavekitError
    from .progress import verbose_to_stderr

    module, func = target.split(":")
    t0 = time.perf_counter()
    try:
        with local_dask(), verbose_to_stderr(verbose, prefix=item.input.name):
            report = getattr(importlib.import_module(module), func)(
                item.input, item.out_dir, **kwargs
            )
        return {
            "input": str(item.input),
            "status": "ok",
            "output": str(item.out_dir),
            "error": None,
            "exit_code": 0,
            "wall_s": round(time.perf_counter() - t0, 3),
            "report": report,
        }
    except WavekitError as exc:
        err, code = " ".join(str(exc).split()), exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        err, code = f"internal error ({type(exc).__name__}: {exc})", EXIT_ANALYSIS
    return {
        "input": str(item.input),
        "status": "failed",
        "output": str(item.out_dir),
        "error": err,
        "exit_code": code,
        "wall_s": round(time.perf_counter() - t0, 3),
        "report": None,
    }


def run_batch(
    items: list[Item],
    *,
    target: str,
    kwargs: dict,
    requested_digest: str,
    jobs: int = 1,
    resume: bool = False,
    scheduler: str | None = None,
    on_result: Callable[[dict], None] | None = None,
    verbose: bool = False,
) -> list[dict]:
    """Analyse every item; call ``on_result`` as each finishes; return results in input order.
    ``verbose``: each analysis logs its stages on standard error (on a Dask cluster, on the
    workers' standard error).

    ``target`` is ``"module:function"`` of ``f(input, out_dir, **kwargs) -> report``; it must
    write ``report.json`` last. With ``resume``, items with a complete, current report are
    reported with status ``"skipped"`` and not recomputed.
    """
    results: dict[Item, dict] = {}
    todo: list[Item] = []
    for it in items:
        clean_stale_temporaries(it.out_dir)
        rep = completed_report(it, requested_digest) if resume else None
        if rep is not None:
            res = {
                "input": str(it.input),
                "status": "skipped",
                "output": str(it.out_dir),
                "error": None,
                "exit_code": 0,
                "wall_s": 0.0,
                "report": rep,
            }
            results[it] = res
            if on_result:
                on_result(res)
        else:
            todo.append(it)

    def done(it: Item, res: dict) -> None:
        results[it] = res
        if on_result:
            on_result(res)

    if scheduler:
        _run_distributed(todo, target, kwargs, scheduler, done, verbose)
    elif jobs <= 1 or len(todo) <= 1:
        for it in todo:
            done(it, _run_one(target, it, kwargs, verbose))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")  # no inherited threads/locks (numba, dask, h5py)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {pool.submit(_run_one, target, it, kwargs, verbose): it for it in todo}
            for fut in as_completed(futures):
                done(futures[fut], fut.result())
    return [results[it] for it in items]


def _run_distributed(
    todo: list[Item],
    target: str,
    kwargs: dict,
    address: str,
    done: Callable[[Item, dict], None],
    verbose: bool = False,
) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError(
            '--scheduler needs the "distributed" package: pip install "wavekit[cluster]"'
        ) from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--scheduler {address}: cannot connect ({exc})") from None
    with client:
        futures = {
            client.submit(_run_one, target, it, kwargs, verbose, pure=False): it for it in todo
        }
        for fut in as_completed(list(futures)):
            done(futures[fut], fut.result())


def summary_csv(
    results: list[dict], out_root: Path, row: Callable[[dict | None], dict[str, Any]]
) -> Path:
    """Write ``summary.csv`` (one row per input, input order) atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for res in results:
        values = row(res.get("report"))
        values.update({k: res[k] for k in ("input", "status", "output", "error")})
        w.writerow({k: ("" if values.get(k) is None else values.get(k)) for k in SUMMARY_FIELDS})
    out_root.mkdir(parents=True, exist_ok=True)
    return write_text(out_root / "summary.csv", buf.getvalue())


def result_line(res: dict, row: Callable[[dict | None], dict[str, Any]]) -> str:
    """The JSON line printed for a finished input."""
    line = {k: res[k] for k in ("input", "status", "output", "error", "wall_s")}
    line.update({k: v for k, v in row(res.get("report")).items() if k not in line})
    from .outputs import json_safe

    return json.dumps(json_safe(line))


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
