"""Phase of activity: analytic signal (fused band-pass + Hilbert), complex Morlet wavelet,
generalized phase, and the amplitude, phase and instantaneous frequency of a complex signal.

Every estimator returns the complex signal ``z(t) = A(t) exp(i phi(t))`` as a labelled
``xarray.DataArray`` (same dims and coordinates as the activity, complex dtype); :func:`phase`,
:func:`amplitude` and :func:`instantaneous_frequency` read it. Complex output keeps the phase
field ready for :func:`wavekit.analysis.gradients.phase_gradients`, which works on complex
products and never unwraps.

float32 activity is processed in single precision (complex64 output), anything else in double.
The equations, the exact frequency response of the fused filter and its differences from
``scipy.signal.sosfiltfilt`` are in ``docs/methods/phase.md``.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import UsageError
from . import _kernels_grid as kg
from .preprocess import (
    _butter_sos,
    _check_band,
    auto_pad,
    butter_power_gain,
    complex_dtype,
    gaussian_gain,
    spectral_filter,
    time_last_apply,
)

__all__ = [
    "amplitude",
    "analytic_signal",
    "generalized_phase",
    "instantaneous_frequency",
    "morlet",
    "phase",
]


def _fs(da: xr.DataArray) -> float:
    try:
        return float(da.attrs["fs_hz"])
    except KeyError:
        raise UsageError("activity has no sampling rate (attribute fs_hz)") from None


def _npad(pad: str | int, n: int, fs: float, slowest_hz: float | None) -> tuple[int, str]:
    if isinstance(pad, str):
        if pad == "none":
            return 0, "none"
        if pad not in ("zero", "odd", "even"):
            raise UsageError(f"pad must be 'zero', 'odd', 'even', 'none' or a number, got {pad!r}")
        return auto_pad(n, fs, slowest_hz), pad
    npad = int(pad)
    if npad < 0:
        raise UsageError(f"pad length must be a non-negative number of samples, got {npad}")
    return npad, "zero"


def _finish(out: xr.DataArray, da: xr.DataArray, name: str, **attrs) -> xr.DataArray:
    out = out.assign_attrs({**da.attrs, **attrs})
    out.attrs.pop("units", None)
    out.attrs["units"] = f"complex ({da.attrs.get('units', '')})".replace(" ()", "")
    out.name = name
    return out


def analytic_signal(
    activity: xr.DataArray,
    *,
    band_hz: tuple[float | None, float | None] | None = None,
    order: int = 4,
    method: str = "fft",
    pad: str | int = "zero",
    workers: int | None = None,
) -> xr.DataArray:
    r"""Analytic signal of activity, optionally band-passed in the same FFT pass.

    Parameters
    ----------
    activity : xarray.DataArray
        Activity with a ``time`` dim and attribute ``fs_hz`` (grid or irregular layout, any
        leading dims). Channels with any NaN sample come out NaN at every sample.
    band_hz : (float or None, float or None), optional
        Pass band ``(low, high)`` in Hz. ``None`` (default) gives the plain Hilbert analytic
        signal; a ``None`` or 0 low edge gives a low-pass, a ``None`` high edge a high-pass.
    order : int
        Order of the Butterworth prototype (the zero-phase gain is its squared magnitude, so the
        roll-off is twice that of one Butterworth pass: ``12 * order`` dB per octave).
    method : {"fft", "sosfiltfilt"}
        ``"fft"`` (default): the fused single-pass route (one real FFT, gain, one inverse complex
        FFT). ``"sosfiltfilt"``: the classic chain ``scipy.signal.sosfiltfilt`` then
        ``scipy.signal.hilbert``, for users who need SciPy's exact edge behaviour.
    pad : {"zero", "odd", "even", "none"} or int
        How the FFT is kept from wrapping the end of the record onto its start. ``"zero"``
        (default): ``ceil(3 fs / f_low)`` zeros after the record (3 periods of the lowest passed
        frequency; none without a band), i.e. linear filtering of the mean-removed record, the
        mean put back times the gain at DC. ``"odd"`` (like ``filtfilt``) and ``"even"`` reflect
        that many samples at both ends instead: reflecting in time reverses a travelling wave,
        so near the ends of the record they mix in a counter-propagating copy and bias wave
        vectors (use them for single-channel work only). ``"none"``: circular. An int gives the
        number of zeros.
    workers : int, optional
        Threads for ``scipy.fft`` (default: all).

    Returns
    -------
    xarray.DataArray
        Complex, same dims and coordinates, named ``analytic``; attrs record the band and method.

    Notes
    -----
    With ``X[m]`` the DFT of the (padded) record of length ``N`` and ``f_m = m fs / N``,

    .. math:: Z[m] = 2\,u[m]\,G(f_m)\,X[m], \quad u[0] = u[N/2] = \tfrac12,\ u[m] = 1
              \ (0 < m < N/2),\ u[m] = 0\ (m > N/2)

    and ``z = IDFT(Z)``, where ``G(f) = |H_B(e^{i 2\pi f/f_s})|^2`` is the squared magnitude of the
    digital Butterworth band-pass ``scipy.signal.butter(order, band, fs=fs)``. ``G`` is exactly
    the steady-state gain of ``sosfiltfilt`` with that filter (with ``pad="zero"`` the channel
    mean is removed before the zeros are appended and put back times ``G(0)``). ``Re z`` is the
    band-passed activity, ``Im z`` its Hilbert transform. Differences from
    ``sosfiltfilt`` + ``scipy.signal.hilbert``: near the ends of the record the fused route is the
    truncated linear convolution with the (two-sided) impulse response of ``2 u G``, where
    ``sosfiltfilt`` uses a short odd reflection and initial conditions whose transients can last
    seconds for low, narrow bands; and ``scipy.signal.hilbert`` is circular, so far from the ends
    the real parts agree to round-off while the chain's imaginary part is off by a few 1e-3 of
    the signal scale (the fused one is the exact analytic filter; see ``docs/methods/phase.md``).
    Without a band ``G = 1`` and, with ``pad="none"``, the result equals
    ``scipy.signal.hilbert``.

    References
    ----------
    Gabor D. (1946) Theory of communication. J. IEE 93:429-457. doi:10.1049/ji-3-2.1946.0074

    Marple S. L. (1999) Computing the discrete-time analytic signal via FFT. IEEE Trans. Signal
    Process. 47:2600-2603. doi:10.1109/78.782222

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(2000) / 1000.0
    >>> x = np.cos(2 * np.pi * 10 * t)[:, None, None] * np.ones((1, 2, 3))
    >>> z = analytic_signal(grid_activity(x, fs_hz=1000.0, dx_mm=0.4), band_hz=(5, 20))
    >>> round(float(abs(z[1000, 0, 0])), 2)
    1.0
    """
    fs = _fs(activity)
    lo, hi = _check_band(band_hz, fs)
    n = activity.sizes["time"]
    cdt = complex_dtype(activity)
    if method == "sosfiltfilt":
        from scipy import signal

        def func(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x, dtype=cdt.type(0).real.dtype)
            if lo is not None or hi is not None:
                x = signal.sosfiltfilt(_butter_sos((lo, hi), fs, order), x, axis=0)
            return signal.hilbert(x, axis=0).astype(cdt)

    elif method == "fft":
        npad, mode = _npad(pad, n, fs, lo if lo is not None else None)

        def func(x: np.ndarray) -> np.ndarray:
            return spectral_filter(
                x.astype(cdt.type(0).real.dtype, copy=False),
                fs_hz=fs,
                gain=lambda f: butter_power_gain(f, fs_hz=fs, band_hz=(lo, hi), order=order),
                analytic=True,
                npad=npad,
                pad_mode=mode,
                workers=workers,
            )

    else:
        raise UsageError(f"method must be 'fft' or 'sosfiltfilt', got {method!r}")
    out = time_last_apply(activity, func, out_dtype=cdt, name="analytic")
    return _finish(
        out,
        activity,
        "analytic",
        phase_method="hilbert",
        band_hz=[lo if lo is not None else 0.0, hi if hi is not None else fs / 2],
        filter=f"zero-phase Butterworth order {order} ({method})" if band_hz else "none",
    )


def morlet(
    activity: xr.DataArray,
    *,
    freq_hz: float,
    n_cycles: float = 7.0,
    pad: str | int = "zero",
    workers: int | None = None,
) -> xr.DataArray:
    r"""Complex Morlet wavelet transform at one centre frequency (amplitude-calibrated).

    Parameters
    ----------
    activity : xarray.DataArray
        Activity with a ``time`` dim and attribute ``fs_hz``.
    freq_hz : float
        Centre frequency ``f0`` in Hz (below Nyquist).
    n_cycles : float
        Number of cycles ``n``: the Gaussian envelope has standard deviation
        ``sigma_t = n / (2 pi f0)`` in time and ``sigma_f = f0 / n`` in frequency.
    pad, workers
        As in :func:`analytic_signal`; the automatic padding is 3 periods of
        ``max(f0 - 2 sigma_f, f0 / 4)``.

    Returns
    -------
    xarray.DataArray
        Complex, named ``morlet``; a unit-amplitude sinusoid at ``f0`` gives ``|z| = 1``.

    Notes
    -----
    The transform is a convolution with
    ``psi(t) = exp(i 2 pi f0 t) exp(-t^2 / (2 sigma_t^2)) / (sqrt(2 pi) sigma_t)``, computed in the
    frequency domain as ``Z(f) = 2 G(f) X(f)`` for ``f > 0`` (zero for ``f < 0``) with
    ``G(f) = exp(-(f - f0)^2 / (2 sigma_f^2))``. Dropping the Gaussian's tail at negative
    frequencies (``G(-f)``, ``< exp(-2 n^2)`` of the peak) makes the output exactly analytic; the
    admissibility correction of the classic Morlet wavelet is negligible for ``n >= 5`` and not
    applied.

    References
    ----------
    Tallon-Baudry C., Bertrand O., Delpuech C., Pernier J. (1997) Oscillatory gamma-band (30-70 Hz)
    activity induced by a visual search task in humans. J. Neurosci. 17:722-734.
    doi:10.1523/JNEUROSCI.17-02-00722.1997

    Torrence C., Compo G. P. (1998) A practical guide to wavelet analysis. Bull. Am. Meteorol.
    Soc. 79:61-78. doi:10.1175/1520-0477(1998)079<0061:APGTWA>2.0.CO;2

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(3000) / 1000.0
    >>> x = 2 * np.cos(2 * np.pi * 12 * t)[:, None, None] * np.ones((1, 2, 2))
    >>> z = morlet(grid_activity(x, fs_hz=1000.0, dx_mm=0.4), freq_hz=12.0, n_cycles=7)
    >>> round(float(abs(z[1500, 0, 0])), 2)
    2.0
    """
    fs = _fs(activity)
    f0 = float(freq_hz)
    if not 0 < f0 < fs / 2:
        raise UsageError(f"Morlet centre frequency {freq_hz} Hz must be in (0, {fs / 2:g}) Hz")
    if not n_cycles > 0:
        raise UsageError(f"n_cycles must be positive, got {n_cycles}")
    sigma_f = f0 / float(n_cycles)
    n = activity.sizes["time"]
    npad, mode = _npad(pad, n, fs, max(f0 - 2 * sigma_f, f0 / 4))
    cdt = complex_dtype(activity)

    def func(x: np.ndarray) -> np.ndarray:
        return spectral_filter(
            x.astype(cdt.type(0).real.dtype, copy=False),
            fs_hz=fs,
            gain=lambda f: gaussian_gain(f, freq_hz=f0, n_cycles=float(n_cycles)),
            analytic=True,
            npad=npad,
            pad_mode=mode,
            workers=workers,
        )

    out = time_last_apply(activity, func, out_dtype=cdt, name="morlet")
    return _finish(
        out, activity, "morlet", phase_method="morlet", freq_hz=f0, n_cycles=float(n_cycles)
    )


def _gp_correct(z: np.ndarray, extend: float) -> np.ndarray:
    """Generalized-phase correction of complex ``z`` (time first, 2-D ``(T, m)``)."""
    nt, m = z.shape
    out = z.copy()
    if nt < 3:
        return out
    amp = np.abs(z)
    with np.errstate(invalid="ignore"):
        # instantaneous frequency sign from forward complex products (sample t -> t+1)
        dphi = np.angle(z[1:] * np.conj(z[:-1]))
    neg = np.zeros((nt, m), dtype=bool)
    neg[1:] = dphi < 0
    for j in range(m):
        col = neg[:, j]
        if not col.any() or not np.isfinite(z[:, j]).all():
            continue
        phi = np.unwrap(np.angle(z[:, j]))
        bad = np.zeros(nt, dtype=bool)
        t = 1
        while t < nt:
            if not col[t]:
                t += 1
                continue
            s = t  # first sample reached by a backward step
            e = s
            while e < nt and col[e]:
                e += 1
            e2 = min(nt, e + int(math.ceil(extend * (e - s))))
            # widen until the phase has caught up with the anchor, so the bridge runs forward
            while e2 < nt and (col[e2] or phi[e2] <= phi[s - 1]):
                e2 += 1
            bad[s:e2] = True
            t = e2 + 1
        good = ~bad
        if good.sum() < 2:
            continue
        tt = np.arange(nt)
        phi_i = np.interp(tt[bad], tt[good], phi[good])
        out[bad, j] = amp[bad, j] * np.exp(1j * phi_i)
    return out


def generalized_phase(
    activity: xr.DataArray,
    *,
    band_hz: tuple[float, float] = (5.0, 40.0),
    order: int = 4,
    extend: float = 1.0,
    pad: str | int = "zero",
    workers: int | None = None,
) -> xr.DataArray:
    r"""Generalized phase (Davis, Muller et al. 2020): wide-band analytic signal whose phase is
    interpolated across epochs of negative instantaneous frequency.

    Parameters
    ----------
    activity : xarray.DataArray
        Activity with a ``time`` dim and attribute ``fs_hz``.
    band_hz : (float, float)
        Wide pass band (the paper uses 5-40 Hz), applied with the fused zero-phase Butterworth
        route of :func:`analytic_signal`.
    order : int
        Butterworth order.
    extend : float
        Each negative-frequency epoch of ``L`` samples is extended by ``extend * L`` samples after
        its end before the phase is interpolated across it (the paper interpolates over a window
        proportional to the epoch's length).
    pad, workers
        As in :func:`analytic_signal`.

    Returns
    -------
    xarray.DataArray
        Complex, named ``generalized_phase``: amplitude ``|z|`` of the wide-band analytic signal
        and the corrected phase as its angle.

    Notes
    -----
    ``z = A exp(i phi)`` is the wide-band analytic signal. Where the instantaneous frequency
    ``angle(z[t] conj(z[t-1])) fs / 2 pi`` is negative (``phi`` runs backwards, which wide-band
    signals with riding faster components do), the phase is not a meaningful rotation. Each such
    epoch ``[s, e)`` is widened to ``[s, e + extend (e - s))``, and further until the unwrapped
    phase has passed its value at ``s - 1`` (so the bridge runs forward), and the unwrapped phase
    is interpolated linearly in time between ``s - 1`` and the first sample after; the
    amplitude is kept. The result has non-negative instantaneous frequency everywhere outside
    record edges. Channels containing NaN are left uncorrected (they are NaN throughout).

    References
    ----------
    Davis Z. W., Muller L., Martinez-Trujillo J., Sejnowski T., Reynolds J. H. (2020) Spontaneous
    travelling cortical waves gate perception in behaving primates. Nature 587:432-436.
    doi:10.1038/s41586-020-2802-y

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(4000) / 1000.0
    >>> x = np.cos(2 * np.pi * 8 * t) + 0.8 * np.cos(2 * np.pi * 30 * t + 1)
    >>> a = grid_activity(x[:, None, None] * np.ones((1, 2, 2)), fs_hz=1000.0, dx_mm=0.4)
    >>> f = instantaneous_frequency(generalized_phase(a))
    >>> bool((f[500:-500] >= -1e-6).all())
    True
    """
    z = analytic_signal(activity, band_hz=band_hz, order=order, pad=pad, workers=workers)

    def func(a: np.ndarray) -> np.ndarray:
        shape = a.shape
        res = _gp_correct(a.reshape(shape[0], -1), float(extend))
        return res.reshape(shape)

    out = time_last_apply(z, func, out_dtype=z.dtype, name="generalized_phase")
    out = out.assign_attrs(z.attrs)
    out.attrs.update(phase_method="generalized", gp_extend=float(extend))
    out.name = "generalized_phase"
    return out


def phase(z: xr.DataArray) -> xr.DataArray:
    """Phase ``angle(z)`` in radians in (-pi, pi], named ``phase``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> float(phase(xr.DataArray(np.array([1j])))[0])
    1.5707963267948966
    """
    out = xr.apply_ufunc(np.angle, z, dask="allowed", keep_attrs=True)
    out.attrs["units"] = "rad"
    out.name = "phase"
    return out


def amplitude(z: xr.DataArray) -> xr.DataArray:
    """Amplitude (envelope) ``|z|``, named ``amplitude``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> float(amplitude(xr.DataArray(np.array([3 + 4j])))[0])
    5.0
    """
    out = xr.apply_ufunc(np.abs, z, dask="allowed", keep_attrs=True)
    out.attrs["units"] = str(z.attrs.get("units", "")).replace("complex (", "").rstrip(")")
    out.name = "amplitude"
    return out


def _inst_freq_np(a: np.ndarray, fs: float) -> np.ndarray:
    """(T, ...) complex -> (T, ...) instantaneous frequency in Hz (compiled kernel)."""
    return kg.time_derivative(a, 1.0 / fs, scale=1.0 / (2 * np.pi))


def instantaneous_frequency(z: xr.DataArray) -> xr.DataArray:
    r"""Instantaneous frequency ``(1 / 2 pi) d phi / dt`` in Hz, named ``frequency_hz``.

    Parameters
    ----------
    z : xarray.DataArray
        Complex signal with a ``time`` dim and attribute ``fs_hz`` (output of
        :func:`analytic_signal`, :func:`morlet` or :func:`generalized_phase`).

    Returns
    -------
    xarray.DataArray
        Same dims as ``z``, float (float32 for complex64 input).

    Notes
    -----
    Central differences of phase as angles of complex products,
    ``f[t] = angle(z[t+1] conj(z[t-1])) fs / (4 pi)``, one-sided at the ends of the record and
    next to NaN samples (never unwrapping). Exact for a pure tone below ``fs / 4``; above, the
    central product aliases (use the one-sided form: resample first).

    References
    ----------
    Boashash B. (1992) Estimating and interpreting the instantaneous frequency of a signal.
    Proc. IEEE 80:520-538. doi:10.1109/5.135376

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> t = np.arange(1000) / 500.0
    >>> z = analytic_signal(grid_activity(np.cos(2*np.pi*7*t)[:, None, None], fs_hz=500., dx_mm=1))
    >>> round(float(instantaneous_frequency(z)[500, 0, 0]), 3)
    7.0
    """
    fs = _fs(z)
    rdt = np.float32 if z.dtype == np.complex64 else np.float64
    out = time_last_apply(z, lambda a: _inst_freq_np(a, fs), out_dtype=rdt, name="frequency_hz")
    out.attrs["units"] = "Hz"
    out.name = "frequency_hz"
    return out
