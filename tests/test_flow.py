"""Optical flow: compiled kernel against its NumPy reference, and flow of analytic waves."""

from __future__ import annotations

import _patternwaves as pw
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis import _kernels_flow as kf
from wavekit.analysis.flow import amplitude_flow, phase_derivatives, phase_flow
from wavekit.analysis.vectorfield import curl, divergence
from wavekit.errors import UsageError

FS = 200.0


def _run_nb(ix, iy, it, alpha, beta, max_iter, tol, warm=-1, u0=None, v0=None):
    u = np.empty(ix.shape)
    v = np.empty(ix.shape)
    n = np.zeros(ix.shape[0], dtype=np.int64)
    u0 = np.zeros(ix.shape[1:]) if u0 is None else u0
    v0 = np.zeros(ix.shape[1:]) if v0 is None else v0
    kf.hs_charbonnier_nb(ix, iy, it, alpha, beta, max_iter, tol, u, v, n, warm, u0, v0)
    return u, v, n


@settings(max_examples=40, deadline=None)
@given(
    nt=st.integers(1, 3),
    ny=st.integers(1, 6),
    nx=st.integers(1, 6),
    alpha=st.floats(0.01, 5.0),
    beta=st.floats(1e-3, 1.0),
    nan_frac=st.sampled_from([0.0, 0.2, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_kernel_matches_numpy_reference(nt, ny, nx, alpha, beta, nan_frac, seed):
    rng = np.random.default_rng(seed)
    ix, iy, it = (rng.normal(size=(nt, ny, nx)) for _ in range(3))
    mask = rng.random((nt, ny, nx)) < nan_frac
    which = rng.integers(0, 3, size=mask.shape)
    ix[mask & (which == 0)] = np.nan
    iy[mask & (which == 1)] = np.nan
    it[mask & (which == 2)] = np.nan
    # fixed number of sweeps (tol = 0) and with a tolerance: same answers, same sweep counts
    # and a smaller budget for the warm-started frames; from zero flow and from a given one
    u0, v0 = rng.normal(size=(2, ny, nx))
    for max_iter, tol, warm, start in (
        (7, 0.0, -1, None),
        (60, 1e-3, -1, None),
        (9, 0.0, 3, None),
        (5, 0.0, 2, (u0, v0)),
    ):
        s = {} if start is None else {"u0": start[0], "v0": start[1]}
        u, v, n = _run_nb(ix, iy, it, alpha, beta, max_iter, tol, warm, **s)
        ur, vr, nr = kf.hs_charbonnier_ref(ix, iy, it, alpha, beta, max_iter, tol, warm, **s)
        np.testing.assert_allclose(u, ur, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(v, vr, rtol=1e-9, atol=1e-9)
        if tol == 0.0:
            want = np.full(nt, max_iter if warm < 0 else warm)
            want[0] = max_iter
            assert np.array_equal(n, want) and np.array_equal(n, nr)


def _da(kind, n=40, **kw):
    x, y = pw.grid(12, 12, 0.5)
    t = np.arange(n) / FS
    return pw.to_da(pw.phase_field(kind, t, x, y, **kw), x, y, FS)


@pytest.mark.parametrize("direction_deg", [0.0, 90.0, -135.0])
def test_plane_wave_flow_is_the_phase_velocity_along_travel(direction_deg):
    k, f = 1.3, 10.0
    fl = phase_flow(_da("plane", k=k, f_hz=f, direction_deg=direction_deg))
    d = np.radians(direction_deg)
    speed = 2 * np.pi * f / k
    np.testing.assert_allclose(fl.flow_x.values, speed * np.cos(d), atol=1e-3 * speed)
    np.testing.assert_allclose(fl.flow_y.values, speed * np.sin(d), atol=1e-3 * speed)
    assert fl.flow_x.attrs["units"] == "mm/s" and "not a speed" in fl.attrs["caution"]


def test_flow_follows_travel_for_either_sign_of_frequency():
    """cos(w t - k x) with w < 0 travels toward -x: so does the flow of its phase."""
    assert float(phase_flow(_da("plane", f_hz=-10.0, k=1.3)).flow_x.median()) < 0
    assert float(phase_flow(_da("plane", f_hz=10.0, k=1.3)).flow_x.median()) > 0


@pytest.mark.parametrize(
    "kind, div_sign, curl_sign",
    [("source", 1, 0), ("sink", -1, 0), ("spiral_ccw", 0, 1), ("spiral_cw", 0, -1)],
)
def test_flow_of_target_and_spiral_waves(kind, div_sign, curl_sign):
    fl = phase_flow(_da(kind, centre=(0.2, -0.3), k=1.2))
    sel = fl.isel(time=slice(10, None))
    dv = float(divergence(sel.flow_x, sel.flow_y).isel(y=slice(4, 8), x=slice(4, 8)).mean())
    cu = float(curl(sel.flow_x, sel.flow_y).isel(y=slice(4, 8), x=slice(4, 8)).mean())
    if div_sign:
        assert np.sign(dv) == div_sign
        assert abs(cu) < 0.2 * abs(dv)
    if curl_sign:
        assert np.sign(cu) == curl_sign


def test_flow_magnitude_depends_on_the_smoothness_weight():
    """Why flow magnitudes are not speeds: the same source gives different magnitudes."""
    da = _da("source", n=20, k=1.2)
    mags = []
    for alpha in (0.1, 1.0, 10.0):
        fl = phase_flow(da, alpha=alpha, max_iter=2000)
        mags.append(float(np.hypot(fl.flow_x, fl.flow_y)[-1].median()))
    assert mags[0] > mags[1] > mags[2]


def test_warm_start_needs_fewer_sweeps_after_the_first_frame():
    fl = phase_flow(_da("source", n=10, k=1.2), alpha=1.0, max_iter=5000, tol=1e-5)
    n = fl.n_iterations.values
    assert n[0] > 2 * np.median(n[2:])


def test_normal_flow_of_a_plane_wave_is_the_shrunk_phase_velocity():
    from wavekit.analysis.flow import normal_flow

    k, f = 1.3, 10.0
    gx, gy, gt = phase_derivatives(np.exp(1j * _da("plane", n=3, k=k, f_hz=f).values))
    u, v = normal_flow(gx[1], gy[1], gt[1])
    pitch = 0.5  # mm per pixel of _da
    want = 2 * np.pi * f / k / FS / pitch / (1 + 0.5**2)  # pixels per frame, shrunk by eps
    np.testing.assert_allclose(u, want, rtol=1e-6)
    np.testing.assert_allclose(v, 0.0, atol=1e-9)
    gx[1, 2, 3] = np.nan
    u, v = normal_flow(gx[1], gy[1], gt[1])
    assert u[2, 3] == 0.0 and np.isfinite(u).all()
    z = normal_flow(*(np.full((3, 3), np.nan),) * 3)
    assert not np.any(z[0]) and not np.any(z[1])


@pytest.mark.parametrize("kind", ["plane", "spiral"])
def test_a_single_pair_gets_direction_and_magnitude_from_the_normal_flow_start(kind):
    """On one pair of 48 x 48 frames, 50 sweeps from zero flow leave the magnitude far below
    the truth (the phase velocity w k / |k|^2); from the normal flow (the default) they give
    the direction within 2.5 degrees and the magnitude within 5 %."""
    from wavekit.simulate.waves import (
        plane_wave,
        plane_wave_local,
        spiral_wave,
        spiral_wave_local,
    )

    n, fs = 48, 200.0
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    t = (np.arange(2) / fs)[:, None, None]
    if kind == "plane":
        p = dict(frequency_hz=10.0, speed_mm_per_s=160.0, direction_deg=30.0)
        ph, _ = plane_wave(t, xx, yy, **p)
        w, kx, ky = plane_wave_local(0.0, xx, yy, **p)
    else:
        p = dict(frequency_hz=10.0, speed_mm_per_s=160.0, centre_x_mm=23.8, centre_y_mm=23.3)
        ph, _ = spiral_wave(t, xx, yy, **p, chirality="ccw")
        w, kx, ky = spiral_wave_local(0.0, xx, yy, **p, chirality="ccw")
    true = w * (kx + 1j * ky) / (kx * kx + ky * ky)
    far = np.hypot(xx - 23.8, yy - 23.3) > 3  # away from the spiral's core
    far[:2] = far[-2:] = far[:, :2] = far[:, -2:] = False
    da = pw.to_da(np.angle(np.exp(1j * ph)), xx[0], yy[:, 0], fs)

    def error(fl):
        est = (fl.flow_x + 1j * fl.flow_y)[0].values[far]
        angle = np.degrees(np.abs(np.angle(est * np.conj(true[far]))))
        return float(np.mean(angle)), float(np.median(np.abs(est) / np.abs(true[far])))

    angle, ratio = error(phase_flow(da))
    assert angle < 2.5 and abs(ratio - 1) < 0.05
    assert error(phase_flow(da, start="zero"))[1] < 0.5
    with pytest.raises(UsageError):
        phase_flow(da, start="middle")


def test_nan_sites_are_nan_in_the_flow_and_neighbours_finite():
    da = _da("plane", n=10, k=1.3).copy()
    da[:, 4, 5] = np.nan
    fl = phase_flow(da)
    assert np.isnan(fl.flow_x[:, 4, 5]).all()
    assert np.isfinite(fl.flow_x.values).sum() == fl.flow_x.size - 10
    speed = 2 * np.pi * 10 / 1.3
    np.testing.assert_allclose(fl.flow_x.values[:, 4, 6], speed, rtol=1e-3)


def test_phase_derivatives_are_wrap_safe():
    x, y = pw.grid(5, 7, 1.0)
    ph = pw.phase_field("plane", np.arange(4) / FS, x, y, k=1.2)  # wraps across the array
    gx, gy, gt = phase_derivatives(np.exp(1j * ph))
    # compiled kernels with a polynomial atan2 (error < 4e-8 rad)
    np.testing.assert_allclose(gx, -1.2, atol=1e-7)
    np.testing.assert_allclose(gy, 0.0, atol=1e-7)
    np.testing.assert_allclose(gt, 2 * np.pi * 10 / FS, atol=1e-7)


def test_phase_derivatives_match_the_numpy_neighbour_rule_with_nan():
    from wavekit.analysis.vectorfield import phase_diff_ref

    rng = np.random.default_rng(3)
    z = np.exp(1j * rng.uniform(-np.pi, np.pi, (5, 6, 7)))
    z[1, 2, 3] = np.nan
    z[3, :, 4] = np.nan
    got = phase_derivatives(z)
    for g, axis, n in zip(got, (-1, -2, 0), (7, 6, 5), strict=True):
        ref = phase_diff_ref(z, np.arange(n, dtype=np.float64), axis)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(ref))
        np.testing.assert_allclose(g, ref, atol=1e-7, equal_nan=True)


def test_amplitude_flow_follows_a_moving_bump():
    x = np.arange(20.0) * 0.5
    y = np.arange(8.0) * 0.5
    t = np.arange(16)[:, None, None]
    xx = x[None, None, :] + 0 * y[None, :, None]
    a = np.exp(-((xx - 2.0 - 0.25 * t) ** 2) / 2.0)  # 0.25 mm per frame toward +x
    fl = amplitude_flow(pw.to_da(a, x, y, FS))
    assert float(fl.flow_x[8].mean()) > 0
    np.testing.assert_allclose(fl.flow_y.values, 0.0, atol=1e-9)
    with pytest.raises(UsageError):
        amplitude_flow(pw.to_da(a + 0j, x, y, FS))


def test_trials_and_dask_give_the_same_flow_as_one_trial_at_a_time():
    import xarray as xr

    a = _da("source", n=12, k=1.2)
    b = _da("sink", n=12, k=1.2)
    both = xr.concat([a, b], "trial").assign_attrs(fs_hz=FS)
    ref = [phase_flow(a), phase_flow(b)]
    eager = phase_flow(both)
    lazy = phase_flow(both.chunk({"trial": 1, "time": 4}))
    assert lazy.flow_x.chunks is not None and eager.flow_x.dims == ("trial", "time", "y", "x")
    for i in range(2):
        np.testing.assert_allclose(eager.flow_x[i].values, ref[i].flow_x.values)
        np.testing.assert_allclose(lazy.flow_y[i].values, ref[i].flow_y.values)
        np.testing.assert_array_equal(lazy.n_iterations[i].values, ref[i].n_iterations.values)


def test_wrong_dims_are_rejected():
    da = _da("plane", n=3)
    with pytest.raises(UsageError):
        phase_flow(da.isel(time=0))


def test_docstring_examples_run():
    import doctest

    import wavekit.analysis.flow as mod

    assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
