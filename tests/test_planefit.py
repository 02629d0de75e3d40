"""Global circular-linear plane fit: accuracy, invariances, dask, kernels, real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _fitwaves import (
    analytic_band,
    ang_err,
    grid_case,
    grid_positions,
    irregular_case,
    random_positions,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from wavekit.analysis import _kernels_fit as K
from wavekit.analysis.planefit import align_window, fit_layout, plane_wave_fit
from wavekit.model import irregular_activity

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SEIZURE = REAL / "seizure_utah_martinet2017" / "example_seizure_waves.mat"

# corners of the required range (4-30 Hz, 100-1000 mm/s) plus interior points
_rng = np.random.default_rng(2024)
CASES = [(4.0, 1000.0), (30.0, 100.0), (4.0, 100.0), (30.0, 1000.0)] + [
    (round(f * 2) / 2, c)
    for f, c in zip(_rng.uniform(4, 30, 4), _rng.uniform(100, 1000, 4), strict=True)
]
DIRS = _rng.uniform(-180, 180, len(CASES))


def _errors(make, snr_db):
    de, se = [], []
    for i, ((f, c), d) in enumerate(zip(CASES, DIRS, strict=True)):
        fit = plane_wave_fit(make(f_hz=f, speed=c, direction_deg=d, snr_db=snr_db, seed=i))
        de.append(ang_err(fit.direction_deg.values, d))
        se.append(np.abs(fit.speed_mm_per_s.values / c - 1.0) * 100)
    return np.median(np.concatenate(de)), np.median(np.concatenate(se))


@pytest.mark.parametrize("snr_db, max_deg, max_pct", [(20.0, 0.5, 1.0), (0.0, 2.0, 3.0)])
def test_grid_accuracy(snr_db, max_deg, max_pct):
    """16 x 16 grid, 0.4 mm pitch, 4-30 Hz, 100-1000 mm/s: per-frame fits, median over frames."""
    de, se = _errors(grid_case, snr_db)
    print(f"grid {snr_db} dB: median direction error {de:.3f} deg, speed error {se:.3f} %")
    assert de <= max_deg
    assert se <= max_pct


def test_irregular_accuracy_0db():
    """64 random electrodes in 6 x 6 mm, 10 % missing (NaN), 0 dB."""
    de, se = _errors(irregular_case, 0.0)
    print(f"irregular 0 dB: median direction error {de:.3f} deg, speed error {se:.3f} %")
    assert de <= 3.0
    assert se <= 5.0


def test_window_fit_pools_frames():
    """A window fit equals the fit to the window's frames pooled (mean wave vector), for the
    hardest corner: 4 Hz at 1000 mm/s (wavelength 250 mm on a 6 mm array) at 0 dB."""
    z = grid_case(f_hz=4.0, speed=1000.0, direction_deg=60.0, snr_db=0.0, seed=3, duration_s=4.0)
    per_frame = plane_wave_fit(z)
    win = plane_wave_fit(z, window_s=1.0)
    assert win.sizes["time"] == 4
    np.testing.assert_allclose(win.time, [0.499, 1.499, 2.499, 3.499])
    kx = per_frame.kx_rad_per_mm.coarsen(time=500).mean().values
    ky = per_frame.ky_rad_per_mm.coarsen(time=500).mean().values
    d_mean = np.degrees(np.arctan2(ky, kx))
    assert ang_err(win.direction_deg.values, d_mean).max() < 0.2
    np.testing.assert_allclose(win.spatial_frequency_rad_per_mm, np.hypot(kx, ky), rtol=0.01)
    np.testing.assert_allclose(win.frequency_hz, 4.0, rtol=1e-3)
    # the pooled estimate is within the statistical limit of this corner (about 4 deg per frame)
    assert np.median(ang_err(win.direction_deg.values, 60.0)) <= 5.0
    assert np.median(np.abs(win.speed_mm_per_s.values / 1000.0 - 1)) <= 0.08


def _irregular_from(z, x, y, fs):
    return irregular_activity(z, fs_hz=fs, x_mm=x, y_mm=y).rename("phase")


@pytest.fixture(scope="module")
def wave():
    rng = np.random.default_rng(11)
    x, y = random_positions(40, 4.0, rng)
    z = irregular_case(
        f_hz=12.0,
        speed=300.0,
        direction_deg=35.0,
        snr_db=10.0,
        seed=5,
        x=x,
        y=y,
        missing=0.0,
        duration_s=0.4,
    )
    return z, x, y


def test_invariances(wave):
    z, x, y = wave
    fs = z.attrs["fs_hz"]
    base = plane_wave_fit(z)
    d0 = base.direction_deg.values
    # rotating the layout rotates the direction
    a = np.radians(50.0)
    xr_, yr_ = np.cos(a) * x - np.sin(a) * y, np.sin(a) * x + np.cos(a) * y
    rot = plane_wave_fit(_irregular_from(z.values, xr_, yr_, fs))
    np.testing.assert_allclose(ang_err(rot.direction_deg.values, d0 + 50.0), 0, atol=1e-6)
    np.testing.assert_allclose(rot.speed_mm_per_s, base.speed_mm_per_s, rtol=1e-8)
    # mirroring x mirrors it
    mir = plane_wave_fit(_irregular_from(z.values, -x, y, fs))
    np.testing.assert_allclose(ang_err(mir.direction_deg.values, 180.0 - d0), 0, atol=1e-6)
    # reversing time reverses it
    rev = plane_wave_fit(_irregular_from(z.values[::-1], x, y, fs))
    np.testing.assert_allclose(ang_err(rev.direction_deg.values[::-1], d0 + 180.0), 0, atol=1e-6)
    np.testing.assert_allclose(rev.speed_mm_per_s.values[::-1], base.speed_mm_per_s, rtol=1e-8)
    # scaling coordinates scales speed (and wavelength), not direction
    sc = plane_wave_fit(_irregular_from(z.values, 2.5 * x, 2.5 * y, fs))
    np.testing.assert_allclose(sc.speed_mm_per_s, 2.5 * base.speed_mm_per_s, rtol=1e-8)
    np.testing.assert_allclose(ang_err(sc.direction_deg.values, d0), 0, atol=1e-6)
    # a constant phase offset changes nothing but the offset
    off = plane_wave_fit(z * np.exp(1j * 1.234))
    for v in ("direction_deg", "speed_mm_per_s", "rho_cl", "r2_adj", "resultant_length"):
        np.testing.assert_allclose(off[v], base[v], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(
        np.angle(np.exp(1j * (off.offset_rad - base.offset_rad - 1.234))), 0, atol=1e-8
    )


def test_offset_and_outputs_consistent():
    z = grid_case(
        f_hz=10.0,
        speed=250.0,
        direction_deg=-120.0,
        snr_db=np.inf,
        seed=0,
        phi0=0.7,
        duration_s=0.2,
        n=8,
    )
    fit = plane_wave_fit(z)
    t = z.time.values
    np.testing.assert_allclose(np.cos(fit.offset_rad - (2 * np.pi * 10 * t + 0.7)), 1, atol=1e-8)
    np.testing.assert_allclose(fit.wavelength_mm, 25.0, rtol=1e-8)
    np.testing.assert_allclose(fit.spatial_frequency_rad_per_mm, 2 * np.pi / 25.0, rtol=1e-8)
    np.testing.assert_allclose(fit.frequency_hz, 10.0, rtol=1e-6)
    np.testing.assert_allclose(fit.rho_cl, 1.0, atol=1e-9)
    np.testing.assert_allclose(fit.r2_adj, 1.0, atol=1e-9)
    assert fit.direction_deg.attrs["units"] == "deg"
    # phase input (radians) gives the same answer as the analytic signal
    fit2 = plane_wave_fit(xr.apply_ufunc(np.angle, z, keep_attrs=True))
    np.testing.assert_allclose(fit2.direction_deg, fit.direction_deg, atol=1e-9)


def test_nan_channels_excluded_not_zero_filled(wave):
    z, x, y = wave
    base = plane_wave_fit(z.isel(channel=slice(3, None)))
    zz = z.copy()
    zz[:, :3] = np.nan
    fit = plane_wave_fit(zz)
    assert (fit.n_channels == z.sizes["channel"] - 3).all()
    np.testing.assert_allclose(fit.direction_deg, base.direction_deg, atol=1e-7)
    np.testing.assert_allclose(fit.speed_mm_per_s, base.speed_mm_per_s, rtol=1e-7)


def test_dask_matches_numpy(wave):
    z, _, _ = wave
    lazy = z.chunk({"time": 50})
    fit_lazy = plane_wave_fit(lazy)
    assert fit_lazy.direction_deg.chunks is not None
    fit = plane_wave_fit(z)
    xr.testing.assert_allclose(fit_lazy.compute(), fit)
    # windows on dask
    w_lazy = plane_wave_fit(lazy, window_s=0.1).compute()
    xr.testing.assert_allclose(w_lazy, plane_wave_fit(z, window_s=0.1))


def test_permutation_p_value():
    z = grid_case(
        f_hz=8.0, speed=200.0, direction_deg=10.0, snr_db=0.0, seed=1, n=6, duration_s=1.0
    )
    fit = plane_wave_fit(z, window_s=0.5, n_permutations=99, seed=3)
    np.testing.assert_allclose(fit.p_value, 0.01)
    again = plane_wave_fit(z, window_s=0.5, n_permutations=99, seed=3)
    xr.testing.assert_identical(fit, again)
    assert fit.attrs["seed"] == 3
    # no wave: random phases -> p-values spread over (0, 1]
    rng = np.random.default_rng(0)
    noise = z.copy(data=np.exp(1j * rng.uniform(-np.pi, np.pi, z.shape)))
    pn = plane_wave_fit(noise.isel(time=slice(0, 30)), n_permutations=49, seed=1).p_value.values
    assert np.mean(pn < 0.05) < 0.25
    assert np.median(pn) > 0.2


# ------------------------------------------------------------------------ kernels vs references


def _kernel_inputs(n, seed, kmag, nan_frac, noise, nt=3, grid=False):
    rng = np.random.default_rng(seed)
    if grid:  # a lattice of about n sites: separable rotations
        m = max(2, int(np.sqrt(n)))
        x, y = grid_positions(m, 0.4)
        n = x.size
    else:
        x, y = random_positions(n, 3.0, rng)
    lay = fit_layout(x, y)
    if not grid:
        assert lay.sep[0].size == 0
    elif n >= 25:
        assert lay.sep[4].size > 0  # the lattice paths are exercised
    ang = rng.uniform(-np.pi, np.pi)
    kx, ky = kmag * np.cos(ang), kmag * np.sin(ang)
    th = -(kx * x + ky * y)[None, :] + rng.uniform(-np.pi, np.pi, (nt, 1))
    th = th + noise * rng.standard_normal((nt, n))
    w = (rng.uniform(size=(nt, n)) >= nan_frac).astype(float)
    return lay, np.cos(th) * w, np.sin(th) * w, w, (kx, ky)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(4, 40),
    seed=st.integers(0, 2**31),
    kmag=st.floats(0.0, 3.0),
    nan_frac=st.sampled_from([0.0, 0.2, 0.5]),
    noise=st.sampled_from([0.0, 0.3, 1.5]),
    mode=st.sampled_from([K.MODE_AUTO, K.MODE_FULL, K.MODE_GRID]),
    n_perm=st.sampled_from([0, 3]),
    grid=st.booleans(),
)
def test_plane_kernel_matches_reference(n, seed, kmag, nan_frac, noise, mode, n_perm, grid):
    lay, c, s, w, _ = _kernel_inputs(n, seed, kmag, nan_frac, noise, grid=grid)
    n = c.shape[1]
    perms = np.array(
        [np.random.default_rng(seed + i).permutation(n) for i in range(n_perm)], dtype=np.int64
    ).reshape(n_perm, n)
    args = (
        c,
        s,
        w,
        lay.x,
        lay.y,
        lay.pi,
        lay.pj,
        lay.er,
        lay.ei,
        lay.kgx,
        lay.kgy,
        mode,
        0.5,
        50,
        1e-10 * lay.dk,
        perms,
        lay.sep,
    )
    got = K.plane_fit_frames(*args)
    ref = K.ref_plane_fit_frames(*args)
    cols = [0, 1, 2, 3, 5, 6]  # rho (col 4) is undefined at k == 0 and may differ by round-off
    np.testing.assert_array_equal(np.isnan(got[:, cols]), np.isnan(ref[:, cols]))
    # the objective agrees tightly; k agrees unless the maximum is flat (compare R instead)
    np.testing.assert_allclose(got[:, 3], ref[:, 3], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[:, 5], ref[:, 5])
    if n_perm:  # where rho is defined (a constant phase map has no correlation to test)
        ok = np.isfinite(got[:, 4]) & np.isfinite(ref[:, 4])
        np.testing.assert_allclose(got[ok, 6], ref[ok, 6])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 40), seed=st.integers(0, 2**31), kmag=st.floats(0.0, 3.0))
def test_refine_and_starts_match_reference(n, seed, kmag):
    lay, c, s, w, (kx, ky) = _kernel_inputs(n, seed, kmag, 0.2, 0.3, nt=1)
    c, s, w = c[0], s[0], w[0]
    a = K.pair_start(c, s, w, lay.pi, lay.pj, lay.x, lay.y)
    b = K.ref_pair_start(c, s, w, lay.pi, lay.pj, lay.x, lay.y)
    assert a[2] == b[2]
    if a[2]:
        np.testing.assert_allclose(a[:2], b[:2], rtol=1e-7, atol=1e-9)
    o1 = K.grid_order(c, s, w, lay.er, lay.ei)
    o2 = K.ref_grid_order(c, s, w, lay.er, lay.ei)

    def r_at(g):  # resultant length at grid node g
        return np.hypot(*K.ref_eval(c, s, w, lay.x, lay.y, lay.kgx[g], lay.kgy[g])[:2]) / w.sum()

    # the same resultant lengths, best first (ties may order other nodes first)
    r1 = np.array([r_at(g) for g in o1[: K.GRID_STARTS]])
    r2 = np.array([r_at(g) for g in o2[: K.GRID_STARTS]])
    np.testing.assert_allclose(r1, r2, rtol=1e-9)
    assert np.all(np.diff(r1) <= 1e-12)
    r1 = K.refine(c, s, w, lay.x, lay.y, kx + 0.1, ky - 0.1, 50, 1e-12)
    r2 = K.ref_refine(c, s, w, lay.x, lay.y, kx + 0.1, ky - 0.1, 50, 1e-12)
    np.testing.assert_allclose(r1[3], r2[3], rtol=1e-10)
    np.testing.assert_allclose(r1[:2], r2[:2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        K.rho_cc(c, s, w, lay.x, lay.y, kx + 0.5, ky),
        K.ref_rho_cc(c, s, w, lay.x, lay.y, kx + 0.5, ky),
        rtol=1e-9,
        atol=1e-12,
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), kmag=st.floats(0.05, 5.0), noise=st.sampled_from([0.1, 0.8]))
def test_full_search_finds_global_maximum(seed, kmag, noise):
    """The 'full' search reaches the maximum of R found by a dense brute-force grid."""
    lay, c, s, w, _ = _kernel_inputs(30, seed, kmag, 0.0, noise, nt=1)
    got = K.plane_fit_frames(
        c,
        s,
        w,
        lay.x,
        lay.y,
        lay.pi,
        lay.pj,
        lay.er,
        lay.ei,
        lay.kgx,
        lay.kgy,
        K.MODE_FULL,
        0.5,
        50,
        1e-12,
        np.zeros((0, 30), np.int64),
        lay.sep,
    )
    g = np.linspace(-lay.k_max, lay.k_max, 301)
    gx, gy = np.meshgrid(g, g)
    z = (c[0] + 1j * s[0]) * w[0]
    r = np.abs(np.exp(1j * (np.outer(gx.ravel(), lay.x) + np.outer(gy.ravel(), lay.y))) @ z)
    r = r[np.hypot(gx.ravel(), gy.ravel()) <= lay.k_max] / w[0].sum()
    assert got[0, 3] >= r.max() - 1e-9


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(4, 9),
    seed=st.integers(0, 2**31),
    kmag=st.floats(0.0, 3.0),
    nan_frac=st.sampled_from([0.0, 0.3]),
)
def test_lattice_kernels_match_reference(m, seed, kmag, nan_frac):
    lay, c, s, w, (kx, ky) = _kernel_inputs(m * m, seed, kmag, nan_frac, 0.3, nt=1, grid=True)
    c, s, w = c[0], s[0], w[0]
    sep = lay.sep
    if sep[4].size == 0:
        return
    cbuf = np.empty((3, sep[5].size))
    a = K.pair_start_classes(c, s, w, lay.pi, lay.pj, sep[4], sep[5], sep[6], cbuf)
    b = K.ref_pair_start_classes(c, s, w, lay.pi, lay.pj, sep[4], sep[5], sep[6])
    assert a[2] == b[2]
    if a[2]:
        np.testing.assert_allclose(a[:2], b[:2], rtol=1e-7, atol=1e-9)
    zr, zi = np.empty(c.size), np.empty(c.size)
    ebuf = np.empty((4, c.size))
    r1 = K._rotate_sep(c, s, w, kx, ky, sep, ebuf, zr, zi)
    np.testing.assert_allclose(r1, K.ref_eval(c, s, w, lay.x, lay.y, kx, ky), rtol=1e-9, atol=1e-9)


@given(y=st.floats(-1e3, 1e3), x=st.floats(-1e3, 1e3))
def test_fast_atan2(y, x):
    a = K.fast_atan2(y, x)
    np.testing.assert_allclose(a, K.ref_fast_atan2(np.array(y), np.array(x)), atol=1e-12)
    if x != 0 or y != 0:
        assert abs(np.angle(np.exp(1j * (a - np.arctan2(y, x))))) < 3e-6


def test_align_window_keeps_pattern():
    rng = np.random.default_rng(0)
    pattern = rng.uniform(-np.pi, np.pi, 20)
    z = np.exp(1j * (pattern[None, :] + rng.uniform(-np.pi, np.pi, (15, 1))))
    u = align_window(z)
    np.testing.assert_allclose(np.abs(u), 1.0, atol=1e-12)
    d = np.angle(u * np.exp(-1j * pattern))
    np.testing.assert_allclose(np.angle(np.exp(1j * (d - d[0]))), 0, atol=1e-12)


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.skipif(not SEIZURE.exists(), reason="real data folder absent")
def test_seizure_recording_consistent_wave():
    """Martinet et al. 2017 Utah-array seizure: a consistent, significant traveling wave."""
    from scipy.io import loadmat

    m = loadmat(SEIZURE)
    data = np.asarray(m["data"], float)
    fs = float(np.squeeze(m["fs"]))
    pos = np.asarray(m["position"], float)
    spec = np.abs(np.fft.rfft(data - data.mean(0), axis=0)) ** 2
    fr = np.fft.rfftfreq(data.shape[0], 1 / fs)
    band = (fr > 1) & (fr < 40)
    f0 = fr[band][np.argmax(spec[band].sum(1))]
    z = analytic_band(data - data.mean(0), fs, f0, half_bw_hz=max(1.0, 0.25 * f0))
    da = irregular_activity(z, fs_hz=fs, x_mm=pos[:, 0], y_mm=pos[:, 1]).rename("phase")
    fit = plane_wave_fit(da.isel(time=slice(250, -250)), window_s=0.5, n_permutations=49, seed=0)
    good = fit.where(fit.p_value <= 0.02)
    frac = float(good.direction_deg.notnull().mean())
    d = np.radians(good.direction_deg.dropna("time").values)
    consistency = float(np.abs(np.mean(np.exp(1j * d))))
    print(
        f"seizure: f0 {f0:.2f} Hz, significant windows {frac:.2f}, direction consistency "
        f"{consistency:.2f}, median speed {float(good.speed_mm_per_s.median()):.0f} mm/s, "
        f"median r2_adj {float(fit.r2_adj.median()):.2f}"
    )
    assert frac >= 0.5
    assert consistency >= 0.7


def test_frequency_inputs():
    z = grid_case(f_hz=10.0, speed=250.0, direction_deg=40.0, snr_db=np.inf, seed=0, n=6)
    z = z.isel(time=slice(0, 50))
    est = plane_wave_fit(z)
    np.testing.assert_allclose(est.frequency_hz, 10.0, rtol=1e-6)
    scalar = plane_wave_fit(z, frequency_hz=10.0)
    per_frame = plane_wave_fit(z, frequency_hz=xr.full_like(z.time, 10.0, dtype=float))
    per_site = plane_wave_fit(z, frequency_hz=xr.full_like(z.real, 10.0))  # pooled (median)
    for fit in (scalar, per_frame, per_site):
        np.testing.assert_allclose(fit.speed_mm_per_s, est.speed_mm_per_s, rtol=1e-6)
    neg = plane_wave_fit(z, frequency_hz=-10.0)  # negative frequency: travels along -k
    assert ang_err(neg.direction_deg.values, 40.0 + 180.0).max() < 1e-6
