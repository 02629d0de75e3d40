"""Coupled-oscillator recurrent networks: the Neural Wave Machine / coRNN and the image-driven
oscillator of Jacobs et al. (2025).

Both are second-order recurrences on a torus, integrated with the explicit (Euler-Cromer) scheme
of the coRNN: first the velocity ``z``, then the position ``y`` with the new velocity.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ._kernels import oscillator_run
from .base import activation_code, grid_shape

#: 5-point discrete Laplacian as a 3 x 3 kernel (offsets -1, 0, +1)
LAPLACIAN_3X3 = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise UsageError(f"{name} must be a positive number, got {value!r}")
    return v


class NeuralWaveMachine:
    """Coupled oscillatory RNN on a torus with 3 x 3 circular convolutional coupling.

    Parameters
    ----------
    n, shape : int or (int, int)
        Ring length or torus shape ``(ny, nx)``.
    dt, gamma, eps : float
        Time step, stiffness and damping; defaults are the coRNN values (Rusch & Mishra 2021,
        sequential MNIST: ``dt = 0.042``, ``gamma = 2.7``, ``eps = 4.7``).
    coupling : float
        ``kappa``: the position coupling is ``w_y = kappa * Laplacian`` (3 x 3, 5-point), the
        local, translation-invariant coupling under which the NWM's hidden state carries waves.
        Stability of the explicit scheme needs ``dt^2 (8 kappa + gamma) < 4``.
    w_z : ndarray, optional
        ``(C, C, 3, 3)`` velocity coupling (default zero).
    channels : int
    activation : {"tanh", "linear", "relu"}

    Notes
    -----
    ``z <- z + dt (tanh(V u_t + w_z * z + w_y * y + b) - gamma y - eps z)``, ``y <- y + dt z``
    (Rusch & Mishra 2021, eq. 3; Keller & Welling 2023 with convolutional ``w_y``, ``w_z``).
    In the small-amplitude (linear) regime a plane wave ``exp(i (Omega t - k x))`` along x solves
    the discrete scheme when, with ``lambda = exp(i Omega dt)``,

        kappa (2 cos k - 2) = gamma + (lambda - 1)(lambda - 1 + dt eps) / (dt^2 lambda),

    which :meth:`dispersion` solves for the complex wavenumber ``k`` (real part: wavelength,
    imaginary part: spatial decay). The drive sets ``Omega``.

    References
    ----------
    T. K. Rusch, S. Mishra. Coupled oscillatory recurrent neural network (coRNN): an accurate
    and (gradient) stable architecture for learning long time dependencies. ICLR 2021.
    arXiv:2010.00951.
    T. A. Keller, M. Welling. Neural Wave Machines: learning spatiotemporally structured
    representations with locally coupled oscillatory recurrent neural networks. ICML 2023
    (PMLR 202), openreview.net/forum?id=5tJSt3kn4s.

    Examples
    --------
    >>> import numpy as np
    >>> nwm = NeuralWaveMachine(shape=(16, 16))
    >>> u = np.zeros((1, 20, 1, 16, 16)); u[0, 0, 0, 8, 8] = 1.0
    >>> nwm.run(u).shape
    (1, 20, 1, 16, 16)
    """

    name = "Neural Wave Machine"

    def __init__(
        self,
        n: int | None = None,
        *,
        shape=None,
        dt: float = 0.042,
        gamma: float = 2.7,
        eps: float = 4.7,
        coupling: float = 100.0,
        w_z=None,
        channels: int = 1,
        activation: str = "tanh",
    ) -> None:
        self.ny, self.nx = grid_shape(n, shape)
        self.dt = _positive("dt", dt)
        self.gamma = float(gamma)
        self.eps = float(eps)
        self.coupling = float(coupling)
        self.activation = activation
        activation_code(activation)
        if self.dt**2 * (8 * abs(self.coupling) + abs(self.gamma)) >= 4:
            raise UsageError(
                f"dt={dt} with coupling={coupling} is unstable: need dt^2 (8 coupling + gamma) < 4"
            )
        lap = LAPLACIAN_3X3 if self.ny > 1 else np.array([[1.0, -2.0, 1.0]])
        self.w_y = np.zeros((channels, channels, *lap.shape))
        for c in range(channels):
            self.w_y[c, c] = self.coupling * lap
        self.w_z = np.zeros_like(self.w_y) if w_z is None else np.asarray(w_z, dtype=np.float64)
        if self.w_z.shape[:2] != (channels, channels):
            raise UsageError(f"w_z must have shape ({channels}, {channels}, ky, kx)")
        self.channels = channels

    def run(self, drive, y0=None, z0=None) -> np.ndarray:
        """Positions ``y`` after each step, ``(B, T, C, ny, nx)``, for the drive ``V u_t``."""
        drive = np.ascontiguousarray(drive, dtype=np.float64)
        if drive.ndim != 5 or drive.shape[2:] != (self.channels, self.ny, self.nx):
            raise UsageError(
                f"drive must be (B, T, {self.channels}, {self.ny}, {self.nx}), got {drive.shape}"
            )
        shape = (drive.shape[0], self.channels, self.ny, self.nx)
        y = np.zeros(shape) if y0 is None else np.broadcast_to(y0, shape).astype(np.float64)
        z = np.zeros(shape) if z0 is None else np.broadcast_to(z0, shape).astype(np.float64)
        cell = np.ones((self.channels, self.ny, self.nx))
        return oscillator_run(
            np.ascontiguousarray(y),
            np.ascontiguousarray(z),
            self.w_y,
            np.ascontiguousarray(self.w_z),
            drive,
            np.zeros(self.channels),
            self.dt,
            self.gamma * cell,
            self.eps * cell,
            activation_code(self.activation),
        )

    def dispersion(self, omega: float) -> complex:
        """Complex wavenumber (rad/cell) of the linearised scheme at angular frequency ``omega``.

        ``omega`` is in rad per unit of model time (``dt`` units). The returned ``k`` has
        ``Re k > 0`` (wavelength ``2 pi / Re k`` cells) and ``Im k >= 0`` (amplitude decays as
        ``exp(-Im k r)`` away from the source). Valid for ``w_z = 0`` and small amplitudes.
        """
        lam = np.exp(1j * omega * self.dt)
        rhs = self.gamma + (lam - 1) * (lam - 1 + self.dt * self.eps) / (self.dt**2 * lam)
        s = -rhs / (4 * self.coupling)  # sin^2(k / 2)
        k = 2 * np.arcsin(np.sqrt(complex(s)))
        k = complex(abs(k.real), abs(k.imag))
        return k


class ImageOscillator:
    """Image-driven oscillator field (Jacobs, Budzinski, Muller, Ba & Keller 2025).

    Every pixel is a damped oscillator whose stiffness and damping come from the image, coupled
    to its neighbours by a discrete Laplacian; the image also sets the initial displacement, so
    the field "rings" with the image's shape and waves carry information across it.

    Parameters
    ----------
    image : ndarray, shape (ny, nx)
        Values in [0, 1] (other ranges are min-max scaled).
    dt : float
        Time step (paper: 0.1; 100 steps).
    c2 : float
        Laplacian coupling (squared wave speed, cells^2 per unit time^2).
    omega_min, omega_max : float
        Natural angular frequency of pixels at image value 0 and 1 (stiffness ``omega^2``).
    damping_in, damping_out : float
        Damping of pixels at image value 1 and 0.

    Notes
    -----
    ``z <- z + dt (c2 Lap y - omega(x)^2 y - g(x) z)``, ``y <- y + dt z`` with
    ``omega(x)^2 = omega_min^2 + (omega_max^2 - omega_min^2) I(x)``,
    ``g(x) = damping_out + (damping_in - damping_out) I(x)``, ``y_0 = I``, ``z_0 = 0``.
    Without coupling each pixel rings at ``sqrt(omega^2 - g^2 / 4)``. This parameterisation
    (image to stiffness and damping) is wavekit's reading of the paper's description; the paper
    learns these maps with an encoder.

    References
    ----------
    M. Jacobs, R. C. Budzinski, L. Muller, D. Ba, T. A. Keller. Traveling waves integrate
    spatial information through time. arXiv:2502.06034 (2025).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((16, 16)); img[4:12, 4:12] = 1.0
    >>> ImageOscillator(img).run(10).shape
    (10, 16, 16)
    """

    name = "image-driven oscillator"

    def __init__(
        self,
        image,
        *,
        dt: float = 0.1,
        c2: float = 1.0,
        omega_min: float = 0.5,
        omega_max: float = 2.0,
        damping_in: float = 0.05,
        damping_out: float = 0.5,
    ) -> None:
        img = np.asarray(image, dtype=np.float64)
        if img.ndim != 2 or min(img.shape) < 3 or not np.isfinite(img).all():
            raise UsageError("image must be a finite 2-D array of at least 3 x 3 pixels")
        lo, hi = img.min(), img.max()
        if lo < 0 or hi > 1:
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        self.image = img
        self.ny, self.nx = img.shape
        self.dt = _positive("dt", dt)
        self.c2 = float(c2)
        self.stiffness = omega_min**2 + (omega_max**2 - omega_min**2) * img
        self.damping = damping_out + (damping_in - damping_out) * img
        if self.dt**2 * (8 * abs(self.c2) + self.stiffness.max()) >= 4:
            raise UsageError(
                "dt too large for this coupling and stiffness: need dt^2 (8 c2 + omega_max^2) < 4"
            )

    def run(self, steps: int = 100) -> np.ndarray:
        """Displacement field after each step, ``(steps, ny, nx)``."""
        steps = int(steps)
        if steps < 1:
            raise UsageError(f"steps must be at least 1, got {steps}")
        w_y = (self.c2 * LAPLACIAN_3X3)[None, None]
        out = oscillator_run(
            self.image[None, None].copy(),
            np.zeros((1, 1, self.ny, self.nx)),
            w_y,
            np.zeros((1, 1, 1, 1)),
            np.zeros((1, steps, 1, self.ny, self.nx)),
            np.zeros(1),
            self.dt,
            self.stiffness[None].copy(),
            self.damping[None].copy(),
            0,
        )
        return out[0, :, 0]
