"""Compiled inner loops of the recurrent networks, each with its plain NumPy reference.

Every ``@numba.njit`` kernel here has a ``*_ref`` twin written with ``numpy.roll`` and
``numpy.einsum``; ``tests/test_networks_kernels.py`` compares the two with hypothesis on many
shapes and values, and ``benchmarks/bench_networks.py`` times them against each other.

Conventions (shared by the whole :mod:`wavekit.networks` package)
-----------------------------------------------------------------
* States are ``(batch, channel, ny, nx)`` arrays on a torus; a 1-D ring is the case ``ny == 1``.
* Kernels are ``(c_out, c_in, ky, kx)`` with odd ``ky``, ``kx``; tap ``(j, l)`` has the offset
  ``(oy, ox) = (j - ky // 2, l - kx // 2)``.
* Circular **convolution** (not correlation)::

      (K * h)[co, y, x] = sum_{ci, j, l} K[co, ci, j, l] h[ci, (y - oy) mod ny, (x - ox) mod nx]

  so a kernel whose only non-zero tap has offset ``(0, +1)`` moves activity one cell toward
  +x per application, exactly like ``numpy.roll(h, +1, axis=-1)``.
* Activation codes: 0 linear, 1 relu, 2 tanh.
"""

from __future__ import annotations

import numba
import numpy as np

ACTIVATIONS = {"linear": 0, "relu": 1, "tanh": 2}


def _act_ref(a: np.ndarray, code: int) -> np.ndarray:
    if code == 1:
        return np.maximum(a, 0.0)
    if code == 2:
        return np.tanh(a)
    return a


def circular_conv_ref(h: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Circular convolution of ``h`` (batch, c_in, ny, nx) with ``kernel`` (c_out, c_in, ky, kx)."""
    ky, kx = kernel.shape[-2:]
    out = np.zeros((h.shape[0], kernel.shape[0], *h.shape[-2:]), dtype=np.float64)
    for j in range(ky):
        for l in range(kx):
            w = kernel[:, :, j, l]
            if not np.any(w):
                continue
            shifted = np.roll(h, (j - ky // 2, l - kx // 2), axis=(-2, -1))
            out += np.einsum("oc,bcyx->boyx", w, shifted)
    return out


# --------------------------------------------------------------------------- conv RNN


@numba.njit(cache=True)
def _taps(kernel, ny, nx):
    """Non-zero taps of ``kernel`` with their source row/column index tables."""
    c_out, c_in, ky, kx = kernel.shape
    count = 0
    for co in range(c_out):
        for ci in range(c_in):
            for j in range(ky):
                for l in range(kx):
                    if kernel[co, ci, j, l] != 0.0:
                        count += 1
    meta = np.empty((count, 2), dtype=np.int64)
    weight = np.empty(count, dtype=np.float64)
    yidx = np.empty((count, ny), dtype=np.int64)
    xidx = np.empty((count, nx), dtype=np.int64)
    i = 0
    for co in range(c_out):
        for ci in range(c_in):
            for j in range(ky):
                for l in range(kx):
                    w = kernel[co, ci, j, l]
                    if w == 0.0:
                        continue
                    meta[i, 0] = co
                    meta[i, 1] = ci
                    weight[i] = w
                    for y in range(ny):
                        yidx[i, y] = (y - (j - ky // 2)) % ny
                    for x in range(nx):
                        xidx[i, x] = (x - (l - kx // 2)) % nx
                    i += 1
    return meta, weight, yidx, xidx


@numba.njit(cache=True)
def _conv_accumulate(out, h, b, meta, weight, yidx, xidx):
    """``out += (K * h[b])`` for the taps of :func:`_taps`."""
    ny, nx = out.shape[1], out.shape[2]
    for i in range(weight.size):
        co, ci, w = meta[i, 0], meta[i, 1], weight[i]
        for y in range(ny):
            ys = yidx[i, y]
            for x in range(nx):
                out[co, y, x] += w * h[b, ci, ys, xidx[i, x]]


@numba.njit(cache=True)
def conv_rnn_run(h0, kernel, drive, bias, act):
    """``h_{t+1} = act(K * h_t + drive_t + bias)``; returns ``H[:, t] = h_{t+1}``.

    Shapes: ``h0`` (B, C, ny, nx), ``kernel`` (C, C, ky, kx), ``drive`` (B, T, C, ny, nx),
    ``bias`` (C,). Reference: :func:`conv_rnn_run_ref`.
    """
    nb, nt, c, ny, nx = drive.shape
    out = np.empty(drive.shape, dtype=np.float64)
    h = h0.copy()
    acc = np.empty((c, ny, nx), dtype=np.float64)
    meta, weight, yidx, xidx = _taps(kernel, ny, nx)
    for t in range(nt):
        for b in range(nb):
            for co in range(c):
                for y in range(ny):
                    for x in range(nx):
                        acc[co, y, x] = drive[b, t, co, y, x] + bias[co]
            _conv_accumulate(acc, h, b, meta, weight, yidx, xidx)
            for co in range(c):
                for y in range(ny):
                    for x in range(nx):
                        v = acc[co, y, x]
                        if act == 1:
                            if v < 0.0:  # NaN passes through, like numpy.maximum
                                v = 0.0
                        elif act == 2:
                            v = np.tanh(v)
                        out[b, t, co, y, x] = v
        for b in range(nb):
            h[b] = out[b, t]
    return out


def conv_rnn_run_ref(h0, kernel, drive, bias, act):
    """NumPy reference of :func:`conv_rnn_run`."""
    h = np.array(h0, dtype=np.float64)
    out = np.empty(drive.shape, dtype=np.float64)
    for t in range(drive.shape[1]):
        a = circular_conv_ref(h, kernel) + drive[:, t] + bias[None, :, None, None]
        h = _act_ref(a, act)
        out[:, t] = h
    return out


# --------------------------------------------------------------------------- coupled oscillators


@numba.njit(cache=True)
def oscillator_run(y0, z0, w_y, w_z, drive, bias, dt, gamma, eps, act):
    """Coupled-oscillator recurrence (coRNN / Neural Wave Machine), Euler-Cromer in time.

    ``z <- z + dt (act(w_y * y + w_z * z + drive_t + bias) - gamma y - eps z)``, then
    ``y <- y + dt z``. ``gamma`` and ``eps`` are ``(C, ny, nx)`` arrays (per-unit stiffness and
    damping). Returns the positions ``Y[:, t]`` after step ``t``, shape (B, T, C, ny, nx).
    Reference: :func:`oscillator_run_ref`.
    """
    nb, nt, c, ny, nx = drive.shape
    out = np.empty(drive.shape, dtype=np.float64)
    y = y0.copy()
    z = z0.copy()
    acc = np.empty((c, ny, nx), dtype=np.float64)
    my, wy, yiy, xiy = _taps(w_y, ny, nx)
    mz, wz, yiz, xiz = _taps(w_z, ny, nx)
    for t in range(nt):
        for b in range(nb):
            for co in range(c):
                for yy in range(ny):
                    for xx in range(nx):
                        acc[co, yy, xx] = drive[b, t, co, yy, xx] + bias[co]
            _conv_accumulate(acc, y, b, my, wy, yiy, xiy)
            _conv_accumulate(acc, z, b, mz, wz, yiz, xiz)
            for co in range(c):
                for yy in range(ny):
                    for xx in range(nx):
                        v = acc[co, yy, xx]
                        if act == 1:
                            if v < 0.0:  # NaN passes through, like numpy.maximum
                                v = 0.0
                        elif act == 2:
                            v = np.tanh(v)
                        zn = z[b, co, yy, xx] + dt * (
                            v
                            - gamma[co, yy, xx] * y[b, co, yy, xx]
                            - eps[co, yy, xx] * z[b, co, yy, xx]
                        )
                        acc[co, yy, xx] = zn
            for co in range(c):
                for yy in range(ny):
                    for xx in range(nx):
                        z[b, co, yy, xx] = acc[co, yy, xx]
                        y[b, co, yy, xx] += dt * acc[co, yy, xx]
                        out[b, t, co, yy, xx] = y[b, co, yy, xx]
    return out


def oscillator_run_ref(y0, z0, w_y, w_z, drive, bias, dt, gamma, eps, act):
    """NumPy reference of :func:`oscillator_run`."""
    y = np.array(y0, dtype=np.float64)
    z = np.array(z0, dtype=np.float64)
    out = np.empty(drive.shape, dtype=np.float64)
    for t in range(drive.shape[1]):
        a = (
            circular_conv_ref(y, w_y)
            + circular_conv_ref(z, w_z)
            + drive[:, t]
            + bias[None, :, None, None]
        )
        z = z + dt * (_act_ref(a, act) - gamma * y - eps * z)
        y = y + dt * z
        out[:, t] = y
    return out
