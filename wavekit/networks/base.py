"""What every network model shares: input conventions, activations, the flow action on its state.

A model maps an input sequence to a hidden-state sequence, ``Phi[f]_t = h_{t+1}`` (the state
after consuming input ``f_t``), from the zero state. Input fields live on the same torus as the
hidden state: ``(T, n)`` or ``(B, T, n)`` for rings, ``(T, ny, nx)`` or ``(B, T, ny, nx)`` for
tori. Hidden states are returned as ``(B, T, C, ny, nx)`` (``ny == 1`` for rings), or with a
velocity axis ``(B, T, M, C, ny, nx)`` for the flow-lifted networks.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ._kernels import ACTIVATIONS
from .shifts import Flow, translate


def activation_code(name: str) -> int:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UsageError(
            f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}"
        ) from None


def apply_activation(a: np.ndarray, name: str) -> np.ndarray:
    code = activation_code(name)
    if code == 1:
        return np.maximum(a, 0.0)
    if code == 2:
        return np.tanh(a)
    return a


def grid_shape(n: int | None, shape) -> tuple[int, int]:
    """``(ny, nx)`` from a ring length ``n`` or a torus ``shape``."""
    if (n is None) == (shape is None):
        raise UsageError("give either n (ring length) or shape (ny, nx) of the torus")
    if n is not None:
        if int(n) < 2:
            raise UsageError(f"ring length n must be at least 2, got {n}")
        return 1, int(n)
    ny, nx = (int(s) for s in shape)
    if ny < 1 or nx < 2:
        raise UsageError(f"torus shape must be at least (1, 2), got {shape}")
    return ny, nx


def spectral_norm_max(kernel: np.ndarray, ny: int, nx: int) -> float:
    """Largest singular value of the circular convolution operator ``K *`` on an ny x nx torus."""
    c_out, c_in, ky, kx = kernel.shape
    full = np.zeros((c_out, c_in, ny, nx))
    for j in range(ky):
        for l in range(kx):
            full[:, :, (j - ky // 2) % ny, (l - kx // 2) % nx] += kernel[:, :, j, l]
    spec = np.fft.fft2(full, axes=(-2, -1))  # (c_out, c_in, ny, nx)
    mats = np.moveaxis(spec, (0, 1), (-2, -1)).reshape(-1, c_out, c_in)
    return float(np.linalg.svd(mats, compute_uv=False).max())


class RecurrentModel:
    """Base class: field-input handling and the default flow action (translate the state).

    Subclasses set ``ny``, ``nx``, ``name`` and implement :meth:`run`.
    """

    name = "model"
    ny: int
    nx: int

    @property
    def is_ring(self) -> bool:
        return self.ny == 1

    def field_input(self, x) -> np.ndarray:
        """Normalise an input field sequence to ``(B, T, ny, nx)`` float64."""
        x = np.asarray(x, dtype=np.float64)
        space = (self.nx,) if self.is_ring else (self.ny, self.nx)
        if x.shape[-len(space) :] != space or x.ndim not in (len(space) + 1, len(space) + 2):
            want = "(T, n) or (B, T, n)" if self.is_ring else "(T, ny, nx) or (B, T, ny, nx)"
            raise UsageError(
                f"input of shape {x.shape} does not fit this {self.name} on a "
                f"{'ring of ' + str(self.nx) if self.is_ring else f'{self.ny}x{self.nx} torus'}: "
                f"expected {want}"
            )
        if x.ndim == len(space) + 1:
            x = x[None]
        if self.is_ring:
            x = x[:, :, None, :]
        if not np.isfinite(x).all():
            raise UsageError("input contains NaN or infinite values")
        return x

    def run(self, x, h0=None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x, h0=None) -> np.ndarray:
        return self.run(x, h0)

    def flow_action(self, h: np.ndarray, flow: Flow, t: int) -> np.ndarray:
        """The candidate representation ``rho_t`` of the flow on the state at output step ``t``.

        Default: translate the state by the input's displacement ``v t`` (the action under which
        a flow-equivariant network would have to transform); subclasses that carry a velocity
        axis also relabel velocities.
        """
        return translate(h, flow.displacement(t))
