r"""Measures of vector fields on grids: divergence, curl, order parameter, and phase synchrony.

The vector field is any pair of DataArrays ``(vx, vy)`` with dims ``(..., y, x)`` and coordinates
``x``, ``y`` in mm: the optical flow of :mod:`wavekit.analysis.flow` (``flow_x``, ``flow_y``), the
wave vector of :func:`wavekit.analysis.gradients.phase_gradients`, or the unit direction field of
:func:`direction_field`.

Conventions (SPEC.md): x is the column axis, y the row axis with coordinates increasing with the
row index; angles are counter-clockwise from +x toward +y. The curl
``dvy/dx - dvx/dy`` is positive for a rotation from +x toward +y, which wavekit calls
*anticlockwise* (``ccw``): the field ``(-y, x)`` has curl +2, ``(y, -x)`` has curl -2. A source
(vectors pointing away from a point) has positive divergence, a sink negative.

Spatial derivatives are central differences on the coordinates (any monotonic spacing),
one-sided at edges and next to NaN sites; NaN sites stay NaN and are excluded from every mean
(never treated as zero).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError

__all__ = [
    "curl",
    "direction_field",
    "divergence",
    "order_parameter",
    "synchrony",
    "vector_field_measures",
]


def _check_xy(da: xr.DataArray) -> None:
    if "y" not in da.dims or "x" not in da.dims:
        raise UsageError(f"vector-field measures need dims (..., y, x), got {da.dims}")


def diff_ref(a: np.ndarray, u: np.ndarray, axis: int) -> np.ndarray:
    """Derivative of real ``a`` along ``axis`` with coordinates ``u``: central where both
    neighbours are finite, one-sided where only one is, NaN where none is or ``a`` is NaN."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    u = np.asarray(u, dtype=np.float64)
    n = a.shape[-1]
    if n < 2:
        return np.moveaxis(np.full(a.shape, np.nan), -1, axis)
    pad = np.full(a.shape[:-1] + (1,), np.nan)
    al = np.concatenate([pad, a[..., :-1]], axis=-1)
    ar = np.concatenate([a[..., 1:], pad], axis=-1)
    ul = np.concatenate([[np.nan], u[:-1]])
    ur = np.concatenate([u[1:], [np.nan]])
    okl, okr = np.isfinite(al), np.isfinite(ar)
    with np.errstate(invalid="ignore", divide="ignore"):
        central = (ar - al) / (ur - ul)
        right = (ar - a) / (ur - u)
        left = (a - al) / (u - ul)
    out = np.where(okl & okr, central, np.where(okr, right, np.where(okl, left, np.nan)))
    out = np.where(np.isfinite(a), out, np.nan)
    return np.moveaxis(out, -1, axis)


def phase_diff_ref(z: np.ndarray, u: np.ndarray, axis: int) -> np.ndarray:
    """Phase derivative of complex ``z`` along ``axis`` with coordinates ``u``, as angles of
    complex products (never unwrapping): ``angle(z[i+1] conj z[i-1]) / (u[i+1] - u[i-1])``,
    one-sided where only one neighbour is finite, NaN where none is or ``z`` is NaN."""
    z = np.moveaxis(np.asarray(z, dtype=np.complex128), axis, -1)
    u = np.asarray(u, dtype=np.float64)
    if z.shape[-1] < 2:
        return np.moveaxis(np.full(z.shape, np.nan), -1, axis)
    fin = np.isfinite(z)
    pad = np.full(z.shape[:-1] + (1,), np.nan + 0j)
    no = np.zeros(z.shape[:-1] + (1,), dtype=bool)
    zl = np.concatenate([pad, z[..., :-1]], axis=-1)
    zr = np.concatenate([z[..., 1:], pad], axis=-1)
    okl = np.concatenate([no, fin[..., :-1]], axis=-1)
    okr = np.concatenate([fin[..., 1:], no], axis=-1)
    ul = np.concatenate([[np.nan], u[:-1]])
    ur = np.concatenate([u[1:], [np.nan]])
    with np.errstate(invalid="ignore", divide="ignore"):
        central = np.angle(zr * np.conj(zl)) / (ur - ul)
        right = np.angle(zr * np.conj(z)) / (ur - u)
        left = np.angle(z * np.conj(zl)) / (u - ul)
    out = np.where(okl & okr, central, np.where(okr, right, np.where(okl, left, np.nan)))
    out = np.where(fin, out, np.nan)
    return np.moveaxis(out, -1, axis)


def _coords(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(da["x"].values, dtype=np.float64),
        np.asarray(da["y"].values, dtype=np.float64),
    )


def _prep(vx: xr.DataArray, vy: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    _check_xy(vx)
    _check_xy(vy)
    if vx.chunks is not None:
        vx = vx.chunk({"y": -1, "x": -1})
    if vy.chunks is not None:
        vy = vy.chunk({"y": -1, "x": -1})
    return vx, vy


def _units(vx: xr.DataArray) -> str:
    u = str(vx.attrs.get("units", ""))
    return f"({u})/mm" if u else "1/mm"


def divergence(vx: xr.DataArray, vy: xr.DataArray) -> xr.DataArray:
    r"""Divergence ``dvx/dx + dvy/dy`` of a vector field on a grid.

    Parameters
    ----------
    vx, vy : xarray.DataArray
        Components along x (columns) and y (rows), dims ``(..., y, x)``, coordinates in mm.

    Returns
    -------
    xarray.DataArray
        Named ``divergence``, same dims; units of the field per mm.

    Notes
    -----
    .. math:: \nabla\cdot v = \frac{\partial v_x}{\partial x} + \frac{\partial v_y}{\partial y}

    with central differences ``(v_{j+1} - v_{j-1}) / (x_{j+1} - x_{j-1})``, one-sided at edges
    and next to NaN sites. Positive for sources (outward vectors), negative for sinks.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> yy, xx = np.mgrid[-2:3, -2:3].astype(float)
    >>> c = {"y": np.arange(-2., 3), "x": np.arange(-2., 3)}
    >>> vx = xr.DataArray(xx, dims=("y", "x"), coords=c)
    >>> vy = xr.DataArray(yy, dims=("y", "x"), coords=c)
    >>> float(divergence(vx, vy).mean())
    2.0
    """
    vx, vy = _prep(vx, vy)
    x, y = _coords(vx)
    out = xr.apply_ufunc(
        lambda a, b: diff_ref(a, x, -1) + diff_ref(b, y, -2),
        vx,
        vy,
        input_core_dims=[["y", "x"], ["y", "x"]],
        output_core_dims=[["y", "x"]],
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out = out.transpose(*vx.dims)
    out.name = "divergence"
    out.attrs = {"units": _units(vx), "long_name": "divergence dvx/dx + dvy/dy"}
    return out


def curl(vx: xr.DataArray, vy: xr.DataArray) -> xr.DataArray:
    r"""Curl (vorticity) ``dvy/dx - dvx/dy`` of a vector field on a grid.

    Positive curl is rotation from +x toward +y, which wavekit calls anticlockwise (``ccw``).

    Parameters
    ----------
    vx, vy : xarray.DataArray
        Components along x (columns) and y (rows), dims ``(..., y, x)``, coordinates in mm.

    Returns
    -------
    xarray.DataArray
        Named ``curl``, same dims; units of the field per mm.

    Notes
    -----
    .. math:: (\nabla\times v)_z = \frac{\partial v_y}{\partial x} - \frac{\partial v_x}{\partial y}

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> yy, xx = np.mgrid[-2:3, -2:3].astype(float)
    >>> c = {"y": np.arange(-2., 3), "x": np.arange(-2., 3)}
    >>> vx = xr.DataArray(-yy, dims=("y", "x"), coords=c)
    >>> vy = xr.DataArray(xx, dims=("y", "x"), coords=c)
    >>> float(curl(vx, vy).mean())   # (-y, x): anticlockwise
    2.0
    """
    vx, vy = _prep(vx, vy)
    x, y = _coords(vx)
    out = xr.apply_ufunc(
        lambda a, b: diff_ref(b, x, -1) - diff_ref(a, y, -2),
        vx,
        vy,
        input_core_dims=[["y", "x"], ["y", "x"]],
        output_core_dims=[["y", "x"]],
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out = out.transpose(*vx.dims)
    out.name = "curl"
    out.attrs = {
        "units": _units(vx),
        "long_name": "curl dvy/dx - dvx/dy (positive: anticlockwise, +x toward +y)",
    }
    return out


def _order_block(a: np.ndarray, b: np.ndarray, normalize: bool) -> np.ndarray:
    a = a.reshape(a.shape[:-2] + (-1,))
    b = b.reshape(b.shape[:-2] + (-1,))
    ok = np.isfinite(a) & np.isfinite(b)
    mag = np.hypot(a, b)
    if normalize:
        ok &= mag > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            a = a / mag
            b = b / mag
        mag = np.ones_like(mag)
    a = np.where(ok, a, 0.0)
    b = np.where(ok, b, 0.0)
    den = np.sum(np.where(ok, mag, 0.0), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, np.hypot(a.sum(-1), b.sum(-1)) / den, np.nan)


def order_parameter(vx: xr.DataArray, vy: xr.DataArray, *, normalize: bool = False) -> xr.DataArray:
    r"""Alignment of the vectors of each frame, in [0, 1].

    Parameters
    ----------
    vx, vy : xarray.DataArray
        Components, dims ``(..., y, x)``.
    normalize : bool
        False (default): ``|sum v| / sum |v|`` (Townsend & Gong 2018), which weights each site by
        its magnitude. True: the resultant length of the unit vectors ``|mean v/|v||``.

    Returns
    -------
    xarray.DataArray
        Named ``order_parameter`` over the remaining dims (for example ``time``); NaN for frames
        without a finite non-zero vector.

    Notes
    -----
    .. math:: \Phi = \frac{\lVert \sum_i v_i \rVert}{\sum_i \lVert v_i \rVert}

    1 when all vectors point the same way (a plane wave), near ``1/sqrt(N)`` for random
    directions and near 0 for sources, sinks, spirals and saddles centred in the array. With
    ``v`` the phase gradient this is the PGD of Rubino et al. (2006); with unit vectors it is
    the ``pgd_unit_resultant`` of :func:`wavekit.analysis.gradients.phase_gradient_directionality`.

    References
    ----------
    Townsend R. G., Gong P. (2018) Detection and analysis of spatiotemporal patterns in brain
    activity. PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> vx = xr.DataArray(np.ones((2, 3, 3)), dims=("time", "y", "x"))
    >>> float(order_parameter(vx, 0 * vx)[0])
    1.0
    """
    vx, vy = _prep(vx, vy)
    out = xr.apply_ufunc(
        _order_block,
        vx,
        vy,
        kwargs={"normalize": normalize},
        input_core_dims=[["y", "x"], ["y", "x"]],
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out.name = "order_parameter"
    out.attrs = {
        "long_name": "resultant length of unit vectors"
        if normalize
        else "|sum v| / sum |v| (Townsend & Gong 2018)",
        "units": "1",
    }
    return out


def _sync_block(z: np.ndarray) -> np.ndarray:
    z = z.reshape(z.shape[:-2] + (-1,))
    if not np.iscomplexobj(z):
        z = np.exp(1j * z)
    mag = np.abs(z)
    ok = np.isfinite(mag) & (mag > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(ok, z / np.where(ok, mag, 1.0), 0.0)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.abs(u.sum(-1)) / n, np.nan)


def synchrony(signal: xr.DataArray) -> xr.DataArray:
    r"""Kuramoto order parameter of the phases of each frame, in [0, 1].

    Parameters
    ----------
    signal : xarray.DataArray
        Phase in radians or complex signal, dims ``(..., y, x)`` (or ``(..., channel)``).

    Returns
    -------
    xarray.DataArray
        Named ``synchrony`` over the remaining dims.

    Notes
    -----
    .. math:: R = \left| \frac1N \sum_i e^{i\phi_i} \right|

    1 when all sites share one phase (synchronous oscillation), small when a wave with a
    wavelength shorter than the array spreads the phases over the circle. A plane wave whose
    wavelength is much longer than the array also has ``R`` near 1: it is indistinguishable
    from synchrony on that array.

    References
    ----------
    Kuramoto Y. (1984) Chemical Oscillations, Waves, and Turbulence. Springer.
    doi:10.1007/978-3-642-69689-3

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> float(synchrony(xr.DataArray(np.zeros((4, 4)), dims=("y", "x"))))
    1.0
    """
    dims = ["y", "x"] if ("y" in signal.dims and "x" in signal.dims) else ["channel"]
    if signal.chunks is not None:
        signal = signal.chunk({d: -1 for d in dims})

    def block(z: np.ndarray) -> np.ndarray:
        if len(dims) == 1:
            z = z[..., None, :]
        return _sync_block(z)

    out = xr.apply_ufunc(
        block, signal, input_core_dims=[dims], dask="parallelized", output_dtypes=[np.float64]
    )
    out.name = "synchrony"
    out.attrs = {"long_name": "Kuramoto order parameter |mean exp(i phase)|", "units": "1"}
    return out


def direction_field(signal: xr.DataArray, *, unit: bool = True) -> xr.Dataset:
    r"""Direction-of-travel field ``k = -sign(w) grad(phase)`` of a phase or complex signal.

    Parameters
    ----------
    signal : xarray.DataArray
        Phase (radians) or complex signal, dims ``(..., time, y, x)``, coordinates in mm.
    unit : bool
        Return unit vectors (default) or the wave vector in rad/mm.

    Returns
    -------
    xarray.Dataset
        ``dir_x``, ``dir_y`` (same dims as ``signal``).

    Notes
    -----
    The spatial derivatives are angles of complex products of neighbours (no unwrapping). The
    sign of the temporal frequency ``w`` is that of ``arg sum_sites z_{t+1} conj z_{t-1}`` in each
    frame, so the field points in the direction of travel for either sign of ``w``.

    The signal is loaded into memory.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(5)[:, None, None] * 0.1
    >>> xx = np.arange(6)[None, None, :] * np.ones((1, 4, 1))
    >>> ph = xr.DataArray(2 * np.pi * t - 0.5 * xx, dims=("time", "y", "x"),
    ...                   coords={"x": np.arange(6.), "y": np.arange(4.)})
    >>> d = direction_field(ph)
    >>> round(float(d.dir_x[2].mean()), 9), bool(abs(d.dir_y[2]).max() < 1e-12)
    (1.0, True)
    """
    if "time" not in signal.dims:
        raise UsageError("direction_field needs a time dim to know the sign of the frequency")
    _check_xy(signal)
    z = signal
    if not np.iscomplexobj(z.dtype.type(0)):
        z = np.exp(1j * z)
    z = z.transpose(..., "time", "y", "x")
    x, y = _coords(z)
    arr = np.asarray(z.values, dtype=np.complex128)
    gx = phase_diff_ref(arr, x, -1)
    gy = phase_diff_ref(arr, y, -2)
    sw = _frequency_sign(arr)
    kx = -gx * sw[..., None, None]
    ky = -gy * sw[..., None, None]
    if unit:
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.hypot(kx, ky)
            kx = np.where(m > 0, kx / m, np.nan)
            ky = np.where(m > 0, ky / m, np.nan)
    units = "1" if unit else "rad/mm"
    ds = xr.Dataset(
        {
            "dir_x": (z.dims, kx, {"units": units, "long_name": "direction of travel, x"}),
            "dir_y": (z.dims, ky, {"units": units, "long_name": "direction of travel, y"}),
        },
        coords=z.coords,
    )
    return ds.transpose(*signal.dims)


def _frequency_sign(z: np.ndarray, half_window: int = 2) -> np.ndarray:
    """Sign (+1/-1) of the temporal frequency of each frame of ``z`` (..., time, y, x).

    The sign of ``arg sum z_{t+1} conj z_t`` summed over all sites and over the frame pairs
    within ``half_window`` frames of ``t`` (a single bad pair cannot flip it).
    """
    zz = np.where(np.isfinite(z), z, 0)
    nt = zz.shape[-3]
    if nt < 2:
        return np.ones(zz.shape[:-2])
    pair = np.sum(zz[..., 1:, :, :] * np.conj(zz[..., :-1, :, :]), axis=(-2, -1))
    csum = np.concatenate([np.zeros(pair.shape[:-1] + (1,), pair.dtype), np.cumsum(pair, -1)], -1)
    t = np.arange(nt)
    lo = np.clip(t - half_window, 0, nt - 1)
    hi = np.clip(t + half_window, 1, nt - 1)
    s = np.sign(np.angle(csum[..., hi] - csum[..., lo]))
    return np.where(s == 0, 1.0, s)


def vector_field_measures(vx: xr.DataArray, vy: xr.DataArray) -> xr.Dataset:
    """Divergence, curl (per site) and order parameter (per frame) in one Dataset.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> vx = xr.DataArray(np.ones((2, 3, 3)), dims=("time", "y", "x"),
    ...                   coords={"x": [0., 1, 2], "y": [0., 1, 2]})
    >>> sorted(vector_field_measures(vx, 0 * vx).data_vars)
    ['curl', 'divergence', 'order_parameter']
    """
    return xr.Dataset(
        {
            "divergence": divergence(vx, vy),
            "curl": curl(vx, vy),
            "order_parameter": order_parameter(vx, vy),
        }
    )
