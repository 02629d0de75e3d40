"""Spike trains binned into firing-rate maps on the electrode positions (format ``spikes``).

Layouts read (HDF5, opened by :func:`wavekit.io.open_activity`):

* the retinal-wave repository layout (Eglen et al. 2014, GigaScience 3:3): ``spikes`` (every
  unit's spike times concatenated, in s), ``sCount`` (spikes per unit, in the same order),
  ``epos`` (unit positions, 2 x N or N x 2, in micrometres), optional ``names`` (unit labels),
  ``array`` (array name) and ``summary/duration`` (recording length, s);
* a generic variant: a group ``spikes`` (or ``spike_times``/``units``) holding one 1-D dataset of
  spike times (s) per unit, ordered by the number in their names, and a positions dataset
  ``epos`` (micrometres unless its ``units`` attribute says otherwise) or ``positions``/
  ``unit_positions`` (mm unless ``units`` says ``um``), one row per unit in the same order.

``--positions FILE`` replaces the file's unit positions (x, y in mm, one row per unit).

Binning: each unit's spikes are counted in consecutive bins of ``--bin-ms`` (default
:data:`DEFAULT_BIN_MS` = 100 ms) from time 0 to the recording duration (``summary/duration``, or
the last spike when the file has none, extended to the last spike when spikes run past it), and
divided by the bin width, so samples are rates in spikes/s at ``fs = 1000 / bin_ms`` Hz. Sample
``i`` (time coordinate ``i * bin``) covers ``[i * bin, (i + 1) * bin)``. Units recorded at the same
electrode position (several units sorted from one electrode) are summed into one channel, so
there is one channel per electrode position. With layout auto, positions that lie on a regular
lattice (an 8 x 8 MEA with unused electrodes) give the grid view, empty sites NaN.

Why 100 ms: retinal waves travel at about 0.1-0.5 mm/s (SPEC.md), so a wave takes 0.4-2 s to
cross one 200 um electrode pitch. 100 ms bins resolve that delay with 4-20 samples while keeping
a few spikes per bin at the 10-30 spikes/s of bursting neurons, and 10 Hz sampling is far above
the wave bandwidth (waves last a few seconds and recur every tens of seconds). Use ``--bin-ms``
smaller for faster activity (cortical spiking: 5-20 ms) or larger for sparse firing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import Found, Overrides, _plain, assemble, read_positions

#: default bin width for spike trains, in ms (see the module docstring for why)
DEFAULT_BIN_MS = 100.0

_UM_UNITS = ("um", "µm", "\u03bcm", "micrometre", "micrometer", "micron", "microns")
_GROUP_NAMES = ("spikes", "spike_times", "spiketimes", "units")


def _scalar(f: Any, name: str) -> float | None:
    if name not in f:
        return None
    try:
        v = np.asarray(f[name][()], dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None
    return float(v[0]) if v.size >= 1 and np.isfinite(v[0]) else None


def _text(f: Any, name: str) -> str | None:
    if name not in f:
        return None
    v = _plain(f[name][()])
    if isinstance(v, np.ndarray) and v.size >= 1:
        v = _plain(v.reshape(-1)[0])
    return v if isinstance(v, str) else None


def _unit_positions(
    path: Path, f: Any, n_units: int, ov: Overrides
) -> tuple[np.ndarray, np.ndarray, str]:
    """Positions (mm) of every unit, with the reason."""
    if ov.positions is not None:
        if ov.positions in f:
            ds = f[ov.positions]
            default = "um" if ds.name.split("/")[-1] == "epos" else "mm"
            return _positions_ds(path, ds, n_units, default, " (given by --positions)")
        return read_positions(ov.positions, n_units, path)
    for name, default in (
        ("epos", "um"),
        ("positions", "mm"),
        ("unit_positions", "mm"),
        ("electrode_positions", "mm"),
    ):
        if name in f:
            return _positions_ds(path, f[name], n_units, default, "")
    raise InputError(
        path,
        f"{n_units} spike trains but no unit positions (looked for epos, "
        "positions): pass --positions FILE (x, y in mm per unit)",
    )


def _positions_ds(
    path: Path, ds: Any, n: int, default_unit: str, why: str
) -> tuple[np.ndarray, np.ndarray, str]:
    a = np.asarray(ds[()], dtype=float)
    epos = ds.name.split("/")[-1] == "epos"  # the waverepo layout stores x and y as rows
    if (
        a.ndim == 2
        and a.shape[1] == n
        and (a.shape[0] == 2 if epos else a.shape[0] in (2, 3) and a.shape[0] != n)
    ):
        a = a.T
    if a.ndim != 2 or a.shape[0] != n or a.shape[1] not in (2, 3):
        raise InputError(
            path,
            f"{ds.name} has shape {a.shape}: expected the x, y position of each of the {n} units",
        )
    a = a[:, :2]
    if not np.isfinite(a).all():
        raise InputError(path, f"{ds.name} contains NaN or infinite positions")
    unit = str(_plain(ds.attrs.get("units", ds.attrs.get("unit", default_unit)))).strip().lower()
    if unit in _UM_UNITS:
        return a[:, 0] * 1e-3, a[:, 1] * 1e-3, f"{ds.name}{why} (micrometres converted to mm)"
    if unit not in ("mm", "millimetre", "millimeter"):
        raise InputError(path, f"{ds.name} has units {unit!r}: wavekit reads positions in mm or um")
    return a[:, 0], a[:, 1], f"{ds.name}{why} (mm)"


def _trains_waverepo(path: Path, f: Any) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """All spike times, the unit index of each spike, unit labels, and a description."""
    spikes = np.asarray(f["spikes"][()], dtype=np.float64).reshape(-1)
    if "sCount" not in f:
        raise InputError(
            path,
            "spike times without 'sCount' (spikes per unit): cannot tell "
            "which unit fired each spike",
        )
    counts = np.asarray(f["sCount"][()]).reshape(-1)
    if counts.dtype.kind not in "iuf" or np.any(counts < 0):
        raise InputError(path, "'sCount' must hold non-negative spike counts per unit")
    counts = counts.astype(np.int64)
    if int(counts.sum()) != spikes.size:
        raise InputError(
            path,
            f"'sCount' adds up to {int(counts.sum())} spikes but 'spikes' "
            f"holds {spikes.size}: the file is inconsistent",
        )
    unit = np.repeat(np.arange(counts.size), counts)
    labels = [str(i) for i in range(counts.size)]
    if "names" in f and f["names"].shape == (counts.size,):
        labels = [str(_plain(v)) for v in f["names"][()]]
    return spikes, unit, labels, "'spikes' split by 'sCount' (retinal-wave repository layout)"


def _trains_group(path: Path, g: Any) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    import h5py

    items = [(k, d) for k, d in g.items() if isinstance(d, h5py.Dataset)]
    if not items:
        raise InputError(path, f"group {g.name} holds no spike-time datasets")

    def key(kv: tuple[str, Any]) -> tuple[int, str]:
        m = re.search(r"(\d+)(?!.*\d)", kv[0])
        return (int(m.group(1)) if m else -1, kv[0])

    items.sort(key=key)
    parts, units = [], []
    for i, (_name, ds) in enumerate(items):
        if ds.dtype.kind not in "iuf" or ds.ndim > 1:
            raise InputError(
                path, f"{ds.name} is not a 1-D array of spike times ({ds.dtype}, shape {ds.shape})"
            )
        t = np.asarray(ds[()], dtype=np.float64).reshape(-1)
        parts.append(t)
        units.append(np.full(t.size, i, dtype=np.int64))
    spikes = np.concatenate(parts)
    unit = np.concatenate(units)
    return spikes, unit, [k for k, _ in items], f"one dataset per unit in {g.name}"


def _bin_width(path: Path, ov: Overrides) -> tuple[float, str]:
    """Bin width in ms: --bin-ms, else 1000 / --fs, else the default."""
    if ov.bin_ms is not None:
        bin_ms = float(ov.bin_ms)
        if ov.fs_hz is not None and not np.isclose(ov.fs_hz * bin_ms, 1000.0, rtol=1e-6):
            raise InputError(
                path,
                f"--fs {ov.fs_hz:g} contradicts --bin-ms {bin_ms:g} (binned "
                f"spike trains are sampled at 1000 / bin_ms Hz): give one of them",
            )
        return bin_ms, "given by --bin-ms"
    if ov.fs_hz is not None:
        return 1000.0 / ov.fs_hz, "1000 / --fs"
    return DEFAULT_BIN_MS, "the default for spike trains; --bin-ms changes it"


def read(path: Path, ov: Overrides, f: Any) -> Found:
    """Bin the spike trains of an open HDF5 file into rates on the electrode positions."""
    import h5py

    notes: list[str] = []
    if ov.dataset is not None:
        notes.append(f"--dataset {ov.dataset} ignored: spike-train files are read whole")
    if "spikes" in f and isinstance(f["spikes"], h5py.Dataset):
        spikes, unit, labels, how = _trains_waverepo(path, f)
    else:
        group = next((f[n] for n in _GROUP_NAMES if n in f and isinstance(f[n], h5py.Group)), None)
        if group is None:
            raise InputError(
                path,
                "no spike trains found (looked for a 'spikes' dataset with "
                "'sCount', or a group of per-unit spike-time datasets)",
            )
        spikes, unit, labels, how = _trains_group(path, group)
    n_units = len(labels)
    if spikes.size == 0:
        raise InputError(path, "the file holds no spikes: there is no activity to bin")
    if not np.isfinite(spikes).all():
        raise InputError(path, "spike times contain NaN or infinite values")
    array = _text(f, "array")
    notes.append(
        f"{spikes.size} spikes of {n_units} units: {how}" + (f"; array {array}" if array else "")
    )

    x, y, pos_reason = _unit_positions(path, f, n_units, ov)
    # one channel per electrode position: units sorted from one electrode are summed
    xy = np.round(np.column_stack([x, y]), 9)
    sites, channel_of_unit = np.unique(xy, axis=0, return_inverse=True)
    channel_of_unit = channel_of_unit.reshape(-1)
    n_ch = sites.shape[0]
    if n_ch < n_units:
        notes.append(
            f"{n_units} units at {n_ch} distinct electrode positions: units at the "
            "same position summed into one channel"
        )
    members: list[list[str]] = [[] for _ in range(n_ch)]
    for u, c in enumerate(channel_of_unit):
        members[c].append(labels[u])
    channel = np.array(["+".join(m) for m in members])

    bin_ms, bin_reason = _bin_width(path, ov)
    bin_s = bin_ms / 1000.0
    duration = None
    for name in ("summary/duration", "duration", "meta/duration"):
        duration = _scalar(f, name)
        if duration is not None and duration > 0:
            dur_reason = f"'{name}'"
            break
        duration = None
    last = float(spikes.max())
    if duration is None:
        duration, dur_reason = last, "the last spike (the file states no duration)"
    elif last >= duration:
        notes.append(
            f"spikes run to {last:g} s, past the stated duration {duration:g} s "
            f"({dur_reason}): binned up to the last spike"
        )
        duration, dur_reason = last, "the last spike"
    n_bins = int(np.ceil(duration / bin_s - 1e-9))
    n_bins = max(n_bins, int(np.floor(last / bin_s)) + 1)
    if n_bins < 2:
        raise InputError(
            path,
            f"the recording ({duration:g} s) is shorter than two bins of "
            f"{bin_ms:g} ms: pass a smaller --bin-ms",
        )
    early = spikes < 0
    if early.any():
        notes.append(f"{int(early.sum())} spikes before time 0 left out")
    idx = np.floor(spikes[~early] / bin_s).astype(np.int64)
    flat = idx * n_ch + channel_of_unit[unit[~early]]
    counts = np.bincount(flat, minlength=n_bins * n_ch).reshape(n_bins, n_ch)
    rates = counts.astype(np.float32) / np.float32(bin_s)
    notes.append(
        f"binned at {bin_ms:g} ms ({bin_reason}) over 0-{n_bins * bin_s:g} s "
        f"(duration from {dur_reason}): {n_bins} samples of spikes/s"
    )
    attrs: dict[str, Any] = {"bin_ms": bin_ms, "n_units": n_units}
    if array:
        attrs["array"] = array
    da = assemble(
        rates,
        path=path,
        ov=ov,
        notes=notes,
        dims=("time", "channel"),
        dims_reason="rates per bin and electrode position",
        fs_hz=1000.0 / bin_ms,
        fs_reason=f"one sample per {bin_ms:g} ms bin",
        x_mm=sites[:, 0],
        y_mm=sites[:, 1],
        positions_reason=pos_reason,
        channel=channel,
        units="spikes/s",
        attrs=attrs,
    )
    return Found(activity=da, format="spikes", dataset="spikes", notes=notes)
