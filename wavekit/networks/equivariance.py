"""Flow equivariance, space-time spectra and velocity tuning of network hidden states.

* :func:`verify_equivariance` measures, per step, how far a network is from commuting with a flow:
  ``E_t = ||Phi[psi f]_t - rho_t Phi[f]_t|| / ||Phi[psi f]_t||``.
* :func:`plane_power_fraction` measures how much of a hidden state's space-time power lies on the
  plane ``omega = -v . k`` of a wave moving at ``v`` (NumPy FFT sign convention).
* :func:`velocity_tuning` reads the input velocity off a flow-lifted network's velocity bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from .shifts import Flow


@dataclass
class EquivarianceResult:
    """Per-step flow-equivariance errors of one model for one input and one flow.

    Attributes
    ----------
    errors : ndarray, shape (T,)
        ``E_t``; NaN where both the moved and the transformed state are zero.
    model : str
    flow : Flow
    """

    errors: np.ndarray
    model: str
    flow: Flow
    extra: dict = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return float(np.nanmax(self.errors))

    @property
    def mean_error(self) -> float:
        return float(np.nanmean(self.errors))

    @property
    def final_error(self) -> float:
        return float(self.errors[-1])

    def summary(self) -> dict:
        """JSON-ready summary (no arrays)."""
        vy, vx = self.flow.velocity
        return {
            "model": self.model,
            "velocity_cells_per_step": [vy, vx],
            "steps": int(self.errors.size),
            "max_error": self.max_error,
            "mean_error": self.mean_error,
            "final_error": self.final_error,
            **self.extra,
        }


def _as_flow(flow) -> Flow:
    return flow if isinstance(flow, Flow) else Flow(flow)


def verify_equivariance(model, x, flow) -> EquivarianceResult:
    """Measure the flow-equivariance error of a recurrent network at every step.

    Parameters
    ----------
    model : RecurrentModel
        Any network of :mod:`wavekit.networks` with field input (``run(x)`` and
        ``flow_action(h, flow, t)``): :class:`EquivariantRecurrentLayer`, :class:`ConvRNN`,
        :class:`IRNN`, :class:`WaveRNN` (``input_mode="field"``), :class:`TravelingWaveNetwork`.
    x : array_like
        Input field sequence, ``(T, n)``/``(B, T, n)`` on rings or ``(T, ny, nx)``/
        ``(B, T, ny, nx)`` on tori.
    flow : Flow or float or (float, float)
        The flow ``psi``: translation at ``v`` cells per step, ``(psi f)_t = T_{v t} f_t``.

    Returns
    -------
    EquivarianceResult
        ``errors[t] = ||Phi[psi f]_t - rho_t Phi[f]_t|| / ||Phi[psi f]_t||`` (Frobenius norms over
        batch, channels, velocities and space), with ``Phi[f]_t = h_{t+1}`` and ``rho_t`` the
        model's :meth:`flow_action` (a translation by ``v t``, plus a velocity relabelling for
        flow-lifted models).

    Notes
    -----
    A network is flow-equivariant when ``E_t = 0`` for all ``t``. For the flow-lifted layer this
    holds exactly (about 1e-15 for integer velocities); a conv RNN is only equivariant to static
    shifts and a dense RNN to nothing, so both give ``E_t`` of order 1.

    References
    ----------
    T. A. Keller. Flow equivariant recurrent neural networks. arXiv:2507.14793 (2025).

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.networks import ConvRNN, EquivariantRecurrentLayer
    >>> x = np.random.default_rng(0).standard_normal((12, 16))
    >>> bool(verify_equivariance(EquivariantRecurrentLayer(n=16), x, 1).max_error < 1e-12)
    True
    >>> bool(verify_equivariance(ConvRNN(n=16), x, 1).final_error > 0.1)
    True
    """
    flow = _as_flow(flow)
    if getattr(model, "input_mode", "field") != "field":
        raise UsageError("verify_equivariance needs a model with field input (input_mode='field')")
    f = model.field_input(x)  # (B, T, ny, nx)
    moved = flow.apply(f)
    if model.is_ring:
        f, moved = f[:, :, 0, :], moved[:, :, 0, :]
    base = model.run(f)
    out = model.run(moved)
    errors = np.empty(base.shape[1])
    for t in range(base.shape[1]):
        ref = model.flow_action(base[:, t], flow, t)
        num = np.linalg.norm(out[:, t] - ref)
        den = np.linalg.norm(out[:, t])
        errors[t] = num / den if den > 0 else (0.0 if num == 0 else np.inf)
    return EquivarianceResult(
        errors=errors, model=getattr(model, "name", type(model).__name__), flow=flow
    )


def plane_power_fraction(
    h, velocity, *, half_width_bins: float = 1.0, window: str | None = "hann"
) -> float:
    """Fraction of space-time power on the plane ``omega = -v . k`` of a wave moving at ``v``.

    Parameters
    ----------
    h : array_like
        Activity ``(T, n)`` (ring) or ``(T, ny, nx)`` (torus); extra leading axes (batch,
        channels) are summed over. Time must be the third-from-last axis for tori and the
        second-from-last for rings (``ring=True`` is inferred from ``velocity`` being scalar).
    velocity : float or (float, float)
        Cells per step (``vx`` or ``(vy, vx)``).
    half_width_bins : float
        Half-width of the plane, in resolution units: a point is on the plane when
        ``|omega + v . k| <= half_width_bins * (d_omega + |vy| d_ky + |vx| d_kx)`` (wrapped to
        the circle), ``d_omega = 2 pi / T`` and ``d_k = 2 pi / n`` being the bin widths, i.e. one
        bin of uncertainty in each coordinate.
    window : {"hann", None}
        Taper applied along time and space before the FFT. A ring fed at one unit is not
        periodic in space (the source cell holds new input), so without a taper the spatial
        leakage of the jump at the source spreads power off the plane.

    Returns
    -------
    float
        Power within the plane divided by total power, after removing the space-time mean.

    Notes
    -----
    NumPy's forward FFT over time and space is ``sum h(t, x) exp(-i (omega t + k . x))``. A wave
    ``h(t, x) = g(x - v t)`` has transform ``G(k) sum_t exp(-i (omega + v . k) t)``, concentrated
    on ``omega = -v . k`` (mod 2 pi). With the physics convention ``exp(i (k x - omega t))`` the
    same plane reads ``omega = +v . k``.

    Examples
    --------
    >>> import numpy as np
    >>> t, x = np.mgrid[0:64, 0:16]
    >>> round(plane_power_fraction(np.cos(2 * np.pi * (x - t) / 16), 1.0, window=None), 6)
    1.0
    """
    a = np.asarray(h, dtype=np.float64)
    ring = np.ndim(velocity) == 0
    if ring:
        a = a[..., None, :]
    vy, vx = Flow(velocity).velocity
    a = a - a.mean(axis=(-3, -2, -1), keepdims=True)
    if window == "hann":
        for ax in (-3, -2, -1):
            m = a.shape[ax]
            if m > 1:
                shape = [1] * a.ndim
                shape[ax] = m
                a = a * np.hanning(m + 2)[1:-1].reshape(shape)
    elif window is not None:
        raise UsageError(f"window must be 'hann' or None, got {window!r}")
    spec = np.abs(np.fft.fftn(a, axes=(-3, -2, -1))) ** 2
    spec = spec.reshape(-1, *spec.shape[-3:]).sum(axis=0)
    nt, ny, nx = spec.shape
    w = 2 * np.pi * np.fft.fftfreq(nt)[:, None, None]
    ky = 2 * np.pi * np.fft.fftfreq(ny)[None, :, None]
    kx = 2 * np.pi * np.fft.fftfreq(nx)[None, None, :]
    miss = np.angle(np.exp(1j * (w + vy * ky + vx * kx)))  # omega + v.k wrapped to (-pi, pi]
    width = 2 * np.pi * (1 / nt + (abs(vy) / ny if ny > 1 else 0.0) + abs(vx) / nx)
    on = np.abs(miss) <= half_width_bins * width + 1e-12
    total = spec.sum()
    return float(spec[on].sum() / total) if total > 0 else float("nan")


def velocity_tuning(layer, x) -> tuple[np.ndarray, np.ndarray]:
    """Energy of each velocity copy of a flow-lifted layer driven by ``x``.

    Parameters
    ----------
    layer : EquivariantRecurrentLayer
    x : array_like
        Input field sequence.

    Returns
    -------
    velocities : ndarray, shape (M, 2)
        ``(vy, vx)`` of every copy, cells per step.
    energy : ndarray, shape (M,)
        Mean squared activity of each copy over time, batch, channels and space. For an input
        moving at ``v`` the copy that co-moves with it integrates it coherently, so
        ``velocities[argmax(energy)]`` recovers ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.networks import EquivariantRecurrentLayer, Flow
    >>> bump = np.zeros((40, 16)); bump[:, 0] = 1.0
    >>> v, e = velocity_tuning(EquivariantRecurrentLayer(n=16), Flow(3).apply(bump[:, None])[:, 0])
    >>> v[np.argmax(e)].tolist()
    [0.0, 3.0]
    """
    hidden = layer.run(x)
    return layer.velocities, layer.velocity_energy(hidden)


#: model names accepted by :func:`compare_models` (and ``wavekit equivariance --model``)
EQUIVARIANCE_MODELS = {
    "flow-rnn": "flow-lifted RNN (one copy per velocity): exactly flow-equivariant",
    "wrnn": "single wave-RNN with field input, shift +1 cell/step",
    "convrnn": "random circular-convolution RNN (equivariant to static shifts only)",
    "irnn": "dense identity-initialised RNN (Le et al. 2015)",
    "dense": "dense random RNN (spectral radius 0.9)",
}


def compare_models(
    models=tuple(EQUIVARIANCE_MODELS),
    *,
    velocity: float = 1.0,
    steps: int = 50,
    n: int = 17,
    seed: int = 0,
    activation: str | None = None,
) -> list[EquivarianceResult]:
    """Flow-equivariance errors of several networks on one random input and one flow.

    Parameters
    ----------
    models : sequence of str
        Names from :data:`EQUIVARIANCE_MODELS`.
    velocity : float
        Flow velocity in cells per step along the ring (fractional values use Fourier shifts).
    steps, n : int
        Sequence length and ring length (odd by default: fractional velocities need an odd
        ring, where Fourier shifts form an exact group).
    seed : int
        Seed of the Gaussian input ``f_t(x)`` and of random weights.
    activation : str, optional
        Nonlinearity of every model; default ``"relu"`` for integer velocities and ``"linear"``
        for fractional ones (a pointwise nonlinearity does not commute with a Fourier shift).

    Returns
    -------
    list of EquivarianceResult
        In the order of ``models``; ``extra`` records the activation and ring length.

    Examples
    --------
    >>> res = compare_models(["flow-rnn", "convrnn"], velocity=2, steps=10)
    >>> [r.max_error < 1e-6 for r in res]
    [True, False]
    """
    from .flow import EquivariantRecurrentLayer
    from .wrnn import IRNN, ConvRNN, WaveRNN

    unknown = [m for m in models if m not in EQUIVARIANCE_MODELS]
    if unknown:
        raise UsageError(
            f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(EQUIVARIANCE_MODELS)}"
        )
    if int(steps) != steps or steps < 2 or int(n) != n or n < 3:
        raise UsageError(f"need steps >= 2 and ring length n >= 3, got steps={steps}, n={n}")
    flow = Flow(velocity)
    if not np.isfinite(flow.velocity[1]):
        raise UsageError(f"velocity must be a finite number, got {velocity!r}")
    if not flow.is_integer and n % 2 == 0:
        raise UsageError(
            f"a fractional velocity ({velocity}) needs an odd ring length: on an even ring the "
            "Nyquist component cannot be shifted by a fraction of a cell and stay real"
        )
    if activation is None:
        activation = "relu" if flow.is_integer else "linear"
    step = 1.0 if flow.is_integer else abs(flow.velocity[1])
    builders = {
        "flow-rnn": lambda: EquivariantRecurrentLayer(
            n=n, velocity_step=step, activation=activation, seed=seed
        ),
        "wrnn": lambda: WaveRNN(n=n, input_mode="field", activation=activation),
        "convrnn": lambda: ConvRNN(n=n, activation=activation, seed=seed),
        "irnn": lambda: IRNN(n=n, activation=activation, seed=seed),
        "dense": lambda: IRNN(
            n=n, init="random", spectral_radius=0.9, activation=activation, seed=seed
        ),
    }
    x = np.random.default_rng(seed).standard_normal((int(steps), int(n)))
    out = []
    for name in models:
        res = verify_equivariance(builders[name](), x, flow)
        res.model = name
        res.extra.update(activation=activation, n=int(n), seed=int(seed))
        out.append(res)
    return out
