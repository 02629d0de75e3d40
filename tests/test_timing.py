"""Time-based fits: activation times, delays, robust time-on-position fits, local velocity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _fitwaves import ang_err, grid_positions, random_positions
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis import _kernels_fit as K
from wavekit.analysis.timing import (
    activation_times,
    coherence_delays,
    fit_activation_times,
    local_velocity,
    xcorr_delays,
)
from wavekit.model import grid_activity, irregular_activity

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
HEART = REAL / "heart_optical_cosmas" / "controlV"


def _times(x, y, *, speed, direction_deg, jitter_s, rng, n_events=1, outliers=0.0, t0=0.01):
    th = np.radians(direction_deg)
    t = t0 + (np.cos(th) * x + np.sin(th) * y) / speed
    t = np.broadcast_to(t, (n_events, x.size)) + rng.normal(0, jitter_s, (n_events, x.size))
    if outliers:
        bad = rng.uniform(size=t.shape) < outliers
        t = np.where(bad, t + rng.uniform(-0.02, 0.02, t.shape), t)
    return xr.DataArray(
        t, dims=("event", "channel"), coords={"x": ("channel", x), "y": ("channel", y)}
    )


def test_robust_fit_accuracy_and_outliers():
    rng = np.random.default_rng(0)
    x, y = random_positions(64, 5.0, rng)
    da = _times(
        x, y, speed=400.0, direction_deg=130.0, jitter_s=0.2e-3, rng=rng, n_events=20, outliers=0.1
    )
    rob = fit_activation_times(da, n_boot=0)
    ols = fit_activation_times(da, n_boot=0, robust=False)
    e_rob = np.median(np.abs(rob.front_speed_mm_per_s / 400 - 1))
    e_ols = np.median(np.abs(ols.front_speed_mm_per_s / 400 - 1))
    assert e_rob < 0.03
    assert e_rob < 0.5 * e_ols  # 10 % outliers of +-20 ms: Huber resists, OLS does not
    assert np.median(ang_err(rob.direction_deg, 130.0)) < 1.5
    np.testing.assert_allclose(rob.t0_s.median(), 0.01, atol=2e-4)


def test_time_on_position_unbiased_under_large_jitter():
    """50 mm/s with 50 ms jitter (the case DESIGN-NOTES cites): no regression dilution."""
    rng = np.random.default_rng(1)
    x, y = grid_positions(10, 1.0)
    da = _times(x, y, speed=50.0, direction_deg=0.0, jitter_s=0.05, rng=rng, n_events=200)
    fit = fit_activation_times(da, n_boot=0, robust=False)
    slow = np.median(fit.slowness_x_s_per_mm)
    np.testing.assert_allclose(slow, 1 / 50.0, rtol=0.03)
    # position-on-time would give a speed well below 50 mm/s on the same data
    t = da.values
    sx = [np.polyfit(t[e], x, 1)[0] for e in range(t.shape[0])]
    assert np.median(sx) < 0.8 * 50.0


def test_bootstrap_interval_coverage():
    rng = np.random.default_rng(2)
    x, y = random_positions(40, 4.0, rng)
    da = _times(x, y, speed=300.0, direction_deg=-45.0, jitter_s=0.5e-3, rng=rng, n_events=40)
    fit = fit_activation_times(da, n_boot=300, seed=4)
    cover_s = (fit.front_speed_ci_low_mm_per_s <= 300) & (fit.front_speed_ci_high_mm_per_s >= 300)
    lo = ang_err(fit.direction_ci_low_deg, -45.0) * np.sign(
        ((fit.direction_ci_low_deg + 45.0 + 180) % 360) - 180
    )
    hi = ((fit.direction_ci_high_deg + 45.0 + 180) % 360) - 180
    cover_d = (lo <= 0) & (hi >= 0)
    print(f"coverage speed {float(cover_s.mean()):.2f}, direction {float(cover_d.mean()):.2f}")
    assert 0.8 <= float(cover_s.mean()) <= 1.0
    assert 0.8 <= float(cover_d.mean()) <= 1.0
    # reproducible with the seed
    again = fit_activation_times(da.isel(event=[0]), n_boot=300, seed=4)
    xr.testing.assert_identical(again.isel(event=0), fit.isel(event=0))


def test_invariances_and_nan():
    rng = np.random.default_rng(3)
    x, y = random_positions(30, 4.0, rng)
    da = _times(x, y, speed=250.0, direction_deg=20.0, jitter_s=0.3e-3, rng=rng)
    base = fit_activation_times(da, n_boot=0)
    a = np.radians(70.0)
    rot = fit_activation_times(
        da.assign_coords(
            x=("channel", np.cos(a) * x - np.sin(a) * y),
            y=("channel", np.sin(a) * x + np.cos(a) * y),
        ),
        n_boot=0,
    )
    assert ang_err(rot.direction_deg, base.direction_deg + 70.0) < 1e-8
    mir = fit_activation_times(da.assign_coords(x=("channel", -x)), n_boot=0)
    assert ang_err(mir.direction_deg, 180.0 - base.direction_deg) < 1e-8
    rev = fit_activation_times(-da, n_boot=0)
    assert ang_err(rev.direction_deg, base.direction_deg + 180.0) < 1e-8
    sc = fit_activation_times(
        da.assign_coords(x=("channel", 3 * x), y=("channel", 3 * y)), n_boot=0
    )
    np.testing.assert_allclose(sc.front_speed_mm_per_s, 3 * base.front_speed_mm_per_s, rtol=1e-9)
    # NaN channels are excluded
    dn = da.copy()
    dn[:, :5] = np.nan
    fn = fit_activation_times(dn, n_boot=0)
    ref = fit_activation_times(da.isel(channel=slice(5, None)), n_boot=0)
    assert int(fn.n_channels[0]) == 25
    np.testing.assert_allclose(fn.front_speed_mm_per_s, ref.front_speed_mm_per_s, rtol=1e-10)


def test_dask_matches_numpy():
    rng = np.random.default_rng(5)
    x, y = random_positions(30, 4.0, rng)
    da = _times(x, y, speed=250.0, direction_deg=20.0, jitter_s=0.3e-3, rng=rng, n_events=6)
    lazy = fit_activation_times(da.chunk({"event": 2}), n_boot=50, seed=1)
    assert lazy.front_speed_mm_per_s.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), fit_activation_times(da, n_boot=50, seed=1))


def _front_activity(
    x,
    y,
    *,
    speed,
    direction_deg,
    fs=1000.0,
    n=600,
    beats=(0.1, 0.3, 0.5),
    noise=0.05,
    rng=None,
    invert=False,
):
    th = np.radians(direction_deg)
    delay = (np.cos(th) * x + np.sin(th) * y) / speed
    t = np.arange(n) / fs
    v = np.zeros((n, x.size))
    for b in beats:
        v += 0.5 * (1 + np.tanh((t[:, None] - b - delay[None, :]) / 0.0015))
        v -= 0.5 * (1 + np.tanh((t[:, None] - b - 0.08 - delay[None, :]) / 0.01))
    v = v + (rng.normal(0, noise, v.shape) if rng is not None else 0)
    return -v if invert else v


@pytest.mark.parametrize(
    "invert, method", [(False, "max_slope"), (True, "max_slope"), (False, "threshold")]
)
def test_activation_pipeline_grid(invert, method):
    rng = np.random.default_rng(6)
    yy, xx = np.mgrid[0:16, 0:16] * 0.25
    v = _front_activity(
        xx.ravel(), yy.ravel(), speed=600.0, direction_deg=-30.0, rng=rng, invert=invert
    )
    da = grid_activity(v.reshape(-1, 16, 16), fs_hz=1000.0, dx_mm=0.25)
    da[:, 3, 4] = np.nan
    at = activation_times(da, polarity="down" if invert else "up", method=method)
    assert at.dims == ("event", "y", "x")
    np.testing.assert_allclose(at.event, [0.1, 0.3, 0.5], atol=0.006)
    assert np.isnan(at[:, 3, 4]).all()
    fit = fit_activation_times(at, n_boot=200)
    print(method, invert, fit.front_speed_mm_per_s.values, fit.direction_deg.values)
    np.testing.assert_allclose(fit.front_speed_mm_per_s, 600.0, rtol=0.03)
    assert ang_err(fit.direction_deg, -30.0).max() < 2.0
    assert (fit.front_speed_ci_low_mm_per_s < fit.front_speed_ci_high_mm_per_s).all()


def test_delays_xcorr_and_coherence():
    rng = np.random.default_rng(7)
    x, y = random_positions(40, 4.0, rng)
    fs, speed, d = 1000.0, 200.0, 75.0
    t = np.arange(3000) / fs
    delay = (np.cos(np.radians(d)) * x + np.sin(np.radians(d)) * y) / speed
    pulse = np.exp(-(((t[:, None] - 1.0 - delay) / 0.015) ** 2))
    da = irregular_activity(pulse + rng.normal(0, 0.02, pulse.shape), fs_hz=fs, x_mm=x, y_mm=y)
    fx = fit_activation_times(xcorr_delays(da, max_lag_s=0.1), n_boot=100)
    np.testing.assert_allclose(fx.front_speed_mm_per_s, speed, rtol=0.03)
    assert ang_err(fx.direction_deg, d).max() < 2.0
    osc = np.cos(2 * np.pi * 8 * (t[:, None] - delay)) + rng.normal(0, 0.3, pulse.shape)
    dc = coherence_delays(irregular_activity(osc, fs_hz=fs, x_mm=x, y_mm=y), band_hz=(6, 10))
    assert float(dc.coherence.min()) > 0.8
    fc = fit_activation_times(dc, n_boot=100)
    np.testing.assert_allclose(fc.front_speed_mm_per_s, speed, rtol=0.03)
    assert ang_err(fc.direction_deg, d).max() < 2.0


def test_local_velocity_focal_and_plane():
    yy, xx = np.mgrid[0:21, 0:21] * 0.2
    r = np.hypot(xx - 2.0, yy - 2.0)
    t = grid_activity((r / 500.0)[None], fs_hz=1.0, dx_mm=0.2).rename({"time": "event"})
    lv = local_velocity(t)
    far = r > 1.0  # the local plane is biased by the front curvature near the source
    far[[0, -1], :] = far[:, [0, -1]] = False  # and by one-sided neighbourhoods at the edges
    np.testing.assert_allclose(lv.front_speed_mm_per_s.values[0][far], 500.0, rtol=0.02)
    radial = np.degrees(np.arctan2(yy - 2.0, xx - 2.0))
    assert ang_err(lv.direction_deg.values[0][far], radial[far]).max() < 1.0
    # irregular layout, plane front, NaN channel
    rng = np.random.default_rng(8)
    x, y = random_positions(80, 4.0, rng)
    da = _times(x, y, speed=300.0, direction_deg=100.0, jitter_s=0.0, rng=rng)
    da[0, 0] = np.nan
    lv2 = local_velocity(da)
    assert np.isnan(lv2.front_speed_mm_per_s[0, 0])
    ok = np.isfinite(lv2.front_speed_mm_per_s.values[0])
    assert ok.mean() > 0.9
    np.testing.assert_allclose(lv2.front_speed_mm_per_s.values[0][ok], 300.0, rtol=1e-6)


# ------------------------------------------------------------------------ kernels vs references


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(4, 60),
    seed=st.integers(0, 2**31),
    jitter=st.floats(0.0, 5e-3),
    outl=st.sampled_from([0.0, 0.2]),
    robust=st.booleans(),
)
def test_huber_kernel_matches_reference(n, seed, jitter, outl, robust):
    rng = np.random.default_rng(seed)
    x, y = random_positions(n, 3.0, rng)
    da = _times(
        x,
        y,
        speed=rng.uniform(50, 2000),
        direction_deg=rng.uniform(-180, 180),
        jitter_s=jitter,
        rng=rng,
        outliers=outl,
    )
    t = da.values[0]
    w = (rng.uniform(size=n) > 0.1).astype(float)
    c = 1.345 if robust else 1e30
    a = K.huber_plane(t, x, y, w, c, 50)
    b = K.ref_huber_plane(t, x, y, w, c, 50)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    idx = rng.integers(0, n, (5, n))
    np.testing.assert_allclose(
        K.huber_bootstrap(t, x, y, w, idx, c, 50),
        K.ref_huber_bootstrap(t, x, y, w, idx, c, 50),
        rtol=1e-6,
        atol=1e-12,
    )


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.skipif(not HEART.exists(), reason="real data folder absent")
def test_heart_conduction_velocity_per_beat():
    """Cosmas mouse heart (paced every 150 ms, inverted dye): one tight CV per beat."""
    from PIL import Image
    from scipy.ndimage import uniform_filter

    frames = sorted(HEART.glob("*.png"), key=lambda p: int(p.stem))
    a = np.stack([np.asarray(Image.open(p), dtype=np.float64) for p in frames])
    a = uniform_filter(a, size=(1, 3, 3), mode="nearest")  # 3 x 3 spatial binning
    da = grid_activity(a, fs_hz=1000.0, dx_mm=0.21875)
    at = activation_times(da, polarity="down", min_interval_s=0.1)
    fit = fit_activation_times(at, n_boot=200, seed=0)
    speed = fit.front_speed_mm_per_s.values
    width = (fit.front_speed_ci_high_mm_per_s - fit.front_speed_ci_low_mm_per_s).values
    print(
        "heart beats at",
        np.round(at.event.values, 3),
        "CV mm/s",
        np.round(speed),
        "CI width",
        np.round(width),
        "direction",
        np.round(fit.direction_deg.values, 1),
    )
    assert at.sizes["event"] == 6
    np.testing.assert_allclose(np.diff(at.event.values), 0.150, atol=0.003)
    assert ((speed > 300) & (speed < 1500)).all()
    assert (width / speed < 0.15).all()  # tight intervals
    assert np.std(speed) / np.mean(speed) < 0.05  # one consistent CV across beats
    assert ang_err(fit.direction_deg.values, np.median(fit.direction_deg.values)).max() < 5.0


def test_front_significance_separates_fronts_from_scattered_times():
    import numpy as np
    import xarray as xr

    from wavekit.analysis.timing import front_significance

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 3, 40), rng.uniform(0, 3, 40)
    fronts = [
        0.2 + (np.cos(a) * x + np.sin(a) * y) / 0.5 + rng.normal(0, 0.2, 40)
        for a in np.linspace(0, 6, 20)
    ]
    scattered = [rng.normal(0, 2.0, 40) for _ in range(200)]
    times = xr.DataArray(
        np.array(fronts + scattered),
        dims=("event", "channel"),
        coords={"x": ("channel", x), "y": ("channel", y)},
    )
    p = front_significance(times, n_permutations=99, seed=1).values
    assert np.all(p[:20] <= 0.01)  # every real front at the smallest possible p
    false_positive = np.mean(p[20:] <= 0.05)
    assert false_positive <= 0.09  # nominal 5 %, with binomial slack for 200 events
