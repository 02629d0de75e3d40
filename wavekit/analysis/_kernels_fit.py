"""Compiled kernels of the plane, local and activation-time fits, each with a NumPy reference.

Every ``@numba.njit`` kernel here has a ``ref_*`` twin written with plain NumPy; the tests
(``tests/test_planefit.py``, ``tests/test_timing.py``, ``tests/test_irregular.py``) compare the two
with hypothesis on random layouts, noise and NaN patterns.

Circular-linear model (SPEC convention: the wave ``cos(w t - k.r)`` travels along ``+k``)::

    theta_j = (-k . r_j + phi) mod 2 pi

For a given ``k`` the best offset is ``phi = arg S(k)`` and the fit quality is the mean resultant
length ``R(k) = |S(k)| / sum_j w_j`` with ``S(k) = sum_j w_j exp(i (theta_j + k . r_j))``.
``R`` is maximised over ``k`` by Newton steps on
``g(k, phi) = sum_j w_j cos(theta_j + k.r_j - phi)``
started from a neighbour-difference estimate and, when needed, from the best point of a coarse
Cartesian grid of wave vectors.

Phasors enter as ``c = cos(theta)``, ``s = sin(theta)`` and weights ``w`` (0 for an excluded
channel), so no kernel sees a NaN.
"""

from __future__ import annotations

import numba
import numpy as np

# search modes of the plane fit
MODE_AUTO = 0  # neighbour-difference start; coarse grid only when the refined R is low
MODE_FULL = 1  # always both starts
MODE_GRID = 2  # coarse grid only

# output columns of plane_fit_frames
N_OUT = 7  # kx, ky, phi (at the centroid), R, rho_cc, n_valid, n_perm_exceed


# ----------------------------------------------------------------------------- plane fit: pieces


@numba.njit(cache=True)
def _eval(c, s, w, x, y, kx, ky):
    """S(k) real/imag parts and sum of weights."""
    sr = 0.0
    si = 0.0
    sw = 0.0
    for j in range(c.size):
        wj = w[j]
        if wj == 0.0:
            continue
        a = kx * x[j] + ky * y[j]
        ca = np.cos(a)
        sa = np.sin(a)
        sr += wj * (c[j] * ca - s[j] * sa)
        si += wj * (c[j] * sa + s[j] * ca)
        sw += wj
    return sr, si, sw


@numba.njit(cache=True)
def _solve3(a00, a01, a02, a11, a12, a22, b0, b1, b2):
    """Solve a symmetric 3x3 system by Cramer's rule; ok=False when singular."""
    d = (
        a00 * (a11 * a22 - a12 * a12)
        - a01 * (a01 * a22 - a12 * a02)
        + a02 * (a01 * a12 - a11 * a02)
    )
    scale = abs(a00 * a11 * a22) + 1e-300
    if abs(d) <= 1e-13 * scale:
        return 0.0, 0.0, 0.0, False
    x0 = b0 * (a11 * a22 - a12 * a12) - a01 * (b1 * a22 - a12 * b2) + a02 * (b1 * a12 - a11 * b2)
    x1 = a00 * (b1 * a22 - a12 * b2) - b0 * (a01 * a22 - a12 * a02) + a02 * (a01 * b2 - b1 * a02)
    x2 = a00 * (a11 * b2 - b1 * a12) - a01 * (a01 * b2 - b1 * a02) + b0 * (a01 * a12 - a11 * a02)
    return x0 / d, x1 / d, x2 / d, True


@numba.njit(cache=True)
def _rotate(c, s, w, x, y, kx, ky, zr, zi):
    """Fill ``zr + i zi = exp(i (theta_j + k.r_j))`` (0 where ``w == 0``); return S and sum w."""
    sr = 0.0
    si = 0.0
    sw = 0.0
    for j in range(c.size):
        wj = w[j]
        if wj == 0.0:
            zr[j] = 0.0
            zi[j] = 0.0
            continue
        a = kx * x[j] + ky * y[j]
        ca = np.cos(a)
        sa = np.sin(a)
        zr[j] = c[j] * ca - s[j] * sa
        zi[j] = c[j] * sa + s[j] * ca
        sr += wj * zr[j]
        si += wj * zi[j]
        sw += wj
    return sr, si, sw


@numba.njit(cache=True)
def _rotate_sep(c, s, w, kx, ky, sep, ebuf, zr, zi):
    """:func:`_rotate` for lattice layouts: ``exp(i k.r_j) = exp(i kx ux[ix_j]) exp(i ky uy[iy_j])``
    with ``sep = (ux, ix, uy, iy)`` the layout's distinct coordinates, so a grid of n channels
    costs ``nx + ny`` sine/cosine pairs instead of ``n``."""
    ux, ix, uy, iy = sep[0], sep[1], sep[2], sep[3]
    for q in range(ux.size):
        ebuf[0, q] = np.cos(kx * ux[q])
        ebuf[1, q] = np.sin(kx * ux[q])
    for q in range(uy.size):
        ebuf[2, q] = np.cos(ky * uy[q])
        ebuf[3, q] = np.sin(ky * uy[q])
    sr = 0.0
    si = 0.0
    sw = 0.0
    for j in range(c.size):
        wj = w[j]
        if wj == 0.0:
            zr[j] = 0.0
            zi[j] = 0.0
            continue
        a = ix[j]
        b = iy[j]
        ca = ebuf[0, a] * ebuf[2, b] - ebuf[1, a] * ebuf[3, b]
        sa = ebuf[0, a] * ebuf[3, b] + ebuf[1, a] * ebuf[2, b]
        zr[j] = c[j] * ca - s[j] * sa
        zi[j] = c[j] * sa + s[j] * ca
        sr += wj * zr[j]
        si += wj * zi[j]
        sw += wj
    return sr, si, sw


def no_sep():
    """The ``sep`` argument meaning "not a lattice": plain rotations and per-pair starts.

    For a lattice ``sep = (ux, ix, uy, iy, pcls, cdx, cdy)``: distinct x and y coordinates with
    each channel's index into them (:func:`_rotate_sep`), and each neighbour pair's displacement
    class with the classes' displacements (:func:`pair_start_classes`).
    """
    e, ei = np.zeros(0), np.zeros(0, np.int64)
    return (e, ei, e, ei, ei, e, e)


@numba.njit(cache=True)
def _cis_small(e):
    """``cos e, sin e`` by Taylor series, exact to round-off for ``|e| <= 0.25``."""
    e2 = e * e
    co = 1.0 + e2 * (-0.5 + e2 * (1 / 24 + e2 * (-1 / 720 + e2 * (1 / 40320 - e2 / 3628800))))
    si = e * (
        1.0 + e2 * (-1 / 6 + e2 * (1 / 120 + e2 * (-1 / 5040 + e2 * (1 / 362880 - e2 / 39916800))))
    )
    return co, si


@numba.njit(cache=True)
def _rotate_by(zr, zi, w, x, y, dkx, dky, nzr, nzi):
    """``nz = z exp(i dk.r_j)`` (Taylor for small angles, libm otherwise); returns S, sum w."""
    sr = 0.0
    si = 0.0
    sw = 0.0
    for j in range(zr.size):
        wj = w[j]
        if wj == 0.0:
            nzr[j] = 0.0
            nzi[j] = 0.0
            continue
        e = dkx * x[j] + dky * y[j]
        if abs(e) <= 0.25:
            ca, sa = _cis_small(e)
        else:
            ca = np.cos(e)
            sa = np.sin(e)
        nzr[j] = zr[j] * ca - zi[j] * sa
        nzi[j] = zr[j] * sa + zi[j] * ca
        sr += wj * nzr[j]
        si += wj * nzi[j]
        sw += wj
    return sr, si, sw


@numba.njit(cache=True)
def refine(c, s, w, x, y, kx, ky, max_iter, tol):
    """Newton ascent of R(k) from ``(kx, ky)``; returns ``kx, ky, phi, R``."""
    buf = np.empty((4, c.size))
    e, ei = np.zeros(0), np.zeros(0, np.int64)
    sep = (e, ei, e, ei, ei, e, e)
    return refine_into(c, s, w, x, y, kx, ky, max_iter, tol, buf, sep, buf)


@numba.njit(cache=True)
def refine_into(c, s, w, x, y, kx, ky, max_iter, tol, buf, sep, ebuf):
    """:func:`refine` with work space ``buf`` (4 x n); leaves the rotated phasors
    ``exp(i (theta_j + k.r_j))`` of the returned ``k`` in ``buf[0]``, ``buf[1]``. With a
    non-empty ``sep`` (see :func:`_rotate_sep`) the first rotation is separable (``ebuf``: 4 rows
    at least as long as the distinct coordinates).

    Each step solves ``M d = -sum_j w_j sin(e_j) v_j`` with ``v_j = (x_j, y_j, -1)``,
    ``e_j = theta_j + k.r_j - phi`` and ``M = sum_j w_j max(cos e_j, 0.05) v_j v_j^T`` (the
    negative Hessian, with channels beyond +-90 deg down-weighted so ``M`` stays positive
    definite); the step is halved until R does not decrease.
    """
    n = c.size
    zr = buf[0]
    zi = buf[1]
    nzr = buf[2]
    nzi = buf[3]
    swapped = False
    if sep[0].size > 0:
        sr, si, sw = _rotate_sep(c, s, w, kx, ky, sep, ebuf, zr, zi)
    else:
        sr, si, sw = _rotate(c, s, w, x, y, kx, ky, zr, zi)
    if sw == 0.0:
        return np.nan, np.nan, np.nan, np.nan
    r = np.hypot(sr, si)
    for _ in range(max_iter):
        if r == 0.0:
            break
        cp = sr / r
        sp = si / r
        a00 = a01 = a02 = a11 = a12 = a22 = 0.0
        b0 = b1 = b2 = 0.0
        for j in range(n):
            wj = w[j]
            if wj == 0.0:
                continue
            ce = zr[j] * cp + zi[j] * sp  # cos(e_j)
            se = zi[j] * cp - zr[j] * sp  # sin(e_j)
            h = wj * max(ce, 0.05)
            xj = x[j]
            yj = y[j]
            a00 += h * xj * xj
            a01 += h * xj * yj
            a02 -= h * xj
            a11 += h * yj * yj
            a12 -= h * yj
            a22 += h
            g = wj * se
            b0 -= g * xj
            b1 -= g * yj
            b2 += g
        dkx, dky, _dphi, ok = _solve3(a00, a01, a02, a11, a12, a22, b0, b1, b2)
        if not ok:
            break
        step = 1.0
        improved = False
        for _h in range(30):
            nkx = kx + step * dkx
            nky = ky + step * dky
            nsr, nsi, _ = _rotate_by(zr, zi, w, x, y, step * dkx, step * dky, nzr, nzi)
            nr = np.hypot(nsr, nsi)
            if nr >= r * (1.0 - 1e-15):
                improved = True
                break
            step *= 0.5
        if not improved:
            break
        done = np.hypot(step * dkx, step * dky) <= tol
        kx = nkx
        ky = nky
        sr = nsr
        si = nsi
        r = nr
        zr, nzr = nzr, zr
        zi, nzi = nzi, zi
        swapped = not swapped
        if done:
            break
    if swapped:
        buf[2, :] = buf[0]
        buf[3, :] = buf[1]
        buf[0, :] = zr
        buf[1, :] = zi
    return kx, ky, np.arctan2(si, sr), r / sw


# least-squares fit of atan(a) / a as a polynomial in a^2 on [0, 1] (max error 1.8e-6 rad)
_A0, _A1, _A2 = 0.99997983, -0.33265542, 0.19366989
_A3, _A4, _A5 = -0.11664998, 0.05282219, -0.01176997


@numba.njit(cache=True)
def fast_atan2(y, x):
    """atan2 to 2e-6 rad (odd polynomial on [0, 1] plus octant folding): a start value only."""
    ax = abs(x)
    ay = abs(y)
    mx = max(ax, ay)
    if mx == 0.0:
        return 0.0
    a = min(ax, ay) / mx
    s2 = a * a
    r = a * (_A0 + s2 * (_A1 + s2 * (_A2 + s2 * (_A3 + s2 * (_A4 + s2 * _A5)))))
    if ay > ax:
        r = 0.5 * np.pi - r
    if x < 0.0:
        r = np.pi - r
    if y < 0.0:
        r = -r
    return r


def ref_fast_atan2(y, x):
    """NumPy twin of :func:`fast_atan2`."""
    ax, ay = np.abs(x), np.abs(y)
    mx = np.maximum(ax, ay)
    a = np.minimum(ax, ay) / np.where(mx == 0, 1.0, mx)
    s2 = a * a
    r = a * (_A0 + s2 * (_A1 + s2 * (_A2 + s2 * (_A3 + s2 * (_A4 + s2 * _A5)))))
    r = np.where(ay > ax, 0.5 * np.pi - r, r)
    r = np.where(x < 0, np.pi - r, r)
    r = np.where(y < 0, -r, r)
    return np.where(mx == 0, 0.0, r)


@numba.njit(cache=True)
def pair_start(c, s, w, pi, pj, x, y):
    """Least-squares wave vector from wrapped neighbour phase differences.

    ``d_ij = arg(z_i conj(z_j)) ~ -k . (r_i - r_j)`` for neighbour pairs; solves the 2x2 normal
    equations weighted by ``w_i w_j``. Returns ``kx, ky, ok``. (A start value only, so the angle
    uses :func:`fast_atan2`.)
    """
    a00 = a01 = a11 = b0 = b1 = 0.0
    for p in range(pi.size):
        i = pi[p]
        j = pj[p]
        ww = w[i] * w[j]
        if ww == 0.0:
            continue
        d = fast_atan2(s[i] * c[j] - c[i] * s[j], c[i] * c[j] + s[i] * s[j])
        dx = x[i] - x[j]
        dy = y[i] - y[j]
        a00 += ww * dx * dx
        a01 += ww * dx * dy
        a11 += ww * dy * dy
        b0 -= ww * dx * d
        b1 -= ww * dy * d
    det = a00 * a11 - a01 * a01
    if det <= 1e-12 * (a00 * a11 + 1e-300):
        return 0.0, 0.0, False
    return (a11 * b0 - a01 * b1) / det, (a00 * b1 - a01 * b0) / det, True


#: coarse-grid nodes (best first) that each start a refinement: with heavy noise the
#: resultant-length surface has side peaks, and the best node need not lie in the best basin
GRID_STARTS = 4


@numba.njit(cache=True)
def grid_order(c, s, w, er, ei):
    """Coarse-grid node indices by decreasing resultant length (empty without weight)."""
    sw = 0.0
    for j in range(c.size):
        sw += w[j]
    if sw == 0.0:
        return np.zeros(0, np.int64)
    vals = np.empty(er.shape[0])
    for g in range(er.shape[0]):
        sr = 0.0
        si = 0.0
        for j in range(c.size):
            wj = w[j]
            if wj == 0.0:
                continue
            sr += wj * (c[j] * er[g, j] - s[j] * ei[g, j])
            si += wj * (c[j] * ei[g, j] + s[j] * er[g, j])
        vals[g] = sr * sr + si * si
    return np.argsort(-vals, kind="mergesort")


@numba.njit(cache=True)
def fit_one(c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol):
    """One circular-linear plane fit: returns ``kx, ky, phi, R``."""
    buf = np.empty((8, c.size))
    e, ei = np.zeros(0), np.zeros(0, np.int64)
    sep = (e, ei, e, ei, ei, e, e)
    return fit_one_into(
        c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, buf, sep
    )


@numba.njit(cache=True)
def fit_one_into(
    c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, buf, sep
):
    """:func:`fit_one` with work space ``buf`` (12 x n, or 8 x n with an empty ``sep``); leaves
    the rotated phasors of the best fit in ``buf[0]``, ``buf[1]``."""
    bkx = bky = bphi = np.nan
    br = -1.0
    if mode != MODE_GRID:
        if sep[4].size > 0:
            kx0, ky0, ok = pair_start_classes(c, s, w, pi, pj, sep[4], sep[5], sep[6], buf[8:11])
        else:
            kx0, ky0, ok = pair_start(c, s, w, pi, pj, x, y)
        if ok:
            kx, ky, phi, r = refine_into(
                c, s, w, x, y, kx0, ky0, max_iter, tol, buf[0:4], sep, buf[8:12]
            )
            if r > br:
                bkx, bky, bphi, br = kx, ky, phi, r
    if mode != MODE_AUTO or not (br >= grid_below):
        order = grid_order(c, s, w, er, ei)
        for q in range(min(GRID_STARTS, order.size)):
            g = order[q]
            kx, ky, phi, r = refine_into(
                c, s, w, x, y, kgx[g], kgy[g], max_iter, tol, buf[4:8], sep, buf[8:12]
            )
            if r > br:
                bkx, bky, bphi, br = kx, ky, phi, r
                buf[0, :] = buf[4]
                buf[1, :] = buf[5]
    if br < 0.0:
        return np.nan, np.nan, np.nan, np.nan
    return bkx, bky, bphi, br


@numba.njit(cache=True)
def rho_cc(c, s, w, x, y, kx, ky):
    """Circular correlation (Jammalamadaka & SenGupta) of observed and predicted phases.

    Predicted phase ``-k . r_j`` (the offset cancels). Channels with ``w == 0`` are excluded
    (weights enter as presence, the statistic is unweighted).
    """
    zr = np.empty(c.size)
    zi = np.empty(c.size)
    _rotate(c, s, w, x, y, kx, ky, zr, zi)
    return rho_cc_rot(c, s, w, zr, zi)


@numba.njit(cache=True)
def rho_cc_rot(c, s, w, zr, zi):
    """:func:`rho_cc` from the rotated phasors ``z_j = exp(i (theta_j + k.r_j))``: the predicted
    phasor is ``exp(-i k.r_j) = exp(i theta_j) conj(z_j)`` (no trigonometry)."""
    mc = ms = pc = ps = 0.0
    for j in range(c.size):
        if w[j] == 0.0:
            continue
        mc += c[j]
        ms += s[j]
        pc += c[j] * zr[j] + s[j] * zi[j]
        ps += s[j] * zr[j] - c[j] * zi[j]
    ra = np.hypot(mc, ms)
    rb = np.hypot(pc, ps)
    if ra == 0.0 or rb == 0.0:
        return np.nan
    mc /= ra
    ms /= ra
    pc /= rb
    ps /= rb
    num = saa = sbb = 0.0
    for j in range(c.size):
        if w[j] == 0.0:
            continue
        qc = c[j] * zr[j] + s[j] * zi[j]
        qs = s[j] * zr[j] - c[j] * zi[j]
        sa = s[j] * mc - c[j] * ms  # sin(theta - mean)
        sb = qs * pc - qc * ps  # sin(pred - mean pred)
        num += sa * sb
        saa += sa * sa
        sbb += sb * sb
    if saa == 0.0 or sbb == 0.0:
        return np.nan
    return num / np.sqrt(saa * sbb)


@numba.njit(cache=True)
def _stat(rho, n):
    """Adjusted R^2 of Zhang et al. (2018) with 2 predictors (permutation statistic)."""
    if n <= 3 or rho != rho:
        return -np.inf
    return 1.0 - (1.0 - rho * rho) * (n - 1.0) / (n - 3.0)


@numba.njit(cache=True, parallel=True)
def plane_fit_frames(
    zc, zs, zw, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, perms, sep
):
    """Plane fits of every frame (row of ``zc``/``zs``/``zw``), parallel over frames.

    ``perms`` (n_perm x n_channel) permutes phases over positions for the shuffle test; the
    shuffled fits always use the full search. ``sep`` describes a lattice layout for separable
    rotations (:func:`_rotate_sep`; :func:`no_sep` otherwise). Returns ``(n_frames, N_OUT)``.
    """
    nt, nch = zc.shape
    out = np.full((nt, N_OUT), np.nan)
    nchunk = min(nt, 256)  # static chunks, each with its own work space
    for q in numba.prange(nchunk):
        buf = np.empty((12, nch))
        cp = np.empty(nch)
        sp = np.empty(nch)
        wp = np.empty(nch)
        for t in range(q * nt // nchunk, (q + 1) * nt // nchunk):
            args = (x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, perms)
            _frame(zc[t], zs[t], zw[t], args, buf, cp, sp, wp, sep, out[t])
    return out


@numba.njit(cache=True)
def _frame(c, s, w, args, buf, cp, sp, wp, sep, out):
    """One frame of :func:`plane_fit_frames` into the row ``out``."""
    x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, perms = args
    zr = buf[0]
    zi = buf[1]
    n = 0.0
    for j in range(w.size):
        if w[j] > 0.0:
            n += 1.0
    out[5] = n
    if n < 3:
        return
    kx, ky, phi, r = fit_one_into(
        c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, buf, sep
    )
    rho = rho_cc_rot(c, s, w, zr, zi) if kx == kx else np.nan
    out[0] = kx
    out[1] = ky
    out[2] = phi
    out[3] = r
    out[4] = rho
    if perms.shape[0] > 0:
        st = _stat(rho, n)
        cnt = 0.0
        for p in range(perms.shape[0]):
            for j in range(c.size):
                cp[j] = c[perms[p, j]]
                sp[j] = s[perms[p, j]]
                wp[j] = w[perms[p, j]]
            pkx, _pky, _pphi, _pr = fit_one_into(
                cp,
                sp,
                wp,
                x,
                y,
                pi,
                pj,
                er,
                ei,
                kgx,
                kgy,
                MODE_FULL,
                grid_below,
                max_iter,
                tol,
                buf,
                sep,
            )
            prho = rho_cc_rot(cp, sp, wp, zr, zi) if pkx == pkx else np.nan
            if _stat(prho, n) >= st - 1e-9:  # ties (to round-off) count as exceedances
                cnt += 1.0
        out[6] = cnt


# ------------------------------------------------------------------------ plane fit: references


def ref_eval(c, s, w, x, y, kx, ky):
    z = (c + 1j * s) * np.exp(1j * (kx * x + ky * y))
    sm = np.sum(w * z)
    return sm.real, sm.imag, float(np.sum(w))


def ref_refine(c, s, w, x, y, kx, ky, max_iter, tol):
    """NumPy twin of :func:`refine`."""
    sr, si, sw = ref_eval(c, s, w, x, y, kx, ky)
    if sw == 0:
        return np.nan, np.nan, np.nan, np.nan
    r = np.hypot(sr, si)
    v = np.stack([x, y, -np.ones_like(x)], axis=1)
    for _ in range(max_iter):
        if r == 0:
            break
        e = np.angle((c + 1j * s) * np.exp(1j * (kx * x + ky * y))) - np.arctan2(si, sr)
        h = w * np.maximum(np.cos(e), 0.05)
        m = (v * h[:, None]).T @ v
        b = -(v * (w * np.sin(e))[:, None]).sum(axis=0)
        try:
            if abs(np.linalg.det(m)) <= 1e-13 * (abs(m[0, 0] * m[1, 1] * m[2, 2]) + 1e-300):
                break
            d = np.linalg.solve(m, b)
        except np.linalg.LinAlgError:
            break
        step = 1.0
        improved = False
        for _h in range(30):
            nkx, nky = kx + step * d[0], ky + step * d[1]
            nsr, nsi, _ = ref_eval(c, s, w, x, y, nkx, nky)
            nr = np.hypot(nsr, nsi)
            if nr >= r * (1 - 1e-15):
                improved = True
                break
            step *= 0.5
        if not improved:
            break
        done = np.hypot(step * d[0], step * d[1]) <= tol
        kx, ky, sr, si, r = nkx, nky, nsr, nsi, nr
        if done:
            break
    return kx, ky, np.arctan2(si, sr), r / sw


@numba.njit(cache=True)
def pair_start_classes(c, s, w, pi, pj, pcls, cdx, cdy, cbuf):
    """:func:`pair_start` for lattices: pairs with the same displacement ``(cdx, cdy)[g]`` form a
    class ``g``; each class contributes ``arg sum_pairs w_i w_j z_i conj(z_j)`` (one angle per
    class instead of one per pair), weighted by its summed ``w_i w_j``. ``cbuf``: 3 x n_classes.
    """
    ncls = cdx.size
    for g in range(ncls):
        cbuf[0, g] = 0.0
        cbuf[1, g] = 0.0
        cbuf[2, g] = 0.0
    for p in range(pi.size):
        i = pi[p]
        j = pj[p]
        ww = w[i] * w[j]
        if ww == 0.0:
            continue
        g = pcls[p]
        cbuf[0, g] += ww * (c[i] * c[j] + s[i] * s[j])
        cbuf[1, g] += ww * (s[i] * c[j] - c[i] * s[j])
        cbuf[2, g] += ww
    a00 = a01 = a11 = b0 = b1 = 0.0
    for g in range(ncls):
        ww = cbuf[2, g]
        if ww == 0.0:
            continue
        d = np.arctan2(cbuf[1, g], cbuf[0, g])
        dx = cdx[g]
        dy = cdy[g]
        a00 += ww * dx * dx
        a01 += ww * dx * dy
        a11 += ww * dy * dy
        b0 -= ww * dx * d
        b1 -= ww * dy * d
    det = a00 * a11 - a01 * a01
    if det <= 1e-12 * (a00 * a11 + 1e-300):
        return 0.0, 0.0, False
    return (a11 * b0 - a01 * b1) / det, (a00 * b1 - a01 * b0) / det, True


def ref_pair_start_classes(c, s, w, pi, pj, pcls, cdx, cdy):
    """NumPy twin of :func:`pair_start_classes` (``bincount`` per class, then ``lstsq``)."""
    ww = w[pi] * w[pj]
    z = ww * (c[pi] + 1j * s[pi]) * (c[pj] - 1j * s[pj])
    n = cdx.size
    zs = np.bincount(pcls, weights=z.real, minlength=n) + 1j * np.bincount(
        pcls, weights=z.imag, minlength=n
    )
    cw = np.bincount(pcls, weights=ww, minlength=n)
    keep = cw > 0
    a = np.stack([cdx, cdy], axis=1)[keep] * np.sqrt(cw[keep])[:, None]
    if keep.sum() < 2 or np.linalg.matrix_rank(a) < 2:
        return 0.0, 0.0, False
    k, *_ = np.linalg.lstsq(a, -np.angle(zs[keep]) * np.sqrt(cw[keep]), rcond=None)
    return float(k[0]), float(k[1]), True


def ref_pair_start(c, s, w, pi, pj, x, y):
    """NumPy twin of :func:`pair_start` (weighted least squares with ``lstsq``)."""
    ww = w[pi] * w[pj]
    keep = ww > 0
    if keep.sum() < 2:
        return 0.0, 0.0, False
    d = ref_fast_atan2(s[pi] * c[pj] - c[pi] * s[pj], c[pi] * c[pj] + s[pi] * s[pj])[keep]
    a = np.stack([x[pi] - x[pj], y[pi] - y[pj]], axis=1)[keep]
    sq = np.sqrt(ww[keep])
    if np.linalg.matrix_rank(a * sq[:, None]) < 2:
        return 0.0, 0.0, False
    k, *_ = np.linalg.lstsq(a * sq[:, None], -d * sq, rcond=None)
    return float(k[0]), float(k[1]), True


def ref_grid_order(c, s, w, er, ei):
    """NumPy twin of :func:`grid_order`."""
    if float(np.sum(w)) == 0:
        return np.zeros(0, np.int64)
    sm = (er + 1j * ei) @ (w * (c + 1j * s))
    return np.argsort(-(np.abs(sm) ** 2), kind="stable")


def ref_fit_one(c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, sep=None):
    best = (np.nan, np.nan, np.nan, -1.0)
    if mode != MODE_GRID:
        if sep is not None and sep[4].size > 0:
            kx0, ky0, ok = ref_pair_start_classes(c, s, w, pi, pj, sep[4], sep[5], sep[6])
        else:
            kx0, ky0, ok = ref_pair_start(c, s, w, pi, pj, x, y)
        if ok:
            res = ref_refine(c, s, w, x, y, kx0, ky0, max_iter, tol)
            if res[3] > best[3]:
                best = res
    if mode != MODE_AUTO or not (best[3] >= grid_below):
        for g in ref_grid_order(c, s, w, er, ei)[:GRID_STARTS]:
            res = ref_refine(c, s, w, x, y, float(kgx[g]), float(kgy[g]), max_iter, tol)
            if res[3] > best[3]:
                best = res
    if best[3] < 0:
        return np.nan, np.nan, np.nan, np.nan
    return best


def ref_rho_cc(c, s, w, x, y, kx, ky):
    from .circstats import circ_corrcc

    keep = w > 0
    return float(circ_corrcc(np.arctan2(s, c)[keep], -(kx * x + ky * y)[keep]))


def ref_plane_fit_frames(
    zc, zs, zw, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, perms, sep=None
):
    """NumPy twin of :func:`plane_fit_frames` (one frame at a time)."""
    nt = zc.shape[0]
    out = np.full((nt, N_OUT), np.nan)
    for t in range(nt):
        c, s, w = zc[t], zs[t], zw[t]
        n = float(np.sum(w > 0))
        out[t, 5] = n
        if n < 3:
            continue
        kx, ky, phi, r = ref_fit_one(
            c, s, w, x, y, pi, pj, er, ei, kgx, kgy, mode, grid_below, max_iter, tol, sep
        )
        rho = ref_rho_cc(c, s, w, x, y, kx, ky)
        out[t, :5] = kx, ky, phi, r, rho
        if perms.shape[0] > 0:
            st = _stat.py_func(rho, n)
            cnt = 0
            for idx in perms:
                cp, sp, wp = c[idx], s[idx], w[idx]
                pk = ref_fit_one(
                    cp,
                    sp,
                    wp,
                    x,
                    y,
                    pi,
                    pj,
                    er,
                    ei,
                    kgx,
                    kgy,
                    MODE_FULL,
                    grid_below,
                    max_iter,
                    tol,
                    sep,
                )
                cnt += _stat.py_func(ref_rho_cc(cp, sp, wp, x, y, pk[0], pk[1]), n) >= st - 1e-9
            out[t, 6] = cnt
    return out


# ----------------------------------------------------------------------------- local fits


@numba.njit(cache=True, parallel=True)
def local_fit(zc, zs, zw, x, y, nbr, max_iter, tol):
    """Local circular-linear plane fits: for every frame and channel, a fit over ``nbr[ch]``.

    ``nbr`` (n_channel x m) lists each channel's neighbourhood (itself included; -1 pads).
    Positions are taken relative to the centre channel. Starts from the least-squares fit of
    phase differences to the centre, then Newton-refines R. Returns ``(nt, nch, 3)``:
    ``kx, ky, R``.
    """
    nt, nch = zc.shape
    m = nbr.shape[1]
    out = np.full((nt, nch, 3), np.nan)
    for t in numba.prange(nt):
        cc = np.empty(m)
        ss = np.empty(m)
        ww = np.empty(m)
        xx = np.empty(m)
        yy = np.empty(m)
        buf = np.empty((4, m))
        e, ei = np.zeros(0), np.zeros(0, np.int64)
        sep = (e, ei, e, ei, ei, e, e)
        for ch in range(nch):
            if zw[t, ch] == 0.0:
                continue
            nv = 0
            a00 = a01 = a11 = b0 = b1 = 0.0
            c0 = zc[t, ch]
            s0 = zs[t, ch]
            for q in range(m):
                j = nbr[ch, q]
                if j < 0 or zw[t, j] == 0.0:
                    ww[q] = 0.0
                    cc[q] = 0.0
                    ss[q] = 0.0
                    xx[q] = 0.0
                    yy[q] = 0.0
                    continue
                nv += 1
                cc[q] = zc[t, j]
                ss[q] = zs[t, j]
                ww[q] = zw[t, j]
                dx = x[j] - x[ch]
                dy = y[j] - y[ch]
                xx[q] = dx
                yy[q] = dy
                if j != ch:
                    wv = zw[t, j] * zw[t, ch]
                    d = np.arctan2(ss[q] * c0 - cc[q] * s0, cc[q] * c0 + ss[q] * s0)
                    a00 += wv * dx * dx
                    a01 += wv * dx * dy
                    a11 += wv * dy * dy
                    b0 -= wv * dx * d
                    b1 -= wv * dy * d
            det = a00 * a11 - a01 * a01
            if nv < 3 or det <= 1e-12 * (a00 * a11 + 1e-300):
                continue
            kx0 = (a11 * b0 - a01 * b1) / det
            ky0 = (a00 * b1 - a01 * b0) / det
            kx, ky, _phi, r = refine_into(
                cc, ss, ww, xx, yy, kx0, ky0, max_iter, tol, buf, sep, buf
            )
            out[t, ch, 0] = kx
            out[t, ch, 1] = ky
            out[t, ch, 2] = r
    return out


def ref_local_fit(zc, zs, zw, x, y, nbr, max_iter, tol):
    """NumPy twin of :func:`local_fit`."""
    nt, nch = zc.shape
    out = np.full((nt, nch, 3), np.nan)
    for t in range(nt):
        for ch in range(nch):
            if zw[t, ch] == 0:
                continue
            idx = nbr[ch][nbr[ch] >= 0]
            idx = idx[zw[t, idx] > 0]
            if idx.size < 3:
                continue
            cc, ss, ww = zc[t, idx], zs[t, idx], zw[t, idx]
            xx, yy = x[idx] - x[ch], y[idx] - y[ch]
            others = idx != ch
            th = np.arctan2(ss, cc)
            d = np.angle(np.exp(1j * (th - np.arctan2(zs[t, ch], zc[t, ch]))))[others]
            a = np.stack([xx, yy], 1)[others]
            sq = np.sqrt(ww[others] * zw[t, ch])
            if np.linalg.matrix_rank(a * sq[:, None]) < 2:
                continue
            k0, *_ = np.linalg.lstsq(a * sq[:, None], -d * sq, rcond=None)
            kx, ky, _phi, r = ref_refine(cc, ss, ww, xx, yy, k0[0], k0[1], max_iter, tol)
            out[t, ch] = kx, ky, r
    return out


# ------------------------------------------------------------------------ time-on-position fits


@numba.njit(cache=True)
def huber_plane(t, x, y, w, c_huber, max_iter):
    """Robust (Huber M-estimate, IRLS) fit of ``t = t0 + sx x + sy y``.

    Returns ``t0, sx, sy, scale``.

    The scale is the normalised MAD of the residuals (1.4826 MAD), re-estimated each iteration;
    weights ``min(1, c s / |r|)``. ``w`` are presence/bootstrap multiplicities (0 excludes).
    """
    n = t.size
    u = np.ones(n)
    t0 = sx = sy = 0.0
    scale = np.nan
    res = np.empty(n)
    for it in range(max_iter):
        a00 = a01 = a02 = a11 = a12 = a22 = b0 = b1 = b2 = 0.0
        for j in range(n):
            h = w[j] * u[j]
            if h == 0.0:
                continue
            a00 += h
            a01 += h * x[j]
            a02 += h * y[j]
            a11 += h * x[j] * x[j]
            a12 += h * x[j] * y[j]
            a22 += h * y[j] * y[j]
            b0 += h * t[j]
            b1 += h * x[j] * t[j]
            b2 += h * y[j] * t[j]
        p0, p1, p2, ok = _solve3(a00, a01, a02, a11, a12, a22, b0, b1, b2)
        if not ok:
            return np.nan, np.nan, np.nan, np.nan
        change = abs(p1 - sx) + abs(p2 - sy)
        t0, sx, sy = p0, p1, p2
        # residuals of present samples (with multiplicity) -> MAD scale
        m = 0
        for j in range(n):
            if w[j] > 0.0:
                m += 1
        rr = np.empty(m)
        q = 0
        for j in range(n):
            res[j] = t[j] - t0 - sx * x[j] - sy * y[j]
            if w[j] > 0.0:
                rr[q] = res[j]
                q += 1
        med = np.median(rr)
        scale = 1.4826 * np.median(np.abs(rr - med))
        if scale <= 0.0:
            break
        for j in range(n):
            a = abs(res[j])
            u[j] = 1.0 if a <= c_huber * scale else c_huber * scale / a
        if it > 0 and change <= 1e-12 * (abs(sx) + abs(sy) + 1e-300):
            break
    return t0, sx, sy, scale


@numba.njit(cache=True, parallel=True)
def huber_bootstrap(t, x, y, w, boot_idx, c_huber, max_iter):
    """Huber fits on bootstrap resamples of channels (rows of ``boot_idx``); returns (nb, 3)."""
    nb = boot_idx.shape[0]
    out = np.full((nb, 3), np.nan)
    for b in numba.prange(nb):
        wb = np.zeros(t.size)
        for q in range(boot_idx.shape[1]):
            wb[boot_idx[b, q]] += w[boot_idx[b, q]]
        t0, sx, sy, _sc = huber_plane(t, x, y, wb, c_huber, max_iter)
        out[b, 0] = t0
        out[b, 1] = sx
        out[b, 2] = sy
    return out


def ref_huber_plane(t, x, y, w, c_huber, max_iter):
    """NumPy twin of :func:`huber_plane` (normal equations with NumPy, the same 3x3 solver)."""
    u = np.ones_like(t)
    a = np.stack([np.ones_like(x), x, y], axis=1)
    p = np.zeros(3)
    scale = np.nan
    for it in range(max_iter):
        h = w * u
        m = (a * h[:, None]).T @ a
        b = (a * h[:, None]).T @ t
        p0, p1, p2, ok = _solve3.py_func(
            m[0, 0], m[0, 1], m[0, 2], m[1, 1], m[1, 2], m[2, 2], b[0], b[1], b[2]
        )
        if not ok:
            return np.nan, np.nan, np.nan, np.nan
        new = np.array([p0, p1, p2])
        change = abs(new[1] - p[1]) + abs(new[2] - p[2])
        p = new
        res = t - a @ p
        rr = res[w > 0]
        scale = 1.4826 * np.median(np.abs(rr - np.median(rr)))
        if scale <= 0:
            break
        with np.errstate(divide="ignore"):
            u = np.where(np.abs(res) <= c_huber * scale, 1.0, c_huber * scale / np.abs(res))
        if it > 0 and change <= 1e-12 * (abs(p[1]) + abs(p[2]) + 1e-300):
            break
    return p[0], p[1], p[2], scale


def ref_huber_bootstrap(t, x, y, w, boot_idx, c_huber, max_iter):
    out = np.full((boot_idx.shape[0], 3), np.nan)
    for b, idx in enumerate(boot_idx):
        wb = np.bincount(idx, weights=w[idx], minlength=t.size).astype(float)
        out[b] = ref_huber_plane(t, x, y, wb, c_huber, max_iter)[:3]
    return out
