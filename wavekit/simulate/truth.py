"""Ground truth of simulations: the per-time-step Dataset stored with every simulated recording.

:func:`truth_dataset` builds it; ``wavekit.io.save(activity, path, ground_truth=truth)`` writes it
to the file's ``/ground_truth`` group and :func:`wavekit.load_ground_truth` reads it back.
:func:`local_truth` evaluates the exact local frequency, wave vector, direction and speed of
the stored field at every sample (for patterns without a single direction: target, spiral,
saddle).

Variables (dim ``time``, NaN where not applicable):

=====================  =========  ===============================================================
variable               units      meaning
=====================  =========  ===============================================================
pattern                --         label: plane, source, sink, spiral_ccw, spiral_cw, saddle,
                                  synchronous, standing, superposed, none
direction_deg          deg        direction of travel, CCW from +x, in (-180, 180]
speed_mm_per_s         mm/s       phase speed omega / |k| (inf for synchronous)
wavelength_mm          mm         2 pi / |k| (inf for synchronous)
frequency_hz           Hz         temporal frequency
centre_x_mm            mm         centre of a source, sink, spiral or saddle (packet: envelope)
centre_y_mm            mm         same, y
=====================  =========  ===============================================================

Kinds with several waves add variables along their own dimension: ``component_*`` (superposed,
dispersive; dim ``component``) and ``wave_t0_s``, ``wave_direction_deg``,
``wave_speed_mm_per_s``, ``arrival_time_s`` (pulses; dims ``wave`` and ``("wave", "site")``).

Attributes: ``kind``, ``seed``, ``parameters`` (JSON string of every resolved parameter),
``snr_db`` (None without noise), ``noise``, ``layout``, ``conventions``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["TRUTH_VARIABLES", "PATTERNS", "truth_dataset", "local_truth", "parameters_of"]

#: variable -> (units, description)
TRUTH_VARIABLES: dict[str, tuple[str, str]] = {
    "pattern": ("", "pattern label (see docs/simulate.md)"),
    "direction_deg": ("deg", "direction of travel, counter-clockwise from +x, in (-180, 180]"),
    "speed_mm_per_s": ("mm/s", "phase speed omega/|k|"),
    "wavelength_mm": ("mm", "wavelength 2 pi/|k|"),
    "frequency_hz": ("Hz", "temporal frequency"),
    "centre_x_mm": ("mm", "x of the pattern's centre (source, sink, spiral, saddle, packet)"),
    "centre_y_mm": ("mm", "y of the pattern's centre"),
}

#: every pattern label a simulation can store
PATTERNS = ("plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle", "synchronous",
            "standing", "superposed", "none")  # fmt: skip


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def truth_dataset(
    time_s: Any,
    *,
    pattern: Any,
    direction_deg: Any = np.nan,
    speed_mm_per_s: Any = np.nan,
    wavelength_mm: Any = np.nan,
    frequency_hz: Any = np.nan,
    centre_x_mm: Any = np.nan,
    centre_y_mm: Any = np.nan,
    extra: dict[str, tuple[tuple[str, ...], Any, dict]] | None = None,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a ground-truth Dataset along ``time``; scalars are broadcast to every time step.

    Parameters
    ----------
    time_s : array_like
        Times of the samples in s (the activity's ``time`` coordinate).
    pattern : str or array_like of str
        Pattern label(s).
    direction_deg, speed_mm_per_s, wavelength_mm, frequency_hz, centre_x_mm, centre_y_mm :
        float or array_like
        Per-time truth (NaN where not applicable).
    extra : dict, optional
        More variables: ``name -> (dims, values, attrs)``.
    attrs : dict, optional
        Dataset attributes; a ``parameters`` dict is stored as a JSON string.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> ds = truth_dataset(np.arange(3) / 100, pattern="plane", direction_deg=90.0,
    ...                    attrs={"kind": "plane", "parameters": {"speed_mm_per_s": 300.0}})
    >>> ds.pattern.values.tolist(), ds.attrs["parameters"]
    (['plane', 'plane', 'plane'], '{"speed_mm_per_s": 300.0}')
    """
    t = np.asarray(time_s, dtype=np.float64)
    n = t.size
    values = {
        "direction_deg": direction_deg, "speed_mm_per_s": speed_mm_per_s,
        "wavelength_mm": wavelength_mm, "frequency_hz": frequency_hz,
        "centre_x_mm": centre_x_mm, "centre_y_mm": centre_y_mm,
    }  # fmt: skip
    pat = np.broadcast_to(np.asarray(pattern, dtype=str), (n,)).copy()
    data_vars: dict[str, Any] = {
        "pattern": ("time", pat, {"description": TRUTH_VARIABLES["pattern"][1]})
    }
    for name, v in values.items():
        arr = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()
        units, desc = TRUTH_VARIABLES[name]
        data_vars[name] = ("time", arr, {"units": units, "description": desc})
    for name, (dims, v, a) in (extra or {}).items():
        data_vars[name] = (dims, np.asarray(v), dict(a))
    out_attrs = dict(attrs or {})
    if isinstance(out_attrs.get("parameters"), dict):
        out_attrs["parameters"] = json.dumps(out_attrs["parameters"], default=_json_default)
    return xr.Dataset(data_vars, coords={"time": ("time", t, {"units": "s"})}, attrs=out_attrs)


def parameters_of(truth: xr.Dataset) -> dict[str, Any]:
    """The resolved simulation parameters stored in ``truth.attrs["parameters"]``.

    Examples
    --------
    >>> from wavekit.simulate import simulate
    >>> _, truth = simulate("target", duration_s=0.1)
    >>> p = parameters_of(truth)
    >>> p["mode"], p["centre_x_mm"], p["speed_mm_per_s"]
    ('source', 3.0, 300.0)
    """
    p = truth.attrs.get("parameters", "{}")
    return json.loads(p) if isinstance(p, str) else dict(p)


def _positions(activity: xr.DataArray | None, x_mm: Any, y_mm: Any) -> tuple[Any, Any, tuple]:
    if activity is not None:
        if "channel" in activity.dims:
            return activity["x"].values, activity["y"].values, ("channel",)
        yy, xx = np.meshgrid(activity["y"].values, activity["x"].values, indexing="ij")
        return xx, yy, ("y", "x")
    x = np.asarray(x_mm, dtype=np.float64)
    y = np.asarray(y_mm, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    return x, y, tuple(f"dim_{i}" for i in range(x.ndim))


def local_truth(
    truth: xr.Dataset,
    activity: xr.DataArray | None = None,
    *,
    x_mm: Any = None,
    y_mm: Any = None,
) -> xr.Dataset:
    r"""Exact local frequency, wave vector, direction, phase speed and wavelength of a simulation.

    From the stored parameters, the local temporal angular frequency and wave vector
    ``omega = d phi / dt``, ``k = -grad phi`` of the generated phase field are evaluated at every
    time step of ``truth`` and every electrode, then ``frequency_hz = omega / 2 pi``,
    ``direction_deg = atan2(k_y, k_x)``, ``speed_mm_per_s = omega / |k|``,
    ``wavelength_mm = 2 pi / |k|``. Defined for single-phase kinds (plane, target, spiral,
    saddle, synchronous, packet and sequences of them); NaN where the pattern is ``none``.

    Parameters
    ----------
    truth : xarray.Dataset
        Ground truth returned by :func:`wavekit.simulate.simulate` (or read back from a file).
    activity : xarray.DataArray, optional
        Electrode positions are taken from it (grid or irregular).
    x_mm, y_mm : array_like, optional
        Positions instead of ``activity``.

    Returns
    -------
    xarray.Dataset
        Variables ``frequency_hz``, ``direction_deg``, ``speed_mm_per_s``, ``wavelength_mm``,
        ``kx_rad_per_mm``, ``ky_rad_per_mm`` with dims ``("time", *space)``.

    Raises
    ------
    wavekit.errors.UsageError
        For kinds without a single local wave vector (standing, superposed, dispersive).

    Examples
    --------
    >>> from wavekit.simulate import simulate
    >>> act, truth = simulate("target", duration_s=0.1, mode="sink")
    >>> lt = local_truth(truth, act)
    >>> round(float(lt.speed_mm_per_s.isel(time=0, y=0, x=0)), 6)
    300.0
    """
    from ..errors import UsageError
    from . import _engine

    p = parameters_of(truth)
    kind = truth.attrs.get("kind")
    x, y, sdims = _positions(activity, x_mm, y_mm)
    t = truth["time"].values
    shape = (t.size, *np.shape(x))
    omega = np.full(shape, np.nan)
    kx = np.full(shape, np.nan)
    ky = np.full(shape, np.nan)
    if kind == "sequence":
        segments = [(e["kind"], e["parameters"], e["start_s"], e["stop_s"])
                    for e in p["episodes"]]  # fmt: skip
    else:
        segments = [(kind, p, -np.inf, np.inf)]
    for seg_kind, seg_p, start, stop in segments:
        fn = _engine.LOCAL.get(seg_kind)
        if fn is None:
            raise UsageError(
                f"kind {seg_kind!r} has no single local wave vector: local truth "
                "is defined for plane, target, spiral, saddle, synchronous, packet"
            )
        sel = (t >= start) & (t < stop)
        if not sel.any():
            continue
        tt = t[sel].reshape(-1, *([1] * np.ndim(x)))
        w, a, b = fn(tt, x, y, **seg_p)
        omega[sel], kx[sel], ky[sel] = w, a, b
    none = np.asarray(truth["pattern"].values == "none")
    omega[none], kx[none], ky[none] = np.nan, np.nan, np.nan
    from .waves import local_properties

    props = local_properties(omega, kx, ky)
    units = {
        "frequency_hz": "Hz",
        "direction_deg": "deg",
        "speed_mm_per_s": "mm/s",
        "wavelength_mm": "mm",
        "kx_rad_per_mm": "rad/mm",
        "ky_rad_per_mm": "rad/mm",
    }
    dims = ("time", *sdims)
    coords: dict[str, Any] = {"time": truth["time"]}
    if activity is not None:
        for c in ("x", "y", "channel"):
            if c in activity.coords:
                coords[c] = activity[c]
    return xr.Dataset(
        {k: (dims, v, {"units": units[k]}) for k, v in props.items()},
        coords=coords,
        attrs={"kind": kind},
    )
