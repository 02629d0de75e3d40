"""Compiled kernels for phase fields on regular grids, each with its plain NumPy reference.

Every ``*_nb`` kernel has a ``*_ref`` twin written with whole-array NumPy operations; the tests
(`tests/test_gradients.py`) compare the two with hypothesis on many shapes and NaN patterns.

Phase differences are always angles of complex products, ``angle(z1 * conj(z0))``, never
differences of unwrapped phase. The compiled kernels evaluate the angle with :func:`_atan2`, a
polynomial ``atan2`` whose largest error is 4e-8 rad (below float32 resolution), because ``libm``
``atan2`` does not vectorise; the references use ``np.angle``.

Neighbour rule (space and time alike), for the sample ``c`` with neighbours ``l`` (before) and ``r``
(after) at coordinates ``ul < uc < ur``::

    both l and r finite     angle(r * conj(l)) / (ur - ul)      (central)
    only r finite           angle(r * conj(c)) / (ur - uc)      (one-sided, also at the first edge)
    only l finite           angle(c * conj(l)) / (uc - ul)      (one-sided, also at the last edge)
    neither, or c not finite  NaN

so NaN channels are excluded (never treated as zero) and a NaN never spreads beyond its own site.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# atan(a) ~ a * P(a^2) on [0, 1]; coefficients fitted (minimax by iteratively reweighted least
# squares) for this module; max abs error 3.9e-8 rad.
_C0 = 0.9999993548165268
_C1 = -0.3332992646151295
_C2 = 0.1994726754854639
_C3 = -0.13912000838658273
_C4 = 0.09650548825925964
_C5 = -0.056023172750458664
_C6 = 0.02193781549859719
_C7 = -0.004074763845823462
_HALF_PI = math.pi / 2
_PI = math.pi


@numba.njit(cache=True, inline="always", error_model="numpy")
def _atan2(y, x):
    """Polynomial ``atan2(y, x)`` in (-pi, pi]; NaN in, NaN out; ``atan2(0, 0) = 0``."""
    ax = abs(x)
    ay = abs(y)
    mx = ax if ax > ay else ay
    mn = ay if ax > ay else ax
    a = mn / mx if mx > 0 else mn * 0.0
    s = a * a
    r = ((((((_C7 * s + _C6) * s + _C5) * s + _C4) * s + _C3) * s + _C2) * s + _C1) * s + _C0
    r = r * a
    if ay > ax:
        r = _HALF_PI - r
    if x < 0:
        r = _PI - r
    if y < 0:
        r = -r
    if r <= -_PI:  # a tiny negative y rounds onto the cut: keep (-pi, pi]
        r = _PI
    if x != x or y != y:
        r = math.nan
    return r


@numba.njit(cache=True, inline="always", error_model="numpy")
def _finite(z):
    return math.isfinite(z.real) and math.isfinite(z.imag)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _dphase(zl, zc, zr, okl, okc, okr, ul, uc, ur):
    """Phase derivative at the centre sample by the neighbour rule of the module docstring."""
    if not okc:
        return math.nan
    if okl and okr:
        a, b = zr, zl
        du = ur - ul
    elif okr:
        a, b = zr, zc
        du = ur - uc
    elif okl:
        a, b = zc, zl
        du = uc - ul
    else:
        return math.nan
    # angle(a * conj(b))
    re = a.real * b.real + a.imag * b.imag
    im = a.imag * b.real - a.real * b.imag
    return _atan2(im, re) / du


# ----------------------------------------------------------------------------- spatial gradient


@numba.njit(cache=True, parallel=True, error_model="numpy")
def spatial_gradient_nb(z, x, y, gx, gy):
    """Phase gradient of ``z`` (n, ny, nx) along x (columns) and y (rows) into ``gx``, ``gy``.

    ``x`` (nx,) and ``y`` (ny,) are the coordinates (any monotonic spacing). Units: rad per unit of
    the coordinates.
    """
    n, ny, nx = z.shape
    for k in numba.prange(n):
        for i in range(ny):
            for j in range(nx):
                zc = z[k, i, j]
                okc = _finite(zc)
                if not okc:
                    gx[k, i, j] = math.nan
                    gy[k, i, j] = math.nan
                    continue
                # along x
                if j > 0:
                    zl = z[k, i, j - 1]
                    okl = _finite(zl)
                    xl = x[j - 1]
                else:
                    zl = zc
                    okl = False
                    xl = x[j]
                if j < nx - 1:
                    zr = z[k, i, j + 1]
                    okr = _finite(zr)
                    xr = x[j + 1]
                else:
                    zr = zc
                    okr = False
                    xr = x[j]
                gx[k, i, j] = _dphase(zl, zc, zr, okl, okc, okr, xl, x[j], xr)
                # along y
                if i > 0:
                    zl = z[k, i - 1, j]
                    okl = _finite(zl)
                    yl = y[i - 1]
                else:
                    zl = zc
                    okl = False
                    yl = y[i]
                if i < ny - 1:
                    zr = z[k, i + 1, j]
                    okr = _finite(zr)
                    yr = y[i + 1]
                else:
                    zr = zc
                    okr = False
                    yr = y[i]
                gy[k, i, j] = _dphase(zl, zc, zr, okl, okc, okr, yl, y[i], yr)


def _diff_ref(z: np.ndarray, u: np.ndarray, axis: int, return_step: bool = False):
    """NumPy reference of the neighbour rule along ``axis`` (coordinates ``u``); with
    ``return_step`` also the coordinate step each value was divided by."""
    z = np.moveaxis(z, axis, -1)
    n = z.shape[-1]
    fin = np.isfinite(z.real) & np.isfinite(z.imag)
    nan_c = np.full(z.shape[:-1] + (1,), np.nan + 0j, dtype=z.dtype)
    false = np.zeros(z.shape[:-1] + (1,), dtype=bool)
    zl = np.concatenate([nan_c, z[..., :-1]], axis=-1)
    zr = np.concatenate([z[..., 1:], nan_c], axis=-1)
    okl = np.concatenate([false, fin[..., :-1]], axis=-1)
    okr = np.concatenate([fin[..., 1:], false], axis=-1)
    uu = np.asarray(u, dtype=np.float64)
    ul = np.concatenate([[np.nan], uu[:-1]]) if n > 0 else uu
    ur = np.concatenate([uu[1:], [np.nan]]) if n > 0 else uu
    def ang(p):
        a = np.angle(p)
        a = np.where(p == 0, 0.0, a)  # angle(+-0 +-0j) = 0 (NumPy gives pi for -0)
        return np.where(a == -np.pi, np.pi, a)  # (-pi, pi], as the kernels

    with np.errstate(invalid="ignore", divide="ignore"):
        central = ang(zr * np.conj(zl)) / (ur - ul)
        right = ang(zr * np.conj(z)) / (ur - uu)
        left = ang(z * np.conj(zl)) / (uu - ul)
    out = np.where(okl & okr, central, np.where(okr, right, np.where(okl, left, np.nan)))
    out = np.where(fin, out, np.nan)
    if return_step:
        step = np.where(okl & okr, ur - ul, np.where(okr, ur - uu, np.where(okl, uu - ul, np.nan)))
        step = np.where(fin, step, np.nan)
        return np.moveaxis(out, -1, axis), np.moveaxis(step, -1, axis)
    return np.moveaxis(out, -1, axis)


def spatial_gradient_ref(
    z: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`spatial_gradient_nb`; returns ``(gx, gy)`` in float64."""
    return _diff_ref(z, x, -1), _diff_ref(z, y, -2)


# ----------------------------------------------------------------------------- time derivative


@numba.njit(cache=True, parallel=True, error_model="numpy")
def time_derivative_nb(z, dt, out):
    """Phase derivative of ``z`` (T, m) along axis 0 (uniform step ``dt``) into ``out`` (rad/unit)."""
    nt, m = z.shape
    for t in numba.prange(nt):
        for j in range(m):
            zc = z[t, j]
            okc = _finite(zc)
            if t > 0:
                zl = z[t - 1, j]
                okl = _finite(zl)
            else:
                zl = zc
                okl = False
            if t < nt - 1:
                zr = z[t + 1, j]
                okr = _finite(zr)
            else:
                zr = zc
                okr = False
            out[t, j] = _dphase(zl, zc, zr, okl, okc, okr, (t - 1) * dt, t * dt, (t + 1) * dt)


def time_derivative_ref(z: np.ndarray, dt: float) -> np.ndarray:
    """NumPy reference of :func:`time_derivative_nb` (float64)."""
    return _diff_ref(z, np.arange(z.shape[0]) * dt, 0)


# ----------------------------------------------------------------------------- PGD


@numba.njit(cache=True, parallel=True, error_model="numpy")
def pgd_nb(gx, gy, rubino, resultant):
    """Both phase-gradient directionalities of each frame of ``gx``, ``gy`` (n, m).

    ``rubino[k] = |sum g| / sum |g|`` and ``resultant[k] = |sum g/|g|| / #{g != 0}``, over the
    finite vectors of frame ``k`` (float64 sums; rounding above 1 clipped); NaN when the frame
    has none (or only zero vectors).
    """
    n, m = gx.shape
    for k in numba.prange(n):
        sx = 0.0
        sy = 0.0
        sa = 0.0
        ux = 0.0
        uy = 0.0
        cnt = 0
        for j in range(m):
            a = float(gx[k, j])
            b = float(gy[k, j])
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            mag = math.hypot(a, b)
            sx += a
            sy += b
            sa += mag
            if mag > 0:
                ux += a / mag
                uy += b / mag
                cnt += 1
        rubino[k] = min(1.0, math.hypot(sx, sy) / sa) if sa > 0 else math.nan
        resultant[k] = min(1.0, math.hypot(ux, uy) / cnt) if cnt > 0 else math.nan


def pgd_ref(gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`pgd_nb`."""
    gx = np.asarray(gx, dtype=np.float64)
    gy = np.asarray(gy, dtype=np.float64)
    ok = np.isfinite(gx) & np.isfinite(gy)
    gx0 = np.where(ok, gx, 0.0)
    gy0 = np.where(ok, gy, 0.0)
    mag = np.hypot(gx0, gy0)
    sa = mag.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rub = np.where(sa > 0, np.minimum(1.0, np.hypot(gx0.sum(1), gy0.sum(1)) / sa), np.nan)
        nz = mag > 0
        ux = np.where(nz, gx0 / np.where(nz, mag, 1.0), 0.0).sum(1)
        uy = np.where(nz, gy0 / np.where(nz, mag, 1.0), 0.0).sum(1)
        cnt = nz.sum(1)
        res = np.where(cnt > 0, np.minimum(1.0, np.hypot(ux, uy) / np.maximum(cnt, 1)), np.nan)
    return rub, res


# ----------------------------------------------------------------------------- derived fields


@numba.njit(cache=True, parallel=True, error_model="numpy")
def derived_nb(gx, gy, w, speed, direction, wavelength, do_speed, do_direction, do_wavelength):
    """Speed ``|w|/|g|``, direction of travel (deg) and wavelength ``2 pi/|g|`` from the phase
    gradient ``g`` (rad/mm) and the angular frequency ``w`` (rad/s); flat arrays (n,).

    The direction is the angle of ``-sign(w) g`` (the wave vector ``k = -g`` for ``w > 0``), in
    (-180, 180], NaN where ``w`` is NaN or ``g = 0``. Outputs whose ``do_*`` flag is False are
    left untouched.
    """
    n = gx.shape[0]
    for i in numba.prange(n):
        a = gx[i]
        b = gy[i]
        f = w[i]
        kk = math.sqrt(a * a + b * b)
        if do_speed:
            speed[i] = abs(f) / kk
        if do_wavelength:
            wavelength[i] = 2 * math.pi / kk
        if do_direction:
            if f < 0:
                d = _atan2(b, a)
            else:
                d = _atan2(-b, -a)
            if f != f or kk == 0:
                d = math.nan  # no frequency or no gradient: no direction
            direction[i] = d * (180.0 / math.pi)


def derived_ref(
    gx: np.ndarray, gy: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference of :func:`derived_nb` (in the input's precision)."""
    dt = np.result_type(gx, np.float32)
    gx, gy, w = (np.asarray(a, dtype=dt) for a in (gx, gy, w))
    kk = np.sqrt(gx * gx + gy * gy)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.abs(w) / kk
        wavelength = 2 * np.pi / kk
    s = np.where(w < 0, 1.0, -1.0)
    direction = np.degrees(np.arctan2(s * gy, s * gx))
    direction = np.where(direction <= -180.0, 180.0, direction)  # (-180, 180]
    direction = np.where(np.isnan(w) | (kk == 0), np.nan, direction)
    return speed, direction, wavelength
