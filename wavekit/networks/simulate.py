"""``simulate(kind, ...)``: run a network and return its hidden state in wavekit's data model.

Units: 1 cell = 1 mm; 1 step = 1 s (``fs_hz = 1``) unless the model has its own time step
``dt``, in which case ``fs_hz = 1 / dt``; speeds are therefore in cells per second (mm/s). A ring
network of ``c`` channels of length ``n`` becomes a grid with ``y`` = channel index and ``x`` =
ring cell.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import xarray as xr

from ..errors import UsageError
from ..model import grid_activity
from .flow import EquivariantRecurrentLayer
from .kuramoto import KuramotoLattice
from .oscillators import ImageOscillator, NeuralWaveMachine
from .shifts import Flow
from .wrnn import IRNN, ConvRNN, WaveRNN

KINDS: dict[str, str] = {
    "wrnn": "wave-RNN on c channel rings of length n, shift-initialised (Keller et al. 2024)",
    "wrnn2d": "wave-RNN on a 2-D torus, each row a ring fed at column 0 (Keller et al. 2024)",
    "irnn": "dense identity-initialised RNN baseline (Le et al. 2015), no waves",
    "convrnn": "random circular-convolution RNN baseline, no waves",
    "nwm": "coupled-oscillator network (Neural Wave Machine / coRNN) driven at one point",
    "oscillator-image": "image-driven oscillator field (Jacobs et al. 2025), 64x64, dt 0.1",
    "kuramoto": "Kuramoto lattice with phase lag in a twisted state (exact traveling wave)",
    "flow-rnn": "flow-lifted RNN: one hidden copy per velocity (Keller 2025), moving input",
}

_DEFAULT_STEPS = {
    "wrnn": 1000,
    "wrnn2d": 1000,
    "irnn": 1000,
    "convrnn": 1000,
    "nwm": 1000,
    "oscillator-image": 100,
    "kuramoto": 1000,
    "flow-rnn": 200,
}


def _truth(
    steps: int,
    *,
    pattern: str,
    direction_deg=np.nan,
    speed=np.nan,
    wavelength=np.nan,
    frequency=np.nan,
) -> dict:
    def const(v):
        return np.full(steps, float(v))

    return {
        "pattern": np.full(steps, pattern, dtype=object).astype(str),
        "direction_deg": const(direction_deg),
        "speed_mm_per_s": const(speed),
        "wavelength_mm": const(wavelength),
        "frequency_hz": const(frequency),
    }


def _direction(vy: float, vx: float) -> float:
    """SPEC angle of travel (degrees CCW from +x toward +y, in (-180, 180])."""
    d = float(np.degrees(np.arctan2(vy, vx)))
    return 180.0 if d == -180.0 else d


def _check_steps(steps: int) -> int:
    if int(steps) != steps or steps < 2:
        raise UsageError(f"steps must be an integer of at least 2, got {steps!r}")
    return int(steps)


# ----------------------------------------------------------------------------- one builder per kind


def _wrnn(rng, steps, *, n: int = 64, channels: int = 4, shift: int = 1, input_scale: float = 1.0):
    net = WaveRNN(n=n, channels=channels, shift=shift)
    x = input_scale * rng.standard_normal((steps, channels))
    h = net.run_source(x)[0, :, :, 0, :]  # (T, C, n)
    truth = _truth(steps, pattern="plane", direction_deg=_direction(0, shift), speed=abs(shift))
    return h, 1.0, truth, {}


def _wrnn2d(rng, steps, *, size: int = 64, shift=(0, 1), input_scale: float = 1.0):
    sy, sx = (
        (int(s) for s in np.atleast_1d(shift).ravel()) if np.size(shift) == 2 else (0, int(shift))
    )
    net = WaveRNN(shape=(size, size), shift=(sy, sx))
    x = input_scale * rng.standard_normal((1, steps, 1, size))
    h = net.run_source(x)[0, :, 0]
    truth = _truth(
        steps, pattern="plane", direction_deg=_direction(sy, sx), speed=float(np.hypot(sy, sx))
    )
    return h, 1.0, truth, {}


def _irnn(rng, steps, *, n: int = 64, init: str = "identity", spectral_radius: float = 1.0):
    net = IRNN(n=n, init=init, spectral_radius=spectral_radius, seed=int(rng.integers(2**31)))
    h = net.run(rng.standard_normal((steps, n)))[0, :, 0]  # (T, 1, n)
    return h, 1.0, _truth(steps, pattern="none"), {}


def _convrnn(rng, steps, *, n: int = 64, channels: int = 4, spectral_radius: float = 0.9):
    net = ConvRNN(
        n=n, channels=channels, spectral_radius=spectral_radius, seed=int(rng.integers(2**31))
    )
    h = net.run(rng.standard_normal((steps, n)))[0, :, :, 0, :]
    return h, 1.0, _truth(steps, pattern="none"), {}


def _nwm(
    rng,
    steps,
    *,
    size: int = 64,
    dt: float = 0.042,
    gamma: float = 2.7,
    eps: float = 4.7,
    coupling: float = 100.0,
    period_steps: float = 10.0,
    amplitude: float = 0.5,
    noise: float = 0.0,
):
    nwm = NeuralWaveMachine(shape=(size, size), dt=dt, gamma=gamma, eps=eps, coupling=coupling)
    if period_steps <= 2:
        raise UsageError(f"period_steps must exceed 2 (Nyquist), got {period_steps}")
    omega = 2 * np.pi / (period_steps * dt)
    t = np.arange(steps)
    drive = noise * rng.standard_normal((1, steps, 1, size, size))
    drive[0, :, 0, size // 2, size // 2] += amplitude * np.sin(omega * dt * t)
    h = nwm.run(drive)[0, :, 0]
    k = nwm.dispersion(omega)
    truth = _truth(
        steps,
        pattern="radial",
        speed=omega / k.real,
        wavelength=2 * np.pi / k.real,
        frequency=omega / (2 * np.pi),
    )
    extra = {"source_yx_mm": [size // 2, size // 2], "spatial_decay_per_mm": k.imag}
    return h, 1.0 / dt, truth, extra


def _oscillator_image(rng, steps, *, size: int = 64, dt: float = 0.1, c2: float = 1.0, image=None):
    if image is None:
        img = np.zeros((size, size))
        q = size // 4
        img[q : size - q, q + q // 2 : size - q] = 1.0  # a rectangle
    else:
        img = np.asarray(image, dtype=np.float64)
    h = ImageOscillator(img, dt=dt, c2=c2).run(steps)
    return h, 1.0 / dt, _truth(steps, pattern="unknown"), {}


def _kuramoto(
    rng,
    steps,
    *,
    size: int = 64,
    twist=(0, 2),
    omega: float = 2 * np.pi,
    coupling: float = 5.0,
    alpha: float = 1.0,
    dt: float = 0.01,
    noise: float = 0.01,
):
    lat = KuramotoLattice(shape=(size, size), omega=omega, coupling=coupling, alpha=alpha, dt=dt)
    ky, kx = lat.wavevector(twist)
    theta0 = lat.twisted_state(twist) + noise * rng.standard_normal((size, size))
    h = np.cos(lat.run(theta0, steps))
    big = lat.twisted_frequency(twist)
    kn = float(np.hypot(ky, kx))
    if kn == 0:
        truth = _truth(steps, pattern="synchronous", frequency=big / (2 * np.pi))
    else:
        sgn = np.sign(big) if big != 0 else 1.0
        truth = _truth(
            steps,
            pattern="plane",
            direction_deg=_direction(-sgn * ky, -sgn * kx),
            speed=abs(big) / kn,
            wavelength=2 * np.pi / kn,
            frequency=abs(big) / (2 * np.pi),
        )
    return h, 1.0 / dt, truth, {"stable": lat.is_stable(twist)}


def _flow_rnn(rng, steps, *, n: int = 32, input_velocity: float = 2.0, velocity_step: float = 1.0):
    layer = EquivariantRecurrentLayer(
        n=n, velocity_step=velocity_step, seed=int(rng.integers(2**31))
    )
    pattern = np.maximum(rng.standard_normal(n), 0.0)
    x = Flow(input_velocity).apply(np.broadcast_to(pattern, (steps, 1, n)))[:, 0]
    h = layer.run(x)[0, :, :, 0, 0, :]  # (T, M, n)
    order = np.argsort(layer.velocities[:, 1], kind="stable")
    extra = {"row_velocity_cells_per_step": layer.velocities[order, 1].tolist()}
    return h[:, order], 1.0, _truth(steps, pattern="unknown"), extra


_BUILDERS = {
    "wrnn": _wrnn,
    "wrnn2d": _wrnn2d,
    "irnn": _irnn,
    "convrnn": _convrnn,
    "nwm": _nwm,
    "oscillator-image": _oscillator_image,
    "kuramoto": _kuramoto,
    "flow-rnn": _flow_rnn,
}


def simulate(kind: str, *, seed: int = 0, steps: int | None = None, **params):
    """Simulate a recurrent network and return its hidden state with ground truth.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    seed : int
        Seed of ``numpy.random.default_rng`` (inputs, random weights, perturbations).
    steps : int, optional
        Time steps (defaults: 1000; 100 for ``oscillator-image``; 200 for ``flow-rnn``).
    **params
        Model parameters (see ``docs/networks.md``); unknown names raise ``UsageError``.

    Returns
    -------
    activity : xarray.DataArray
        ``(time, y, x)`` grid activity (1 cell = 1 mm; ``fs_hz = 1`` or ``1 / dt``), attrs
        ``kind``, ``seed``, ``parameters`` (JSON).
    truth : xarray.Dataset
        Along ``time``: ``pattern``, ``direction_deg`` (SPEC convention, direction of travel),
        ``speed_mm_per_s``, ``wavelength_mm``, ``frequency_hz`` (NaN where not applicable);
        attrs ``kind``, ``seed``, ``parameters``.

    Examples
    --------
    >>> a, truth = simulate("wrnn", steps=50, n=16, channels=2)
    >>> a.dims, a.shape, float(truth.speed_mm_per_s[0]), float(truth.direction_deg[0])
    (('time', 'y', 'x'), (50, 2, 16), 1.0, 0.0)
    """
    if kind not in _BUILDERS:
        raise UsageError(f"unknown network kind {kind!r}: choose one of {', '.join(KINDS)}")
    builder = _BUILDERS[kind]
    accepted = [p for p in inspect.signature(builder).parameters if p not in ("rng", "steps")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise UsageError(
            f"unknown parameter(s) {', '.join(unknown)} for kind {kind!r}: "
            f"valid are {', '.join(accepted)}"
        )
    if int(seed) != seed:
        raise UsageError(f"seed must be an integer, got {seed!r}")
    steps = _check_steps(_DEFAULT_STEPS[kind] if steps is None else steps)
    rng = np.random.default_rng(int(seed))
    try:
        h, fs, truth, extra = builder(rng, steps, **params)
    except (TypeError, ValueError) as err:
        if isinstance(err, UsageError):
            raise
        raise UsageError(f"bad parameter for kind {kind!r}: {err}") from None
    used = {
        name: (p.default if name not in params else params[name])
        for name, p in inspect.signature(builder).parameters.items()
        if name not in ("rng", "steps")
    }
    used = {
        k: (np.asarray(v).tolist() if isinstance(v, np.ndarray | tuple) else v)
        for k, v in used.items()
    }
    used.update(steps=steps, seed=int(seed))
    parameters = json.dumps(used, sort_keys=True, default=str)
    attrs = {"kind": kind, "seed": int(seed), "parameters": parameters}
    attrs.update({k: json.dumps(v) for k, v in extra.items()})
    activity = grid_activity(np.asarray(h, dtype=np.float64), fs_hz=fs, dx_mm=1.0, attrs=attrs)
    ds = xr.Dataset(
        {name: ("time", values) for name, values in truth.items()},
        coords={"time": activity["time"]},
        attrs={"kind": kind, "seed": int(seed), "parameters": parameters},
    )
    return activity, ds
