"""Flow-lifted recurrent networks: one hidden copy per velocity (Keller's flow-equivariant RNNs).

A translation-equivariant RNN is equivariant to *static* shifts of its input, but not to flows,
inputs that move a little more at every step. Lifting the hidden state to a bank of velocities
``nu`` and letting copy ``nu`` carry its state along at ``nu`` cells per step,

    h_{t+1}(nu) = act( T_nu (W * h_t(nu)) + U * f_t + b ),

makes the network exactly flow-equivariant: if the input flows at ``w``,
``(psi f)_t = T_{w t} f_t``, then the states obey

    Phi[psi f]_t(nu) = T_{w t} Phi[f]_t(nu - w),                                   (*)

i.e. the flow acts on the hidden state by a translation *and* a relabelling of the velocities.
(Proof by induction: apply ``T_{w t}`` to the update of copy ``nu - w``; the convolutions and the
pointwise nonlinearity commute with integer translations, and ``T_{nu - w} T_{w t} =
T_{nu} T_{w (t - 1)}``.) The velocities form the cyclic group ``{m delta}`` modulo the ring size,
so the relabelling never falls off the end of the bank.

For fractional velocities the translations are Fourier shifts; they commute with the circular
convolutions exactly but not with a pointwise nonlinearity, so (*) is exact for
``activation="linear"`` and approximate otherwise (documented in ``docs/networks.md``).
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .base import RecurrentModel, activation_code, apply_activation, grid_shape, spectral_norm_max
from .shifts import Flow, translate


def _cyclic(n: int, step: float, axis: str) -> int:
    if step <= 0:
        raise UsageError(f"velocity_step along {axis} must be positive, got {step}")
    m = n / step
    if abs(m - round(m)) > 1e-9:
        raise UsageError(
            f"velocity_step {step} along {axis} must divide the size {n} so the velocities "
            "form a cyclic group"
        )
    return round(m)


class HomomorphicFlowProcessor:
    """The flow group acting on a velocity-lifted hidden state, and the free dynamics it drives.

    The hidden state has a velocity axis of ``M = My * Mx`` copies with velocities
    ``nu = (my * dy, mx * dx)`` taken modulo the torus size (a cyclic group). The flow at
    velocity ``w`` (a multiple of the velocity step) acts at step ``t`` by

        rho_t(w) h (nu) = T_{w t} h(nu - w),

    and the free hidden dynamics ``h_{t+1}(nu) = T_nu h_t(nu)`` obey the group law of the flow:
    ``propagate(propagate(h, s), t) == propagate(h, s + t)``, ``T_a T_b = T_{a + b}``.

    Parameters
    ----------
    n, shape : int or (int, int)
        Ring length or torus shape.
    velocity_step : float or (float, float)
        Spacing ``delta`` of the velocity bank (cells per step); must divide the size.

    Notes
    -----
    Exactness: integer velocities are exact rolls. Fractional velocities are Fourier shifts,
    exact group elements on odd sizes (see :func:`wavekit.networks.shifts.translate`).

    References
    ----------
    T. A. Keller. Flow equivariant recurrent neural networks. arXiv:2507.14793 (2025).

    Examples
    --------
    >>> import numpy as np
    >>> p = HomomorphicFlowProcessor(n=5, velocity_step=1)
    >>> p.velocities[:, 1].tolist()
    [0.0, 1.0, 2.0, -2.0, -1.0]
    >>> h = np.random.default_rng(0).standard_normal((p.n_velocities, 1, 1, 5))
    >>> bool(p.group_law_error(h, 2, 3) < 1e-12)
    True
    """

    def __init__(self, n: int | None = None, *, shape=None, velocity_step=1.0) -> None:
        self.ny, self.nx = grid_shape(n, shape)
        s = np.atleast_1d(np.asarray(velocity_step, dtype=np.float64)).ravel()
        dy, dx = (float(s[0]), float(s[0])) if s.size == 1 else (float(s[0]), float(s[1]))
        self.my = 1 if self.ny == 1 else _cyclic(self.ny, dy, "y")
        self.mx = _cyclic(self.nx, dx, "x")
        self.step = (dy if self.ny > 1 else 0.0, dx)
        vy = np.arange(self.my) * self.step[0]
        vx = np.arange(self.mx) * dx
        vy = np.where(vy > self.ny / 2, vy - self.ny, vy)
        vx = np.where(vx > self.nx / 2, vx - self.nx, vx)
        gy, gx = np.meshgrid(vy, vx, indexing="ij")
        #: (M, 2) array of the copies' velocities (vy, vx) in cells per step
        self.velocities = np.stack([gy.ravel(), gx.ravel()], axis=1)

    @property
    def n_velocities(self) -> int:
        return self.my * self.mx

    def velocity_index(self, velocity) -> int:
        """Index of the copy whose velocity is ``velocity`` (modulo the size)."""
        vy, vx = Flow(velocity).velocity
        my = self._steps(vy, 0) % self.my if self.my > 1 else 0
        mx = self._steps(vx, 1) % self.mx
        return int(my * self.mx + mx)

    def _steps(self, v: float, axis: int) -> int:
        if v == 0.0:
            return 0
        if self.step[axis] == 0.0:
            raise UsageError("a ring has no velocities along y")
        m = v / self.step[axis]
        if abs(m - round(m)) > 1e-9:
            raise UsageError(
                f"flow velocity {v} is not a multiple of the velocity step {self.step[axis]}"
            )
        return round(m)

    def relabel(self, h: np.ndarray, velocity) -> np.ndarray:
        """``out(nu) = h(nu - w)`` on the velocity axis of ``h`` (``(..., M, C, ny, nx)``)."""
        vy, vx = Flow(velocity).velocity
        sy = self._steps(vy, 0) if self.my > 1 else 0
        sx = self._steps(vx, 1)
        lead = h.shape[:-4]
        g = h.reshape(*lead, self.my, self.mx, *h.shape[-3:])
        g = np.roll(g, (sy, sx), axis=(len(lead), len(lead) + 1))
        return g.reshape(h.shape)

    def act(self, h: np.ndarray, velocity, t: float) -> np.ndarray:
        """``rho_t(w) h``: relabel velocities by ``w`` and translate by ``w t``."""
        f = Flow(velocity)
        return translate(self.relabel(h, velocity), f.displacement(t))

    def propagate(self, h: np.ndarray, steps: float = 1) -> np.ndarray:
        """Free dynamics: copy ``nu`` of ``h`` (``(..., M, C, ny, nx)``) moves by ``nu * steps``."""
        out = np.empty_like(h, dtype=np.float64)
        for m, (vy, vx) in enumerate(self.velocities):
            out[..., m, :, :, :] = translate(h[..., m, :, :, :], (vy * steps, vx * steps))
        return out

    def group_law_error(self, h: np.ndarray, s: float, t: float) -> float:
        """Relative error of ``propagate(propagate(h, s), t) = propagate(h, s + t)``."""
        a = self.propagate(self.propagate(h, s), t)
        b = self.propagate(h, s + t)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


class EquivariantRecurrentLayer(RecurrentModel):
    """Flow-equivariant layer: input projection, recurrence carrying the flow, nonlinearity.

    Parameters
    ----------
    n, shape : int or (int, int)
        Ring length or torus shape.
    channels : int
        Hidden channels ``C`` per velocity copy.
    velocity_step : float or (float, float)
        Spacing of the velocity bank (see :class:`HomomorphicFlowProcessor`); the bank is the
        whole cyclic group, ``n / velocity_step`` copies per axis.
    kernel_size : int
        Width of the recurrent convolution ``W``.
    init : {"identity", "random"}
        ``W`` = ``decay`` times the identity (each copy a leaky integrator moving at ``nu``) or a
        random kernel with operator norm ``decay``.
    decay : float
        Scale of ``W``.
    activation : {"relu", "tanh", "linear"}
    seed : int

    Notes
    -----
    ``h_{t+1}(nu) = act(T_nu (W * h_t(nu)) + U * f_t + b)``, ``U`` a 1x1 convolution from the
    single input channel (weights drawn from the seed), ``b = 0``. Output ``Phi[f]_t = h_{t+1}``
    of shape ``(B, T, M, C, ny, nx)``. The flow acts on it by
    ``rho_t(w) h (nu) = T_{w t} h(nu - w)``; :meth:`flow_action` implements it, and
    :func:`wavekit.networks.verify_equivariance` measures ``E_t`` (about 1e-15 for integer
    velocities).

    References
    ----------
    T. A. Keller. Flow equivariant recurrent neural networks. arXiv:2507.14793 (2025).
    T. A. Keller, L. Muller, T. J. Sejnowski, M. Welling. A spatiotemporal perspective on
    dynamical computation in neural information processing systems. arXiv:2409.13669 (2024).

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.networks import Flow, verify_equivariance
    >>> layer = EquivariantRecurrentLayer(n=8, seed=0)
    >>> x = np.random.default_rng(1).standard_normal((6, 8))
    >>> bool(verify_equivariance(layer, x, Flow(2)).max_error < 1e-12)
    True
    """

    name = "flow-lifted RNN"

    def __init__(
        self,
        n: int | None = None,
        *,
        shape=None,
        channels: int = 1,
        velocity_step=1.0,
        kernel_size: int = 3,
        init: str = "identity",
        decay: float = 0.9,
        activation: str = "relu",
        seed: int = 0,
    ) -> None:
        self.processor = HomomorphicFlowProcessor(n, shape=shape, velocity_step=velocity_step)
        self.ny, self.nx = self.processor.ny, self.processor.nx
        activation_code(activation)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise UsageError(f"kernel_size must be a positive odd integer, got {kernel_size}")
        rng = np.random.default_rng(seed)
        ky = 1 if self.is_ring else kernel_size
        if init == "identity":
            k = np.zeros((channels, channels, ky, kernel_size))
            for c in range(channels):
                k[c, c, ky // 2, kernel_size // 2] = decay
        elif init == "random":
            k = rng.standard_normal((channels, channels, ky, kernel_size))
            k *= decay / spectral_norm_max(k, self.ny, self.nx)
        else:
            raise UsageError(f"init must be 'identity' or 'random', got {init!r}")
        self.kernel = k
        self.gain = 1.0 + 0.5 * rng.standard_normal(channels) if channels > 1 else np.ones(1)
        self.activation = activation
        self.channels = channels
        # Fourier symbol of W (C, C, ny, nx//2+1) and of the velocity shifts (M, ny, nx//2+1)
        full = np.zeros((channels, channels, self.ny, self.nx))
        for j in range(ky):
            for l in range(kernel_size):
                full[:, :, (j - ky // 2) % self.ny, (l - kernel_size // 2) % self.nx] += k[
                    :, :, j, l
                ]
        self._w_hat = np.fft.rfft2(full, axes=(-2, -1))
        kyv = 2 * np.pi * np.fft.fftfreq(self.ny)[:, None]
        kxv = 2 * np.pi * np.fft.rfftfreq(self.nx)[None, :]
        v = self.processor.velocities
        self._shift_hat = np.exp(
            -1j * (kyv[None] * v[:, 0, None, None] + kxv[None] * v[:, 1, None, None])
        )
        if self.ny % 2 == 0:  # keep the Nyquist row real (see shifts.translate)
            self._shift_hat[:, self.ny // 2, :] = np.cos(np.pi * v[:, 0, None]) * np.exp(
                -1j * kxv[0][None] * v[:, 1, None]
            )

    @property
    def velocities(self) -> np.ndarray:
        return self.processor.velocities

    def run(self, x, h0=None) -> np.ndarray:
        """Hidden states ``(B, T, M, C, ny, nx)`` for an input field sequence ``x``."""
        f = self.field_input(x)
        nb, nt = f.shape[:2]
        m, c = self.processor.n_velocities, self.channels
        shape = (nb, m, c, self.ny, self.nx)
        h = np.zeros(shape) if h0 is None else np.broadcast_to(h0, shape).astype(np.float64)
        out = np.empty((nb, nt, *shape[1:]))
        for t in range(nt):
            hh = np.fft.rfft2(h, axes=(-2, -1))
            hh = np.einsum("oiyx,bmiyx->bmoyx", self._w_hat, hh) * self._shift_hat[None, :, None]
            lin = np.fft.irfft2(hh, s=(self.ny, self.nx), axes=(-2, -1))
            drive = self.gain[None, None, :, None, None] * f[:, t, None, None, :, :]
            h = apply_activation(lin + drive, self.activation)
            out[:, t] = h
        return out

    def flow_action(self, h: np.ndarray, flow: Flow, t: int) -> np.ndarray:
        return self.processor.act(h, flow.velocity, t)

    def velocity_energy(self, hidden: np.ndarray) -> np.ndarray:
        """Mean squared activity of each velocity copy, ``(M,)``, over all other axes."""
        return np.mean(hidden**2, axis=tuple(i for i in range(hidden.ndim) if i != 2))
