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
pixel solves its 2 x 2 Euler-Lagrange system with its neighbours' previous values (Jacobi):

.. math:: \begin{pmatrix} \psi_D I_x^2 + \alpha W & \psi_D I_x I_y \\
          \psi_D I_x I_y & \psi_D I_y^2 + \alpha W \end{pmatrix}
          \begin{pmatrix} u \\ v \end{pmatrix} =
          \begin{pmatrix} \alpha \sum_q w_{pq} u_q - \psi_D I_x I_t \\
          \alpha \sum_q w_{pq} v_q - \psi_D I_y I_t \end{pmatrix},
          \qquad W = \sum_q w_{pq}.

Pixels with a NaN derivative have no data term (``psi_D = 0``): the smoothness term fills
them in; the public function returns NaN there. Sweeps stop when the largest change is below
``tol`` or after ``max_iter``; each frame starts from the previous frame's flow (warm start).
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
def _sweep_nb(ix, iy, it, ok, u, v, un, vn, ps, alpha, beta2):
    ny, nx = u.shape
    # smoothness weights from forward differences (zero beyond the last row/column)
    for i in range(ny):
        for j in range(nx):
            gux = u[i, j + 1] - u[i, j] if j + 1 < nx else 0.0
            gvx = v[i, j + 1] - v[i, j] if j + 1 < nx else 0.0
            guy = u[i + 1, j] - u[i, j] if i + 1 < ny else 0.0
            gvy = v[i + 1, j] - v[i, j] if i + 1 < ny else 0.0
            ps[i, j] = 1.0 / math.sqrt(gux * gux + gvx * gvx + guy * guy + gvy * gvy + beta2)
    change = 0.0
    for i in range(ny):
        for j in range(nx):
            su = 0.0
            sv = 0.0
            wsum = 0.0
            if j > 0:
                w = 0.5 * (ps[i, j] + ps[i, j - 1])
                su += w * u[i, j - 1]
                sv += w * v[i, j - 1]
                wsum += w
            if j + 1 < nx:
                w = 0.5 * (ps[i, j] + ps[i, j + 1])
                su += w * u[i, j + 1]
                sv += w * v[i, j + 1]
                wsum += w
            if i > 0:
                w = 0.5 * (ps[i, j] + ps[i - 1, j])
                su += w * u[i - 1, j]
                sv += w * v[i - 1, j]
                wsum += w
            if i + 1 < ny:
                w = 0.5 * (ps[i, j] + ps[i + 1, j])
                su += w * u[i + 1, j]
                sv += w * v[i + 1, j]
                wsum += w
            if ok[i, j]:
                a = ix[i, j]
                b = iy[i, j]
                c = it[i, j]
                r = a * u[i, j] + b * v[i, j] + c
                pd = 1.0 / math.sqrt(r * r + beta2)
            else:
                a = 0.0
                b = 0.0
                c = 0.0
                pd = 0.0
            aw = alpha * wsum
            m11 = pd * a * a + aw
            m22 = pd * b * b + aw
            m12 = pd * a * b
            r1 = alpha * su - pd * a * c
            r2 = alpha * sv - pd * b * c
            det = m11 * m22 - m12 * m12
            if det > 0.0:
                nu = (m22 * r1 - m12 * r2) / det
                nv = (m11 * r2 - m12 * r1) / det
            else:
                nu = u[i, j]
                nv = v[i, j]
            un[i, j] = nu
            vn[i, j] = nv
            d = max(abs(nu - u[i, j]), abs(nv - v[i, j]))
            if d > change:
                change = d
    return change


@numba.njit(cache=True, error_model="numpy")
def hs_charbonnier_nb(ix, iy, it, alpha, beta, max_iter, tol, u_out, v_out, n_iter):
    """Flow of every frame of ``ix, iy, it`` (nt, ny, nx) into ``u_out, v_out``; sweeps per
    frame into ``n_iter`` (nt,). Frame t starts from frame t-1's result (zeros for the first)."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny, nx))
    v = np.zeros((ny, nx))
    un = np.empty((ny, nx))
    vn = np.empty((ny, nx))
    ps = np.empty((ny, nx))
    ok = np.empty((ny, nx), dtype=np.bool_)
    beta2 = beta * beta
    for t in range(nt):
        for i in range(ny):
            for j in range(nx):
                ok[i, j] = (
                    math.isfinite(ix[t, i, j])
                    and math.isfinite(iy[t, i, j])
                    and math.isfinite(it[t, i, j])
                )
        k = 0
        while k < max_iter:
            change = _sweep_nb(ix[t], iy[t], it[t], ok, u, v, un, vn, ps, alpha, beta2)
            u, un = un, u
            v, vn = vn, v
            k += 1
            if change < tol:
                break
        n_iter[t] = k
        u_out[t] = u
        v_out[t] = v


def _sweep_ref(ix, iy, it, ok, u, v, alpha, beta2):
    ny, nx = u.shape
    zero_c = np.zeros((ny, 1))
    zero_r = np.zeros((1, nx))
    gux = np.concatenate([np.diff(u, axis=1), zero_c], axis=1)
    gvx = np.concatenate([np.diff(v, axis=1), zero_c], axis=1)
    guy = np.concatenate([np.diff(u, axis=0), zero_r], axis=0)
    gvy = np.concatenate([np.diff(v, axis=0), zero_r], axis=0)
    ps = 1.0 / np.sqrt(gux**2 + gvx**2 + guy**2 + gvy**2 + beta2)
    su = np.zeros_like(u)
    sv = np.zeros_like(v)
    ws = np.zeros_like(u)
    # neighbours left, right, up (previous row), down, accumulated in the kernel's order
    w = 0.5 * (ps[:, 1:] + ps[:, :-1])
    su[:, 1:] += w * u[:, :-1]
    sv[:, 1:] += w * v[:, :-1]
    ws[:, 1:] += w
    su[:, :-1] += w * u[:, 1:]
    sv[:, :-1] += w * v[:, 1:]
    ws[:, :-1] += w
    w = 0.5 * (ps[1:, :] + ps[:-1, :])
    su[1:, :] += w * u[:-1, :]
    sv[1:, :] += w * v[:-1, :]
    ws[1:, :] += w
    su[:-1, :] += w * u[1:, :]
    sv[:-1, :] += w * v[1:, :]
    ws[:-1, :] += w
    a = np.where(ok, ix, 0.0)
    b = np.where(ok, iy, 0.0)
    c = np.where(ok, it, 0.0)
    r = a * u + b * v + c
    pd = np.where(ok, 1.0 / np.sqrt(r * r + beta2), 0.0)
    aw = alpha * ws
    m11 = pd * a * a + aw
    m22 = pd * b * b + aw
    m12 = pd * a * b
    r1 = alpha * su - pd * a * c
    r2 = alpha * sv - pd * b * c
    det = m11 * m22 - m12 * m12
    good = det > 0
    sdet = np.where(good, det, 1.0)
    un = np.where(good, (m22 * r1 - m12 * r2) / sdet, u)
    vn = np.where(good, (m11 * r2 - m12 * r1) / sdet, v)
    change = float(np.max(np.maximum(np.abs(un - u), np.abs(vn - v)))) if u.size else 0.0
    return un, vn, change


def hs_charbonnier_ref(ix, iy, it, alpha, beta, max_iter, tol):
    """NumPy reference of :func:`hs_charbonnier_nb`; returns ``(u, v, n_iter)``."""
    nt, ny, nx = ix.shape
    u = np.zeros((ny, nx))
    v = np.zeros((ny, nx))
    uo = np.empty((nt, ny, nx))
    vo = np.empty((nt, ny, nx))
    n_iter = np.zeros(nt, dtype=np.int64)
    for t in range(nt):
        ok = np.isfinite(ix[t]) & np.isfinite(iy[t]) & np.isfinite(it[t])
        k = 0
        while k < max_iter:
            u, v, change = _sweep_ref(ix[t], iy[t], it[t], ok, u, v, alpha, beta * beta)
            k += 1
            if change < tol:
                break
        n_iter[t] = k
        uo[t] = u
        vo[t] = v
    return uo, vo, n_iter
