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
twice as fast. The compiled kernel computes the frozen weights in branch-free loops that
the compiler vectorises, on arrays padded by one pixel whose pad only meets zero edge weights.
Both implementations do exactly the same arithmetic; ``tests/test_flow.py`` compares them.

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
def _weights_nb(a, b, c, u, v, ps, ex, ey, j11, j12, j22, j13, j23, beta2):
    """Frozen weights of one sweep from the padded flow ``u, v`` (ny + 2, nx + 2).

    Writes ``psi_S`` (``ps``), the edge weights ``ex`` (ny, nx + 1: between columns j - 1 and j,
    zero at the borders) and ``ey`` (ny + 1, nx), and the data terms ``j11 = psi_D a a``, ...,
    ``j23 = psi_D b c``. Branch-free loops (the compiler vectorises them)."""
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
            r = a[i, j] * u[p, q] + b[i, j] * v[p, q] + c[i, j]
            pd = 1.0 / math.sqrt(r * r + beta2)
            pa = pd * a[i, j]
            pb = pd * b[i, j]
            j11[i, j] = pa * a[i, j]
            j12[i, j] = pa * b[i, j]
            j22[i, j] = pb * b[i, j]
            j13[i, j] = pa * c[i, j]
            j23[i, j] = pb * c[i, j]
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


@numba.njit(cache=True, error_model="numpy")
def _colour_nb(u, v, ex, ey, j11, j12, j22, j13, j23, h, colour):
    """Update the pixels with ``(i + j) % 2 == colour`` in place; largest change."""
    ny = ex.shape[0]
    nx = ey.shape[1]
    change = 0.0
    for i in range(ny):
        p = i + 1
        for j in range((i + colour) % 2, nx, 2):
            q = j + 1
            wl = ex[i, j]
            wr = ex[i, j + 1]
            wu = ey[i, j]
            wd = ey[i + 1, j]
            su = wl * u[p, q - 1] + wr * u[p, q + 1] + wu * u[p - 1, q] + wd * u[p + 1, q]
            sv = wl * v[p, q - 1] + wr * v[p, q + 1] + wu * v[p - 1, q] + wd * v[p + 1, q]
            aw = h * (wl + wr + wu + wd)
            m11 = j11[i, j] + aw
            m22 = j22[i, j] + aw
            m12 = j12[i, j]
            r1 = h * su - j13[i, j]
            r2 = h * sv - j23[i, j]
            det = m11 * m22 - m12 * m12
            if det > 0.0:
                nu = (m22 * r1 - m12 * r2) / det
                nv = (m11 * r2 - m12 * r1) / det
                d = max(abs(nu - u[p, q]), abs(nv - v[p, q]))
                if d > change:
                    change = d
                u[p, q] = nu
                v[p, q] = nv
    return change


@numba.njit(cache=True, error_model="numpy")
def hs_charbonnier_nb(
    ix, iy, it, alpha, beta, max_iter, tol, u_out, v_out, n_iter, max_iter_warm=-1
):
    """Flow of every frame of ``ix, iy, it`` (nt, ny, nx) into ``u_out, v_out``; sweeps per
    frame into ``n_iter`` (nt,). Frame t starts from frame t-1's result (zeros for the first);
    the first frame gets up to ``max_iter`` sweeps, the warm-started ones up to
    ``max_iter_warm`` (``max_iter`` when negative)."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny + 2, nx + 2))  # padded: the pad only ever meets zero edge weights
    v = np.zeros((ny + 2, nx + 2))
    a = np.empty((ny, nx))
    b = np.empty((ny, nx))
    c = np.empty((ny, nx))
    ps = np.empty((ny, nx))
    ex = np.empty((ny, nx + 1))
    ey = np.empty((ny + 1, nx))
    j11 = np.empty((ny, nx))
    j12 = np.empty((ny, nx))
    j22 = np.empty((ny, nx))
    j13 = np.empty((ny, nx))
    j23 = np.empty((ny, nx))
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
            _weights_nb(a, b, c, u, v, ps, ex, ey, j11, j12, j22, j13, j23, beta2)
            change = _colour_nb(u, v, ex, ey, j11, j12, j22, j13, j23, h, 0)
            change = max(change, _colour_nb(u, v, ex, ey, j11, j12, j22, j13, j23, h, 1))
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
    j11, j12, j22, j13, j23 = pa * a, pa * b, pb * b, pa * c, pb * c
    ex = np.zeros((ny, nx + 1))
    ex[:, 1:nx] = ps[:, :-1] + ps[:, 1:]
    ey = np.zeros((ny + 1, nx))
    ey[1:ny, :] = ps[:-1, :] + ps[1:, :]
    wl, wr, wu, wd = ex[:, :-1], ex[:, 1:], ey[:-1, :], ey[1:, :]
    h = 0.5 * alpha
    aw = h * (wl + wr + wu + wd)
    m11 = j11 + aw
    m22 = j22 + aw
    m12 = j12
    det = m11 * m22 - m12 * m12
    good = det > 0.0
    sdet = np.where(good, det, 1.0)
    colour = np.add.outer(np.arange(ny), np.arange(nx)) % 2
    change = 0.0
    for col in (0, 1):
        up = np.pad(u, 1)
        vp = np.pad(v, 1)
        su = wl * up[1:-1, :-2] + wr * up[1:-1, 2:] + wu * up[:-2, 1:-1] + wd * up[2:, 1:-1]
        sv = wl * vp[1:-1, :-2] + wr * vp[1:-1, 2:] + wu * vp[:-2, 1:-1] + wd * vp[2:, 1:-1]
        r1 = h * su - j13
        r2 = h * sv - j23
        upd = good & (colour == col)
        un = np.where(upd, (m22 * r1 - m12 * r2) / sdet, u)
        vn = np.where(upd, (m11 * r2 - m12 * r1) / sdet, v)
        if upd.any():
            d = np.maximum(np.abs(un - u), np.abs(vn - v))[upd]
            change = max(change, float(d.max()))
        u, v = un, vn
    return u, v, change


def hs_charbonnier_ref(ix, iy, it, alpha, beta, max_iter, tol, max_iter_warm=-1):
    """NumPy reference of :func:`hs_charbonnier_nb`; returns ``(u, v, n_iter)``."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny, nx))
    v = np.zeros((ny, nx))
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
