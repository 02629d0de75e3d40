"""``fields.h5`` (``wavekit analyze --fields``): the phase, wave vector and velocity at every
site and frame, streamed chunk by chunk; and the short clip a movie is drawn from (``--movie``).

Layout (format version 1), in the style of wavekit's activity files (``docs/format.md``)::

    /                     attrs: wavekit_format = "wavekit.fields", format_version = 1,
                                 wavekit_version, layout ("grid" | "irregular"), fs_hz,
                                 band_hz, phase_method, convention
    /phase                float32, dims (time, y, x) or (time, channel), rad in [-pi, pi]
    /kx_rad_per_mm        float32, wave vector k = -grad(phase), x component
    /ky_rad_per_mm        float32, y component
    /frequency_hz         float32, instantaneous frequency (sign: direction of phase rotation)
    /vx_mm_per_s          float32, local phase velocity v = 2 pi f k / |k|^2, x component
    /vy_mm_per_s          float32, y component
    /flow_x, /flow_y      float32, (time, y, x): optical flow of the phase, nominal mm/s, NOT
                          speeds; only when the ``flow`` stage ran (grids)
    /coords/<name>        time (s); y, x (mm) for grids; channel, x, y (mm) for irregular layouts

Every dataset has the attributes ``dims`` (``"time,y,x"`` ...), ``units`` and ``long_name``, is
chunked as whole frames times a run of time steps (about 1 MiB per chunk) and compressed
(gzip 4 + shuffle). ``|v|`` is the local phase speed and ``v`` points in the direction of
travel (``sign(f) k``): the quantities behind the per-frame ``direction_deg`` and
``speed_mm_per_s`` of ``frames.h5``. NaN where a site is missing or its gradient undefined.

The file is filled while the recording is processed chunk by chunk (each chunk's core frames
into datasets allocated for the whole recording), so memory does not grow with the recording's
length; it is written under a temporary name in the output folder and renamed to ``fields.h5``
only when the whole analysis has succeeded.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InputError
from ..model import layout

FORMAT_NAME = "wavekit.fields"
FORMAT_VERSION = 1

#: variable -> (units, long_name), in file order
FIELD_VARS = {
    "phase": ("rad", "phase of the analytic signal"),
    "kx_rad_per_mm": ("rad/mm", "wave vector k = -grad(phase), x component"),
    "ky_rad_per_mm": ("rad/mm", "wave vector k = -grad(phase), y component"),
    "frequency_hz": ("Hz", "instantaneous frequency"),
    "vx_mm_per_s": ("mm/s", "local phase velocity 2 pi f k / |k|^2, x component"),
    "vy_mm_per_s": ("mm/s", "local phase velocity 2 pi f k / |k|^2, y component"),
}
#: written only when the ``flow`` stage ran (:mod:`wavekit.pipeline.phaseflow`): variable ->
#: (units, long_name)
FLOW_VARS = {
    "flow_x": ("mm/s", "optical flow of the phase, x component (nominal mm/s, not a speed)"),
    "flow_y": ("mm/s", "optical flow of the phase, y component (nominal mm/s, not a speed)"),
}
FLOW_CAUTION = (
    "not a speed: the magnitude depends on the smoothness weight alpha; use the direction and "
    "topology, take speeds from the phase"
)
CONVENTION = (
    "k = -grad(phase); the wave travels along sign(f) k at the phase speed |v| = 2 pi |f| / |k|"
)


def compute_fields(z: xr.DataArray, gradients: xr.Dataset) -> xr.Dataset:
    """The fields of a complex signal and its local gradients, as float32.

    Parameters
    ----------
    z : xarray.DataArray
        Complex analytic signal, dims ``(time, y, x)`` or ``(time, channel)``.
    gradients : xarray.Dataset
        :func:`wavekit.pipeline.frames.local_gradients` of ``z`` (``kx_rad_per_mm``,
        ``ky_rad_per_mm``, ``frequency_hz``), or the same frames of it.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`FIELD_VARS` with the dims and coordinates of ``z``.
    """
    z = z.transpose("time", ...)
    space = z.dims[1:]
    kx = gradients["kx_rad_per_mm"].transpose("time", *space).values.astype(np.float64)
    ky = gradients["ky_rad_per_mm"].transpose("time", *space).values.astype(np.float64)
    f = gradients["frequency_hz"].transpose("time", *space).values.astype(np.float64)
    k2 = kx * kx + ky * ky
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(k2 > 0, 2 * np.pi * f / k2, np.nan)
    values = {
        "phase": np.angle(z.values),
        "kx_rad_per_mm": kx,
        "ky_rad_per_mm": ky,
        "frequency_hz": f,
        "vx_mm_per_s": scale * kx,
        "vy_mm_per_s": scale * ky,
    }
    ds = xr.Dataset(coords=z.coords)
    for name, (units, long_name) in FIELD_VARS.items():
        attrs = {"units": units, "long_name": long_name}
        ds[name] = (z.dims, values[name].astype(np.float32), attrs)
    return ds


def _comp() -> dict[str, Any]:
    return {"compression": "gzip", "compression_opts": 4, "shuffle": True}


class FieldsFile:
    """``fields.h5`` being written: datasets for the whole recording, filled by time range.

    Parameters
    ----------
    path : path-like
        File to create (the caller renames it into place when everything succeeded).
    coords : xarray.Coordinates
        Coordinates of the whole recording (``time`` and the spatial ones).
    dims : tuple of str
        ``("time", "y", "x")`` or ``("time", "channel")``.
    attrs : dict
        Root attributes (``fs_hz``, ``band_hz``, ``phase_method``, ...).
    flow : bool
        Also hold the phase flow (:data:`FLOW_VARS`; the ``flow`` stage ran).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        coords: Any,
        dims: tuple[str, ...],
        attrs: dict,
        *,
        flow: bool = False,
    ):
        import h5py

        from .._version import __version__
        from ..io.native import _time_chunks, _write_array, _write_attrs

        self.path = Path(path)
        self.dims = tuple(dims)
        self.names = {**FIELD_VARS, **(FLOW_VARS if flow else {})}
        shape = tuple(len(coords[d]) for d in dims)
        self._f = h5py.File(self.path, "w", track_order=True)
        try:
            f = self._f
            f.attrs["wavekit_format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["wavekit_version"] = __version__
            _write_attrs(f, {**attrs, "convention": CONVENTION})
            chunks = _time_chunks(shape, 4, 0)
            for name, (units, long_name) in self.names.items():
                ds = f.create_dataset(
                    name, shape=shape, dtype=np.float32, chunks=chunks, fillvalue=np.nan, **_comp()
                )
                ds.attrs["dims"] = ",".join(self.dims)
                ds.attrs["units"] = units
                ds.attrs["long_name"] = long_name
                if name in FLOW_VARS:
                    ds.attrs["caution"] = FLOW_CAUTION
            cg = f.create_group("coords", track_order=True)
            for name, coord in coords.items():
                _write_array(cg, str(name), coord.variable)
        except BaseException:
            self.close()
            raise

    def write(self, start: int, fields: xr.Dataset) -> None:
        """Store ``fields`` (from :func:`compute_fields`, with the flow when the file holds it)
        at time index ``start``."""
        n = fields.sizes["time"]
        for name in self.names:
            self._f[name][start : start + n] = fields[name].transpose(*self.dims).values

    def close(self) -> None:
        if self._f.id.valid:
            self._f.close()


class FieldsSink:
    """Collects each chunk's fields during :func:`wavekit.pipeline.analyze.analyze`: streamed
    into a :class:`FieldsFile` at ``path``, or kept in memory when ``path`` is None; with
    ``flow``, the phase flow of every chunk too (:data:`FLOW_VARS`)."""

    def __init__(
        self,
        activity: xr.DataArray,
        attrs: dict,
        path: str | os.PathLike | None,
        *,
        flow: bool = False,
    ):
        space = ("y", "x") if layout(activity) == "grid" else ("channel",)
        self.dims = ("time", *space)
        self.attrs = attrs
        self.flow = flow
        self.parts: list[xr.Dataset] = []
        self.file = None
        if path is not None:
            coords = activity.transpose(*self.dims).coords
            self.file = FieldsFile(path, coords, self.dims, attrs, flow=flow)

    def add(
        self,
        start: int,
        z: xr.DataArray,
        gradients: xr.Dataset,
        flow: xr.Dataset | None = None,
    ) -> None:
        """The fields of the frames ``z`` (the core of one chunk), starting at ``start``;
        ``flow`` (``flow_x``, ``flow_y`` of the same frames) when the sink holds the flow."""
        fields = compute_fields(z.transpose(*self.dims), gradients)
        if self.flow:
            if flow is None:
                raise ValueError("this fields sink holds the phase flow: pass flow=")
            for name, (units, long_name) in FLOW_VARS.items():
                values = flow[name].transpose(*self.dims).values.astype(np.float32)
                attrs = {"units": units, "long_name": long_name, "caution": FLOW_CAUTION}
                fields[name] = (self.dims, values, attrs)
        if self.file is not None:
            self.file.write(start, fields)
        else:
            self.parts.append(fields)

    def finish(self) -> tuple[Path | None, xr.Dataset | None]:
        """Close the file (return its path) or return the in-memory Dataset."""
        if self.file is not None:
            self.file.close()
            return self.file.path, None
        ds = xr.concat(self.parts, dim="time") if len(self.parts) > 1 else self.parts[0]
        ds.attrs = {**self.attrs, "convention": CONVENTION}
        return None, ds


def fields_attrs(activity: xr.DataArray, band: tuple[float, float], method: str) -> dict:
    return {
        "layout": layout(activity),
        "fs_hz": float(activity.attrs["fs_hz"]),
        "band_hz": [float(band[0]), float(band[1])],
        "phase_method": method,
    }


def write_fields(path: str | os.PathLike, fields: xr.Dataset) -> Path:
    """Write an in-memory fields Dataset (from ``Results.fields``) to ``path`` atomically."""
    from .outputs import atomic_path

    dims = fields["phase"].dims
    attrs = {k: v for k, v in fields.attrs.items() if k != "convention"}
    flow = all(name in fields for name in FLOW_VARS)
    with atomic_path(path) as tmp:
        out = FieldsFile(tmp, fields.coords, dims, attrs, flow=flow)
        try:
            out.write(0, fields)
        finally:
            out.close()
    return Path(path)


def read_fields(
    path: str | os.PathLike, *, time_s: tuple[float, float] | None = None
) -> xr.Dataset:
    """Read ``fields.h5`` (or the window ``time_s = (t0, t1)`` of it, in s) as a Dataset.

    Parameters
    ----------
    path : path-like
        A ``fields.h5`` written by ``wavekit analyze --fields``.
    time_s : (float, float), optional
        Read only the frames with ``t0 <= time <= t1`` (the file is never read whole then).

    Returns
    -------
    xarray.Dataset
        ``phase``, ``kx_rad_per_mm``, ``ky_rad_per_mm``, ``frequency_hz``, ``vx_mm_per_s``,
        ``vy_mm_per_s`` with dims ``(time, y, x)`` or ``(time, channel)`` and their coordinates,
        and ``flow_x``, ``flow_y`` (the optical flow of the phase: nominal mm/s, not speeds)
        when the ``flow`` stage ran; the file's attributes.

    Raises
    ------
    InputError
        The file is missing, not a wavekit fields file, or from a newer wavekit.
    """
    import h5py

    from ..io.native import _decode, _read_array, _read_attrs

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, f"cannot read fields ({exc})") from None
    with f:
        if str(_decode(f.attrs.get("wavekit_format", ""))) != FORMAT_NAME:
            raise InputError(path, "not a wavekit fields file (analyze --fields writes one)")
        if int(f.attrs.get("format_version", 0)) > FORMAT_VERSION:
            raise InputError(path, "written by a newer wavekit: upgrade wavekit")
        coords = {}
        for name, obj in f["coords"].items():
            cdims, values, cattrs = _read_array(obj)
            coords[name] = xr.Variable(cdims, values, attrs=cattrs)
        sel = slice(None)
        if time_s is not None:
            t = coords["time"].values
            i0, i1 = np.searchsorted(t, time_s[0], "left"), np.searchsorted(t, time_s[1], "right")
            sel = slice(int(i0), int(i1))
            coords["time"] = coords["time"][sel]
        data = {}
        for name in (*FIELD_VARS, *(k for k in FLOW_VARS if k in f)):
            ds = f[name]
            dims = tuple(str(_decode(ds.attrs["dims"])).split(","))
            data[name] = xr.Variable(dims, ds[sel], attrs=_read_attrs(ds, skip=("dims",)))
        attrs = _read_attrs(f)
    return xr.Dataset(data, coords=coords, attrs=attrs)


#: a movie shows at most this many frames, of at most this many seconds of the recording, and
#: at least this many frames per period of the band's centre frequency (so the wave does not
#: alias into a jump back and forth)
MOVIE_MAX_FRAMES = 200
MOVIE_MAX_S = 10.0
MOVIE_FRAMES_PER_PERIOD = 8


def movie_window(
    frames: xr.Dataset, events: xr.Dataset | None, band: tuple[float, float], fs_hz: float
) -> tuple[int, int, int, str]:
    """Sample range ``[start, stop)``, frame step and the reason for the movie's stretch.

    The stretch is centred on the strongest event (largest mass above the threshold), or starts
    at the first frame clear of the record's edges when there is none; it never includes edge
    frames when the record has enough others.
    """
    from .frames import band_centre

    n = frames.sizes["time"]
    step = max(1, int(fs_hz / (MOVIE_FRAMES_PER_PERIOD * band_centre(band))))
    length = min(n, int(MOVIE_MAX_S * fs_hz), MOVIE_MAX_FRAMES * step)
    lo, hi = 0, n
    if "edge" in frames and not frames["edge"].values.all():
        inner = np.flatnonzero(~frames["edge"].values.astype(bool))
        lo, hi = int(inner[0]), int(inner[-1]) + 1
    length = max(1, min(length, hi - lo))
    reason = "start of the recording: no wave events"
    start = lo
    if events is not None and events.sizes.get("event", 0) > 0:
        key = "mass" if "mass" in events else "peak_measure" if "peak_measure" in events else None
        score = events[key].values if key else events["end_s"].values - events["start_s"].values
        i = int(np.nanargmax(np.where(np.isfinite(score), score, -np.inf)))
        t = frames["time"].values
        mid = 0.5 * (float(events["start_s"].values[i]) + float(events["end_s"].values[i]))
        start = int(np.searchsorted(t, mid)) - length // 2
        reason = f"around event {i}, the strongest by {key or 'duration'}"  # i: its report id
    start = int(min(max(start, lo), hi - length))
    return start, start + length, step, reason


def movie_clip(
    activity: xr.DataArray,
    frames: xr.Dataset,
    events: xr.Dataset | None,
    cfg: Any,
    band: tuple[float, float],
) -> xr.Dataset:
    """The frames a movie shows: phase and velocity (as in ``fields.h5``) of a short stretch
    (:func:`movie_window`), read again from the recording with the chunks' margins."""
    from .frames import complex_signal, local_gradients, margin_s, preprocess

    fs = float(activity.attrs["fs_hz"])
    n = activity.sizes["time"]
    s0, s1, step, reason = movie_window(frames, events, band, fs)
    m = int(math.ceil(margin_s(band) * fs))
    r0, r1 = max(0, s0 - m), min(n, s1 + m)
    part = activity.isel(time=slice(r0, r1))
    if hasattr(part.data, "compute"):
        part = part.compute()
    z = complex_signal(
        preprocess(part, cfg), band_hz=band, method=cfg.phase, morlet_cycles=cfg.morlet_cycles
    ).isel(time=slice(s0 - r0, s1 - r0))
    clip = compute_fields(z, local_gradients(z)).isel(time=slice(None, None, step))
    clip = clip[["phase", "vx_mm_per_s", "vy_mm_per_s"]]
    clip.attrs = {
        "layout": layout(activity),
        "fs_hz": fs,
        "frame_step": step,
        "window": reason,
        "band_hz": [float(band[0]), float(band[1])],
    }
    return clip
