"""Time-based fits for event-like waves: activation times, delays, front speed and direction.

Every fit regresses **time on position** (``t = t0 + s . r``), never position on time: timing
jitter then only adds noise to the dependent variable instead of diluting the slope (a position
-on-time fit biases speed low). The slowness vector ``s`` (s/mm) gives the apparent front speed
``1 / |s|`` (mm/s) and the direction of travel ``angle(s)``.

* :func:`activation_times`: per event and channel, the time of the steepest upstroke (max dF/dt,
  or max -dF/dt for inverted dyes, with sub-sample parabolic interpolation) or of a threshold
  crossing; events are found on the channel-mean slope when not given.
* :func:`xcorr_delays`, :func:`coherence_delays`: delays of each channel against a reference
  from the cross-correlation peak or from the cross-spectral phase in a band.
* :func:`fit_activation_times`: robust (Huber) plane fit of times on positions per event, with
  bootstrap confidence intervals over channels.
* :func:`local_velocity`: local slowness vectors from activation-time gradients (local
  least-squares planes over neighbours), i.e. conduction-velocity maps.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import AnalysisError, UsageError
from ..model import channel_positions, layout
from . import _kernels_fit as K
from .circstats import angle_deg

__all__ = [
    "activation_times",
    "xcorr_delays",
    "coherence_delays",
    "fit_activation_times",
    "local_velocity",
]


def _channels(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., channel) NumPy view of grid or irregular data, with positions."""
    x, y = channel_positions(da)
    if layout(da) == "grid":
        arr = np.asarray(da.data).reshape(*da.shape[:-2], -1)
    else:
        arr = np.asarray(da.data)
    return arr, np.asarray(x, float), np.asarray(y, float)


def _space_like(da: xr.DataArray, values: np.ndarray, lead_dim: str, lead_coord, name, attrs):
    """Label ``values`` (lead, channel) with ``da``'s spatial dims and coords."""
    if layout(da) == "grid":
        v = values.reshape(values.shape[0], da.sizes["y"], da.sizes["x"])
        return xr.DataArray(
            v,
            dims=(lead_dim, "y", "x"),
            coords={lead_dim: lead_coord, "y": da["y"], "x": da["x"]},
            name=name,
            attrs=attrs,
        )
    coords = {lead_dim: lead_coord, "channel": da["channel"], "x": da["x"], "y": da["y"]}
    return xr.DataArray(values, dims=(lead_dim, "channel"), coords=coords, name=name, attrs=attrs)


def _time_axis_first(da: xr.DataArray) -> xr.DataArray:
    if "trial" in da.dims:
        raise UsageError("select one trial first (activation times are per recording)")
    return da.transpose("time", ...)


def _parabolic(v: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Sub-sample offset of the extremum at integer index ``i`` of ``v`` (along axis 0)."""
    n = v.shape[0]
    i0 = np.clip(i, 1, n - 2)
    cols = np.arange(v.shape[1])
    a, b, c = v[i0 - 1, cols], v[i0, cols], v[i0 + 1, cols]
    den = a - 2 * b + c
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(den != 0, 0.5 * (a - c) / den, 0.0)
    off = np.clip(off, -0.5, 0.5)
    return np.where((i >= 1) & (i <= n - 2), i0 + off, i.astype(float))


def activation_times(
    activity: xr.DataArray,
    *,
    polarity: str = "up",
    method: str = "max_slope",
    events_s=None,
    min_interval_s: float | None = None,
    window_s: tuple[float, float] | None = None,
    smooth_samples: int = 5,
    threshold: float = 0.5,
    min_slope_fraction: float = 0.2,
) -> xr.DataArray:
    r"""Activation time of every channel for every event (beat, wave) in seconds.

    Parameters
    ----------
    activity : xarray.DataArray
        ``(time, y, x)`` or ``(time, channel)`` activity (NumPy or dask; loaded).
    polarity : {"up", "down"}
        Direction of the activation upstroke: ``"down"`` for signals that go down on
        depolarisation (inverted voltage dyes), which are negated first.
    method : {"max_slope", "threshold"}
        ``"max_slope"``: time of the maximum of the (Savitzky-Golay) derivative in the event
        window, refined by a parabola through the three samples around it. ``"threshold"``: first
        upward crossing of ``min + threshold (max - min)`` of the smoothed signal in the window,
        linearly interpolated.
    events_s : array_like, optional
        Event times (s). Default: peaks of the channel-mean derivative at least
        ``min_interval_s`` apart and higher than half the largest peak.
    min_interval_s : float, optional
        Minimum time between events for the detection (default 0.05 s).
    window_s : (float, float), optional
        Window around each event, ``(before, after)`` in s. Default: each event's own stretch,
        from the midpoint to the previous event to the midpoint to the next (the record's start
        and end for the first and last), so a slow front crossing the array is not cut short
        by two other events that happen to be close together.
    smooth_samples : int
        Savitzky-Golay window (odd, >= 3; order 2) for the derivative and the smoothed signal.
    threshold : float
        Level of the ``"threshold"`` method as a fraction of the window's range.
    min_slope_fraction : float
        Channels whose peak slope is below this fraction of the median channel's in an event get
        NaN (no activation).

    Returns
    -------
    xarray.DataArray
        ``activation_time_s`` with dims ``("event", y, x)`` or ``("event", "channel")``, coordinate
        ``event`` = event times (s). NaN where a channel is missing or has no upstroke.

    Notes
    -----
    Maximum upstroke slope :math:`t_j = \arg\max_t \, p\, dF_j/dt` (:math:`p = \pm 1` the
    polarity) is the standard activation marker in optical mapping (Efimov et al. 2004). Smoothing
    trades time resolution for noise; the parabolic refinement gives sub-sample times.

    References
    ----------
    Efimov IR, Nikolski VP, Salama G (2004) Optical imaging of the heart. Circ Res 95:21.
    doi:10.1161/01.RES.0000130529.18016.35

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> t = np.arange(400) / 1000.0
    >>> x = np.array([0.0, 1.0, 2.0, 3.0]); y = np.zeros(4)
    >>> v = np.tanh((t[:, None] - 0.1 - x[None, :] / 500.0) / 0.002)   # front at 500 mm/s
    >>> at = activation_times(irregular_activity(v, fs_hz=1000.0, x_mm=x, y_mm=y))
    >>> np.round(at.values[0] * 1000, 1)
    array([100., 102., 104., 106.])
    """
    from scipy.signal import find_peaks, savgol_filter

    if polarity not in ("up", "down"):
        raise UsageError(f"polarity must be 'up' or 'down', got {polarity!r}")
    if method not in ("max_slope", "threshold"):
        raise UsageError(f"method must be 'max_slope' or 'threshold', got {method!r}")
    da = _time_axis_first(activity)
    fs = float(da.attrs["fs_hz"])
    arr, _, _ = _channels(da)
    sig = np.asarray(arr, dtype=np.float64) * (1.0 if polarity == "up" else -1.0)
    nt, nch = sig.shape
    valid = np.isfinite(sig).all(axis=0)
    fill = np.where(valid[None, :], sig, 0.0)
    win = max(3, int(smooth_samples) | 1)
    if win > nt:
        raise UsageError(f"smooth_samples={smooth_samples} exceeds the {nt} samples")
    deriv = savgol_filter(fill, win, 2, deriv=1, axis=0) * fs
    smooth = savgol_filter(fill, win, 2, axis=0)
    t = da["time"].values
    if events_s is None:
        mean_d = deriv[:, valid].mean(axis=1) if valid.any() else np.zeros(nt)
        dist = max(1, int(round((min_interval_s or 0.05) * fs)))
        peaks, _ = find_peaks(mean_d, distance=dist, height=0.5 * mean_d.max())
        if peaks.size == 0:
            raise AnalysisError("no activation found (no upstroke in the channel mean)")
        ev_idx = peaks
    else:
        ev_idx = np.searchsorted(t, np.atleast_1d(np.asarray(events_s, float)))
        ev_idx = np.clip(ev_idx, 0, nt - 1)
    if window_s is None:  # each event owns the samples closer to it than to its neighbours
        mids = (ev_idx[1:] + ev_idx[:-1]) // 2
        starts = np.concatenate([[0], mids + 1])
        stops = np.concatenate([mids + 1, [nt]])
    else:
        before, after = (int(round(v * fs)) for v in window_s)
        starts = np.maximum(0, ev_idx - before)
        stops = np.minimum(nt, ev_idx + after + 1)
    out = np.full((ev_idx.size, nch), np.nan)
    for e in range(ev_idx.size):
        lo, hi = int(starts[e]), int(stops[e])
        if hi - lo < 3:
            continue
        d = deriv[lo:hi]
        imax = np.argmax(d, axis=0)
        peak = d[imax, np.arange(nch)]
        if method == "max_slope":
            ti = lo + _parabolic(d, imax)
        else:
            s = smooth[lo:hi]
            lvl = s.min(0) + threshold * (s.max(0) - s.min(0))
            above = s >= lvl[None, :]
            # first crossing before the steepest point
            ti = np.full(nch, np.nan)
            for j in range(nch):
                k = np.nonzero(above[: imax[j] + 1, j])[0]
                if k.size == 0:
                    continue
                k0 = k[0]
                if k0 == 0:
                    ti[j] = lo
                    continue
                a, b = s[k0 - 1, j], s[k0, j]
                ti[j] = lo + k0 - 1 + (lvl[j] - a) / (b - a) if b != a else lo + k0
        ok = valid & (peak > 0)
        if ok.any():
            ok &= peak >= min_slope_fraction * np.median(peak[ok])
        out[e] = np.where(ok, t[0] + ti / fs, np.nan)
    attrs = {
        "units": "s",
        "method": method,
        "polarity": polarity,
        "smooth_samples": win,
        "long_name": "activation time",
    }
    return _space_like(da, out, "event", t[ev_idx], "activation_time_s", attrs)


def xcorr_delays(
    activity: xr.DataArray, *, reference: xr.DataArray | None = None, max_lag_s: float | None = None
) -> xr.DataArray:
    r"""Delay of each channel behind a reference from the cross-correlation peak (s).

    ``tau_j = argmax_tau sum_t ref(t) x_j(t + tau)`` over ``|tau| <= max_lag_s``, with parabolic
    sub-sample refinement; positive means the channel lags the reference. Signals are demeaned.
    The reference defaults to the channel mean. NaN channels give NaN. The result has an
    ``event`` dim of length 1 so it can go straight into :func:`fit_activation_times`.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> t = np.arange(1000) / 1000.0
    >>> x = np.array([0.0, 1.0, 2.0])
    >>> v = np.exp(-((t[:, None] - 0.5 - x / 200.0) / 0.02) ** 2)   # 200 mm/s
    >>> d = xcorr_delays(irregular_activity(v, fs_hz=1e3, x_mm=x, y_mm=0 * x))
    >>> np.round(np.diff(d.values[0]) * 1000, 1)
    array([5., 5.])
    """
    da = _time_axis_first(activity)
    fs = float(da.attrs["fs_hz"])
    arr, _, _ = _channels(da)
    arr = np.asarray(arr, float)
    valid = np.isfinite(arr).all(0)
    xs = np.where(valid, arr - np.where(valid, arr, 0).mean(0), 0.0)
    if reference is None:
        ref = xs[:, valid].mean(1)
    else:
        ref = np.asarray(reference, float)
        ref = ref - ref.mean()
    n = xs.shape[0]
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    cc = np.fft.irfft(
        np.conj(np.fft.rfft(ref, nfft))[:, None] * np.fft.rfft(xs, nfft, axis=0), nfft, axis=0
    )
    maxlag = n - 1 if max_lag_s is None else min(n - 1, int(round(max_lag_s * fs)))
    lags = np.r_[0 : maxlag + 1, -maxlag:0]
    cc = np.concatenate([cc[: maxlag + 1], cc[nfft - maxlag :]], axis=0)
    order = np.argsort(lags)
    lags, cc = lags[order], cc[order]
    i = np.argmax(cc, axis=0)
    pos = _parabolic(cc, i)
    tau = (lags[0] + pos) / fs
    tau = np.where(valid, tau, np.nan)
    attrs = {"units": "s", "method": "cross-correlation peak", "long_name": "delay"}
    return _space_like(da, tau[None, :], "event", [float(da["time"].values[0])], "delay_s", attrs)


def coherence_delays(
    activity: xr.DataArray,
    *,
    band_hz: tuple[float, float],
    reference: xr.DataArray | None = None,
    nperseg: int | None = None,
) -> xr.DataArray:
    r"""Phase delays from the cross-spectrum in a band (s): ``tau_j = -arg S_{ref,j} / (2 pi f_c)``.

    ``S_{ref,j}`` is the Welch cross-spectral density ``E[conj(X_ref) X_j]`` summed over the band
    and ``f_c`` the band's power-weighted centre. A channel that lags the reference by ``tau``
    has ``X_j = X_ref exp(-2 pi i f tau)``, hence the sign. Delays are unambiguous only within
    half a period of ``f_c``. Also returns (as a coordinate) the band coherence per channel.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> t = np.arange(4000) / 1000.0
    >>> x = np.array([0.0, 1.0, 2.0])
    >>> v = np.cos(2 * np.pi * 10 * (t[:, None] - x / 400.0))   # 400 mm/s
    >>> d = coherence_delays(irregular_activity(v, fs_hz=1e3, x_mm=x, y_mm=0 * x),
    ...                      band_hz=(8, 12), reference=v[:, 0])
    >>> np.round(d.values[0] * 1000, 2) + 0.0
    array([0. , 2.5, 5. ])
    """
    from scipy.signal import csd, welch

    da = _time_axis_first(activity)
    fs = float(da.attrs["fs_hz"])
    arr, _, _ = _channels(da)
    arr = np.asarray(arr, float)
    valid = np.isfinite(arr).all(0)
    xs = np.where(valid, arr, 0.0)
    ref = xs[:, valid].mean(1) if reference is None else np.asarray(reference, float)
    nper = nperseg or min(xs.shape[0], int(round(2 * fs / max(band_hz[0], 1e-3))))
    f, pxy = csd(ref[:, None], xs, fs=fs, nperseg=nper, axis=0)
    _, pxx = welch(ref, fs=fs, nperseg=nper)
    _, pyy = welch(xs, fs=fs, nperseg=nper, axis=0)
    band = (f >= band_hz[0]) & (f <= band_hz[1])
    if not band.any():
        raise UsageError(f"band {band_hz} Hz holds no frequency bin (nperseg={nper})")
    s = pxy[band].sum(0)
    fc = float(np.sum(f[band] * pxx[band]) / np.sum(pxx[band]))
    tau = -np.angle(s) / (2 * np.pi * fc)
    coh = np.abs(s) ** 2 / (pxx[band].sum() * pyy[band].sum(0))
    tau = np.where(valid, tau, np.nan)
    attrs = {"units": "s", "method": "cross-spectral phase", "center_frequency_hz": fc}
    out = _space_like(da, tau[None, :], "event", [float(da["time"].values[0])], "delay_s", attrs)
    space = out.dims[1:]
    return out.assign_coords(coherence=(space, np.where(valid, coh, np.nan).reshape(out.shape[1:])))


# ----------------------------------------------------------------------------- fits


_FIT_FIELDS = (
    "t0_s",
    "slowness_x_s_per_mm",
    "slowness_y_s_per_mm",
    "front_speed_mm_per_s",
    "direction_deg",
    "front_speed_ci_low_mm_per_s",
    "front_speed_ci_high_mm_per_s",
    "direction_ci_low_deg",
    "direction_ci_high_deg",
    "residual_scale_s",
    "n_channels",
)


def _wrap_deg(a):
    r = (np.asarray(a, float) + 180.0) % 360.0 - 180.0
    return np.where(r == -180.0, 180.0, r)


def _fit_block(t, ev, x, y, *, n_boot, seed, ci, c_huber, max_iter, robust):
    lead = t.shape[:-1]
    t2 = t.reshape(-1, t.shape[-1])
    ev = np.broadcast_to(ev, lead).reshape(-1)
    out = np.full((t2.shape[0], len(_FIT_FIELDS)), np.nan)
    ch = c_huber if robust else 1e30
    for e in range(t2.shape[0]):
        te = t2[e]
        ok = np.isfinite(te)
        n = int(ok.sum())
        out[e, -1] = n
        if n < 4:
            continue
        tv, xv, yv = te[ok], x[ok], y[ok]
        w = np.ones(n)
        t0, sx, sy, scale = K.huber_plane(tv, xv, yv, w, ch, max_iter)
        smag = np.hypot(sx, sy)
        speed = 1.0 / smag if smag > 0 else np.inf
        d = float(angle_deg(sy, sx))
        lo = hi = dlo = dhi = np.nan
        if n_boot > 0:
            rng = np.random.default_rng([seed, int(ev[e])])  # per event, whatever the chunks
            idx = rng.integers(0, n, (n_boot, n))
            b = K.huber_bootstrap(tv, xv, yv, w, idx, ch, max_iter)
            good = np.isfinite(b[:, 1])
            if good.sum() >= 10:
                q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
                with np.errstate(divide="ignore", invalid="ignore"):  # zero slowness: inf speed
                    bs = 1.0 / np.hypot(b[good, 1], b[good, 2])
                    lo, hi = np.percentile(bs, q)
                dev = (angle_deg(b[good, 2], b[good, 1]) - d + 180.0) % 360.0 - 180.0
                dlo, dhi = _wrap_deg(d + np.percentile(dev, q))
        out[e, :-1] = t0, sx, sy, speed, d, lo, hi, dlo, dhi, scale
    return out.reshape(*lead, len(_FIT_FIELDS))


def fit_activation_times(
    times: xr.DataArray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    robust: bool = True,
    c_huber: float = 1.345,
    max_iter: int = 50,
) -> xr.Dataset:
    r"""Robust plane fit of activation times on position, per event, with bootstrap intervals.

    Parameters
    ----------
    times : xarray.DataArray
        Times in s with dims ``(event, y, x)`` or ``(event, channel)`` (coords ``x``, ``y`` in mm),
        as from :func:`activation_times`, :func:`xcorr_delays` or :func:`coherence_delays`.
        NaN channels are excluded per event. NumPy or dask (chunked along ``event``).
    n_boot : int
        Bootstrap resamples of channels (0: no intervals).
    seed : int
        Seed of ``numpy.random.default_rng`` (combined with the event index).
    ci : float
        Confidence level of the percentile intervals.
    robust : bool
        Huber M-estimate (default) or ordinary least squares.
    c_huber : float
        Huber tuning constant in units of the robust residual scale (1.345: 95 % efficiency
        under Gaussian residuals).

    Returns
    -------
    xarray.Dataset
        Along ``event``: ``t0_s``, ``slowness_x_s_per_mm``, ``slowness_y_s_per_mm``,
        ``front_speed_mm_per_s`` (``1/|s|``), ``direction_deg`` (``angle(s)``, the direction of
        travel), their percentile intervals ``front_speed_ci_low_mm_per_s``,
        ``front_speed_ci_high_mm_per_s``, ``direction_ci_low_deg``, ``direction_ci_high_deg``
        (angles measured from the estimate, so the interval may straddle 180), the robust residual
        scale ``residual_scale_s`` (1.4826 MAD) and ``n_channels``.

    Notes
    -----
    Model :math:`t_j = t_0 + \mathbf s\cdot\mathbf r_j + \varepsilon_j`, fitted by iteratively
    reweighted least squares with Huber weights :math:`\min(1, c\hat\sigma/|r_j|)`,
    :math:`\hat\sigma = 1.4826\,\mathrm{MAD}` (Huber 1964; Holland & Welsch 1977). Time is the
    dependent variable: regressing position on time instead biases speed low by regression
    dilution when times are jittered. The speed is the apparent speed of the front across the
    recording plane (``front_speed``; SPEC reserves ``speed`` for phase speed). Percentile
    bootstrap over channels (Efron & Tibshirani 1993). Failure modes: curved (focal, re-entrant)
    fronts are not planes (large residual scale; use :func:`local_velocity`); fronts that
    cross the array in less than about a sample give ``|s|`` near 0 and unbounded speeds.

    References
    ----------
    Huber PJ (1964) Robust estimation of a location parameter. Ann Math Stat 35:73.
    doi:10.1214/aoms/1177703732

    Holland PW, Welsch RE (1977) Robust regression using iteratively reweighted least-squares.
    Commun Stat Theory Methods 6:813. doi:10.1080/03610927708827533

    Efron B, Tibshirani RJ (1993) An Introduction to the Bootstrap. doi:10.1201/9780429246593

    Bayly PV, KenKnight BH, Rogers JM, Hillsley RE, Ideker RE, Smith WM (1998) Estimation of
    conduction velocity vector fields from epicardial mapping data. IEEE Trans Biomed Eng 45:563.
    doi:10.1109/10.668746

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.uniform(0, 5, 50), rng.uniform(0, 5, 50)
    >>> t = 0.01 + (np.cos(1.0) * x + np.sin(1.0) * y) / 400.0        # 400 mm/s toward 57.3 deg
    >>> da = xr.DataArray(t[None], dims=("event", "channel"),
    ...                   coords={"x": ("channel", x), "y": ("channel", y)})
    >>> fit = fit_activation_times(da, n_boot=200)
    >>> round(float(fit.front_speed_mm_per_s[0]), 3), round(float(fit.direction_deg[0]), 3)
    (400.0, 57.296)
    """
    if not 0 < ci < 1:
        raise UsageError(f"ci must be in (0, 1), got {ci}")
    da = times
    if "event" not in da.dims:
        da = da.expand_dims("event")
    if "channel" not in da.dims:
        x, y = channel_positions(da)
        da = da.stack(channel=("y", "x")).drop_vars(["channel", "y", "x"], errors="ignore")
        da = da.assign_coords(x=("channel", x), y=("channel", y))
    x = np.asarray(da["x"].values, float)
    y = np.asarray(da["y"].values, float)
    if da.chunks is not None:
        da = da.chunk({"channel": -1})
    # positions relative to the centroid (conditioning); t0 is shifted back below
    x0, y0 = float(x.mean()), float(y.mean())
    ev = xr.DataArray(np.arange(da.sizes["event"]), dims="event")
    if da.chunks is not None:
        ev = ev.chunk({"event": da.chunksizes["event"]})
    out = xr.apply_ufunc(
        _fit_block,
        da,
        ev,
        kwargs=dict(
            x=x - x0,
            y=y - y0,
            n_boot=int(n_boot),
            seed=int(seed),
            ci=float(ci),
            c_huber=float(c_huber),
            max_iter=int(max_iter),
            robust=bool(robust),
        ),
        input_core_dims=[["channel"], []],
        output_core_dims=[["param"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"param": len(_FIT_FIELDS)}},
    )
    ds = xr.Dataset({name: out.isel(param=i, drop=True) for i, name in enumerate(_FIT_FIELDS)})
    ds["t0_s"] = ds["t0_s"] - ds["slowness_x_s_per_mm"] * x0 - ds["slowness_y_s_per_mm"] * y0
    units = {
        "t0_s": "s",
        "slowness_x_s_per_mm": "s/mm",
        "slowness_y_s_per_mm": "s/mm",
        "residual_scale_s": "s",
    }
    for v in ds.data_vars:
        if v.endswith("mm_per_s"):
            ds[v].attrs["units"] = "mm/s"
        elif v.endswith("_deg"):
            ds[v].attrs["units"] = "deg"
        elif v in units:
            ds[v].attrs["units"] = units[v]
    ds["front_speed_mm_per_s"].attrs["long_name"] = "apparent front speed 1/|s| (time-on-position)"
    ds["direction_deg"].attrs["long_name"] = "direction of travel, angle of s, CCW from +x"
    ds.attrs = {
        "method": "Huber IRLS fit of time on position" if robust else "OLS time on position",
        "n_boot": int(n_boot),
        "seed": int(seed),
        "ci": float(ci),
    }
    return ds


def front_significance(
    times: xr.DataArray,
    *,
    n_permutations: int = 99,
    seed: int = 0,
    c_huber: float = 1.345,
    max_iter: int = 50,
) -> xr.DataArray:
    r"""Permutation p-value of the planar front of each event (is it more than chance?).

    Parameters
    ----------
    times : xarray.DataArray
        Activation times (s), dims ``(event, y, x)`` or ``(event, channel)``, as for
        :func:`fit_activation_times`.
    n_permutations : int
        Shuffles of the channel positions per event; the smallest p-value is
        ``1 / (n_permutations + 1)``.
    seed : int
        Seed of ``numpy.random.default_rng`` (combined with the event index).
    c_huber, max_iter
        As in :func:`fit_activation_times`.

    Returns
    -------
    xarray.DataArray
        ``p_value`` along ``event`` (NaN for events with fewer than 4 timed channels).

    Notes
    -----
    The statistic is the robust residual scale :math:`\hat\sigma` (1.4826 MAD) of the Huber fit
    :math:`t_j = t_0 + \mathbf s\cdot\mathbf r_j`. Under the null hypothesis that activation
    times are unrelated to position (no travelling front), shuffling which channel sits where
    leaves the distribution of :math:`\hat\sigma` unchanged, so
    :math:`p = (1 + \#\{\hat\sigma_{perm} \le \hat\sigma\}) / (1 + n)` (Phipson & Smyth 2010,
    doi:10.2202/1544-6115.1585). A synchronous burst, or times scattered at random, gives a
    large p; a front that sweeps the array a small one.

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import irregular_activity
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.uniform(0, 2, 30), rng.uniform(0, 2, 30)
    >>> t = np.stack([0.1 + x / 0.3, rng.normal(size=30)])  # a front, then noise
    >>> import xarray as xr
    >>> times = xr.DataArray(t, dims=("event", "channel"),
    ...                      coords={"x": ("channel", x), "y": ("channel", y)})
    >>> p = front_significance(times, n_permutations=99)
    >>> float(p[0]), bool(p[1] > 0.05)
    (0.01, True)
    """
    da = times
    if "channel" not in da.dims:
        x, y = channel_positions(da)
        da = da.stack(channel=("y", "x")).drop_vars(["channel", "y", "x"], errors="ignore")
        da = da.assign_coords(x=("channel", x), y=("channel", y))
    da = da.transpose("event", "channel")
    t = np.asarray(da.values, dtype=np.float64)
    x = np.asarray(da["x"].values, float) - float(np.mean(da["x"].values))
    y = np.asarray(da["y"].values, float) - float(np.mean(da["y"].values))
    p = np.full(t.shape[0], np.nan)
    for e in range(t.shape[0]):
        ok = np.isfinite(t[e])
        n = int(ok.sum())
        if n < 4:
            continue
        tv, xv, yv, w = t[e, ok], x[ok], y[ok], np.ones(n)
        scale = K.huber_plane(tv, xv, yv, w, c_huber, max_iter)[3]
        rng = np.random.default_rng([seed, e])
        count = 0
        for _ in range(n_permutations):
            perm = rng.permutation(n)
            count += K.huber_plane(tv, xv[perm], yv[perm], w, c_huber, max_iter)[3] <= scale
        p[e] = (1.0 + count) / (1.0 + n_permutations)
    return xr.DataArray(
        p,
        dims="event",
        coords={"event": da["event"].values} if "event" in da.coords else None,
        name="p_value",
        attrs={
            "n_permutations": int(n_permutations),
            "seed": int(seed),
            "statistic": "robust residual scale of the time-on-position plane",
        },
    )


def local_velocity(
    times: xr.DataArray,
    *,
    radius_mm: float | None = None,
    n_neighbours: int = 8,
    min_neighbours: int = 4,
) -> xr.Dataset:
    r"""Local front velocity from activation-time gradients (conduction-velocity maps).

    For each channel, the least-squares plane :math:`t = a + \mathbf s\cdot(\mathbf r -
    \mathbf r_c)` over the channels within ``radius_mm`` (grids: default 1.5 times the pitch,
    the 3 x 3 neighbourhood; irregular layouts: default the ``n_neighbours`` nearest channels
    and the centre) gives the local slowness
    :math:`\mathbf s = \nabla t`; speed ``1/|s|``, direction ``angle(s)`` (Bayly et al. 1998).

    Parameters
    ----------
    times : xarray.DataArray
        ``(event, y, x)`` or ``(event, channel)`` times (s); NaN excluded.
    radius_mm : float, optional
        Neighbourhood radius.
    n_neighbours : int
        Nearest neighbours of an irregular layout's channel when ``radius_mm`` is not given.
    min_neighbours : int
        Minimum valid channels (centre included) for a fit; else NaN.

    Returns
    -------
    xarray.Dataset
        ``slowness_x_s_per_mm``, ``slowness_y_s_per_mm``, ``front_speed_mm_per_s``,
        ``direction_deg`` with the dims of ``times``.

    References
    ----------
    Bayly PV et al. (1998) IEEE Trans Biomed Eng 45:563. doi:10.1109/10.668746

    Examples
    --------
    >>> import numpy as np
    >>> from wavekit.model import grid_activity
    >>> yy, xx = np.mgrid[0:6, 0:6] * 0.5
    >>> t = grid_activity((xx / 250.0)[None], fs_hz=1.0, dx_mm=0.5).rename({"time": "event"})
    >>> v = local_velocity(t)
    >>> float(v.front_speed_mm_per_s.median()), float(v.direction_deg.median())
    (250.0, 0.0)
    """
    from scipy.spatial import cKDTree

    da = times if "event" in times.dims else times.expand_dims("event")
    x, y = channel_positions(da)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    tv = np.asarray(da.data, float).reshape(da.sizes["event"], -1)
    pts = np.stack([x, y], 1)
    tree = cKDTree(pts)
    if radius_mm is None and "channel" in da.dims:
        k = min(n_neighbours + 1, x.size)
        idx = tree.query(pts, k=k)[1].reshape(x.size, k)
    else:
        if radius_mm is None:
            dnn = tree.query(pts, k=2)[0][:, 1]
            radius_mm = 1.5 * float(np.median(dnn))
        nb = tree.query_ball_point(pts, r=radius_mm)
        m = max(len(v) for v in nb)
        idx = np.full((x.size, m), -1)
        for i, v in enumerate(nb):
            idx[i, : len(v)] = v
    pad = idx < 0
    safe = np.where(pad, 0, idx)
    dx = np.where(pad, 0.0, x[safe] - x[:, None])
    dy = np.where(pad, 0.0, y[safe] - y[:, None])
    tt = tv[:, safe]  # (event, ch, m)
    ok = ~pad[None] & np.isfinite(tt)
    wgt = ok.astype(float)
    tt = np.where(ok, tt, 0.0)
    one = np.ones_like(dx)
    cols = [one, dx, dy]
    a = np.empty((*tt.shape[:2], 3, 3))
    b = np.empty((*tt.shape[:2], 3))
    for i in range(3):
        b[..., i] = np.sum(wgt * cols[i][None] * tt, -1)
        for j in range(3):
            a[..., i, j] = np.sum(wgt * (cols[i] * cols[j])[None], -1)
    n = wgt.sum(-1)
    det = np.linalg.det(a)
    good = (n >= min_neighbours) & (
        np.abs(det) > 1e-12 * np.abs(a[..., 1, 1] * a[..., 2, 2]) ** 1.5
    )
    good &= np.isfinite(tv)
    a = np.where(good[..., None, None], a, np.eye(3))
    sol = np.linalg.solve(a, b[..., None])[..., 0]
    sx = np.where(good, sol[..., 1], np.nan)
    sy = np.where(good, sol[..., 2], np.nan)
    with np.errstate(divide="ignore"):
        speed = 1.0 / np.hypot(sx, sy)
    direction = np.where(good, angle_deg(sy, sx), np.nan)
    ds = xr.Dataset()
    ev = da["event"].values
    for name, v, u in (
        ("slowness_x_s_per_mm", sx, "s/mm"),
        ("slowness_y_s_per_mm", sy, "s/mm"),
        ("front_speed_mm_per_s", speed, "mm/s"),
        ("direction_deg", direction, "deg"),
    ):
        ds[name] = _space_like(da, v, "event", ev, name, {"units": u})
    ds.attrs = {
        "method": "local least-squares plane of time on position",
        "neighbourhood": f"radius {radius_mm} mm"
        if radius_mm
        else f"{n_neighbours} nearest channels",
    }
    return ds
