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
import warnings

import numba
import numba.extending
import numpy as np
from numba.core.errors import NumbaIRAssumptionWarning

# inlining the overloaded polynomial into parallel loops trips a harmless pedantic IR check
warnings.filterwarnings("ignore", message=r".*_make_atan2", category=NumbaIRAssumptionWarning)

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


def _make_atan2(ft):
    """Polynomial ``atan2(y, x)`` with every constant in the float type ``ft`` (float32 kernels
    then stay in single precision and vectorise twice as wide)."""
    c0, c1, c2, c3, c4, c5, c6, c7 = (ft(c) for c in (_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7))
    half_pi, pi, zero, nan = ft(_HALF_PI), ft(_PI), ft(0.0), ft(math.nan)

    def atan2_poly(y, x):
        ax = abs(x)
        ay = abs(y)
        mx = ax if ax > ay else ay
        mn = ay if ax > ay else ax
        a = mn / mx if mx > zero else zero
        s = a * a
        r = ((((((c7 * s + c6) * s + c5) * s + c4) * s + c3) * s + c2) * s + c1) * s + c0
        r = r * a
        if ay > ax:
            r = half_pi - r
        if x < zero:
            r = pi - r
        if y < zero:
            r = -r
        if r <= -pi:  # a tiny negative y rounds onto the cut: keep (-pi, pi]
            r = pi
        if x != x or y != y:
            r = nan
        return r

    return atan2_poly


def _atan2(y, x):
    """Polynomial ``atan2(y, x)`` in (-pi, pi]; NaN in, NaN out; ``atan2(0, 0) = 0``.

    Compiled in the precision of its arguments (float32 when both are float32). Max abs
    error 4e-8 rad in double precision, about 2e-7 rad (a few float32 ulp) in single.
    """
    return _make_atan2(float)(y, x)


@numba.extending.overload(_atan2, inline="always", jit_options={"error_model": "numpy"})
def _atan2_overload(y, x):
    if isinstance(y, numba.types.Float) and isinstance(x, numba.types.Float):
        if y.bitwidth == 32 and x.bitwidth == 32:
            return _make_atan2(np.float32)
        return _make_atan2(np.float64)
    return None


@numba.njit(cache=True, inline="always", error_model="numpy")
def _ok(a, b):
    return math.isfinite(a) and math.isfinite(b)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _pangle(ar, ai, br, bi):
    """``angle(a * conj(b))`` from real and imaginary parts."""
    return _atan2(ai * br - ar * bi, ar * br + ai * bi)


@numba.njit(cache=True, error_model="numpy")
def _rule(lr, li, cr, ci, rr, ri, okl, okr, ul, uc, ur):
    """The neighbour rule of the module docstring for a finite centre sample."""
    if okl and okr:
        return _pangle(rr, ri, lr, li) / (ur - ul)
    if okr:
        return _pangle(rr, ri, cr, ci) / (ur - uc)
    if okl:
        return _pangle(cr, ci, lr, li) / (uc - ul)
    return math.nan


# The frame kernels work on the float view ``zf`` of a complex array ``z`` (shape (n, ny, 2 nx):
# real part of z[t, i, j] at zf[t, i, 2j], imaginary part at zf[t, i, 2j + 1]). Each runs a
# branch-free loop over interior samples (central products; vectorised by LLVM), then applies
# the full neighbour rule at the edges and, when the frame (or a neighbouring frame) holds a
# non-finite value, at every sample whose fast value is NaN or whose centre is not finite.


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _frame_finite(zf, t):
    """True when every value of frame ``t`` is finite (one vectorised pass: inf - inf and
    NaN - NaN are NaN, which survives the sum)."""
    acc = zf[t, 0, 0] * 0
    for i in range(zf.shape[1]):
        for j in range(zf.shape[2]):
            acc += zf[t, i, j] - zf[t, i, j]
    return acc == 0


@numba.njit(cache=True, error_model="numpy")
def _fix_x(zf, t, i, j, x, out, scale):
    nx = zf.shape[2] // 2
    cr = zf[t, i, 2 * j]
    ci = zf[t, i, 2 * j + 1]
    if not _ok(cr, ci):
        out[t, i, j] = math.nan
        return
    lr, li, okl, ul = cr, ci, False, x[j]
    rr, ri, okr, ur = cr, ci, False, x[j]
    if j > 0:
        lr, li, ul = zf[t, i, 2 * j - 2], zf[t, i, 2 * j - 1], x[j - 1]
        okl = _ok(lr, li)
    if j < nx - 1:
        rr, ri, ur = zf[t, i, 2 * j + 2], zf[t, i, 2 * j + 3], x[j + 1]
        okr = _ok(rr, ri)
    out[t, i, j] = scale * _rule(lr, li, cr, ci, rr, ri, okl, okr, ul, x[j], ur)


@numba.njit(cache=True, error_model="numpy")
def _fix_y(zf, t, i, j, y, out, scale):
    ny = zf.shape[1]
    cr = zf[t, i, 2 * j]
    ci = zf[t, i, 2 * j + 1]
    if not _ok(cr, ci):
        out[t, i, j] = math.nan
        return
    lr, li, okl, ul = cr, ci, False, y[i]
    rr, ri, okr, ur = cr, ci, False, y[i]
    if i > 0:
        lr, li, ul = zf[t, i - 1, 2 * j], zf[t, i - 1, 2 * j + 1], y[i - 1]
        okl = _ok(lr, li)
    if i < ny - 1:
        rr, ri, ur = zf[t, i + 1, 2 * j], zf[t, i + 1, 2 * j + 1], y[i + 1]
        okr = _ok(rr, ri)
    out[t, i, j] = scale * _rule(lr, li, cr, ci, rr, ri, okl, okr, ul, y[i], ur)


@numba.njit(cache=True, error_model="numpy")
def _fix_t(zf, t, i, j, dt, out, scale, to):
    nt = zf.shape[0]
    cr = zf[t, i, 2 * j]
    ci = zf[t, i, 2 * j + 1]
    if not _ok(cr, ci):
        out[to, i, j] = math.nan
        return
    lr, li, okl = cr, ci, False
    rr, ri, okr = cr, ci, False
    if t > 0:
        lr, li = zf[t - 1, i, 2 * j], zf[t - 1, i, 2 * j + 1]
        okl = _ok(lr, li)
    if t < nt - 1:
        rr, ri = zf[t + 1, i, 2 * j], zf[t + 1, i, 2 * j + 1]
        okr = _ok(rr, ri)
    out[to, i, j] = scale * _rule(lr, li, cr, ci, rr, ri, okl, okr, -dt, 0.0, dt)


@numba.njit(cache=True, error_model="numpy")
def _frame_x(zf, t, x, inv2, out, scale, clean):
    """Phase derivative along x of frame ``t``; ``clean``: the frame is all finite."""
    ny = zf.shape[1]
    nx = zf.shape[2] // 2
    c = inv2[1] if nx > 2 else 0.0
    uniform = True
    for j in range(2, nx - 1):
        uniform = uniform and inv2[j] == c
    if uniform and clean and nx > 2:
        # one long loop over the whole frame (row ends get wrong values, fixed below as edges)
        fr = zf[t].reshape(ny * nx * 2)
        fo = out[t].reshape(ny * nx)
        for k in range(1, ny * nx - 1):
            fo[k] = _pangle(fr[2 * k + 2], fr[2 * k + 3], fr[2 * k - 2], fr[2 * k - 1]) * c
    else:
        for i in range(ny):
            for j in range(1, nx - 1):
                out[t, i, j] = (
                    _pangle(zf[t, i, 2 * j + 2], zf[t, i, 2 * j + 3], zf[t, i, 2 * j - 2],
                            zf[t, i, 2 * j - 1]) * inv2[j]
                )  # fmt: skip
    for i in range(ny):
        if clean:
            _fix_x(zf, t, i, 0, x, out, scale)
            if nx > 1:
                _fix_x(zf, t, i, nx - 1, x, out, scale)
        else:
            for j in range(nx):
                v = out[t, i, j]
                if 0 < j < nx - 1 and v == v and _ok(zf[t, i, 2 * j], zf[t, i, 2 * j + 1]):
                    continue
                _fix_x(zf, t, i, j, x, out, scale)


@numba.njit(cache=True, error_model="numpy")
def _frame_y(zf, t, y, inv2, out, scale, clean):
    """Phase derivative along y of frame ``t``; ``clean``: the frame is all finite."""
    ny = zf.shape[1]
    nx = zf.shape[2] // 2
    for i in range(1, ny - 1):
        c = inv2[i]
        for j in range(nx):
            out[t, i, j] = (
                _pangle(zf[t, i + 1, 2 * j], zf[t, i + 1, 2 * j + 1], zf[t, i - 1, 2 * j],
                        zf[t, i - 1, 2 * j + 1]) * c
            )  # fmt: skip
    for i in range(ny):
        edge = i == 0 or i == ny - 1
        if clean and not edge:
            continue
        for j in range(nx):
            v = out[t, i, j]
            if not edge and v == v and _ok(zf[t, i, 2 * j], zf[t, i, 2 * j + 1]):
                continue
            _fix_y(zf, t, i, j, y, out, scale)


@numba.njit(cache=True, error_model="numpy")
def _frame_t(zf, t, dt, out, scale, clean, to):
    """Phase derivative along time at frame ``t``, written to ``out[to]``; ``clean``: frames
    t-1, t, t+1 all finite."""
    nt = zf.shape[0]
    ny = zf.shape[1]
    nx = zf.shape[2] // 2
    edge = t == 0 or t == nt - 1
    if not edge:
        cc = np.empty(1, dtype=out.dtype)  # in the output's precision (float32 SIMD)
        cc[0] = scale / (2 * dt)
        c = cc[0]
        for i in range(ny):
            for j in range(nx):
                out[to, i, j] = (
                    _pangle(zf[t + 1, i, 2 * j], zf[t + 1, i, 2 * j + 1], zf[t - 1, i, 2 * j],
                            zf[t - 1, i, 2 * j + 1]) * c
                )  # fmt: skip
    if clean and not edge:
        return
    for i in range(ny):
        for j in range(nx):
            v = out[to, i, j]
            if not edge and v == v and _ok(zf[t, i, 2 * j], zf[t, i, 2 * j + 1]):
                continue
            _fix_t(zf, t, i, j, dt, out, scale, to)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _finite_frames(zf):
    n = zf.shape[0]
    fin = np.empty(n, dtype=np.bool_)
    for t in numba.prange(n):
        fin[t] = _frame_finite(zf, t)
    return fin


@numba.njit(cache=True, error_model="numpy")
def _inv2(u, scale, like):
    """``scale / (u[j+1] - u[j-1])`` in the precision of ``like`` (float32 stays float32)."""
    n = u.shape[0]
    out = np.zeros(n, dtype=like.dtype)
    for j in range(1, n - 1):
        out[j] = scale / (u[j + 1] - u[j - 1])
    return out


# ----------------------------------------------------------------------------- spatial gradient


@numba.njit(cache=True, parallel=True, error_model="numpy")
def spatial_gradient_nb(zf, x, y, gx, gy, scale):
    """``scale`` times the phase gradient of the complex field viewed as floats ``zf``
    (n, ny, 2 nx), along x (columns, coordinates ``x``) into ``gx`` and along y (rows,
    coordinates ``y``) into ``gy``, both (n, ny, nx). Coordinates may be non-uniform or
    descending. Units: rad per unit of the coordinates (times ``scale``)."""
    ix = _inv2(x, scale, gx)
    iy = _inv2(y, scale, gx)
    for k in numba.prange(zf.shape[0]):
        clean = _frame_finite(zf, k)
        _frame_x(zf, k, x, ix, gx, scale, clean)
        _frame_y(zf, k, y, iy, gy, scale, clean)


def spatial_gradient(z: np.ndarray, x, y, *, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Allocate and run :func:`spatial_gradient_nb` on complex ``z`` (..., ny, nx)."""
    z3 = np.ascontiguousarray(z.reshape((-1,) + z.shape[-2:]))
    rdt = np.float32 if z3.dtype == np.complex64 else np.float64
    zf = z3.view(rdt)
    gx = np.empty(z3.shape, dtype=rdt)
    gy = np.empty(z3.shape, dtype=rdt)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    spatial_gradient_nb(zf, x, y, gx, gy, float(scale))
    return gx.reshape(z.shape), gy.reshape(z.shape)


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
def time_derivative_nb(zf, dt, out, scale):
    """``scale`` times the phase derivative along axis 0 (uniform step ``dt``) of the complex
    array viewed as floats ``zf`` (T, 1, 2 m), into ``out`` (T, 1, m)."""
    fin = _finite_frames(zf)
    nt = zf.shape[0]
    for t in numba.prange(nt):
        clean = fin[t] and (t == 0 or fin[t - 1]) and (t == nt - 1 or fin[t + 1])
        _frame_t(zf, t, dt, out, scale, clean, t)


def time_derivative(z: np.ndarray, dt: float, *, scale: float = 1.0) -> np.ndarray:
    """Allocate and run :func:`time_derivative_nb` on complex ``z`` (T, ...)."""
    z3 = np.ascontiguousarray(z.reshape(z.shape[0], 1, -1))
    rdt = np.float32 if z3.dtype == np.complex64 else np.float64
    out = np.empty(z3.shape, dtype=rdt)
    time_derivative_nb(z3.view(rdt), float(dt), out, float(scale))
    return out.reshape(z.shape)


def time_derivative_ref(z: np.ndarray, dt: float) -> np.ndarray:
    """NumPy reference of :func:`time_derivative_nb` (float64)."""
    return _diff_ref(z, np.arange(z.shape[0]) * dt, 0)


# ----------------------------------------------------------------------------- PGD


@numba.njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def pgd_nb(gx, gy, rubino, resultant):
    """Both phase-gradient directionalities of each frame of ``gx``, ``gy`` (n, m).

    ``rubino[k] = |sum g| / sum |g|`` and ``resultant[k] = |sum g/|g|| / #{g != 0}``, over the
    finite vectors of frame ``k`` (float64 sums, reassociated for SIMD; rounding above 1
    clipped); NaN when the frame has none (or only zero vectors). ``|g| = sqrt(gx^2 + gy^2)``
    (vectors below 1e-154 count as zero).
    """
    n, m = gx.shape
    for k in numba.prange(n):
        sx = 0.0
        sy = 0.0
        sa = 0.0
        ux = 0.0
        uy = 0.0
        cnt = 0.0
        for j in range(m):
            a = float(gx[k, j])
            b = float(gy[k, j])
            ok = math.isfinite(a) and math.isfinite(b)
            a = a if ok else 0.0
            b = b if ok else 0.0
            mag = math.sqrt(a * a + b * b)
            nz = mag > 0
            inv = 1.0 / (mag if nz else 1.0)
            sx += a
            sy += b
            sa += mag
            ux += a * inv
            uy += b * inv
            cnt += 1.0 if nz else 0.0
        rubino[k] = min(1.0, math.sqrt(sx * sx + sy * sy) / sa) if sa > 0 else math.nan
        resultant[k] = min(1.0, math.sqrt(ux * ux + uy * uy) / cnt) if cnt > 0 else math.nan


def pgd_ref(gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`pgd_nb`."""
    gx = np.asarray(gx, dtype=np.float64)
    gy = np.asarray(gy, dtype=np.float64)
    ok = np.isfinite(gx) & np.isfinite(gy)
    gx0 = np.where(ok, gx, 0.0)
    gy0 = np.where(ok, gy, 0.0)
    mag = np.sqrt(gx0 * gx0 + gy0 * gy0)
    sa = mag.sum(axis=1)
    sx, sy = gx0.sum(1), gy0.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rub = np.where(sa > 0, np.minimum(1.0, np.sqrt(sx * sx + sy * sy) / sa), np.nan)
        nz = mag > 0
        ux = np.where(nz, gx0 / np.where(nz, mag, 1.0), 0.0).sum(1)
        uy = np.where(nz, gy0 / np.where(nz, mag, 1.0), 0.0).sum(1)
        cnt = nz.sum(1)
        res = np.where(
            cnt > 0, np.minimum(1.0, np.sqrt(ux * ux + uy * uy) / np.maximum(cnt, 1)), np.nan
        )
    return rub, res


# ----------------------------------------------------------------------------- derived fields


@numba.njit(cache=True, inline="always", error_model="numpy")
def _direction_point(kx, ky, f):
    s = -1.0 if f < 0 else 1.0
    d = _atan2(s * ky, s * kx) * (180.0 / math.pi)
    if f != f or kx * kx + ky * ky == 0:
        d = math.nan  # no frequency or no gradient: no direction
    return d


@numba.njit(cache=True, inline="always", error_model="numpy")
def _derived_point(kx, ky, f, two_pi):
    kk = math.sqrt(kx * kx + ky * ky)
    speed = abs(two_pi * f) / kk
    wavelength = two_pi / kk
    return speed, _direction_point(kx, ky, f), wavelength


@numba.njit(cache=True, parallel=True, error_model="numpy")
def derived_nb(kx, ky, f, speed, direction, wavelength, do_speed, do_direction, do_wavelength):
    """Speed ``2 pi |f| / |k|`` (mm/s), direction of travel (deg) and wavelength ``2 pi / |k|``
    from the wave vector ``k`` (rad/mm) and the frequency ``f`` (Hz); flat arrays (n,).

    The direction is the angle of ``sign(f) k`` in (-180, 180], NaN where ``f`` is NaN or
    ``k = 0``. Outputs whose ``do_*`` flag is False are left untouched. Computed in the
    precision of ``kx`` (as :func:`grid_fields_nb` and :func:`derived_ref`): a float64 ``2 pi``
    would promote float32 products to double and round subnormal frequencies differently.
    """
    tp = np.empty(1, dtype=kx.dtype)
    tp[0] = 2 * math.pi
    two_pi = tp[0]
    for i in numba.prange(kx.shape[0]):
        sp, d, wl = _derived_point(kx[i], ky[i], f[i], two_pi)
        if do_speed:
            speed[i] = sp
        if do_direction:
            direction[i] = d
            if direction[i] <= -180.0:  # -179.99999... stored in float32 rounds to -180
                direction[i] = 180.0
        if do_wavelength:
            wavelength[i] = wl


# ----------------------------------------------------------------------------- fused grid fields


@numba.njit(cache=True, parallel=True, error_model="numpy")
def grid_fields_nb(
    zf, x, y, dt, kx, ky, freq, speed, direction, wavelength, do_speed, do_direction,
    do_wavelength, store_freq=True
):  # fmt: skip
    """All local fields of a (T, ny, nx) complex field (float view ``zf``, (T, ny, 2 nx)) in one
    pass, frame by frame: wave vector ``k = -grad phi`` (``kx``, ``ky``), frequency (Hz,
    ``freq``) and, as flagged, speed, direction and wavelength (as :func:`derived_nb`).
    Equals :func:`spatial_gradient_nb` (scale -1), :func:`time_derivative_nb` (scale 1/2pi)
    and :func:`derived_nb` applied in turn. With ``store_freq`` False the frequency is kept in
    per-frame scratch and ``freq`` is not written (it may then be any (1, 1, 1) array)."""
    ix = _inv2(x, -1.0, kx)
    iy = _inv2(y, -1.0, kx)
    inv_2pi = 1.0 / (2 * math.pi)
    tp = np.empty(1, dtype=kx.dtype)  # 2 pi in the fields' precision (keeps float32 SIMD)
    tp[0] = 2 * math.pi
    two_pi = tp[0]
    ny = zf.shape[1]
    nx = zf.shape[2] // 2
    nt = zf.shape[0]
    for t in numba.prange(nt):
        # finiteness of this frame and its neighbours, checked while they are in cache
        fin_t = _frame_finite(zf, t)
        _frame_x(zf, t, x, ix, kx, -1.0, fin_t)
        _frame_y(zf, t, y, iy, ky, -1.0, fin_t)
        clean_t = (
            fin_t
            and (t == 0 or _frame_finite(zf, t - 1))
            and (t == nt - 1 or _frame_finite(zf, t + 1))
        )
        if store_freq:
            fo = freq
            to = t
        else:  # frequency only needed on the way: a frame of scratch
            fo = np.empty((1, ny, nx), dtype=kx.dtype)
            to = t - t  # 0 of the loop index's type (prange indices may be unsigned)
        _frame_t(zf, t, dt, fo, inv_2pi, clean_t, to)
        # one branch-free loop per requested field (vectorisable)
        if do_speed:
            for i in range(ny):
                for j in range(nx):
                    a = kx[t, i, j]
                    b = ky[t, i, j]
                    speed[t, i, j] = abs(two_pi * fo[to, i, j]) / math.sqrt(a * a + b * b)
        if do_wavelength:
            for i in range(ny):
                for j in range(nx):
                    a = kx[t, i, j]
                    b = ky[t, i, j]
                    wavelength[t, i, j] = two_pi / math.sqrt(a * a + b * b)
        if do_direction:
            for i in range(ny):
                for j in range(nx):
                    direction[t, i, j] = _direction_point(kx[t, i, j], ky[t, i, j], fo[to, i, j])
                    if direction[t, i, j] <= -180.0:  # float32 rounding of -179.99999...
                        direction[t, i, j] = 180.0


def grid_fields_ref(z: np.ndarray, x, y, dt: float) -> dict:
    """NumPy reference of :func:`grid_fields_nb` (float64)."""
    gx, gy = spatial_gradient_ref(z, x, y)
    f = time_derivative_ref(z, dt) / (2 * np.pi)
    kx, ky = -gx, -gy
    speed, direction, wavelength = derived_ref(kx, ky, f)
    return {
        "kx": kx,
        "ky": ky,
        "freq": f,
        "speed": speed,
        "direction": direction,
        "wavelength": wavelength,
    }


def derived_ref(
    kx: np.ndarray, ky: np.ndarray, f: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference of :func:`derived_nb` (in the input's precision)."""
    dt = np.result_type(kx, np.float32)
    kx, ky, f = (np.asarray(a, dtype=dt) for a in (kx, ky, f))
    kk = np.sqrt(kx * kx + ky * ky)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.abs(2 * np.pi * f) / kk
        wavelength = 2 * np.pi / kk
    s = np.where(f < 0, -1.0, 1.0)
    direction = np.degrees(np.arctan2(s * ky, s * kx))
    direction = np.where(direction <= -180.0, 180.0, direction)  # (-180, 180]
    direction = np.where(np.isnan(f) | (kk == 0), np.nan, direction)
    return speed, direction, wavelength


# ----------------------------------------------------------------------------- FFT helper


@numba.njit(cache=True, parallel=True, error_model="numpy")
def analytic_spectrum_nb(spec, gain, box, mean, out):
    """Fill the full-length spectrum ``out`` (nfft, m) of the analytic signal from the one-sided
    spectrum ``spec`` (nf, m) of a record: ``out[f] = (spec[f] - box[f] mean) gain[f]`` for the
    ``nf`` non-negative frequencies (``gain`` already doubled where it must be), 0 for the
    negative ones. ``box`` is the DFT of the record's support (removing the channel ``mean``
    before zero-padding, without copying the record)."""
    nf, m = spec.shape
    nfft = out.shape[0]
    for f in numba.prange(nfft):
        if f < nf:
            g = gain[f]
            br = box[f].real
            bi = box[f].imag
            for j in range(m):
                v = spec[f, j]
                mu = mean[j]
                out[f, j] = complex((v.real - br * mu) * g, (v.imag - bi * mu) * g)
        else:
            for j in range(m):
                out[f, j] = 0


def analytic_spectrum_ref(spec, gain, box, mean, nfft):
    """NumPy reference of :func:`analytic_spectrum_nb`."""
    out = np.zeros((nfft, spec.shape[1]), dtype=spec.dtype)
    out[: spec.shape[0]] = (spec - box[:, None] * mean[None, :]) * gain[:, None]
    return out
