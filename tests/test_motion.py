"""Flow-structure summary (``analyze_motion_space``) on analytic waves and the real seizure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_spatial import noise, plane, spiral, target

from wavekit.analysis.motion import analyze_motion_space
from wavekit.model import irregular_activity, to_grid, to_irregular

FAST = dict(max_frames=30, n_surrogates=2, seed=5)
SEIZURE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "real"
    / "seizure_utah_martinet2017"
    / "example_seizure_waves.mat"
).resolve()


def _ang(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.mark.parametrize(
    ("kind", "make", "expected"),
    [
        ("plane", lambda: plane(direction_deg=-40.0, snr_db=5.0), "planar"),
        ("source", lambda: target(cx=6.1, cy=6.3, snr_db=5.0), "radial"),
        ("sink", lambda: target(cx=5.5, cy=7.0, outward=False, snr_db=5.0), "radial"),
        ("spiral", lambda: spiral(snr_db=5.0), "rotational"),
        ("spiral_cw", lambda: spiral(ccw=False, snr_db=5.0), "rotational"),
        ("noise", lambda: noise(), "none"),
    ],
)
def test_motion_type_classification(kind, make, expected):
    band = None if kind == "noise" else (6.0, 14.0)
    m = analyze_motion_space(make(), band_hz=band, **FAST)
    assert str(m.motion_type.values) == expected, m
    if kind == "source":
        assert str(m.radial_kind.values) == "source" and float(m.radial_rho) < -0.8
        assert np.hypot(float(m.source_x_mm) - 6.1, float(m.source_y_mm) - 6.3) < 0.4
        assert float(m.speed_mm_per_s) == pytest.approx(30.0, rel=0.05)  # 3 mm x 10 Hz
        assert float(m.wavelength_mm) == pytest.approx(3.0, rel=0.05)
    if kind == "sink":
        assert str(m.radial_kind.values) == "sink" and float(m.radial_rho) > 0.8
    if kind.startswith("spiral"):
        assert str(m.rotation_sense.values) == ("cw" if kind == "spiral_cw" else "ccw")
        assert bool(m.centre_inside)
    if kind == "noise":
        assert float(m.pgd_unit_resultant) < 0.2
        assert abs(float(m.radial_rho)) < 0.2 and abs(float(m.rotation_rho)) < 0.2


def test_plane_wave_summary_numbers():
    a = plane(direction_deg=123.0, wavelength_mm=4.5, freq_hz=9.0, snr_db=0.0, seed=11)
    m = analyze_motion_space(a, band_hz=(6.0, 13.0), **FAST)
    assert str(m.motion_type.values) == "planar"
    assert _ang(float(m.dominant_direction_deg), 123.0) < 2.0
    assert float(m.speed_mm_per_s) == pytest.approx(40.5, rel=0.03)
    assert float(m.speed_q25_mm_per_s) <= float(m.speed_mm_per_s) <= float(m.speed_q75_mm_per_s)
    assert float(m.wavelength_mm) == pytest.approx(4.5, rel=0.03)
    assert float(m.frequency_hz) == pytest.approx(9.0, rel=0.02)
    assert _ang(float(m.spectral_direction_deg), 123.0) < 2.0
    assert float(m.forward_fraction) > 0.9
    assert float(m.pgd_unit_resultant) > max(0.5, float(m.null_pgd_unit_resultant))
    assert m.attrs["seed"] == 5 and m.attrs["band_hz"] == [6.0, 13.0]


def test_motion_invariances():
    a = plane(direction_deg=10.0, snr_db=10.0, seed=1)
    a = a.assign_coords(x=a.x - a.x.mean(), y=a.y - a.y.mean())
    kw = dict(band_hz=(6.0, 14.0), max_frames=20, n_surrogates=0)
    m0 = analyze_motion_space(a, **kw)
    rot = a.copy(data=np.transpose(a.values[:, ::-1, :], (0, 2, 1)))  # +90 deg about 0
    m90 = analyze_motion_space(rot, **kw)
    assert _ang(float(m90.dominant_direction_deg), float(m0.dominant_direction_deg) + 90) < 0.5
    rev = a.copy(data=a.values[::-1])
    mrev = analyze_motion_space(rev, **kw)
    assert _ang(float(mrev.dominant_direction_deg), float(m0.dominant_direction_deg) + 180) < 0.5
    big = a.assign_coords(x=a.x * 3.0, y=a.y * 3.0)
    mb = analyze_motion_space(big, **kw)
    assert float(mb.speed_mm_per_s) == pytest.approx(3 * float(m0.speed_mm_per_s), rel=1e-6)
    assert float(mb.wavelength_mm) == pytest.approx(3 * float(m0.wavelength_mm), rel=1e-6)


def test_band_from_spectrum_nan_channels_and_irregular_lattice():
    a = plane(direction_deg=-100.0, freq_hz=12.0, snr_db=5.0, seed=4, duration_s=2.0)
    data = a.values.copy()
    data[:, 4:7, 20:23] = np.nan  # dead channels: excluded, not zero-filled
    a = a.copy(data=data)
    irr = to_irregular(a)  # drops the dead sites; back on the lattice inside
    assert irr.sizes["channel"] == 32 * 32 - 9
    m = analyze_motion_space(irr, **FAST)
    lo, hi = m.attrs["band_hz"]
    assert lo < 12.0 < hi
    assert str(m.motion_type.values) == "planar"
    assert _ang(float(m.dominant_direction_deg), -100.0) < 2.0
    assert float(m.speed_mm_per_s) == pytest.approx(48.0, rel=0.03)


def test_seed_is_recorded_and_reproducible():
    a = target(cx=6.0, cy=6.0, snr_db=0.0, duration_s=0.6)
    m1 = analyze_motion_space(a, band_hz=(6, 14), max_frames=10, n_surrogates=2, seed=3)
    m2 = analyze_motion_space(a, band_hz=(6, 14), max_frames=10, n_surrogates=2, seed=3)
    assert m1.attrs["seed"] == 3
    assert float(m1.null_radial_abs_rho) == float(m2.null_radial_abs_rho)


@pytest.mark.skipif(not SEIZURE.is_file(), reason="real seizure recording is absent")
def test_real_seizure_is_a_consistent_travelling_wave():
    from scipy.io import loadmat

    mat = loadmat(str(SEIZURE))
    pos = np.asarray(mat["position"], float)
    act = irregular_activity(
        np.asarray(mat["data"], float),
        fs_hz=float(np.squeeze(mat["fs"])),
        x_mm=pos[:, 0],
        y_mm=pos[:, 1],
        units="uV",
    )
    grid = to_grid(act)
    halves = [grid.isel(time=slice(0, 2500)), grid.isel(time=slice(2500, 5000))]
    res = [analyze_motion_space(h, max_frames=40, n_surrogates=3) for h in halves]
    for m in res:
        assert str(m.motion_type.values) == "planar"
        assert float(m.pgd_unit_resultant) > 0.6
        assert 50.0 < float(m.speed_mm_per_s) < 150.0  # about 0.09 m/s
        assert 3.0 < float(m.frequency_hz) < 6.0
        # the spectrum agrees with the gradients on the direction of travel
        assert _ang(float(m.spectral_direction_deg), float(m.dominant_direction_deg)) < 15.0
        assert float(m.forward_fraction) > 0.6
    # both halves of the seizure travel the same way (about -155 deg)
    assert _ang(float(res[0].dominant_direction_deg), float(res[1].dominant_direction_deg)) < 10


def test_dask_backed_activity_gives_the_numpy_summary():
    a = plane(direction_deg=-40.0, snr_db=5.0, duration_s=0.8)
    kw = dict(band_hz=(6.0, 14.0), max_frames=10, n_surrogates=1)
    m1 = analyze_motion_space(a, **kw)
    m2 = analyze_motion_space(a.chunk({"time": 40, "y": 16}), **kw)
    for k in m1.data_vars:
        v1, v2 = m1[k].item(), m2[k].item()
        if isinstance(v1, float):
            assert v2 == pytest.approx(v1, rel=1e-6, nan_ok=True), k
        else:
            assert v1 == v2, k


@pytest.mark.parametrize("method", ["morlet", "generalized"])
def test_other_phase_methods(method):
    m = analyze_motion_space(
        plane(direction_deg=70.0, snr_db=5.0, duration_s=0.8),
        band_hz=(6.0, 14.0),
        phase_method=method,
        max_frames=10,
        n_surrogates=0,
    )
    assert str(m.motion_type.values) == "planar"
    assert _ang(float(m.dominant_direction_deg), 70.0) < 2.0
    assert float(m.speed_mm_per_s) == pytest.approx(40.0, rel=0.03)
    assert m.attrs["phase_method"] == method


def test_errors_a_user_can_cause():
    from wavekit.errors import InputError, UsageError

    a = plane(n=8, duration_s=0.5)
    with pytest.raises(UsageError, match="phase_method"):
        analyze_motion_space(a, band_hz=(6, 14), phase_method="wavelet")
    rng = np.random.default_rng(0)
    scattered = irregular_activity(
        rng.normal(size=(100, 20)), fs_hz=200.0, x_mm=rng.random(20), y_mm=rng.random(20)
    )
    with pytest.raises(InputError, match="regular grid"):
        analyze_motion_space(scattered, band_hz=(6, 14))
