"""Grid phase gradients, wave vector, direction, speed, wavelength, PGD: truth and kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests._planewave import angle_error_deg, plane_wave
from wavekit.analysis import _kernels_grid as kg
from wavekit.analysis import (
    analytic_signal,
    mean_wave_vector,
    phase_gradient_directionality,
    phase_gradients,
    pooled_wave_vector,
)
from wavekit.errors import UsageError
from wavekit.model import grid_activity

# compiling the kernels (first run without numba's cache) trips a harmless pedantic IR check
pytestmark = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaIRAssumptionWarning")

# ----------------------------------------------------------------------------- kernels vs NumPy


def _complex_field(draw, shape, dtype):
    re = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64)))
    im = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64)))
    nan = draw(hnp.arrays(np.bool_, shape)) & draw(st.booleans())  # often no NaN at all
    z = (re + 1j * im).astype(dtype)
    z[nan] = np.nan
    return z


@st.composite
def grid_case(draw):
    n = draw(st.integers(1, 4))
    ny = draw(st.integers(1, 7))
    nx = draw(st.integers(1, 7))
    dtype = draw(st.sampled_from([np.complex64, np.complex128]))
    z = _complex_field(draw, (n, ny, nx), dtype)
    # monotonic (possibly non-uniform, possibly descending) coordinates
    steps_x = draw(hnp.arrays(np.float64, nx, elements=st.floats(0.1, 2.0)))
    steps_y = draw(hnp.arrays(np.float64, ny, elements=st.floats(0.1, 2.0)))
    sx = draw(st.sampled_from([1.0, -1.0]))
    if draw(st.booleans()):  # uniform pitch: the kernels take a faster route
        steps_x = np.full(nx, steps_x[0])
        steps_y = np.full(ny, steps_y[0])
    return z, sx * np.cumsum(steps_x), np.cumsum(steps_y)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_case(), st.sampled_from([1.0, -1.0]))
def test_spatial_gradient_kernel_matches_reference(case, scale):
    z, x, y = case
    gx, gy = kg.spatial_gradient(z, x, y, scale=scale)
    for got, u, ax in ((gx, x, -1), (gy, y, -2)):
        ref, step = kg._diff_ref(z, u, ax, return_step=True)
        _same_phase_steps(scale * got, ref, step, z.dtype)


def _same_phase_steps(got, ref, step, dtype):
    """Equal as derivatives; phase steps (derivative x step) compared modulo 2 pi, because a
    product on the branch cut (angle +-pi) may round to either side in single precision."""
    nanmask = np.isnan(ref)
    assert np.array_equal(np.isnan(got), nanmask)
    d = np.where(nanmask, 0.0, (got.astype(np.float64) - ref) * np.where(nanmask, 0.0, step))
    d = np.angle(np.exp(1j * d))
    tol = 5e-4 if dtype == np.complex64 else 1e-6
    assert np.all(np.abs(d) <= tol)
    # away from the cut they agree as plain numbers
    far = ~nanmask & (np.abs(np.where(nanmask, 0.0, ref * step)) < np.pi - 0.01)
    np.testing.assert_allclose(got[far], ref[far], rtol=tol, atol=tol)


@st.composite
def time_case(draw):
    nt = draw(st.integers(1, 12))
    m = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.complex64, np.complex128]))
    return _complex_field(draw, (nt, m), dtype), draw(st.floats(1e-3, 1.0))


@settings(max_examples=80, deadline=None)
@given(time_case())
def test_time_derivative_kernel_matches_reference(case):
    z, dt = case
    out = kg.time_derivative(z, dt)
    ref, step = kg._diff_ref(z, np.arange(z.shape[0]) * dt, 0, return_step=True)
    np.testing.assert_array_equal(ref, kg.time_derivative_ref(z, dt))
    _same_phase_steps(out, ref, step, z.dtype)


@st.composite
def field_case(draw):
    nt = draw(st.integers(1, 6))
    ny = draw(st.integers(1, 5))
    nx = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.complex64, np.complex128]))
    z = _complex_field(draw, (nt, ny, nx), dtype)
    x = np.cumsum(draw(hnp.arrays(np.float64, nx, elements=st.floats(0.1, 2.0))))
    y = np.cumsum(draw(hnp.arrays(np.float64, ny, elements=st.floats(0.1, 2.0))))
    if draw(st.booleans()):
        x = np.arange(nx) * 0.4
        y = np.arange(ny) * 0.4
    flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    flags = (*flags, draw(st.booleans()))  # store_freq
    return z, x, y, draw(st.floats(1e-3, 1.0)), flags


@settings(max_examples=80, deadline=None)
@given(field_case())
def test_fused_fields_kernel_matches_reference(case):
    z, x, y, dt, flags = case
    rdt = np.float32 if z.dtype == np.complex64 else np.float64
    outs = [np.full(z.shape, -7.0, rdt) for _ in range(6)]
    kg.grid_fields_nb(z.view(rdt), x, y, dt, *outs, *flags)
    ref = kg.grid_fields_ref(z, x, y, dt)
    # wave vector and frequency: the neighbour rule (checked modulo the branch cut above);
    # derived fields: exactly derived_ref of the kernel's own k and f
    _, sx = kg._diff_ref(z, x, -1, return_step=True)
    _, sy = kg._diff_ref(z, y, -2, return_step=True)
    _, st_ = kg._diff_ref(z, np.arange(z.shape[0]) * dt, 0, return_step=True)
    _same_phase_steps(-outs[0], -ref["kx"], sx, z.dtype)
    _same_phase_steps(-outs[1], -ref["ky"], sy, z.dtype)
    if flags[3]:
        _same_phase_steps(2 * np.pi * outs[2], 2 * np.pi * ref["freq"], st_, z.dtype)
        freq = outs[2]
    else:
        assert np.all(outs[2] == -7.0)  # not stored
        freq = kg.time_derivative(z, dt, scale=1 / (2 * np.pi))
    sp, di, wl = kg.derived_ref(outs[0], outs[1], freq)
    rtol = 1e-5 if rdt == np.float32 else 1e-9
    for flag, got, want in zip(flags[:3], outs[3:], (sp, di, wl), strict=True):
        if not flag:
            assert np.all(got == -7.0)  # untouched
        elif want is di:
            assert np.array_equal(np.isnan(got), np.isnan(want))
            ok = ~np.isnan(want)
            assert np.all(angle_error_deg(got[ok], want[ok]) < 1e-3)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(0, 30), st.integers(1, 4), st.booleans())
def test_analytic_spectrum_kernel_matches_reference(n, npad, m, single):
    rng = np.random.default_rng(n * 100 + npad)
    cdt = np.complex64 if single else np.complex128
    nfft = n + npad
    nf = nfft // 2 + 1
    spec = (rng.normal(size=(nf, m)) + 1j * rng.normal(size=(nf, m))).astype(cdt)
    gain = rng.uniform(0, 2, nf).astype(np.float32 if single else np.float64)
    box = (rng.normal(size=nf) + 1j * rng.normal(size=nf)).astype(cdt)
    mean = rng.normal(size=m).astype(gain.dtype)
    out = np.full((nfft, m), 9 + 9j, dtype=cdt)
    kg.analytic_spectrum_nb(spec, gain, box, mean, out)
    ref = kg.analytic_spectrum_ref(spec, gain, box, mean, nfft)
    np.testing.assert_allclose(out, ref, rtol=1e-5 if single else 1e-12, atol=1e-5)


@st.composite
def vec_case(draw):
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 30))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    el = st.one_of(st.floats(-5, 5), st.just(0.0), st.just(np.nan))
    gx = draw(hnp.arrays(np.float64, (n, m), elements=el)).astype(dtype)
    gy = draw(hnp.arrays(np.float64, (n, m), elements=el)).astype(dtype)
    return gx, gy


@settings(max_examples=80, deadline=None)
@given(vec_case())
def test_pgd_kernel_matches_reference(case):
    gx, gy = case
    rub = np.empty(gx.shape[0])
    res = np.empty(gx.shape[0])
    kg.pgd_nb(gx, gy, rub, res)
    r_rub, r_res = kg.pgd_ref(gx, gy)
    np.testing.assert_allclose(rub, r_rub, rtol=1e-6, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(res, r_res, rtol=1e-6, atol=1e-6, equal_nan=True)
    finite = np.isfinite(rub)
    assert np.all((rub[finite] >= 0) & (rub[finite] <= 1 + 1e-9))


def _check_derived(kx, ky, f):
    sp, di, wl = (np.empty_like(kx) for _ in range(3))
    kg.derived_nb(kx, ky, f, sp, di, wl, True, True, True)
    r_sp, r_di, r_wl = kg.derived_ref(kx, ky, f)
    rtol = 1e-5 if kx.dtype == np.float32 else 1e-9
    # (atol: subnormal float32 frequencies round differently in single and double precision)
    np.testing.assert_allclose(sp, r_sp, rtol=rtol, atol=1e-30, equal_nan=True)
    np.testing.assert_allclose(wl, r_wl, rtol=rtol, atol=1e-30, equal_nan=True)
    ok = np.isfinite(r_di) & np.isfinite(di)
    assert np.array_equal(np.isnan(di), np.isnan(r_di))
    assert np.all(angle_error_deg(di[ok], r_di[ok]) < 1e-3)
    assert np.all((di[ok] > -180) & (di[ok] <= 180))


def test_derived_kernel_subnormal_float32_frequency():
    """Found by hypothesis: a subnormal float32 frequency over a tiny wave vector; the kernel
    promoted 2 pi f to double, the reference did not (4.7 % apart)."""
    _check_derived(
        np.array([0.0], np.float32),
        np.array([5.945756e-21], np.float32),
        np.array([1.40129846e-45], np.float32),
    )


@settings(max_examples=80, deadline=None)
@given(vec_case(), st.data())
def test_derived_kernel_matches_reference(case, data):
    kx, ky = (a.reshape(-1) for a in case)
    el = st.one_of(st.floats(-100, 100), st.just(np.nan))
    f = data.draw(hnp.arrays(np.float64, kx.shape, elements=el)).astype(kx.dtype)
    _check_derived(kx, ky, f)


def test_polynomial_atan2_accuracy():
    import numba

    @numba.njit
    def many(y, x, out):
        for i in range(y.size):
            out[i] = kg._atan2(y[i], x[i])

    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(size=20000), [0.0, 0.0, -0.0, 1.0, -1.0, 0.0, 1e-30, np.nan]])
    x = np.concatenate([rng.normal(size=20000), [1.0, -1.0, -1.0, 0.0, 0.0, 0.0, -1.0, 1.0]])
    ref = np.arctan2(y, x)
    ref[(ref == -np.pi)] = np.pi
    ok = ~np.isnan(ref)
    for dt, tol in ((np.float64, 1e-7), (np.float32, 5e-7)):
        out = np.empty_like(y, dtype=dt)
        many(y.astype(dt), x.astype(dt), out)
        assert np.isnan(out[~ok]).all()
        want = np.arctan2(y.astype(dt), x.astype(dt)).astype(np.float64)
        want[want <= -np.pi + 1e-6] = np.pi  # (-pi, pi]
        assert np.max(np.abs(out[ok] - want[ok])) < tol
        assert out[-6] == pytest.approx(np.pi)  # atan2(-0, -1) in (-pi, pi]
        assert np.all((out[ok] > -np.pi) & (out[ok] <= np.pi + 1e-6))


# ----------------------------------------------------------------------------- ground truth


def _run(act, f):
    z = analytic_signal(act, band_hz=(f / 1.5, f * 1.5))
    return z, pooled_wave_vector(z), mean_wave_vector(phase_gradients(z), dims=("time", "y", "x"))


def _cases(seed):
    rng = np.random.default_rng(seed)
    out = []
    for f in (4.3, 11.7, 29.1):
        for v in (100.0, 320.0, 1000.0):
            out.append((f, v, float(rng.uniform(-180, 180))))
    return out


@pytest.mark.parametrize(
    ("snr_db", "pitch_mm", "dir_tol", "speed_tol", "dir_max", "speed_max"),
    [
        (20.0, 0.4, 0.5, 1.0, 1.0, 3.0),  # targets of the issue (median), plus a loose max
        (0.0, 0.4, 2.0, 3.0, 5.0, 15.0),  # 232 mm waves on a 6 mm grid: hardest case
        (20.0, 0.2, 0.5, 1.0, 2.0, 3.0),  # finer pitch: smaller phase steps, same targets
    ],
)
def test_plane_wave_accuracy(snr_db, pitch_mm, dir_tol, speed_tol, dir_max, speed_max):
    """Plane waves 4-30 Hz, 100-1000 mm/s on 16 x 16 grids: median over the parameter box."""
    errs = {"pooled": [], "mean": []}
    for i, (f, v, d) in enumerate(_cases(int(snr_db) + 7)):
        act, truth = plane_wave(
            freq_hz=f,
            speed_mm_per_s=v,
            direction_deg=d,
            snr_db=snr_db,
            pitch_mm=pitch_mm,
            seed=100 + i,
            duration_s=2.0,
            fs_hz=500.0,
        )
        _, pooled, mean = _run(act, f)
        for key, est in (("pooled", pooled), ("mean", mean)):
            errs[key].append(
                (
                    float(angle_error_deg(float(est.direction_deg), d)),
                    100 * abs(float(est.speed_mm_per_s) / v - 1),
                    100 * abs(float(est.wavelength_mm) / truth["wavelength_mm"] - 1),
                )
            )
    for key, e in errs.items():
        e = np.asarray(e)
        med = np.median(e, axis=0)
        mx = e.max(axis=0)
        print(f"{key} snr={snr_db} pitch={pitch_mm}: median {med}, max {mx}")
        print(np.round(e, 3))
        assert med[0] <= dir_tol, (key, med)
        assert med[1] <= speed_tol, (key, med)
        assert med[2] <= speed_tol + 1.0, (key, med)
        if key == "pooled":  # the mean of noisy local gradients has a wider spread at 0 dB
            assert mx[0] <= dir_max and mx[1] <= speed_max, (key, mx)


def test_noise_free_local_estimates_are_exact():
    act, truth = plane_wave(
        freq_hz=9.0, speed_mm_per_s=250.0, direction_deg=-123.0, duration_s=3.0, fs_hz=500.0
    )
    g = phase_gradients(analytic_signal(act, band_hz=(5, 15)))
    core = g.isel(time=slice(500, -500))  # away from the filter's record edges
    assert float(angle_error_deg(core.direction_deg, -123.0).max()) < 0.05
    np.testing.assert_allclose(core.speed_mm_per_s, 250.0, rtol=2e-3)
    np.testing.assert_allclose(core.wavelength_mm, truth["wavelength_mm"], rtol=1e-4)
    np.testing.assert_allclose(core.kx_rad_per_mm, truth["kx"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(core.ky_rad_per_mm, truth["ky"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(core.frequency_hz, 9.0, rtol=2e-3)


def test_sign_conventions():
    """cos(w t - k x) travels toward +x: k_x > 0, direction 0; conj (w < 0) reverses it."""
    act, _ = plane_wave(freq_hz=10.0, speed_mm_per_s=200.0, direction_deg=0.0, n=8)
    z = analytic_signal(act, band_hz=(5, 20))
    g = phase_gradients(z).isel(time=slice(100, -100))
    assert float(g.kx_rad_per_mm.median()) > 0
    assert float(angle_error_deg(g.direction_deg, 0.0).max()) < 0.01
    gc = phase_gradients(np.conj(z).assign_attrs(z.attrs)).isel(time=slice(100, -100))
    # conj: same spatial pattern mirrored in phase, negative frequency -> still travels +x?
    # conj(exp(i(wt - kx))) = exp(i(-wt + kx)): phase gradient +k, w < 0 -> direction of k: 0
    assert float(angle_error_deg(gc.direction_deg, 0.0).max()) < 0.01
    # the phase field given as real radians works the same
    gp = phase_gradients(xr.apply_ufunc(np.angle, z).assign_attrs(z.attrs))
    np.testing.assert_allclose(
        gp.kx_rad_per_mm.isel(time=slice(100, -100)), g.kx_rad_per_mm, atol=1e-6
    )


# ----------------------------------------------------------------------------- invariances


def _pooled(act, f=10.0):
    return pooled_wave_vector(analytic_signal(act, band_hz=(f / 1.5, f * 1.5)))


@pytest.fixture(scope="module")
def base_wave():
    act, _ = plane_wave(
        freq_hz=10.0, speed_mm_per_s=300.0, direction_deg=35.0, snr_db=10.0, duration_s=1.5
    )
    return act, _pooled(act)


def _same_coords(arr, like):
    return grid_activity(arr, fs_hz=like.attrs["fs_hz"], x_mm=like.x.values, y_mm=like.y.values)


def test_invariance_rotation_mirror(base_wave):
    act, p0 = base_wave
    d0, s0 = float(p0.direction_deg), float(p0.speed_mm_per_s)
    # rotate the grid content by +90 deg CCW in the (x, y) frame: new[y, x] = old[x, n-1-y]...
    # with rows = y and columns = x, np.rot90(axes=(2, 1)) maps +x to +y
    rot = _same_coords(np.rot90(act.values, k=1, axes=(2, 1)), act)
    p = _pooled(rot)
    assert angle_error_deg(float(p.direction_deg), d0 + 90) < 1e-6
    assert float(p.speed_mm_per_s) == pytest.approx(s0, rel=1e-9)
    mirx = _same_coords(act.values[:, :, ::-1], act)  # x -> -x
    assert angle_error_deg(float(_pooled(mirx).direction_deg), 180 - d0) < 1e-6
    miry = _same_coords(act.values[:, ::-1, :], act)  # y -> -y
    assert angle_error_deg(float(_pooled(miry).direction_deg), -d0) < 1e-6


def test_invariance_time_reversal_scaling_offset(base_wave):
    act, p0 = base_wave
    d0, s0 = float(p0.direction_deg), float(p0.speed_mm_per_s)
    rev = _same_coords(act.values[::-1], act)
    p = _pooled(rev)
    assert angle_error_deg(float(p.direction_deg), d0 + 180) < 1e-6
    assert float(p.speed_mm_per_s) == pytest.approx(s0, rel=1e-9)
    scaled = grid_activity(act.values, fs_hz=act.attrs["fs_hz"], dx_mm=2.5 * 0.4)
    p = _pooled(scaled)
    assert float(p.speed_mm_per_s) == pytest.approx(2.5 * s0, rel=1e-9)
    assert angle_error_deg(float(p.direction_deg), d0) < 1e-9
    # a constant phase offset (shift of the analytic signal) changes nothing
    z = analytic_signal(act, band_hz=(10 / 1.5, 15))
    g0 = phase_gradients(z)
    g1 = phase_gradients(z * np.exp(1.3j))
    for k in ("kx_rad_per_mm", "direction_deg", "speed_mm_per_s"):
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-9, atol=1e-9)
    # and the local route obeys the same symmetries sample by sample
    gr = phase_gradients(analytic_signal(rev, band_hz=(10 / 1.5, 15)))
    err = angle_error_deg(gr.direction_deg.values[::-1], g0.direction_deg.values + 180)
    assert np.nanmedian(err) < 1e-6


# ----------------------------------------------------------------------------- NaN handling


def test_nan_channels_are_excluded_not_zero_filled():
    act, truth = plane_wave(
        freq_hz=8.0, speed_mm_per_s=150.0, direction_deg=60.0, n=10, duration_s=3.0
    )
    x = act.values.copy()
    x[:, 3, 4] = np.nan  # a dead channel
    x[:, 0, :] = np.nan  # a dead row at the edge
    a = _same_coords(x, act)
    g = phase_gradients(analytic_signal(a, band_hz=(5, 12))).isel(time=slice(500, -500))
    assert np.isnan(g.kx_rad_per_mm[:, 3, 4]).all() and np.isnan(g.speed_mm_per_s[:, 0]).all()
    # neighbours of the hole use one-sided differences and stay exact
    for r, c in ((3, 3), (3, 5), (2, 4), (4, 4), (1, 0)):
        np.testing.assert_allclose(g.kx_rad_per_mm[:, r, c], truth["kx"], rtol=1e-3)
        np.testing.assert_allclose(g.ky_rad_per_mm[:, r, c], truth["ky"], rtol=1e-3)
    assert int(np.isnan(g.kx_rad_per_mm[0]).sum()) == 10 + 1  # NaN does not spread
    p = pooled_wave_vector(analytic_signal(a, band_hz=(5, 12)))
    assert angle_error_deg(float(p.direction_deg), 60.0) < 0.05


# ----------------------------------------------------------------------------- PGD


def test_pgd_plane_random_and_rotating():
    act, _ = plane_wave(freq_hz=10.0, speed_mm_per_s=200.0, direction_deg=10.0, n=12)
    pgd = phase_gradient_directionality(phase_gradients(analytic_signal(act, band_hz=(6, 15))))
    assert float(pgd.pgd_rubino2006.min()) > 0.999 and float(pgd.pgd_unit_resultant.min()) > 0.999
    assert pgd.pgd_rubino2006.dims == ("time",)
    # random phases: both near 1/sqrt(N)
    rng = np.random.default_rng(3)
    ph = rng.uniform(-np.pi, np.pi, (20, 12, 12))
    g = phase_gradients(grid_activity(ph, fs_hz=100.0, dx_mm=0.4), fields=())
    p = phase_gradient_directionality(g)
    assert float(p.pgd_rubino2006.mean()) < 0.2 and float(p.pgd_unit_resultant.mean()) < 0.2
    # rotating wave (spiral): gradients circle the centre, both PGDs small
    yy, xx = np.mgrid[-6:6, -6:6] + 0.5
    t = np.arange(100)[:, None, None] / 100.0  # 5 whole cycles: no record-edge effects
    rot = np.cos(2 * np.pi * 5 * t - np.arctan2(yy, xx))
    pr = phase_gradient_directionality(
        phase_gradients(analytic_signal(grid_activity(rot, fs_hz=100.0, dx_mm=0.4)))
    )
    assert float(pr.pgd_rubino2006.max()) < 0.1 and float(pr.pgd_unit_resultant.max()) < 0.1


def test_pgd_definitions_differ_as_documented():
    """One steep vector dominates Rubino's PGD but counts once in the unit resultant."""
    kx = np.zeros((1, 3, 3))
    ky = np.ones((1, 3, 3))
    kx[0, 1, 1], ky[0, 1, 1] = 40.0, 0.0  # one steep gradient pointing elsewhere
    g = xr.Dataset(
        {"kx_rad_per_mm": (("time", "y", "x"), kx), "ky_rad_per_mm": (("time", "y", "x"), ky)}
    )
    p = phase_gradient_directionality(g)
    rub = np.hypot(40, 8) / 48
    res = np.hypot(1, 8) / 9
    assert float(p.pgd_rubino2006[0]) == pytest.approx(rub)
    assert float(p.pgd_unit_resultant[0]) == pytest.approx(res)


# ----------------------------------------------------------------------------- dask, errors


def test_dask_matches_numpy():
    act, _ = plane_wave(freq_hz=12.0, speed_mm_per_s=300.0, direction_deg=-40.0, snr_db=5.0, n=8)
    act = act.astype(np.float32)
    z_np = analytic_signal(act, band_hz=(8, 18))
    g_np = phase_gradients(z_np)
    lazy = act.chunk({"time": 250, "y": 4, "x": 4})
    z_dk = analytic_signal(lazy, band_hz=(8, 18))
    g_dk = phase_gradients(z_dk)
    p_dk = phase_gradient_directionality(g_dk)
    assert g_dk.speed_mm_per_s.chunks is not None  # still lazy
    for k in g_np:  # float32: FFTs of different block shapes round differently
        np.testing.assert_allclose(g_dk[k].values, g_np[k].values, rtol=1e-3, atol=1e-3)
    p_np = phase_gradient_directionality(g_np)
    np.testing.assert_allclose(p_dk.pgd_rubino2006.values, p_np.pgd_rubino2006.values, rtol=1e-6)
    pw = pooled_wave_vector(z_dk)
    assert float(pw.direction_deg) == pytest.approx(float(pooled_wave_vector(z_np).direction_deg))


def test_trial_dim_and_errors():
    act, _ = plane_wave(freq_hz=10.0, speed_mm_per_s=300.0, direction_deg=100.0, n=6)
    x = np.stack([act.values, act.values[:, ::-1, :]])  # second trial mirrored in y
    a = grid_activity(x, fs_hz=act.attrs["fs_hz"], dx_mm=0.4)
    p = pooled_wave_vector(analytic_signal(a, band_hz=(6, 15)))
    assert p.direction_deg.dims == ("trial",)
    assert angle_error_deg(p.direction_deg.values, [100.0, -100.0]).max() < 0.05
    per_frame = pooled_wave_vector(analytic_signal(a, band_hz=(6, 15)), dims=("y", "x"))
    assert per_frame.direction_deg.dims == ("trial", "time")
    with pytest.raises(UsageError):
        phase_gradients(act.isel(x=0).rename({"y": "channel"}))
    with pytest.raises(UsageError):
        phase_gradients(act, fields=("velocity",))


# ----------------------------------------------------------------------------- real data

# ../shared/data/real next to the checkout (absent in a user's checkout: the test skips)
SEIZURE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared/data/real/seizure_utah_martinet2017/example_seizure_waves.mat"
).resolve()


@pytest.mark.realdata
@pytest.mark.skipif(not SEIZURE.exists(), reason="real seizure recording not available")
def test_seizure_recording_has_a_consistent_travelling_wave():
    from scipy.io import loadmat

    from wavekit.model import irregular_activity, to_grid

    m = loadmat(SEIZURE)
    pos = np.asarray(m["position"], dtype=float)
    act = to_grid(
        irregular_activity(
            m["data"], fs_hz=float(np.squeeze(m["fs"])), x_mm=pos[:, 0], y_mm=pos[:, 1], units="uV"
        )
    )
    assert act.shape == (5000, 10, 10) and int(np.isnan(act[0]).sum()) == 4
    z = analytic_signal(act, band_hz=(2.0, 6.0))
    g = phase_gradients(z)
    pgd = phase_gradient_directionality(g)
    whole = pooled_wave_vector(z)
    d0 = float(whole.direction_deg)
    # planar most of the time
    assert float(pgd.pgd_rubino2006.median()) > 0.5
    # frame-by-frame directions agree (resultant length) and each quarter of the record
    # points the same way as the whole
    frames = pooled_wave_vector(z, dims=("y", "x"))
    r = np.abs(np.nanmean(np.exp(1j * np.deg2rad(frames.direction_deg.values))))
    assert r > 0.7
    for q in range(4):
        part = pooled_wave_vector(z.isel(time=slice(q * 1250, (q + 1) * 1250)))
        assert angle_error_deg(float(part.direction_deg), d0) < 30
    # a cortical-wave speed, from the phase (mm/s)
    assert 30 < float(whole.speed_mm_per_s) < 1000


def test_pgd_on_an_irregular_layout_matches_the_grid():
    import numpy as np
    import xarray as xr

    from wavekit.analysis.gradients import phase_gradient_directionality

    rng = np.random.default_rng(0)
    kx = rng.normal(size=(4, 3, 5)) + 1.0
    ky = rng.normal(size=(4, 3, 5))
    grid = xr.Dataset(
        {"kx_rad_per_mm": (("time", "y", "x"), kx), "ky_rad_per_mm": (("time", "y", "x"), ky)}
    )
    chans = xr.Dataset(
        {
            "kx_rad_per_mm": (("time", "channel"), kx.reshape(4, 15)),
            "ky_rad_per_mm": (("time", "channel"), ky.reshape(4, 15)),
        }
    )
    a = phase_gradient_directionality(grid)
    b = phase_gradient_directionality(chans, dims=("channel",))
    np.testing.assert_allclose(a.pgd_rubino2006, b.pgd_rubino2006, rtol=1e-12)
    np.testing.assert_allclose(a.pgd_unit_resultant, b.pgd_unit_resultant, rtol=1e-12)
