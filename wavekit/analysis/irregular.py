"""Local phase gradients on irregular layouts from circular-linear plane fits over neighbours.

For every frame and channel a small circular-linear plane is fitted to the phases of the channel
and its neighbours (the same estimator as :func:`wavekit.analysis.planefit.plane_wave_fit`,
restricted to a neighbourhood), giving the local wave vector, direction of travel, wavelength and
phase speed. On regular grids neighbour differences (``wavekit.analysis.gradients``) are cheaper;
this module is for layouts where no such stencil exists, and also accepts grids.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from . import _kernels_fit as K
from .circstats import angle_deg
from .planefit import _as_channels, phasors

__all__ = ["local_wave_vectors", "neighbourhoods"]

_FIELDS = (
    "kx_rad_per_mm",
    "ky_rad_per_mm",
    "direction_deg",
    "spatial_frequency_rad_per_mm",
    "wavelength_mm",
    "frequency_hz",
    "speed_mm_per_s",
    "resultant_length",
)
_UNITS = ("rad/mm", "rad/mm", "deg", "rad/mm", "mm", "Hz", "mm/s", "1")


def neighbourhoods(x_mm, y_mm, *, n_neighbours: int = 8, radius_mm: float | None = None):
    """Index array (n_channel x m) of each channel's neighbourhood, itself first, -1 padded.

    ``radius_mm`` selects all channels within that distance; otherwise the ``n_neighbours``
    nearest.
    """
    from scipy.spatial import cKDTree

    pts = np.stack([np.asarray(x_mm, float).ravel(), np.asarray(y_mm, float).ravel()], 1)
    n = pts.shape[0]
    tree = cKDTree(pts)
    if radius_mm is None:
        k = min(n_neighbours + 1, n)
        return tree.query(pts, k=k)[1].reshape(n, k).astype(np.int64)
    nb = tree.query_ball_point(pts, r=float(radius_mm))
    m = max(len(v) for v in nb)
    out = np.full((n, m), -1, dtype=np.int64)
    for i, v in enumerate(nb):
        v = sorted(v, key=lambda j: (j != i, j))
        out[i, : len(v)] = v
    return out


def _block(c, s, w, f, *, x, y, nbr, max_iter, tol):
    lead = c.shape[:-1]
    n = c.shape[-1]
    c2 = np.ascontiguousarray(c.reshape(-1, n), dtype=np.float64)
    s2 = np.ascontiguousarray(s.reshape(-1, n), dtype=np.float64)
    w2 = np.ascontiguousarray(w.reshape(-1, n), dtype=np.float64)
    f2 = np.broadcast_to(f, (*lead, n)).reshape(-1, n)
    raw = K.local_fit(c2, s2, w2, x, y, nbr, max_iter, tol)
    kx, ky, r = raw[..., 0], raw[..., 1], raw[..., 2]
    kmag = np.hypot(kx, ky)
    sgn = np.where(f2 < 0, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wl = 2 * np.pi / kmag
        speed = 2 * np.pi * np.abs(f2) / kmag
    direction = np.where(np.isfinite(kx), angle_deg(sgn * ky, sgn * kx), np.nan)
    f2 = np.where(np.isfinite(kx), f2, np.nan)
    out = np.stack([kx, ky, direction, kmag, wl, f2, speed, r], axis=-1)
    return out.reshape(*lead, n, len(_FIELDS))


def local_wave_vectors(
    phase: xr.DataArray,
    *,
    n_neighbours: int = 8,
    radius_mm: float | None = None,
    frequency_hz: float | xr.DataArray | None = None,
    max_iter: int = 20,
) -> xr.Dataset:
    r"""Local wave vector, direction, wavelength and phase speed at every channel and frame.

    Parameters
    ----------
    phase : xarray.DataArray
        Complex analytic signal or phase (radians), dims ``(time, channel)`` with ``x``, ``y`` in
        mm, or ``(time, y, x)``; optionally after ``trial``. NumPy or dask (chunked along time).
        NaN samples are excluded from every neighbourhood they belong to.
    n_neighbours : int
        Neighbours per channel (besides itself) when ``radius_mm`` is not given.
    radius_mm : float, optional
        Use all channels within this distance instead (grids: ``1.5 * pitch`` is the 3 x 3
        neighbourhood).
    frequency_hz : float or DataArray, optional
        Temporal frequency for the speed: a scalar, or a DataArray with the dims of ``phase``
        (e.g. ``wavekit.analysis.instantaneous_frequency``). Default: each channel's
        instantaneous frequency,
        ``fs/(4 pi) arg(z_{t+1} conj z_{t-1})`` (one-sided at the ends); its sign sets the
        direction of travel.
    max_iter : int
        Newton iterations of each local fit.

    Returns
    -------
    xarray.Dataset
        With the dims of ``phase`` (grids keep ``y``, ``x``): ``kx_rad_per_mm``,
        ``ky_rad_per_mm``, ``direction_deg``, ``spatial_frequency_rad_per_mm``,
        ``wavelength_mm``, ``frequency_hz``, ``speed_mm_per_s``, ``resultant_length`` (local fit
        quality). NaN where the channel is missing or fewer than 3 valid channels (or collinear
        ones) form its neighbourhood.

    Notes
    -----
    Around channel :math:`c` with neighbourhood :math:`N(c)` the local model is
    :math:`\theta_j = \theta_c' - \mathbf k_c\cdot(\mathbf r_j - \mathbf r_c)`, fitted by
    maximising :math:`|\sum_{j\in N(c)} e^{i(\theta_j + \mathbf k\cdot(\mathbf r_j-\mathbf r_c))}|`
    (circular-linear regression, Zhang et al. 2018), started from the least-squares fit of the
    wrapped differences :math:`\arg(z_j \bar z_c)` (never a difference of unwrapped phases) and
    refined by Newton steps. The phase gradient is :math:`-\mathbf k`; the wave travels along
    :math:`\operatorname{sign}(\omega)\mathbf k` at :math:`|\omega|/|\mathbf k|`.
    Failure modes: wavelengths shorter than twice the neighbour spacing alias; at sources,
    sinks and phase singularities the local plane model fails (low ``resultant_length``, extreme
    speeds); a single channel's instantaneous frequency is noisy, so speeds are noisier than
    directions (pass ``frequency_hz`` when the band is narrow).

    References
    ----------
    Zhang H, Watrous AJ, Patel A, Jacobs J (2018) Neuron 98:1269. doi:10.1016/j.neuron.2018.05.019

    Rubino D, Robbins KA, Hatsopoulos NG (2006) Propagating waves mediate information transfer
    in the motor cortex. Nat Neurosci 9:1549. doi:10.1038/nn1802

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.uniform(0, 4, 40), rng.uniform(0, 4, 40)
    >>> t = np.arange(50)[:, None] / 1000.0
    >>> z = np.exp(1j * (2 * np.pi * 20 * t - 0.5 * x + 0.5 * y))       # k = (0.5, -0.5) rad/mm
    >>> lw = local_wave_vectors(irregular_activity(z, fs_hz=1e3, x_mm=x, y_mm=y).rename("phase"))
    >>> round(float(lw.direction_deg.median()), 3), round(float(lw.speed_mm_per_s.median()), 2)
    (-45.0, 177.72)
    """
    if n_neighbours < 2 and radius_mm is None:
        raise UsageError("n_neighbours must be >= 2")
    grid = "channel" not in phase.dims
    c, s, w = phasors(phase)
    fs = float(phase.attrs.get("fs_hz", np.nan))
    x = np.asarray(c["x"].values, float)
    y = np.asarray(c["y"].values, float)
    if grid and radius_mm is None:
        from scipy.spatial import cKDTree

        pts = np.stack([x, y], 1)
        radius_mm = 1.5 * float(np.median(cKDTree(pts).query(pts, k=2)[0][:, 1]))
    nbr = neighbourhoods(x, y, n_neighbours=n_neighbours, radius_mm=radius_mm)
    if c.chunks is not None:
        c, s, w = (a.chunk({"channel": -1}) for a in (c, s, w))
    if frequency_hz is None:
        z = (c + 1j * s) * w
        z = xr.where(w > 0, z, np.nan)
        inc = z.shift(time=-1) * np.conj(z.shift(time=1))
        fwd = z.shift(time=-1) * np.conj(z) * 1.0
        bwd = z * np.conj(z.shift(time=1))
        ang = np.angle(inc) / 2
        ang = xr.where(inc.notnull(), ang, xr.where(fwd.notnull(), np.angle(fwd), np.angle(bwd)))
        freq = ang * (fs / (2 * np.pi))
    elif np.isscalar(frequency_hz):
        freq = xr.full_like(c, float(frequency_hz))
    else:  # per channel and frame, e.g. wavekit.analysis.instantaneous_frequency
        freq = _as_channels(frequency_hz).drop_vars(["x", "y"], errors="ignore")
        freq = freq.assign_coords(channel=c["channel"]).broadcast_like(c)
        if c.chunks is not None:
            freq = freq.chunk(c.chunksizes)
    out = xr.apply_ufunc(
        _block,
        c,
        s,
        w,
        freq,
        input_core_dims=[["channel"]] * 4,
        output_core_dims=[["channel", "param"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"param": len(_FIELDS)}},
        kwargs=dict(x=x, y=y, nbr=nbr, max_iter=int(max_iter), tol=1e-9),
    )
    ds = xr.Dataset()
    for i, (name, unit) in enumerate(zip(_FIELDS, _UNITS, strict=True)):
        v = out.isel(param=i, drop=True)
        if grid:
            v = v.drop_vars(["x", "y"]).assign_coords(
                channel=("channel", np.arange(v.sizes["channel"]))
            )
            v = v.coarsen(channel=phase.sizes["x"]).construct(channel=("y", "x"))
            v = v.drop_vars("channel").assign_coords(y=phase["y"], x=phase["x"])
        v.attrs = {"units": unit}
        ds[name] = v
    ds["direction_deg"].attrs["long_name"] = "local direction of travel, CCW from +x"
    ds["speed_mm_per_s"].attrs["long_name"] = "local phase speed 2 pi |f| / |k|"
    ds["resultant_length"].attrs["long_name"] = "mean resultant length of the local fit"
    ds.attrs = {
        "method": "local circular-linear plane fits over neighbours",
        "neighbourhood": f"radius {radius_mm} mm" if radius_mm else f"{n_neighbours} nearest",
    }
    return ds
