r"""Optical flow of the phase (and of the amplitude) on grids: Horn-Schunck with Charbonnier
penalties, phase-aware derivatives, warm-started from frame to frame.

**Flow magnitudes are not speeds.** The flow is the field that best explains the frame-to-frame
change of the phase *and* is smooth; its magnitude shrinks as the smoothness weight ``alpha``
grows and depends on the array's pitch and the frame rate. Use the flow for direction and
topology (plane, source, sink, spiral, saddle, critical points); take speeds from the phase
(``w / |k|``, :func:`wavekit.analysis.gradients.phase_gradients`) or from fits. The outputs are
therefore named ``flow_x``, ``flow_y`` (not ``*_speed``); their nominal unit is mm/s (pixels
per frame times pitch times frame rate).

Sign convention: the phase flow follows the lines of constant phase, so it points in the
direction of travel: along ``+k`` for a wave ``cos(w t - k.r)`` with ``w > 0`` (and along
``-k`` when ``w < 0``, where the SPEC's direction of travel is ``sign(w) k`` too). Sources
(waves leaving a point) have a diverging flow, sinks a converging one.

References
----------
Horn B. K. P., Schunck B. G. (1981) Determining optical flow. Artif. Intell. 17:185-203.
doi:10.1016/0004-3702(81)90024-2

Brox T., Bruhn A., Papenberg N., Weickert J. (2004) High accuracy optical flow estimation based
on a theory for warping. ECCV 2004, LNCS 3024:25-36. doi:10.1007/978-3-540-24673-2_3

Townsend R. G., Gong P. (2018) Detection and analysis of spatiotemporal patterns in brain
activity. PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from . import _kernels_flow as kf

__all__ = ["amplitude_flow", "normal_flow", "phase_flow"]


def _check(signal: xr.DataArray, what: str) -> xr.DataArray:
    for d in ("time", "y", "x"):
        if d not in signal.dims:
            raise UsageError(f"{what} needs dims (time, y, x), got {signal.dims}")
    if signal.sizes["time"] < 2:
        raise UsageError(f"{what} needs at least 2 frames")
    sig = signal.transpose(..., "time", "y", "x")
    if sig.chunks is not None:  # the solver runs through time: one chunk per trial
        sig = sig.chunk({"time": -1, "y": -1, "x": -1})
    return sig


def _fs(signal: xr.DataArray) -> float:
    fs = signal.attrs.get("fs_hz")
    if fs is None and "time" in signal.coords and signal.sizes["time"] > 1:
        fs = 1.0 / float(np.median(np.diff(signal["time"].values)))
    if fs is None:
        raise UsageError("optical flow needs attribute fs_hz or a time coordinate")
    return float(fs)


def _pitch(c: np.ndarray) -> float:
    return float(np.median(np.diff(c))) if c.size > 1 else 1.0


def phase_derivatives(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase derivatives (rad per pixel, rad per frame) of complex ``z`` (nt, ny, nx).

    Spatial: angles of complex products of neighbours (central, one-sided at edges and next to
    NaN); temporal: ``angle(z[t+1] conj z[t-1]) / 2`` (one-sided at the ends). Computed by the
    compiled kernels of :mod:`wavekit.analysis._kernels_grid` (the same neighbour rule as
    :func:`wavekit.analysis.vectorfield.phase_diff_ref`; polynomial ``atan2``, error < 4e-8 rad).
    """
    from . import _kernels_grid as kg

    a = np.ascontiguousarray(z, dtype=np.complex128)
    nt, ny, nx = a.shape
    gx, gy = kg.spatial_gradient(
        a, np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64)
    )
    gt = kg.time_derivative(a, 1.0)
    return gx, gy, gt


def _finish(sig, u, v, n_iter, *, alpha, beta, kind, fs):
    x = np.asarray(sig["x"].values, dtype=np.float64)
    y = np.asarray(sig["y"].values, dtype=np.float64)
    sx, sy = _pitch(x) * fs, _pitch(y) * fs
    caution = (
        "not a speed: the magnitude depends on the smoothness weight alpha; use the direction "
        "and topology, take speeds from the phase (w/|k|)"
    )
    dims = sig.dims
    ds = xr.Dataset(
        {
            "flow_x": (
                dims,
                u * sx,
                {"units": "mm/s", "long_name": f"{kind} optical flow, x", "caution": caution},
            ),
            "flow_y": (
                dims,
                v * sy,
                {"units": "mm/s", "long_name": f"{kind} optical flow, y", "caution": caution},
            ),
            "n_iterations": (dims[:-2], n_iter, {"long_name": "solver sweeps"}),
        },
        coords=sig.coords,
        attrs={
            "method": "Horn-Schunck with Charbonnier penalties (Townsend & Gong 2018)",
            "alpha": alpha,
            "beta": beta,
            "flow_of": kind,
            "fs_hz": fs,
            "caution": caution,
        },
    )
    return ds


def _run(sig, block, kwargs):
    """``block`` over the (time, y, x) cores of ``sig`` (dims ``(..., time, y, x)``): directly
    on a NumPy-backed array, through :func:`xarray.apply_ufunc` (one task per chunk of the
    leading dims) on a dask-backed one."""
    if sig.chunks is None:
        return block(sig.values, **kwargs)
    u, v, n = xr.apply_ufunc(
        block,
        sig,
        kwargs=kwargs,
        input_core_dims=[["time", "y", "x"]],
        output_core_dims=[["time", "y", "x"], ["time", "y", "x"], ["time"]],
        dask="parallelized",
        output_dtypes=[np.float64, np.float64, np.int64],
    )
    return u.transpose(*sig.dims).data, v.transpose(*sig.dims).data, n.data


def _per_trial(block3):
    """Apply ``block3`` (one (T, Y, X) array -> u, v, n) over any leading dims."""

    def block(a, **kw):
        lead = a.shape[:-3]
        a3 = a.reshape((-1,) + a.shape[-3:])
        outs = [block3(a3[i], **kw) for i in range(a3.shape[0])]
        u = np.stack([o[0] for o in outs]).reshape(a.shape)
        v = np.stack([o[1] for o in outs]).reshape(a.shape)
        n = np.stack([o[2] for o in outs]).reshape(lead + a.shape[-3:-2])
        return u, v, n

    return block


def _phase_block3(z, *, alpha, beta, max_iter, tol, max_iter_warm, start):
    if not np.iscomplexobj(z):  # exp(i z), twice as fast as np.exp(1j * z), same values
        ph = np.asarray(z, dtype=np.float64)
        z = np.empty(ph.shape, dtype=np.complex128)
        np.cos(ph, out=z.real)
        np.sin(ph, out=z.imag)
    ix, iy, it = phase_derivatives(z)
    u, v, n_iter = _solve(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm, start)
    bad = ~np.isfinite(z)
    u[bad] = np.nan
    v[bad] = np.nan
    return u, v, n_iter


def _amplitude_block3(a, *, alpha, beta, max_iter, tol, scale, max_iter_warm, start):
    from .vectorfield import diff_ref

    a = np.asarray(a, dtype=np.float64) / scale
    nt, ny, nx = a.shape
    ix = diff_ref(a, np.arange(nx, dtype=np.float64), -1)
    iy = diff_ref(a, np.arange(ny, dtype=np.float64), -2)
    it = diff_ref(a, np.arange(nt, dtype=np.float64), 0)
    u, v, n_iter = _solve(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm, start)
    bad = ~np.isfinite(a)
    u[bad] = np.nan
    v[bad] = np.nan
    return u, v, n_iter


def _kernel(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm, u0, v0):
    nt = ix.shape[0]
    u = np.empty(ix.shape)
    v = np.empty(ix.shape)
    n_iter = np.zeros(nt, dtype=np.int64)
    kf.hs_charbonnier_nb(
        np.ascontiguousarray(ix, dtype=np.float64),
        np.ascontiguousarray(iy, dtype=np.float64),
        np.ascontiguousarray(it, dtype=np.float64),
        float(alpha),
        float(beta),
        int(max_iter),
        float(tol),
        u,
        v,
        n_iter,
        int(max_iter_warm),
        np.ascontiguousarray(u0, dtype=np.float64),
        np.ascontiguousarray(v0, dtype=np.float64),
    )
    return u, v, n_iter


def normal_flow(ix: np.ndarray, iy: np.ndarray, it: np.ndarray, rel_eps: float = 0.5):
    r"""Regularised normal flow of one frame's derivatives (ny, nx), pixels per frame:

    .. math:: (u, v) = -\frac{I_t\, (I_x, I_y)}{I_x^2 + I_y^2 + \epsilon^2},
              \qquad \epsilon = \text{rel\_eps} \cdot \operatorname{median} |\nabla I|,

    the smallest flow that satisfies the data constraint at each pixel, damped where the
    gradient is weak (``epsilon`` scales with the frame's own gradients, so the start does not
    depend on the wavelength in pixels); zero where a derivative is NaN. For a plane wave it is
    the phase velocity (shrunk by ``1 / (1 + rel_eps^2)``, which the sweeps remove). It is the
    solver's starting point for the first frame: starting from zero flow, Horn-Schunck sweeps
    grow the magnitude only slowly (about 10 % of the truth after 20 sweeps, 500 sweeps to
    converge on a 64 x 64 grid), whereas from the normal flow 50 sweeps give the same
    directions and magnitudes (``docs/performance.md``).

    Examples
    --------
    >>> import numpy as np
    >>> ix, iy, it = np.full((3, 4), -0.5), np.zeros((3, 4)), np.full((3, 4), 0.2)
    >>> u, v = normal_flow(ix, iy, it)   # truth 0.4 pixel/frame along +x, shrunk by 1.25
    >>> round(float(u[0, 0]), 6), abs(float(v[0, 0]))
    (0.32, 0.0)
    """
    g2 = ix * ix + iy * iy
    ok = np.isfinite(g2) & np.isfinite(it)
    if not ok.any():
        return np.zeros(ix.shape), np.zeros(ix.shape)
    eps2 = (rel_eps * float(np.median(np.sqrt(g2[ok])))) ** 2
    den = g2 + eps2
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(ok & (den > 0), -it * ix / den, 0.0)
        v = np.where(ok & (den > 0), -it * iy / den, 0.0)
    return u, v


def _start(start: str) -> str:
    if start not in ("normal", "zero"):
        raise UsageError(f"start must be 'normal' or 'zero', got {start!r}")
    return start


def _solve(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm=-1, start="normal"):
    warm = int(-1 if max_iter_warm is None else max_iter_warm)
    if start == "normal":
        u0, v0 = normal_flow(ix[0], iy[0], it[0])
    else:
        u0, v0 = np.zeros(ix.shape[1:]), np.zeros(ix.shape[1:])
    return _kernel(ix, iy, it, alpha, beta, max_iter, tol, warm, u0, v0)


def phase_flow(
    signal: xr.DataArray,
    *,
    alpha: float = 0.5,
    beta: float = 0.01,
    max_iter: int = 50,
    tol: float = 1e-4,
    max_iter_warm: int | None = 20,
    start: str = "normal",
) -> xr.Dataset:
    r"""Optical flow of the phase of a grid recording (Townsend & Gong 2018).

    Parameters
    ----------
    signal : xarray.DataArray
        Complex signal or phase (radians), dims ``(..., time, y, x)`` (for example a leading
        ``trial``), coordinates in mm, attribute ``fs_hz`` (or a time coordinate). Dask-backed
        arrays are processed one trial (chunk of the leading dims) at a time, in parallel.
    alpha : float
        Smoothness weight (dimensionless: the solver works in pixels and frames, where phase
        derivatives are of order 1). Larger: smoother, smaller flow.
    beta : float
        Charbonnier parameter of both penalties (rad per frame); small values approach an L1
        penalty (robust to outliers), large values a quadratic one (classic Horn-Schunck).
    max_iter, tol : int, float
        Sweeps for the first frame at most; stop when the largest change is below ``tol``
        pixels/frame.
    max_iter_warm : int or None
        Sweeps at most for every later frame, which starts from the previous frame's flow
        (``None``: ``max_iter``). On noisy phase, reaching ``tol`` takes hundreds of sweeps per
        frame; with the default budget of 20 a sequence runs about 15 times faster, with
        directions at least as close to the truth on plane and spiral waves
        (``docs/performance.md``).
    start : {"normal", "zero"}
        Where the first frame starts: the regularised normal flow of its derivatives
        (:func:`normal_flow`; 50 sweeps then give converged magnitudes and directions on plane
        and spiral waves) or zero flow (classic; needs about 500 sweeps on a 64 x 64 grid:
        pass ``max_iter=500``, or more to converge on noisy phase).

    Returns
    -------
    xarray.Dataset
        ``flow_x``, ``flow_y`` (dims of ``signal``; nominal mm/s, **not speeds**),
        ``n_iterations`` per frame. NaN where the phase is NaN.

    Notes
    -----
    The brightness-constancy constraint for the phase, ``d phi / dt = 0`` along the flow, reads

    .. math:: \partial_x\phi\, u + \partial_y\phi\, v + \partial_t\phi = 0,

    with all three derivatives taken as angles of complex products (no unwrapping):
    ``d_x phi = angle(z_{i,j+1} conj z_{i,j-1}) / 2`` per pixel and
    ``d_t phi = angle(z_{t+1} conj z_{t-1}) / 2`` per frame. The flow minimises the
    Charbonnier-penalised energy of :mod:`wavekit.analysis._kernels_flow` by lagged-diffusivity
    red-black Gauss-Seidel sweeps, the first frame starting from the regularised normal flow
    and frame ``t`` from frame ``t - 1``. For a plane wave
    the exact solution is the phase velocity ``w k / |k|^2`` (uniform, so the smoothness term
    vanishes); for curved waves the flow is shrunk and smoothed, which is why magnitudes are not
    speeds. The constraint fixes only the component along the phase gradient (aperture
    problem); the smoothness term fills in the rest.

    References
    ----------
    Townsend R. G., Gong P. (2018) PLoS Comput. Biol. 14:e1006643.
    doi:10.1371/journal.pcbi.1006643

    Horn B. K. P., Schunck B. G. (1981) Artif. Intell. 17:185-203.
    doi:10.1016/0004-3702(81)90024-2

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(10)[:, None, None] / 100.0
    >>> x = np.arange(8) * 0.5
    >>> ph = 2 * np.pi * 10 * t - 1.0 * x[None, None, :] + 0 * x[None, :, None]
    >>> da = xr.DataArray(ph, dims=("time", "y", "x"), coords={"x": x, "y": x},
    ...                   attrs={"fs_hz": 100.0})
    >>> f = phase_flow(da)
    >>> round(float(f.flow_x[5].median())), round(float(f.flow_y[5].median()))   # w / k mm/s
    (63, 0)
    """
    sig = _check(signal, "phase_flow")
    fs = _fs(signal)
    kw = dict(
        alpha=float(alpha),
        beta=float(beta),
        max_iter=int(max_iter),
        tol=float(tol),
        max_iter_warm=max_iter_warm,
        start=_start(start),
    )
    u, v, n_iter = _run(sig, _per_trial(_phase_block3), kw)
    return _finish(sig, u, v, n_iter, alpha=alpha, beta=beta, kind="phase", fs=fs)


def amplitude_flow(
    amplitude: xr.DataArray,
    *,
    alpha: float = 0.5,
    beta: float = 0.01,
    max_iter: int = 50,
    tol: float = 1e-4,
    max_iter_warm: int | None = 20,
    start: str = "normal",
) -> xr.Dataset:
    r"""Optical flow of a real field (amplitude envelope, or activity) on a grid.

    Parameters
    ----------
    amplitude : xarray.DataArray
        Real, dims ``(..., time, y, x)``, coordinates in mm. It is divided by its median absolute
        value (over all finite samples) so that ``alpha`` has the same meaning as for the phase.
    alpha, beta, max_iter, tol, max_iter_warm, start
        As in :func:`phase_flow`.

    Returns
    -------
    xarray.Dataset
        ``flow_x``, ``flow_y`` (nominal mm/s, **not speeds**), ``n_iterations``.

    Notes
    -----
    Same solver as :func:`phase_flow` with ordinary central differences of the (scaled)
    amplitude ``A``: ``A_x u + A_y v + A_t = 0``. Amplitude flow follows moving bumps of
    activity (envelopes, calcium transients) rather than phase fronts.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(12)[:, None, None]
    >>> x = np.arange(16.0)
    >>> a = np.exp(-((x[None, None, :] - 4 - 0.5 * t) ** 2) / 8) + 0 * x[None, :6, None]
    >>> da = xr.DataArray(a, dims=("time", "y", "x"), coords={"x": x, "y": x[:6]},
    ...                   attrs={"fs_hz": 1.0})
    >>> f = amplitude_flow(da)
    >>> bool(f.flow_x[6].mean() > 0), bool(abs(f.flow_y[6]).max() < 1e-6)
    (True, True)
    """
    sig = _check(amplitude, "amplitude_flow")
    if np.iscomplexobj(sig.dtype.type(0)):
        raise UsageError("amplitude_flow takes a real field; for the phase use phase_flow")
    fs = _fs(amplitude)
    scale = float(np.abs(sig).median(skipna=True))  # one number, computed lazily for dask
    if not np.isfinite(scale) or scale == 0:
        scale = 1.0
    kw = dict(
        alpha=float(alpha),
        beta=float(beta),
        max_iter=int(max_iter),
        tol=float(tol),
        scale=scale,
        max_iter_warm=max_iter_warm,
        start=_start(start),
    )
    u, v, n_iter = _run(sig, _per_trial(_amplitude_block3), kw)
    return _finish(sig, u, v, n_iter, alpha=alpha, beta=beta, kind="amplitude", fs=fs)
