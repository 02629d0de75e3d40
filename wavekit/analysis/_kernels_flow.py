r"""Compiled Horn-Schunck solver with Charbonnier penalties, and its plain NumPy reference.

Per frame, with data derivatives ``Ix, Iy, It`` (per pixel and per frame) the flow ``(u, v)``
(pixels per frame) minimises

.. math:: E = \sum_p \rho\big((I_x u + I_y v + I_t)_p^2\big)
          + \alpha \sum_p \rho\big(|\nabla u|_p^2 + |\nabla v|_p^2\big),
          \qquad \rho(s^2) = \sqrt{s^2 + \beta^2}

(Townsend & Gong 2018, after Brox et al. 2004). Lagged-diffusivity fixed point: at each sweep
the weights ``psi_D = 1 / sqrt(r^2 + beta^2)`` (``r`` the data residual) and
``psi_S = 1 / sqrt(|grad u|^2 + |grad v|^2 + beta^2)`` (forward differences) are frozen, the
edge weight between 4-neighbours ``p, q`` is ``w_pq = (psi_S,p + psi_S,q) / 2``, and every
pixel solves its 2 x 2 Euler-Lagrange system with its neighbours' current values, in red-black
order (Gauss-Seidel: first the pixels with ``i + j`` even, then the odd ones, which see the even
pixels' new values):

.. math:: \begin{pmatrix} \psi_D I_x^2 + \alpha W & \psi_D I_x I_y \\
          \psi_D I_x I_y & \psi_D I_y^2 + \alpha W \end{pmatrix}
          \begin{pmatrix} u \\ v \end{pmatrix} =
          \begin{pmatrix} \alpha \sum_q w_{pq} u_q - \psi_D I_x I_t \\
          \alpha \sum_q w_{pq} v_q - \psi_D I_y I_t \end{pmatrix},
          \qquad W = \sum_q w_{pq}.

Pixels with a NaN derivative have no data term (``psi_D = 0``): the smoothness term fills
them in; the public function returns NaN there. Sweeps stop when the largest change is below
``tol`` or after ``max_iter``; each frame starts from the previous frame's flow (warm start).

Why red-black Gauss-Seidel rather than Jacobi sweeps (the solver until 2026-11): with noisy
data, Jacobi sweeps of this lagged-diffusivity scheme can fall into a period-2 cycle and then
never meet ``tol`` (64 x 64 spiral of ``benchmarks/bench_flow.py``, 0.3 rad phase noise: after
20000 sweeps the flow alternates between two states on a few dozen pixels, largest change 0.04
pixel/frame); Gauss-Seidel sweeps of a symmetric positive definite system converge, and about
twice as fast. The compiled kernel computes the frozen weights and each pixel's update as
coefficients of its neighbour sums, ``u = c0 su + c1 sv + c3`` and ``v = c1 su + c2 sv + c4``
(the inverse of the 2 x 2 system folded in), in branch-free loops that the compiler vectorises;
each colour pass computes every pixel's update from one buffer and writes the chosen colour's
(the others' values copied) to the other, which also vectorises. Arrays are padded by one pixel
whose pad only meets zero edge weights. Both implementations do the same arithmetic;
``tests/test_flow.py`` compares them.

References
----------
Horn B. K. P., Schunck B. G. (1981) Determining optical flow. Artif. Intell. 17:185-203.
doi:10.1016/0004-3702(81)90024-2

Brox T., Bruhn A., Papenberg N., Weickert J. (2004) High accuracy optical flow estimation based
on a theory for warping. ECCV 2004, LNCS 3024:25-36. doi:10.1007/978-3-540-24673-2_3

Townsend R. G., Gong P. (2018) PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def _weights_nb(a, b, c, u, v, ps, ex, ey, coef, good, h, beta2):
    """Frozen weights of one sweep from the padded flow ``u, v`` (ny + 2, nx + 2).

    Writes ``psi_S`` (``ps``), the edge weights ``ex`` (ny, nx + 1: between columns j - 1 and j,
    zero at the borders) and ``ey`` (ny + 1, nx), and each pixel's update as coefficients
    ``coef`` (5, ny, nx) of the neighbour sums (:func:`_update_coefficients`), ``good`` where
    its 2 x 2 system is regular. Branch-free loops (the compiler vectorises them)."""
    ny, nx = a.shape
    for i in range(1, ny + 1):  # replicate the last column and row: zero forward differences
        u[i, nx + 1] = u[i, nx]
        v[i, nx + 1] = v[i, nx]
    for j in range(1, nx + 1):
        u[ny + 1, j] = u[ny, j]
        v[ny + 1, j] = v[ny, j]
    for i in range(ny):
        for j in range(nx):
            p = i + 1
            q = j + 1
            gux = u[p, q + 1] - u[p, q]
            gvx = v[p, q + 1] - v[p, q]
            guy = u[p + 1, q] - u[p, q]
            gvy = v[p + 1, q] - v[p, q]
            ps[i, j] = 1.0 / math.sqrt(gux * gux + gvx * gvx + guy * guy + gvy * gvy + beta2)
    for i in range(ny):
        ex[i, 0] = 0.0
        ex[i, nx] = 0.0
        for j in range(1, nx):
            ex[i, j] = ps[i, j - 1] + ps[i, j]
    for j in range(nx):
        ey[0, j] = 0.0
        ey[ny, j] = 0.0
    for i in range(1, ny):
        for j in range(nx):
            ey[i, j] = ps[i - 1, j] + ps[i, j]
    for i in range(ny):
        for j in range(nx):
            r = a[i, j] * u[i + 1, j + 1] + b[i, j] * v[i + 1, j + 1] + c[i, j]
            pd = 1.0 / math.sqrt(r * r + beta2)
            pa = pd * a[i, j]
            pb = pd * b[i, j]
            aw = h * (ex[i, j] + ex[i, j + 1] + ey[i, j] + ey[i + 1, j])
            m11 = pa * a[i, j] + aw
            m22 = pb * b[i, j] + aw
            m12 = pa * b[i, j]
            j13 = pa * c[i, j]
            j23 = pb * c[i, j]
            det = m11 * m22 - m12 * m12
            ok = det > 0.0
            inv = 1.0 / (det if ok else 1.0)
            w = inv if ok else 0.0
            coef[0, i, j] = h * m22 * w
            coef[1, i, j] = -h * m12 * w
            coef[2, i, j] = h * m11 * w
            coef[3, i, j] = (m12 * j23 - m22 * j13) * w
            coef[4, i, j] = (m12 * j13 - m11 * j23) * w
            good[i, j] = ok


@numba.njit(cache=True, error_model="numpy")
def _colour_nb(u, v, un, vn, ex, ey, coef, good, d, colour):
    """One colour of a red-black sweep: the pixels with ``(i + j) % 2 == colour`` (and a
    regular system) take their update computed from ``u, v``, the others keep their value; all
    written to ``un, vn``. Returns the largest change. Every pixel's update is computed (half
    of them thrown away) in a loop without branches or in-place writes, which the compiler
    vectorises: about twice as fast as updating the chosen pixels in place."""
    ny = ex.shape[0]
    nx = ey.shape[1]
    for i in range(ny):
        p = i + 1
        for j in range(nx):
            q = j + 1
            wl = ex[i, j]
            wr = ex[i, j + 1]
            wu = ey[i, j]
            wd = ey[i + 1, j]
            su = wl * u[p, q - 1] + wr * u[p, q + 1] + wu * u[p - 1, q] + wd * u[p + 1, q]
            sv = wl * v[p, q - 1] + wr * v[p, q + 1] + wu * v[p - 1, q] + wd * v[p + 1, q]
            nu = coef[0, i, j] * su + coef[1, i, j] * sv + coef[3, i, j]
            nv = coef[1, i, j] * su + coef[2, i, j] * sv + coef[4, i, j]
            take = good[i, j] & (((i + j) & 1) == colour)
            u0 = u[p, q]
            v0 = v[p, q]
            un[p, q] = nu if take else u0
            vn[p, q] = nv if take else v0
            d[i, j] = max(abs(nu - u0), abs(nv - v0)) if take else 0.0
    change = 0.0
    for i in range(ny):
        for j in range(nx):
            change = max(change, d[i, j])
    return change


@numba.njit(cache=True, error_model="numpy")
def hs_charbonnier_nb(
    ix, iy, it, alpha, beta, max_iter, tol, u_out, v_out, n_iter, max_iter_warm, u0, v0
):
    """Flow of every frame of ``ix, iy, it`` (nt, ny, nx) into ``u_out, v_out``; sweeps per
    frame into ``n_iter`` (nt,). The first frame starts from ``u0, v0`` (ny, nx), frame t from
    frame t-1's result; the first frame gets up to ``max_iter`` sweeps, the warm-started ones
    up to ``max_iter_warm`` (``max_iter`` when negative)."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny + 2, nx + 2))  # padded: the pad only ever meets zero edge weights
    v = np.zeros((ny + 2, nx + 2))
    u[1 : ny + 1, 1 : nx + 1] = u0
    v[1 : ny + 1, 1 : nx + 1] = v0
    un = np.zeros((ny + 2, nx + 2))  # the other buffer of each sweep's first colour
    vn = np.zeros((ny + 2, nx + 2))
    a = np.empty((ny, nx))
    b = np.empty((ny, nx))
    c = np.empty((ny, nx))
    ps = np.empty((ny, nx))
    ex = np.empty((ny, nx + 1))
    ey = np.empty((ny + 1, nx))
    coef = np.empty((5, ny, nx))
    good = np.empty((ny, nx), dtype=np.bool_)
    d = np.empty((ny, nx))
    beta2 = beta * beta
    h = 0.5 * alpha
    for t in range(nt):
        for i in range(ny):
            for j in range(nx):
                x0 = ix[t, i, j]
                y0 = iy[t, i, j]
                t0 = it[t, i, j]
                if math.isfinite(x0) and math.isfinite(y0) and math.isfinite(t0):
                    a[i, j] = x0
                    b[i, j] = y0
                    c[i, j] = t0
                else:  # no data term: the smoothness term fills the pixel in
                    a[i, j] = 0.0
                    b[i, j] = 0.0
                    c[i, j] = 0.0
        k = 0
        lim = max_iter if (t == 0 or max_iter_warm < 0) else max_iter_warm
        while k < lim:
            _weights_nb(a, b, c, u, v, ps, ex, ey, coef, good, h, beta2)
            change = _colour_nb(u, v, un, vn, ex, ey, coef, good, d, 0)
            change = max(change, _colour_nb(un, vn, u, v, ex, ey, coef, good, d, 1))
            k += 1
            if change < tol:
                break
        n_iter[t] = k
        u_out[t] = u[1 : ny + 1, 1 : nx + 1]
        v_out[t] = v[1 : ny + 1, 1 : nx + 1]


def _sweep_ref(a, b, c, u, v, alpha, beta2):
    """One red-black sweep of :func:`hs_charbonnier_nb` with whole-array operations."""
    ny, nx = u.shape
    zero_c = np.zeros((ny, 1))
    zero_r = np.zeros((1, nx))
    gux = np.concatenate([np.diff(u, axis=1), zero_c], axis=1)
    gvx = np.concatenate([np.diff(v, axis=1), zero_c], axis=1)
    guy = np.concatenate([np.diff(u, axis=0), zero_r], axis=0)
    gvy = np.concatenate([np.diff(v, axis=0), zero_r], axis=0)
    ps = 1.0 / np.sqrt(gux * gux + gvx * gvx + guy * guy + gvy * gvy + beta2)
    r = a * u + b * v + c
    pd = 1.0 / np.sqrt(r * r + beta2)
    pa = pd * a
    pb = pd * b
    ex = np.zeros((ny, nx + 1))
    ex[:, 1:nx] = ps[:, :-1] + ps[:, 1:]
    ey = np.zeros((ny + 1, nx))
    ey[1:ny, :] = ps[:-1, :] + ps[1:, :]
    wl, wr, wu, wd = ex[:, :-1], ex[:, 1:], ey[:-1, :], ey[1:, :]
    h = 0.5 * alpha
    aw = h * (wl + wr + wu + wd)
    m11 = pa * a + aw
    m22 = pb * b + aw
    m12 = pa * b
    j13 = pa * c
    j23 = pb * c
    det = m11 * m22 - m12 * m12
    good = det > 0.0
    w = np.where(good, 1.0 / np.where(good, det, 1.0), 0.0)
    ca, cb, cd = h * m22 * w, -h * m12 * w, h * m11 * w
    cc = (m12 * j23 - m22 * j13) * w
    ce = (m12 * j13 - m11 * j23) * w
    colour = np.add.outer(np.arange(ny), np.arange(nx)) % 2
    change = 0.0
    for col in (0, 1):
        up = np.pad(u, 1)
        vp = np.pad(v, 1)
        su = wl * up[1:-1, :-2] + wr * up[1:-1, 2:] + wu * up[:-2, 1:-1] + wd * up[2:, 1:-1]
        sv = wl * vp[1:-1, :-2] + wr * vp[1:-1, 2:] + wu * vp[:-2, 1:-1] + wd * vp[2:, 1:-1]
        upd = good & (colour == col)
        un = np.where(upd, ca * su + cb * sv + cc, u)
        vn = np.where(upd, cb * su + cd * sv + ce, v)
        if upd.any():
            d = np.maximum(np.abs(un - u), np.abs(vn - v))[upd]
            change = max(change, float(d.max()))
        u, v = un, vn
    return u, v, change


def hs_charbonnier_ref(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm=-1, u0=None, v0=None):
    """NumPy reference of :func:`hs_charbonnier_nb`; returns ``(u, v, n_iter)``."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny, nx)) if u0 is None else np.array(u0, dtype=np.float64)
    v = np.zeros((ny, nx)) if v0 is None else np.array(v0, dtype=np.float64)
    uo = np.empty((nt, ny, nx))
    vo = np.empty((nt, ny, nx))
    n_iter = np.zeros(nt, dtype=np.int64)
    for t in range(nt):
        ok = np.isfinite(ix[t]) & np.isfinite(iy[t]) & np.isfinite(it[t])
        a = np.where(ok, ix[t], 0.0)
        b = np.where(ok, iy[t], 0.0)
        c = np.where(ok, it[t], 0.0)
        k = 0
        lim = max_iter if (t == 0 or max_iter_warm < 0) else max_iter_warm
        while k < lim:
            u, v, change = _sweep_ref(a, b, c, u, v, alpha, beta * beta)
            k += 1
            if change < tol:
                break
        n_iter[t] = k
        uo[t] = u
        vo[t] = v
    return uo, vo, n_iter
