"""Translations on rings and tori, and flows (translations that grow with time).

Sign conventions (see ``docs/networks.md``)
-------------------------------------------
* ``translate(a, (sy, sx))`` moves the content of ``a`` by ``+sy`` rows and ``+sx`` columns:
  ``out[y, x] = a[y - sy, x - sx]`` (indices modulo the size). For integer shifts this is exactly
  ``numpy.roll(a, (sy, sx), axis=(-2, -1))``.
* Fractional shifts are Fourier (band-limited) shifts,
  ``out = IFFT[ FFT[a](k) exp(-i k . s) ]`` with NumPy's forward FFT sign ``exp(-i k x)`` and
  ``k = 2 pi fftfreq(n)``. They form an exact group (``T_a T_b = T_{a+b}``) on odd sizes; on
  even sizes the Nyquist component of a real signal can only be kept real, so it is multiplied by
  ``cos(pi s)`` and the group law holds only for signals without Nyquist energy.
* A flow at velocity ``v`` (cells per step) acts on a sequence by ``(psi f)_t = T_{v t} f_t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError


def _as_pair(shift) -> tuple[float, float]:
    s = np.atleast_1d(np.asarray(shift, dtype=np.float64)).ravel()
    if s.size == 1:
        return 0.0, float(s[0])
    if s.size == 2:
        return float(s[0]), float(s[1])
    raise UsageError(f"a shift has one (x) or two (y, x) components, got {s.size}")


def is_integer_shift(shift, atol: float = 1e-12) -> bool:
    """True when every component of ``shift`` is an integer (within ``atol``)."""
    s = np.asarray(_as_pair(shift))
    return bool(np.all(np.abs(s - np.round(s)) <= atol))


def translate(a: np.ndarray, shift, *, fourier: bool | None = None) -> np.ndarray:
    """Translate the last two axes (rows y, columns x) of ``a`` periodically.

    Parameters
    ----------
    a : ndarray, shape (..., ny, nx)
        Field(s) on a torus (a ring is ``ny == 1``).
    shift : float or (float, float)
        ``sx`` or ``(sy, sx)`` in cells; content moves toward +y / +x for positive values.
    fourier : bool, optional
        Force the Fourier shift (True) or the exact roll (False, integer shifts only). By default
        integer shifts use ``numpy.roll`` and fractional ones the Fourier shift.

    Returns
    -------
    ndarray
        Same shape and (real) dtype float64.

    Notes
    -----
    ``out[..., y, x] = a[..., y - sy, x - sx]``; the Fourier shift multiplies the spectrum by
    ``exp(-i (ky sy + kx sx))`` (NumPy FFT sign), which is the same operation for integer shifts.

    Examples
    --------
    >>> import numpy as np
    >>> translate(np.array([[1.0, 0, 0, 0]]), 1).tolist()
    [[0.0, 1.0, 0.0, 0.0]]
    >>> a = np.array([[1.0, 0, 0, 0, 0]])
    >>> bool(np.allclose(translate(a, 5.0, fourier=True), a))
    True
    """
    a = np.asarray(a, dtype=np.float64)
    sy, sx = _as_pair(shift)
    integer = is_integer_shift((sy, sx))
    if fourier is None:
        fourier = not integer
    if not fourier:
        if not integer:
            raise UsageError(f"shift ({sy}, {sx}) is fractional: use the Fourier shift")
        return np.roll(a, (round(sy), round(sx)), axis=(-2, -1))
    ny, nx = a.shape[-2:]
    ky = 2 * np.pi * np.fft.fftfreq(ny)[:, None]
    kx = 2 * np.pi * np.fft.rfftfreq(nx)[None, :]
    spec = np.fft.rfft2(a, axes=(-2, -1)) * np.exp(-1j * (ky * sy + kx * sx))
    if ny % 2 == 0 and sy != 0.0:
        # keep the (self-conjugate) Nyquist row real: cos(pi sy) instead of exp(+i pi sy)
        spec[..., ny // 2, :] = (
            np.fft.rfft2(a, axes=(-2, -1))[..., ny // 2, :]
            * np.cos(np.pi * sy)
            * np.exp(-1j * kx[0] * sx)
        )
    return np.fft.irfft2(spec, s=(ny, nx), axes=(-2, -1))


@dataclass(frozen=True)
class Flow:
    """A flow: translation at a constant velocity, ``(psi f)_t = T_{v t} f_t``.

    Parameters
    ----------
    velocity : float or (float, float)
        Cells per step, ``vx`` or ``(vy, vx)``; fractional values use Fourier shifts.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.zeros((3, 1, 4)); f[:, 0, 0] = 1.0
    >>> Flow(1).apply(f)[:, 0].tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """

    velocity: tuple[float, float]

    def __init__(self, velocity) -> None:
        object.__setattr__(self, "velocity", _as_pair(velocity))

    @property
    def is_integer(self) -> bool:
        return is_integer_shift(self.velocity)

    def displacement(self, t: float) -> tuple[float, float]:
        """Total shift ``v t`` after ``t`` steps."""
        return self.velocity[0] * t, self.velocity[1] * t

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Apply the flow to a sequence ``x`` of shape ``(..., T, ny, nx)``."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty_like(x)
        for t in range(x.shape[-3]):
            out[..., t, :, :] = translate(x[..., t, :, :], self.displacement(t))
        return out

    def __str__(self) -> str:
        vy, vx = self.velocity
        return f"({vy:g}, {vx:g}) cells/step"
