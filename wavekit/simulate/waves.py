r"""Analytic wave fields: pure, vectorised functions of time and position.

Every generator takes ``t`` (s) and ``x``, ``y`` (mm) that broadcast against each other (for
example ``t[:, None, None]`` with 2-D ``x``, ``y``) and returns ``(phase, amplitude)``; the signal
is ``amplitude * cos(phase)``. Phases are in radians and not wrapped. The companion functions
``*_local`` return the local temporal angular frequency and wave vector

.. math::

    \omega(t, \mathbf r) = \partial_t \varphi, \qquad \mathbf k(t, \mathbf r) = -\nabla \varphi,

so that ``k`` points along the local direction of travel (SPEC.md: the phase gradient is ``-k``)
and the local phase speed is ``omega / |k|``. Units: rad/s and rad/mm.

All parameters are physical: ``frequency_hz`` (``f``, ``omega = 2 pi f``), ``speed_mm_per_s``
(``c``, so ``|k| = omega / c``, wavelength ``c / f``), angles in degrees counter-clockwise from
+x. The equations and the sense conventions are documented in ``docs/simulate.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "plane_wave",
    "plane_wave_local",
    "target_wave",
    "target_wave_local",
    "spiral_wave",
    "spiral_wave_local",
    "spiral_centre",
    "saddle_wave",
    "saddle_wave_local",
    "synchronous",
    "synchronous_local",
    "standing_wave",
    "wave_packet",
    "packet_centre",
    "superpose",
    "dispersion_speed",
    "pulse_train",
    "local_properties",
    "wrap_deg",
]

TWO_PI = 2.0 * np.pi


def wrap_deg(a: Any) -> np.ndarray:
    """Angles in degrees wrapped to ``(-180, 180]``.

    Examples
    --------
    >>> wrap_deg([180.0, -180.0, 190.0, 0.0]).tolist()
    [180.0, 180.0, -170.0, 0.0]
    """
    a = np.asarray(a, dtype=np.float64)
    return -((-a + 180.0) % 360.0 - 180.0) + 0.0


def _wavenumber(frequency_hz: float, speed_mm_per_s: float) -> tuple[float, float]:
    omega = TWO_PI * float(frequency_hz)
    return omega, omega / float(speed_mm_per_s)


# ----------------------------------------------------------------------------- plane


def plane_wave(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    direction_deg: float,
    phase0_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A plane wave travelling in ``direction_deg``.

    .. math::

        \varphi = \omega t - \mathbf k \cdot \mathbf r + \varphi_0, \quad
        \mathbf k = \frac{\omega}{c} (\cos\theta, \sin\theta)

    Examples
    --------
    >>> import numpy as np
    >>> ph, amp = plane_wave(np.array([0.0]), np.array([0.0, 30.0]), np.array([0.0, 0.0]),
    ...                      frequency_hz=10, speed_mm_per_s=300, direction_deg=0)
    >>> np.round(ph / (2 * np.pi), 6).tolist()   # one wavelength (30 mm) further: one cycle later
    [0.0, -1.0]
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    th = np.deg2rad(direction_deg)
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    phase = omega * t - k * (np.cos(th) * x + np.sin(th) * y) + phase0_rad
    return phase, np.ones_like(phase)


def plane_wave_local(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    direction_deg: float,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local ``(omega, kx, ky)`` of :func:`plane_wave` (constant), broadcast to the inputs.

    Examples
    --------
    >>> w, kx, ky = plane_wave_local(0.0, 0.0, 0.0, frequency_hz=10, speed_mm_per_s=300,
    ...                              direction_deg=90)
    >>> round(float(w), 4), round(float(kx), 6), round(float(ky), 6)
    (62.8319, 0.0, 0.20944)
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    th = np.deg2rad(direction_deg)
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(y))
    return (np.full(shape, omega), np.full(shape, k * np.cos(th)), np.full(shape, k * np.sin(th)))


# ----------------------------------------------------------------------------- target


def _sense(mode: str) -> float:
    if mode == "source":
        return 1.0
    if mode == "sink":
        return -1.0
    raise ValueError(f"mode must be 'source' or 'sink', got {mode!r}")


def target_wave(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    mode: str = "source",
    phase0_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A radial (target) wave: rings leaving a source or collapsing into a sink.

    .. math::

        \varphi = \omega t - s\,k\,\rho + \varphi_0, \quad
        \rho = |\mathbf r - \mathbf r_0|, \quad s = +1 \text{ (source)}, -1 \text{ (sink)}

    so ``k = -grad(phi) = s k rho_hat``: a source travels outward (its phase gradient points
    inward, toward the centre, and the phase is highest there); a sink travels inward.

    Examples
    --------
    >>> import numpy as np
    >>> ph, _ = target_wave(np.array([0.0]), np.array([0.0, 3.0]), np.array([0.0, 0.0]),
    ...                     frequency_hz=10, speed_mm_per_s=300, centre_x_mm=0, centre_y_mm=0)
    >>> bool(ph[1] < ph[0])   # a source leads at its centre
    True
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    rho = np.hypot(x - centre_x_mm, y - centre_y_mm)
    phase = omega * t - _sense(mode) * k * rho + phase0_rad
    return phase, np.ones_like(phase)


def target_wave_local(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    mode: str = "source",
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local ``(omega, kx, ky)`` of :func:`target_wave`; NaN wave vector at the centre.

    Examples
    --------
    >>> w, kx, ky = target_wave_local(0.0, np.array([1.0]), np.array([0.0]), frequency_hz=10,
    ...     speed_mm_per_s=300, centre_x_mm=0, centre_y_mm=0, mode="sink")
    >>> float(np.sign(kx[0]))   # a sink travels toward its centre
    -1.0
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    dx = np.asarray(x, float) - centre_x_mm
    dy = np.asarray(y, float) - centre_y_mm
    rho = np.hypot(dx, dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = dx / rho, dy / rho
    s = _sense(mode)
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(y))
    return (
        np.full(shape, omega),
        np.broadcast_to(s * k * ux, shape).copy(),
        np.broadcast_to(s * k * uy, shape).copy(),
    )


# ----------------------------------------------------------------------------- spiral


def _chirality(chirality: str) -> float:
    if chirality == "ccw":
        return 1.0
    if chirality == "cw":
        return -1.0
    raise ValueError(f"chirality must be 'ccw' or 'cw', got {chirality!r}")


def _radial(radial: str) -> float:
    if radial == "outward":
        return 1.0
    if radial == "inward":
        return -1.0
    raise ValueError(f"radial must be 'outward' or 'inward', got {radial!r}")


def spiral_centre(
    t: Any,
    *,
    centre_x_mm: float,
    centre_y_mm: float,
    centre_vx_mm_per_s: float = 0.0,
    centre_vy_mm_per_s: float = 0.0,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Position of the spiral's centre at time ``t``: ``r0 + v0 t``.

    Examples
    --------
    >>> [float(v) for v in spiral_centre(2.0, centre_x_mm=1.0, centre_y_mm=0.0,
    ...                                  centre_vx_mm_per_s=0.5)]
    [2.0, 0.0]
    """
    t = np.asarray(t, float)
    return centre_x_mm + centre_vx_mm_per_s * t, centre_y_mm + centre_vy_mm_per_s * t


def spiral_wave(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    chirality: str = "ccw",
    arms: int = 1,
    radial: str = "outward",
    centre_vx_mm_per_s: float = 0.0,
    centre_vy_mm_per_s: float = 0.0,
    phase0_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A rotating (Archimedean) spiral wave with ``arms`` arms, optionally with a moving centre.

    .. math::

        \varphi = \omega t - \chi\,m\,\vartheta - \sigma\,k\,\rho + \varphi_0, \quad
        \vartheta = \operatorname{atan2}(y - y_0(t), x - x_0(t)), \quad
        \rho = |\mathbf r - \mathbf r_0(t)|, \quad \mathbf r_0(t) = \mathbf r_0 + \mathbf v_0 t

    with ``chi = +1`` for ``"ccw"`` and ``-1`` for ``"cw"``, ``sigma = +1`` when the arms travel
    outward, ``k = omega / c``. The direction of travel
    ``-grad(phi) = chi m (-y', x') / rho^2 + sigma k rho_hat`` circulates counter-clockwise for
    ``"ccw"`` (positive curl, the rotation field ``(-y, x)``): the wavefronts rotate CCW in the
    (x, y) plane with y up, and at a fixed time the phase *decreases* counter-clockwise around
    the centre.

    Examples
    --------
    >>> import numpy as np
    >>> # CCW: a point a quarter turn counter-clockwise lags by a quarter cycle
    >>> ph, _ = spiral_wave(np.array([0.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
    ...                     frequency_hz=10, speed_mm_per_s=1e9, centre_x_mm=0, centre_y_mm=0)
    >>> round(float((ph[1] - ph[0]) / (np.pi / 2)), 6)
    -1.0
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    x0, y0 = spiral_centre(
        t,
        centre_x_mm=centre_x_mm,
        centre_y_mm=centre_y_mm,
        centre_vx_mm_per_s=centre_vx_mm_per_s,
        centre_vy_mm_per_s=centre_vy_mm_per_s,
    )
    dx, dy = x - x0, y - y0
    phase = (
        omega * t
        - _chirality(chirality) * int(arms) * np.arctan2(dy, dx)
        - _radial(radial) * k * np.hypot(dx, dy)
        + phase0_rad
    )
    return phase, np.ones_like(phase)


def spiral_wave_local(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    chirality: str = "ccw",
    arms: int = 1,
    radial: str = "outward",
    centre_vx_mm_per_s: float = 0.0,
    centre_vy_mm_per_s: float = 0.0,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Local ``(omega, kx, ky)`` of :func:`spiral_wave`.

    ``k = chi m (-y', x') / rho^2 + sigma k (x', y') / rho`` and, with a moving centre,
    ``omega_local = omega + k . v0`` (the Doppler shift).

    Examples
    --------
    >>> w, kx, ky = spiral_wave_local(0.0, np.array([1.0]), np.array([0.0]), frequency_hz=10,
    ...     speed_mm_per_s=1e12, centre_x_mm=0, centre_y_mm=0, chirality="ccw")
    >>> round(float(kx[0]), 9), round(float(ky[0]), 9)   # travel CCW: +y at (1, 0)
    (0.0, 1.0)
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    x0, y0 = spiral_centre(
        t,
        centre_x_mm=centre_x_mm,
        centre_y_mm=centre_y_mm,
        centre_vx_mm_per_s=centre_vx_mm_per_s,
        centre_vy_mm_per_s=centre_vy_mm_per_s,
    )
    dx, dy = x - x0, y - y0
    rho = np.hypot(dx, dy)
    cm = _chirality(chirality) * int(arms)
    sk = _radial(radial) * k
    with np.errstate(invalid="ignore", divide="ignore"):
        kx = cm * (-dy) / rho**2 + sk * dx / rho
        ky = cm * dx / rho**2 + sk * dy / rho
    w = omega + kx * centre_vx_mm_per_s + ky * centre_vy_mm_per_s
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(y))
    return tuple(np.broadcast_to(a, shape).copy() for a in (w, kx, ky))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- saddle


def _saddle_uv(x: Any, y: Any, centre_x_mm: float, centre_y_mm: float, axis_deg: float):
    a = np.deg2rad(axis_deg)
    dx = np.asarray(x, float) - centre_x_mm
    dy = np.asarray(y, float) - centre_y_mm
    return dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a), a


def saddle_wave(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    axis_deg: float = 0.0,
    scale_mm: float = 1.0,
    phase0_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A saddle: waves arrive along one axis and leave along the perpendicular one.

    .. math::

        \varphi = \omega t - \frac{k}{2L}\,(u^2 - v^2) + \varphi_0, \quad
        u = \mathbf e_\alpha \cdot (\mathbf r - \mathbf r_0), \quad
        v = \mathbf e_\alpha^\perp \cdot (\mathbf r - \mathbf r_0)

    with ``e_alpha = (cos alpha, sin alpha)``, ``alpha = axis_deg``, ``L = scale_mm`` and
    ``k = omega / c``. The direction of travel ``-grad(phi) = (k / L) (u e_alpha - v e_perp)`` is
    the saddle field ``(x, -y)`` rotated by ``alpha``: outflow along ``+-e_alpha``, inflow along
    ``+-e_perp``. The local wavenumber is ``k rho / L``, so the local phase speed is ``c L / rho``;
    it equals ``c`` at distance ``L`` from the centre.

    Examples
    --------
    >>> import numpy as np
    >>> o, kx, ky = saddle_wave_local(0.0, np.array([1.0, 0.0]), np.array([0.0, 1.0]),
    ...     frequency_hz=10, speed_mm_per_s=300, centre_x_mm=0, centre_y_mm=0)
    >>> (np.sign(kx).tolist(), np.sign(ky).tolist())   # out along +x, in along y
    ([1.0, 0.0], [0.0, -1.0])
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    u, v, _ = _saddle_uv(x, y, centre_x_mm, centre_y_mm, axis_deg)
    t = np.asarray(t, float)
    phase = omega * t - k / (2.0 * float(scale_mm)) * (u**2 - v**2) + phase0_rad
    return phase, np.ones_like(phase)


def saddle_wave_local(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    centre_x_mm: float,
    centre_y_mm: float,
    axis_deg: float = 0.0,
    scale_mm: float = 1.0,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local ``(omega, kx, ky)`` of :func:`saddle_wave` (see its example)."""
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    u, v, a = _saddle_uv(x, y, centre_x_mm, centre_y_mm, axis_deg)
    g = k / float(scale_mm)
    kx = g * (u * np.cos(a) + v * np.sin(a))
    ky = g * (u * np.sin(a) - v * np.cos(a))
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(y))
    return (
        np.full(shape, omega),
        np.broadcast_to(kx, shape).copy(),
        np.broadcast_to(ky, shape).copy(),
    )


# ----------------------------------------------------------------------------- synchronous


def synchronous(
    t: Any, x: Any, y: Any, *, frequency_hz: float, phase0_rad: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Synchronous oscillation: the same phase everywhere, ``phi = omega t + phi_0`` (k = 0).

    Examples
    --------
    >>> import numpy as np
    >>> ph, _ = synchronous(np.array([[0.1]]), np.array([0.0, 5.0]), np.array([0.0, 1.0]),
    ...                     frequency_hz=10)
    >>> bool(np.ptp(ph) == 0)
    True
    """
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    phase = TWO_PI * float(frequency_hz) * t + phase0_rad + 0.0 * (x + y)
    return phase, np.ones_like(phase)


def synchronous_local(
    t: Any, x: Any, y: Any, *, frequency_hz: float, **_: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local ``(omega, 0, 0)`` of :func:`synchronous`.

    Examples
    --------
    >>> w, kx, ky = synchronous_local(0.0, 1.0, 2.0, frequency_hz=1.0)
    >>> round(float(w), 6), float(kx), float(ky)
    (6.283185, 0.0, 0.0)
    """
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(y))
    return np.full(shape, TWO_PI * float(frequency_hz)), np.zeros(shape), np.zeros(shape)


# ----------------------------------------------------------------------------- standing


def standing_wave(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    axis_deg: float = 0.0,
    phase0_rad: float = 0.0,
    spatial_phase_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A standing wave: two equal plane waves travelling in opposite directions along an axis.

    .. math::

        s = \cos(\mathbf k \cdot \mathbf r + \psi)\,\cos(\omega t + \varphi_0)
          = \tfrac12 [\cos(\omega t - \mathbf k\cdot\mathbf r + \ldots)
                     + \cos(\omega t + \mathbf k\cdot\mathbf r + \ldots)]

    with ``k = (omega / c) (cos alpha, sin alpha)``. Returned as ``amplitude = |cos(k.r + psi)|``
    and ``phase = omega t + phi_0 + pi [cos(k.r + psi) < 0]``: the phase is uniform between
    nodes and jumps by pi across each node (spacing ``lambda / 2``); nothing travels.

    Examples
    --------
    >>> import numpy as np
    >>> ph, amp = standing_wave(0.0, np.array([0.0, 7.5, 15.0]), 0.0, frequency_hz=10,
    ...                         speed_mm_per_s=300)
    >>> np.round(amp, 6).tolist(), np.round(ph / np.pi, 6).tolist()
    ([1.0, 0.0, 1.0], [0.0, 0.0, 1.0])
    """
    omega, k = _wavenumber(frequency_hz, speed_mm_per_s)
    a = np.deg2rad(axis_deg)
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    c = np.cos(k * (np.cos(a) * x + np.sin(a) * y) + spatial_phase_rad)
    c = np.where(np.abs(c) < 1e-12, 0.0, c)
    phase = omega * t + phase0_rad + np.pi * (c < 0)
    return phase, np.broadcast_to(np.abs(c), phase.shape).copy()


# ----------------------------------------------------------------------------- packet


def packet_centre(
    t: Any,
    *,
    direction_deg: float,
    centre_x_mm: float,
    centre_y_mm: float,
    t0_s: float,
    group_speed_mm_per_s: float = 0.0,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Centre of a wave packet's envelope: ``r0 + v_g e_theta (t - t0)``.

    Examples
    --------
    >>> [float(v) for v in packet_centre(1.5, direction_deg=0, centre_x_mm=0, centre_y_mm=0,
    ...                                  t0_s=1.0, group_speed_mm_per_s=2.0)]
    [1.0, 0.0]
    """
    th = np.deg2rad(direction_deg)
    d = group_speed_mm_per_s * (np.asarray(t, float) - t0_s)
    return centre_x_mm + d * np.cos(th), centre_y_mm + d * np.sin(th)


def wave_packet(
    t: Any,
    x: Any,
    y: Any,
    *,
    frequency_hz: float,
    speed_mm_per_s: float,
    direction_deg: float,
    centre_x_mm: float,
    centre_y_mm: float,
    t0_s: float,
    duration_sd_s: float = 0.2,
    extent_sd_mm: float = 1.5,
    group_speed_mm_per_s: float = 0.0,
    phase0_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A plane-wave carrier under a Gaussian envelope of finite extent and duration.

    .. math::

        \varphi = \omega t - \mathbf k \cdot \mathbf r + \varphi_0, \quad
        A = \exp\!\Big(-\frac{|\mathbf r - \mathbf r_c(t)|^2}{2\sigma_r^2}
                       - \frac{(t - t_0)^2}{2\sigma_t^2}\Big), \quad
        \mathbf r_c(t) = \mathbf r_0 + v_g\,\mathbf e_\theta (t - t_0)

    The carrier moves at the phase speed ``c``; the envelope at the group speed ``v_g``
    (default 0: a burst of a travelling wave confined to a patch of cortex).

    Examples
    --------
    >>> import numpy as np
    >>> ph, amp = wave_packet(np.array([[1.0]]), np.array([0.0, 3.0]), np.array([0.0, 0.0]),
    ...     frequency_hz=10, speed_mm_per_s=300, direction_deg=0, centre_x_mm=0, centre_y_mm=0,
    ...     t0_s=1.0)
    >>> np.round(amp, 4).tolist()
    [[1.0, 0.1353]]
    """
    phase, _ = plane_wave(
        t,
        x,
        y,
        frequency_hz=frequency_hz,
        speed_mm_per_s=speed_mm_per_s,
        direction_deg=direction_deg,
        phase0_rad=phase0_rad,
    )
    t = np.asarray(t, float)
    cx, cy = packet_centre(
        t,
        direction_deg=direction_deg,
        centre_x_mm=centre_x_mm,
        centre_y_mm=centre_y_mm,
        t0_s=t0_s,
        group_speed_mm_per_s=group_speed_mm_per_s,
    )
    r2 = (np.asarray(x, float) - cx) ** 2 + (np.asarray(y, float) - cy) ** 2
    amp = np.exp(-r2 / (2.0 * extent_sd_mm**2) - (t - t0_s) ** 2 / (2.0 * duration_sd_s**2))
    return phase, np.broadcast_to(amp, phase.shape).copy()


# ----------------------------------------------------------------------------- superposition


def superpose(t: Any, x: Any, y: Any, components: Sequence[dict]) -> np.ndarray:
    r"""Sum of plane waves ``sum_j a_j cos(omega_j t - k_j . r + phi_j)``.

    Parameters
    ----------
    components : sequence of dict
        Each with ``frequency_hz``, ``speed_mm_per_s``, ``direction_deg`` and optionally
        ``amplitude`` (default 1) and ``phase0_rad`` (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> s = superpose(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...     [dict(frequency_hz=10, speed_mm_per_s=300, direction_deg=0, amplitude=2.0),
    ...      dict(frequency_hz=15, speed_mm_per_s=300, direction_deg=90)])
    >>> s.tolist()
    [3.0]
    """
    out = None
    for c in components:
        ph, _ = plane_wave(
            t,
            x,
            y,
            frequency_hz=c["frequency_hz"],
            speed_mm_per_s=c["speed_mm_per_s"],
            direction_deg=c["direction_deg"],
            phase0_rad=c.get("phase0_rad", 0.0),
        )
        term = float(c.get("amplitude", 1.0)) * np.cos(ph)
        out = term if out is None else out + term
    if out is None:
        raise ValueError("superpose needs at least one component")
    return out


def dispersion_speed(
    frequency_hz: Any, *, speed_mm_per_s: float, reference_hz: float, exponent: float
) -> np.ndarray:
    r"""Phase speed of a power-law dispersive medium, ``c(f) = c_0 (f / f_0)^beta``.

    The group speed is ``d omega / d k = c(f) / (1 - beta)`` (for ``beta < 1``).

    Examples
    --------
    >>> dispersion_speed([5.0, 10.0, 20.0], speed_mm_per_s=300, reference_hz=10, exponent=1.0)
    array([150., 300., 600.])
    """
    f = np.asarray(frequency_hz, dtype=np.float64)
    return float(speed_mm_per_s) * (f / float(reference_hz)) ** float(exponent)


# ----------------------------------------------------------------------------- pulse fronts


def pulse_train(
    t: Any,
    x: Any,
    y: Any,
    *,
    waves: Sequence[Sequence[float]],
    width_s: float = 0.1,
    rise_s: float = 0.002,
    recovery_s: float | None = None,
    centre_x_mm: float = 0.0,
    centre_y_mm: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Pulse fronts: up states whose onsets sweep the array as plane fronts, one per wave.

    Wave ``i`` of ``waves`` is ``(t0_s, direction_deg, speed_mm_per_s)``. It reaches the site
    ``r_j`` at

    .. math::

        a_{ij} = t_{0,i} + \frac{(\mathbf r_j - \mathbf r_c) \cdot \mathbf u_i}{c_i}, \quad
        \mathbf u_i = (\cos\theta_i, \sin\theta_i),

    (``r_c = (centre_x_mm, centre_y_mm)``: the front passes it at ``t0``), and the signal is the
    sum of the waves' pulses

    .. math::

        s_j(t) = \sum_i \tfrac12 \Big[\tanh\frac{t - a_{ij}}{\tau_r}
                 - \tanh\frac{t - a_{ij} - w}{\tau_d}\Big]

    with ``w = width_s``, ``tau_r = rise_s`` and ``tau_d = recovery_s`` (default ``rise_s``): a
    ``tanh`` upstroke centred on the arrival (half-height there, 10-90 % in ``2.2 tau_r``), an
    up state of about 1 while ``w`` exceeds both time constants, and a ``tanh`` recovery
    centred ``w`` later. Nothing oscillates: ``u`` is the direction of travel and ``c`` the
    speed of the front.

    Parameters
    ----------
    t, x, y : array_like
        Times in s and positions in mm that broadcast against each other, for example
        ``t[:, None]`` with 1-D ``x``, ``y`` (channels) or ``t[:, None, None]`` with 2-D ones.
    waves : sequence of (t0_s, direction_deg, speed_mm_per_s)
        One entry per wave (may be empty).
    width_s, rise_s, recovery_s : float
        Up-state duration and the time constants of the upstroke and the recovery (s).
    centre_x_mm, centre_y_mm : float
        Reference point at which each wave's onset is ``t0_s`` (default: the origin).

    Returns
    -------
    signal : numpy.ndarray
        Shape ``broadcast(t, x, y)``.
    arrival_s : numpy.ndarray
        Onset times ``a_ij``, shape ``(len(waves), *broadcast(x, y).shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(6) * 0.01
    >>> s, a = pulse_train(t[:, None], np.array([0.0, 1.0]), np.zeros(2),
    ...                    waves=[(0.01, 0.0, 50.0)], width_s=0.03, rise_s=0.001)
    >>> a.tolist()   # the front moves 1 mm in 20 ms
    [[0.01, 0.03]]
    >>> np.round(s, 3).tolist()   # half-height at the arrivals, up for width_s, then down
    [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 1.0], [0.0, 1.0]]
    """
    rise = float(rise_s)
    recovery = rise if recovery_s is None else float(recovery_s)
    width = float(width_s)
    if not (rise > 0 and recovery > 0 and width >= 0):
        raise ValueError("rise_s and recovery_s must be positive and width_s non-negative")
    t, x, y = np.asarray(t, float), np.asarray(x, float), np.asarray(y, float)
    dx, dy = x - centre_x_mm, y - centre_y_mm
    dx, dy = np.broadcast_arrays(dx, dy)
    signal = np.zeros(np.broadcast_shapes(t.shape, dx.shape))
    arrivals = np.empty((len(waves), *dx.shape))
    for i, (t0, direction, speed) in enumerate(waves):
        if not float(speed) > 0:
            raise ValueError(f"the speed of a front must be positive, got {speed!r}")
        th = np.radians(float(direction))
        delay = (dx * np.cos(th) + dy * np.sin(th)) / float(speed)
        arrivals[i] = float(t0) + delay
        # a step up at the arrival minus a step up width_s later: 0.5 (1 + tanh) each
        lag = t - float(t0)
        signal += 0.5 * (1.0 + np.tanh((lag - delay) / rise))
        signal -= 0.5 * (1.0 + np.tanh((lag - width - delay) / recovery))
    return signal, arrivals


# ----------------------------------------------------------------------------- derived


def local_properties(omega: Any, kx: Any, ky: Any) -> dict[str, np.ndarray]:
    """Frequency, direction, phase speed and wavelength from a local ``(omega, kx, ky)``.

    Returns a dict with ``frequency_hz = omega / 2 pi``, ``direction_deg = atan2(ky, kx)``
    (NaN where ``k = 0``), ``speed_mm_per_s = omega / |k|`` and ``wavelength_mm = 2 pi / |k|``
    (both infinite where ``k = 0``).

    Examples
    --------
    >>> p = local_properties(2 * np.pi * 10, 0.0, 2 * np.pi / 30)
    >>> float(p["direction_deg"]), round(float(p["speed_mm_per_s"]), 9)
    (90.0, 300.0)
    """
    omega, kx, ky = (np.asarray(a, dtype=np.float64) for a in (omega, kx, ky))
    kk = np.hypot(kx, ky)
    with np.errstate(divide="ignore", invalid="ignore"):
        direction = np.where(kk > 0, wrap_deg(np.rad2deg(np.arctan2(ky, kx))), np.nan)
        speed = np.where(kk > 0, omega / kk, np.inf)
        wavelength = np.where(kk > 0, TWO_PI / kk, np.inf)
    speed = np.where(np.isnan(kk), np.nan, speed)
    wavelength = np.where(np.isnan(kk), np.nan, wavelength)
    return {
        "frequency_hz": omega / TWO_PI,
        "direction_deg": direction,
        "speed_mm_per_s": speed,
        "wavelength_mm": wavelength,
        "kx_rad_per_mm": kx,
        "ky_rad_per_mm": ky,
    }
