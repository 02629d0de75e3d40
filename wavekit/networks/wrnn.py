"""The wave-RNN (1-D rings and 2-D torus) and its two baselines, the iRNN and a random conv RNN.

All three are ``h_{t+1} = act(W h_t + V x_t + b)``; they differ only in ``W``:

* **wave-RNN** (Keller, Muller, Sejnowski & Welling 2024): ``W`` is a circular convolution over
  channel rings, initialised as a shift, so each channel moves activity one cell per step;
* **iRNN** (Le, Jaitly & Hinton 2015): dense ``W`` initialised to the identity;
* **conv RNN**: a random circular convolution (a translation-equivariant RNN without a shift).
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ._kernels import conv_rnn_run
from .base import RecurrentModel, activation_code, apply_activation, grid_shape, spectral_norm_max


def _shift_pair(shift, ring: bool) -> tuple[int, int]:
    s = np.atleast_1d(np.asarray(shift, dtype=np.float64)).ravel()
    if s.size == 1:
        s = np.array([0.0, s[0]])
    if s.size != 2 or np.any(s != np.round(s)):
        raise UsageError(f"the wave-RNN shift must be integer cells per step, got {shift!r}")
    sy, sx = int(s[0]), int(s[1])
    if ring and sy != 0:
        raise UsageError("a 1-D ring can only shift along x: give shift as one integer")
    return sy, sx


class ConvRecurrent(RecurrentModel):
    """``h_{t+1} = act(K * h_t + drive_t + b)`` with a circular convolution ``K`` (numba kernel).

    Parameters are set by subclasses: ``kernel`` (C, C, ky, kx), ``bias`` (C,), ``gain`` (C,)
    (the 1x1 input convolution from the single-channel input field), ``activation``.
    """

    kernel: np.ndarray
    bias: np.ndarray
    gain: np.ndarray
    activation: str

    @property
    def channels(self) -> int:
        return self.kernel.shape[0]

    def drive_from_field(self, x) -> np.ndarray:
        f = self.field_input(x)  # (B, T, ny, nx)
        return self.gain[None, None, :, None, None] * f[:, :, None, :, :]

    def run_drive(self, drive: np.ndarray, h0=None) -> np.ndarray:
        """Run on a precomputed drive ``(B, T, C, ny, nx)``; returns ``(B, T, C, ny, nx)``."""
        drive = np.ascontiguousarray(drive, dtype=np.float64)
        shape = (drive.shape[0], self.channels, self.ny, self.nx)
        h = np.zeros(shape) if h0 is None else np.broadcast_to(h0, shape).astype(np.float64)
        return conv_rnn_run(
            np.ascontiguousarray(h),
            np.ascontiguousarray(self.kernel, dtype=np.float64),
            drive,
            np.ascontiguousarray(self.bias, dtype=np.float64),
            activation_code(self.activation),
        )

    def run(self, x, h0=None) -> np.ndarray:
        """Hidden states ``(B, T, C, ny, nx)`` for an input field sequence ``x``."""
        return self.run_drive(self.drive_from_field(x), h0)


class WaveRNN(ConvRecurrent):
    """Wave-RNN: channel rings (or a torus) whose recurrent convolution starts as a shift.

    Parameters
    ----------
    n : int, optional
        Ring length (1-D rings). Give ``n`` or ``shape``.
    shape : (int, int), optional
        ``(ny, nx)`` of the 2-D torus variant.
    channels : int
        Number of rings ``c`` (each an independent channel of the hidden state).
    kernel_size : int
        Odd width of the recurrent convolution (``ky = 1`` on rings).
    shift : int or (int, int)
        Cells per step the initial kernel moves activity: ``sx`` on rings, ``(sy, sx)`` on tori.
        Default +1 cell per step toward +x.
    input_mode : {"source", "field"}
        ``"source"``: the input ``x_t`` has ``input_dim`` components and enters with weight
        ``V`` (default identity, i.e. weight 1 from input ``c`` into ring ``c``) at unit 0 of
        each ring (on a torus: column 0 of every row for horizontal shifts, row 0 for vertical
        ones). ``"field"``: the input is a field on the same ring/torus, entering every cell
        with weight ``gain`` (a 1x1 convolution, default 1).
    input_dim : int, optional
        Components of the input in ``"source"`` mode (default ``channels``; with 1, every ring
        receives the same input).
    activation : {"relu", "tanh", "linear"}
    bias : float

    Notes
    -----
    ``h_{t+1} = relu(u * h_t + V x_t + b)`` (Keller et al. 2024, eq. 1), ``*`` the circular
    convolution of ``wavekit.networks._kernels`` (tap offset ``+1`` moves activity toward +x).
    With the shift initialisation and no input, ``h_{t+tau} = roll(h_t, tau * shift)`` exactly,
    and in ``"source"`` mode the state is a pure traveling wave ``h_t[i] = G(t - 1 - i)``.

    References
    ----------
    T. A. Keller, L. Muller, T. Sejnowski, M. Welling. Traveling waves encode the recent past and
    enhance sequence learning. ICLR 2024. arXiv:2309.08045.

    Examples
    --------
    >>> import numpy as np
    >>> net = WaveRNN(n=8, channels=1)
    >>> x = np.zeros((5, 1)); x[0, 0] = 1.0          # an impulse into unit 0
    >>> h = net.run_source(x)                         # (B, T, C, 1, n)
    >>> [int(np.argmax(h[0, t, 0, 0])) for t in range(5)]
    [0, 1, 2, 3, 4]
    """

    name = "wave-RNN"

    def __init__(
        self,
        n: int | None = None,
        *,
        shape=None,
        channels: int = 1,
        kernel_size: int = 3,
        shift=1,
        input_mode: str = "source",
        input_dim: int | None = None,
        activation: str = "relu",
        bias: float = 0.0,
    ) -> None:
        self.ny, self.nx = grid_shape(n, shape)
        sy, sx = _shift_pair(shift, self.is_ring)
        if channels < 1:
            raise UsageError(f"channels must be at least 1, got {channels}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise UsageError(f"kernel_size must be a positive odd integer, got {kernel_size}")
        if 2 * max(abs(sy), abs(sx)) >= kernel_size:
            raise UsageError(
                f"a shift of {shift} cells needs kernel_size > {2 * max(abs(sy), abs(sx))}"
            )
        if input_mode not in ("source", "field"):
            raise UsageError(f"input_mode must be 'source' or 'field', got {input_mode!r}")
        if input_mode == "source" and sy != 0 and sx != 0:
            raise UsageError("source input needs an axis-aligned shift; use input_mode='field'")
        activation_code(activation)
        ky = 1 if self.is_ring else kernel_size
        self.shift = (sy, sx)
        self.kernel = np.zeros((channels, channels, ky, kernel_size))
        for c in range(channels):
            self.kernel[c, c, ky // 2 + sy, kernel_size // 2 + sx] = 1.0
        self.bias = np.full(channels, float(bias))
        self.gain = np.ones(channels)
        self.activation = activation
        self.input_mode = input_mode
        self.input_dim = channels if input_dim is None else int(input_dim)
        self.V = (
            np.eye(channels) if self.input_dim == channels else np.ones((channels, self.input_dim))
        )
        self.source = np.zeros((self.ny, self.nx))
        if sy == 0:
            self.source[:, 0] = 1.0
        else:
            self.source[0, :] = 1.0

    @property
    def speed_cells_per_step(self) -> float:
        return float(np.hypot(*self.shift))

    def run_source(self, x, h0=None) -> np.ndarray:
        """Run with source input ``x`` of shape ``(T, d)`` or ``(B, T, d)`` (or ``(T,)`` if d=1).

        On a torus, ``x`` may also be ``(B, T, d, L)`` with one value per source cell (row or
        column), so every row of a horizontally moving torus carries its own signal.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim == 2:
            x = x[None]
        if x.shape[2] != self.input_dim:
            raise UsageError(f"source input has {x.shape[2]} components, expected {self.input_dim}")
        mixed = np.einsum("cd,btd...->btc...", self.V, x)
        if mixed.ndim == 3:
            drive = mixed[..., None, None] * self.source
        else:  # one value per source cell
            drive = np.zeros((*mixed.shape[:3], self.ny, self.nx))
            if self.shift[0] == 0:
                drive[..., :, 0] = mixed
            else:
                drive[..., 0, :] = mixed
        return self.run_drive(drive, h0)

    def run(self, x, h0=None) -> np.ndarray:
        if self.input_mode == "source":
            return self.run_source(x, h0)
        return super().run(x, h0)


class ConvRNN(ConvRecurrent):
    """A plain convolutional RNN baseline: random circular recurrent kernel, no built-in shift.

    Parameters
    ----------
    n, shape : see :class:`WaveRNN`.
    channels, kernel_size : int
    init : {"random", "identity"}
        Random Gaussian taps scaled so the operator norm of ``K *`` is ``spectral_radius``, or
        the identity kernel (a per-cell leaky integrator when ``spectral_radius < 1``).
    spectral_radius : float
    activation : str
    seed : int
        Seed of ``numpy.random.default_rng``.

    Notes
    -----
    ``h_{t+1} = act(K * h_t + g x_t + b)``. It commutes with static translations
    (translation-equivariant at every step) but not with flows: a moving input does not make the
    hidden state move with it, which :func:`wavekit.networks.verify_equivariance` measures.

    Examples
    --------
    >>> import numpy as np
    >>> net = ConvRNN(n=16, seed=0)
    >>> net.run(np.ones((4, 16))).shape
    (1, 4, 1, 1, 16)
    """

    name = "conv RNN"

    def __init__(
        self,
        n: int | None = None,
        *,
        shape=None,
        channels: int = 1,
        kernel_size: int = 3,
        init: str = "random",
        spectral_radius: float = 0.9,
        activation: str = "relu",
        seed: int = 0,
    ) -> None:
        self.ny, self.nx = grid_shape(n, shape)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise UsageError(f"kernel_size must be a positive odd integer, got {kernel_size}")
        activation_code(activation)
        ky = 1 if self.is_ring else kernel_size
        rng = np.random.default_rng(seed)
        if init == "random":
            k = rng.standard_normal((channels, channels, ky, kernel_size))
            k *= spectral_radius / spectral_norm_max(k, self.ny, self.nx)
        elif init == "identity":
            k = np.zeros((channels, channels, ky, kernel_size))
            for c in range(channels):
                k[c, c, ky // 2, kernel_size // 2] = spectral_radius
        else:
            raise UsageError(f"init must be 'random' or 'identity', got {init!r}")
        self.kernel = k
        self.bias = np.zeros(channels)
        self.gain = np.ones(channels)
        self.activation = activation


class IRNN(RecurrentModel):
    """Dense RNN baseline on the same units: identity-initialised (iRNN) or random.

    Parameters
    ----------
    n, shape : see :class:`WaveRNN` (the hidden units are laid out on the same ring/torus as the
        input so that a translation of the state is defined; the weights ignore that layout).
    init : {"identity", "random"}
        ``W = I`` (Le et al. 2015) or Gaussian ``W`` with spectral radius ``spectral_radius``.
    spectral_radius : float
        Scale of ``W`` (also multiplies the identity).
    input_scale : float
        Standard deviation of the dense Gaussian input weights times ``sqrt(N)``.
    seed : int

    Notes
    -----
    ``h_{t+1} = act(W h_t + V x_t + b)`` with dense ``W`` and ``V`` (``N x N``, ``N = ny nx``).

    References
    ----------
    Q. V. Le, N. Jaitly, G. E. Hinton. A simple way to initialize recurrent networks of rectified
    linear units. arXiv:1504.00941 (2015).

    Examples
    --------
    >>> import numpy as np
    >>> IRNN(n=8).run(np.ones((3, 8))).shape
    (1, 3, 1, 1, 8)
    """

    name = "iRNN"

    def __init__(
        self,
        n: int | None = None,
        *,
        shape=None,
        init: str = "identity",
        spectral_radius: float = 1.0,
        input_scale: float = 1.0,
        activation: str = "relu",
        seed: int = 0,
    ) -> None:
        self.ny, self.nx = grid_shape(n, shape)
        activation_code(activation)
        size = self.ny * self.nx
        rng = np.random.default_rng(seed)
        if init == "identity":
            self.W = spectral_radius * np.eye(size)
        elif init == "random":
            w = rng.standard_normal((size, size))
            self.W = w * spectral_radius / np.max(np.abs(np.linalg.eigvals(w)))
        else:
            raise UsageError(f"init must be 'identity' or 'random', got {init!r}")
        self.V = rng.standard_normal((size, size)) * input_scale / np.sqrt(size)
        self.b = np.zeros(size)
        self.activation = activation
        self.channels = 1

    def run(self, x, h0=None) -> np.ndarray:
        f = self.field_input(x)
        nb, nt = f.shape[:2]
        size = self.ny * self.nx
        drive = f.reshape(nb, nt, size) @ self.V.T + self.b
        h = np.zeros((nb, size)) if h0 is None else np.broadcast_to(h0, (nb, size)).astype(float)
        out = np.empty((nb, nt, size))
        for t in range(nt):
            h = apply_activation(h @ self.W.T + drive[:, t], self.activation)
            out[:, t] = h
        return out.reshape(nb, nt, 1, self.ny, self.nx)
