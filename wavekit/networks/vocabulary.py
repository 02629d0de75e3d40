"""The names a user brings from the seed description, made exact.

* :class:`~wavekit.networks.flow.EquivariantRecurrentLayer`: input projection + recurrence that
  carries the flow + pointwise nonlinearity (defined in :mod:`wavekit.networks.flow`).
* :class:`~wavekit.networks.flow.HomomorphicFlowProcessor`: hidden dynamics obeying the group
  law of the flow (also in :mod:`wavekit.networks.flow`).
* :class:`TravelingWaveNetwork` (here): propagation by an exact shift, or by a Fourier shift for
  fractional speeds.
* :func:`propagator_diagnostics` and :func:`seed_propagation_matrix`: why the description's
  matrix (forward weight 1, backward weight 0.5) is *not* a wave: it multiplies the mass by 1.5
  per step, drifts its centre by 1/3 cell per step and spreads (variance +8/9 cell^2 per step).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UsageError
from .base import RecurrentModel, grid_shape
from .shifts import Flow, translate


class TravelingWaveNetwork(RecurrentModel):
    """A linear wave medium: the state moves ``speed`` cells per step and integrates its input.

    Parameters
    ----------
    n, shape : int or (int, int)
        Ring length or torus shape.
    speed : float or (float, float)
        Cells per step (``vx`` or ``(vy, vx)``). Integer speeds propagate by an exact roll,
        fractional ones by a Fourier (band-limited) shift.
    decay : float
        Gain per step (1 = lossless).

    Notes
    -----
    ``h_{t+1} = decay * T_v h_t + x_t`` with ``T_v`` the translation of
    :func:`wavekit.networks.shifts.translate`. Without input, ``h_{t+s} = decay^s T_{v s} h_t``:
    every spatial frequency keeps its amplitude and advances its phase by ``-k.v`` per step,
    which is what a (non-dispersive) traveling wave is.

    Examples
    --------
    >>> import numpy as np
    >>> net = TravelingWaveNetwork(n=6, speed=1)
    >>> x = np.zeros((3, 6)); x[0, 0] = 1.0
    >>> net.run(x)[0, :, 0, 0].argmax(axis=-1).tolist()
    [0, 1, 2]
    """

    name = "traveling-wave network"

    def __init__(self, n: int | None = None, *, shape=None, speed=1.0, decay: float = 1.0):
        self.ny, self.nx = grid_shape(n, shape)
        self.flow = Flow(speed)
        if self.is_ring and self.flow.velocity[0] != 0.0:
            raise UsageError("a ring has no y axis: give speed as one number")
        self.decay = float(decay)
        self.channels = 1

    def step(self, h: np.ndarray) -> np.ndarray:
        """One step of free propagation, ``decay * T_v h``."""
        return self.decay * translate(h, self.flow.velocity)

    def run(self, x, h0=None) -> np.ndarray:
        f = self.field_input(x)
        h = np.zeros(f[:, 0].shape) if h0 is None else np.broadcast_to(h0, f[:, 0].shape) * 1.0
        out = np.empty(f.shape)
        for t in range(f.shape[1]):
            h = self.step(h) + f[:, t]
            out[:, t] = h
        return out[:, :, None]

    def propagation_matrix(self) -> np.ndarray:
        """The ``N x N`` matrix of one propagation step (``N = ny nx``, row-major cells)."""
        size = self.ny * self.nx
        eye = np.eye(size).reshape(size, self.ny, self.nx)
        return self.step(eye).reshape(size, size).T


def seed_propagation_matrix(n: int, forward: float = 1.0, backward: float = 0.5) -> np.ndarray:
    """The seed description's ring propagator: ``h'[i] = forward h[i-1] + backward h[i+1]``.

    Examples
    --------
    >>> seed_propagation_matrix(4).tolist()
    [[0.0, 0.5, 0.0, 1.0], [1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.5], [0.5, 0.0, 1.0, 0.0]]
    """
    if n < 3:
        raise UsageError(f"a ring propagator needs at least 3 cells, got {n}")
    p = np.zeros((n, n))
    i = np.arange(n)
    p[i, (i - 1) % n] += forward
    p[i, (i + 1) % n] += backward
    return p


@dataclass(frozen=True)
class PropagatorDiagnostics:
    """What one step of a circulant ring propagator does (see :func:`propagator_diagnostics`)."""

    mass_gain_per_step: float
    max_gain: float
    min_gain: float
    drift_cells_per_step: float
    spread_cells2_per_step: float
    phase_speed_cells_per_step: float
    is_wave: bool

    def to_dict(self) -> dict:
        return asdict(self)


def propagator_diagnostics(matrix, *, atol: float = 1e-9) -> PropagatorDiagnostics:
    """Decide whether a ring propagator ``h_{t+1} = P h_t`` moves activity as a wave.

    Parameters
    ----------
    matrix : array_like, shape (n, n)
        A circulant matrix (each row the previous one rolled by one cell).
    atol : float
        Tolerance of the wave test.

    Returns
    -------
    PropagatorDiagnostics
        ``mass_gain_per_step`` (``sum_o w_o``, the factor by which total activity grows),
        ``max_gain``/``min_gain`` (largest/smallest ``|lambda(k)|`` over spatial frequencies),
        ``drift_cells_per_step`` (centre-of-mass motion ``sum_o o w_o / sum_o w_o``) and
        ``spread_cells2_per_step`` (growth of the variance of a packet), both NaN unless the
        stencil is non-negative (a Fourier shift has a signed, sinc-like stencil),
        ``phase_speed_cells_per_step`` (``-arg lambda(k_1) / k_1`` at the lowest frequency),
        ``is_wave`` (every ``|lambda(k)| = 1`` and ``arg lambda(k) = -k v`` for one speed ``v``,
        the Nyquist bin of even rings excluded).

    Notes
    -----
    With stencil ``w_o`` (weight that moves activity by ``o`` cells) the eigenvalues are
    ``lambda(k) = sum_o w_o exp(-i k o)``. The seed matrix (``w_{+1} = 1``, ``w_{-1} = 0.5``) has
    ``lambda(0) = 1.5``, ``|lambda(pi/2)| = 0.5``, drift ``(1 - 0.5) / 1.5 = 1/3`` and spread
    ``1.5/1.5 - 1/9 = 8/9``: it amplifies, smears and distorts, so it is not a wave.

    Examples
    --------
    >>> d = propagator_diagnostics(seed_propagation_matrix(32))
    >>> round(d.mass_gain_per_step, 6), round(d.drift_cells_per_step, 6), d.is_wave
    (1.5, 0.333333, False)
    >>> propagator_diagnostics(TravelingWaveNetwork(n=32, speed=1).propagation_matrix()).is_wave
    True
    """
    p = np.asarray(matrix, dtype=np.float64)
    n = p.shape[0]
    if p.ndim != 2 or p.shape[1] != n:
        raise UsageError(f"a propagator must be a square matrix, got shape {p.shape}")
    stencil = p[:, 0]  # weight moving cell 0 to cell i, i.e. offset o = i (mod n)
    if not np.allclose(np.stack([np.roll(stencil, j) for j in range(n)], axis=1), p, atol=atol):
        raise UsageError("the propagator is not circulant (translation-invariant on a ring)")
    offsets = np.arange(n)
    offsets = np.where(offsets > n // 2, offsets - n, offsets)
    mass = float(stencil.sum())
    lam = np.fft.fft(stencil)  # sum_o w_o exp(-i k o)
    k = 2 * np.pi * np.fft.fftfreq(n)
    drift = spread = float("nan")
    if mass > 0 and np.all(stencil >= -atol):
        drift = float(np.sum(offsets * stencil) / mass)
        spread = float(np.sum(offsets**2 * stencil) / mass - drift**2)
    keep = np.ones(n, bool)
    if n % 2 == 0:
        keep[n // 2] = False
    # phase speed from the lowest frequency, then test every bin against exp(-i k v)
    v = -np.angle(lam[1]) / k[1] if n > 1 else 0.0
    is_wave = bool(
        np.allclose(np.abs(lam[keep]), 1.0, atol=atol)
        and np.allclose(lam[keep], np.exp(-1j * k[keep] * v), atol=1e-6)
    )
    mag = np.abs(lam)
    return PropagatorDiagnostics(
        mass_gain_per_step=mass,
        max_gain=float(mag.max()),
        min_gain=float(mag.min()),
        drift_cells_per_step=drift,
        spread_cells2_per_step=spread,
        phase_speed_cells_per_step=float(v),
        is_wave=is_wave,
    )
