"""Every analytic generator against its stored ground truth.

The generated fields are measured the way an estimator would (noise-free): the analytic signal
from a Hilbert transform in time, the temporal frequency from ``angle(z_t conj z_{t-1})``, the
wave vector ``k = -grad(phase)`` from complex products of neighbouring samples (grids) or a
least-squares fit of phase differences (irregular layouts). The measured phase speed
``omega / |k|`` and direction ``atan2(k_y, k_x)`` are compared with the truth Dataset (and, for
curved patterns, with :func:`wavekit.simulate.local_truth` and with the stored centre).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import hilbert

from wavekit.errors import UsageError
from wavekit.simulate import KINDS, local_truth, pattern_sequence, simulate

FS = 500.0
TRIM = 50  # samples dropped at each end of the Hilbert transform


# ----------------------------------------------------------------------------- measurement


def analytic(values: np.ndarray, trim: int = TRIM) -> np.ndarray:
    z = hilbert(np.asarray(values), axis=0)
    return z[trim:-trim] if trim else z


def measured_frequency(z: np.ndarray, fs: float = FS) -> np.ndarray:
    return np.angle(z[1:] * np.conj(z[:-1])) * fs / (2 * np.pi)


def grid_k(z: np.ndarray, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
    """``k = -grad(phase)`` at interior sites ``[..., 1:-1, 1:-1]`` (central complex products)."""
    kx = -np.angle(z[..., 1:-1, 2:] * np.conj(z[..., 1:-1, :-2])) / (2 * dx)
    ky = -np.angle(z[..., 2:, 1:-1] * np.conj(z[..., :-2, 1:-1])) / (2 * dy)
    return kx, ky


def fit_k(zbar: np.ndarray, x: np.ndarray, y: np.ndarray, ref: int) -> np.ndarray:
    """Least-squares ``k`` from time-averaged phase differences to channel ``ref``."""
    d = np.angle(zbar * np.conj(zbar[ref]))
    a = np.column_stack([x - x[ref], y - y[ref]])
    k, *_ = np.linalg.lstsq(a, -d, rcond=None)
    return k


def angle_diff_deg(a, b) -> np.ndarray:
    return np.rad2deg(np.angle(np.exp(1j * np.deg2rad(np.asarray(a) - np.asarray(b)))))


def interior_truth(truth, act):
    lt = local_truth(truth, act).isel(time=slice(TRIM, -TRIM), y=slice(1, -1), x=slice(1, -1))
    return lt.kx_rad_per_mm.values, lt.ky_rad_per_mm.values


# ----------------------------------------------------------------------------- plane


@pytest.mark.parametrize("direction", [0.0, 45.0, 135.0, 180.0, -90.0, -30.0])
@pytest.mark.parametrize(("speed", "frequency"), [(300.0, 10.0), (150.0, 4.0)])
def test_plane_grid_matches_truth(direction, speed, frequency):
    act, truth = simulate(
        "plane", direction_deg=direction, speed_mm_per_s=speed, frequency_hz=frequency
    )
    assert act.dims == ("time", "y", "x") and act.shape == (1000, 16, 16)
    assert set(truth.pattern.values) == {"plane"}
    z = analytic(act.values)
    f = measured_frequency(z)
    kx, ky = grid_k(z, 0.4, 0.4)
    d = np.rad2deg(np.arctan2(ky, kx))
    c = 2 * np.pi * f[:, 1:-1, 1:-1] / np.hypot(kx, ky)[1:]
    assert np.abs(f - truth.frequency_hz.values[0]).max() < 1e-6
    assert np.abs(angle_diff_deg(d, truth.direction_deg.values[0])).max() < 1e-6
    assert np.abs(c / truth.speed_mm_per_s.values[0] - 1).max() < 1e-6
    assert truth.wavelength_mm.values[0] == pytest.approx(speed / frequency)
    assert np.isnan(truth.centre_x_mm.values).all()
    assert truth.direction_deg.values[0] == pytest.approx(180.0 if direction == 180 else direction)


def test_plane_travels_along_direction_in_time():
    """Independent of phase conventions: a crest seen at x=0 reaches x>0 later (direction 0)."""
    act, _ = simulate(
        "plane", direction_deg=0.0, speed_mm_per_s=300.0, fs_hz=5000.0, duration_s=0.2
    )
    a = act.isel(y=0).values
    lag = 100  # 6 mm at 300 mm/s = 20 ms = 100 samples
    assert np.abs(a[lag:, 15] - a[:-lag, 0]).max() < 1e-9
    assert np.abs(a[lag:, 0] - a[:-lag, 15]).max() > 0.5  # and not the other way round


@pytest.mark.parametrize("layout", ["utah", "random", "hex"])
def test_plane_irregular_layouts(layout):
    act, truth = simulate("plane", layout=layout, direction_deg=120.0, speed_mm_per_s=200.0, seed=3)
    assert act.dims == ("time", "channel")
    z = analytic(act.values)
    zbar = (z * np.exp(-1j * 2 * np.pi * 10.0 * act.time.values[TRIM:-TRIM])[:, None]).mean(0)
    k = fit_k(zbar, act.x.values, act.y.values, ref=0)
    assert np.rad2deg(np.arctan2(k[1], k[0])) == pytest.approx(120.0, abs=1e-6)
    assert 2 * np.pi * 10.0 / np.hypot(*k) == pytest.approx(200.0, rel=1e-6)
    assert np.abs(measured_frequency(z) - 10.0).max() < 1e-6


def test_plane_eeg_layout():
    act, truth = simulate("plane", layout="eeg", speed_mm_per_s=5000.0, direction_deg=90.0)
    assert act.sizes["channel"] == 19
    z = analytic(act.values)
    k = fit_k(z.mean(0) * 0 + z[100], act.x.values, act.y.values, ref=9)
    assert np.rad2deg(np.arctan2(k[1], k[0])) == pytest.approx(90.0, abs=1e-6)
    assert 2 * np.pi * 10 / np.hypot(*k) == pytest.approx(5000.0, rel=1e-6)


# ----------------------------------------------------------------------------- target


@pytest.mark.parametrize("mode", ["source", "sink"])
def test_target_grid_matches_truth(mode):
    act, truth = simulate("target", mode=mode, centre_x_mm=2.5, centre_y_mm=3.3)
    assert set(truth.pattern.values) == {mode}
    assert truth.centre_x_mm.values[0] == 2.5 and truth.centre_y_mm.values[0] == 3.3
    assert np.isnan(truth.direction_deg.values).all()
    z = analytic(act.values)
    kx, ky = grid_k(z, 0.4, 0.4)
    X, Y = np.meshgrid(act.x.values[1:-1], act.y.values[1:-1])
    dx, dy = X - 2.5, Y - 3.3
    rho = np.hypot(dx, dy)
    far = rho >= 1.2
    # direction of travel: radially outward for a source, inward for a sink (stored centre)
    outward = (kx * dx + ky * dy) / (np.hypot(kx, ky) * rho)
    assert (outward[:, far] > 0.999).all() if mode == "source" else (outward[:, far] < -0.999).all()
    speed = 2 * np.pi * 10.0 / np.hypot(kx, ky)
    assert np.median(speed[:, far]) == pytest.approx(truth.speed_mm_per_s.values[0], rel=0.01)
    assert np.abs(speed[:, far] / 300.0 - 1).max() < 0.03  # discretisation near the centre
    tkx, tky = interior_truth(truth, act)
    ang = angle_diff_deg(np.rad2deg(np.arctan2(ky, kx)), np.rad2deg(np.arctan2(tky, tkx)))
    assert np.abs(ang[:, far]).max() < 1.0


def test_target_phase_gradient_points_inward_for_source():
    act, truth = simulate("target", mode="source", duration_s=0.2)
    z = analytic(act.values, trim=10)
    kx, _ = grid_k(z, 0.4, 0.4)
    # the phase gradient (-k) points toward the centre (x = 3.0): negative right of it
    assert (-kx[:, :, -3:] < 0).all() and (-kx[:, :, :3] > 0).all()


# ----------------------------------------------------------------------------- spiral


def _circulation(kx, ky, X, Y, cx, cy, far):
    dx, dy = X - cx, Y - cy
    rho = np.hypot(dx, dy)
    tang = (kx * -dy + ky * dx) / (np.hypot(kx, ky) * rho)
    return tang[:, far]


@pytest.mark.parametrize("chirality", ["ccw", "cw"])
@pytest.mark.parametrize(("arms", "radial"), [(1, "outward"), (2, "inward")])
def test_spiral_grid_matches_truth(chirality, arms, radial):
    act, truth = simulate("spiral", chirality=chirality, arms=arms, radial=radial)
    assert set(truth.pattern.values) == {f"spiral_{chirality}"}
    cx, cy = truth.centre_x_mm.values[0], truth.centre_y_mm.values[0]
    assert (cx, cy) == (3.0, 3.0)
    z = analytic(act.values)
    kx, ky = grid_k(z, 0.4, 0.4)
    X, Y = np.meshgrid(act.x.values[1:-1], act.y.values[1:-1])
    far = np.hypot(X - cx, Y - cy) >= 1.2
    tkx, tky = interior_truth(truth, act)
    ang = angle_diff_deg(np.rad2deg(np.arctan2(ky, kx)), np.rad2deg(np.arctan2(tky, tkx)))
    assert np.abs(ang[:, far]).max() < 2.0
    rel = np.hypot(kx, ky) / np.hypot(tkx, tky) - 1
    assert np.abs(rel[:, far]).max() < 0.03 and np.median(np.abs(rel[:, far])) < 0.01
    # sense: the direction of travel circulates CCW (positive) for "ccw"
    tang = _circulation(kx, ky, X, Y, cx, cy, far)
    assert np.mean(tang) > 0.3 if chirality == "ccw" else np.mean(tang) < -0.3
    # radial component of travel: outward arms leave the centre
    dx, dy = X - cx, Y - cy
    radial_part = (kx * dx + ky * dy)[:, far]
    assert np.mean(radial_part) > 0 if radial == "outward" else np.mean(radial_part) < 0
    # far-field speed stored: local speed tends to it from below
    lt = local_truth(truth, act)
    assert float(lt.speed_mm_per_s.max()) <= truth.speed_mm_per_s.values[0] + 1e-9


def test_spiral_curl_sign_of_travel_field():
    """Discrete curl of the unit travel-direction field around the centre: > 0 for ccw."""
    for chirality, sign in (("ccw", 1), ("cw", -1)):
        act, truth = simulate("spiral", chirality=chirality, duration_s=0.2, speed_mm_per_s=1e6)
        z = analytic(act.values, trim=10)
        kx, ky = grid_k(z, 0.4, 0.4)
        ux, uy = kx / np.hypot(kx, ky), ky / np.hypot(kx, ky)
        curl = np.gradient(uy, 0.4, axis=2) - np.gradient(ux, 0.4, axis=1)
        assert np.sign(np.mean(curl[:, 5:9, 5:9])) == sign


def test_spiral_moving_centre_doppler():
    act, truth = simulate(
        "spiral", centre_vx_mm_per_s=0.5, centre_vy_mm_per_s=-0.25, speed_mm_per_s=100.0
    )
    cx, cy = truth.centre_x_mm.values, truth.centre_y_mm.values
    assert cx[-1] - cx[0] == pytest.approx(0.5 * act.time.values[-1])
    assert cy[-1] - cy[0] == pytest.approx(-0.25 * act.time.values[-1])
    z = analytic(act.values, trim=100)
    lt = local_truth(truth, act).isel(time=slice(100, -100))
    f = measured_frequency(z)
    tf = lt.frequency_hz.values[1:]
    X, Y = np.meshgrid(act.x.values, act.y.values)
    mid = z.shape[0] // 2
    far = np.hypot(X - cx[100 + mid], Y - cy[100 + mid]) >= 1.2
    assert (
        np.median(np.abs(f[mid - 20 : mid + 20][:, far] - tf[mid - 20 : mid + 20][:, far])) < 0.02
    )
    assert np.ptp(tf[:, far]) > 0.05  # the local frequency really is Doppler shifted


# ----------------------------------------------------------------------------- saddle


@pytest.mark.parametrize("axis", [0.0, 30.0, -60.0])
def test_saddle_grid_matches_truth(axis):
    act, truth = simulate("saddle", direction_deg=axis, centre_x_mm=2.9, centre_y_mm=3.1)
    assert set(truth.pattern.values) == {"saddle"}
    assert json.loads(truth.attrs["parameters"])["axis_deg"] == pytest.approx(axis)
    z = analytic(act.values)
    kx, ky = grid_k(z, 0.4, 0.4)
    tkx, tky = interior_truth(truth, act)
    assert np.abs(kx - tkx).max() < 1e-6 and np.abs(ky - tky).max() < 1e-6
    # outflow along the axis, inflow across it (the saddle (x, -y) rotated by the axis)
    X, Y = np.meshgrid(act.x.values[1:-1], act.y.values[1:-1])
    a = np.deg2rad(axis)
    u = (X - 2.9) * np.cos(a) + (Y - 3.1) * np.sin(a)
    v = -(X - 2.9) * np.sin(a) + (Y - 3.1) * np.cos(a)
    ku = kx * np.cos(a) + ky * np.sin(a)
    kv = -kx * np.sin(a) + ky * np.cos(a)
    assert (np.sign(ku[:, np.abs(u) > 0.3]) == np.sign(u[np.abs(u) > 0.3])).all()
    assert (np.sign(kv[:, np.abs(v) > 0.3]) == -np.sign(v[np.abs(v) > 0.3])).all()
    # the stored speed is the local speed at distance scale_mm (default: half the extent)
    scale = json.loads(truth.attrs["parameters"])["scale_mm"]
    assert scale == pytest.approx(3.0)
    rho = np.hypot(u, v)
    ring = np.abs(rho - scale) < 0.1
    speed = 2 * np.pi * 10 / np.hypot(kx, ky)
    assert np.median(speed[:, ring]) == pytest.approx(truth.speed_mm_per_s.values[0], rel=0.1)


# ----------------------------------------------------------------------------- synchronous


def test_synchronous():
    act, truth = simulate("synchronous", layout="random", phase0_rad=0.3)
    z = analytic(act.values)
    assert np.abs(np.angle(z * np.conj(z[:, :1]))).max() < 1e-9
    assert np.abs(measured_frequency(z) - 10.0).max() < 1e-6
    assert np.isinf(truth.speed_mm_per_s.values).all()
    assert np.isinf(truth.wavelength_mm.values).all()
    assert np.isnan(truth.direction_deg.values).all()
    assert set(truth.pattern.values) == {"synchronous"}


# ----------------------------------------------------------------------------- standing


def test_standing_wave():
    act, truth = simulate("standing", speed_mm_per_s=30.0, direction_deg=0.0)
    lam = truth.wavelength_mm.values[0]
    assert lam == pytest.approx(3.0) and np.isnan(truth.speed_mm_per_s.values).all()
    t = act.time.values
    Z = (act.values * np.exp(-2j * np.pi * 10.0 * t)[:, None, None]).mean(0) * 2
    assert np.abs(Z.imag).max() < 1e-9  # no travel: one temporal phase (mod pi) everywhere
    profile = np.cos(2 * np.pi * act.x.values / lam)
    assert np.abs(Z.real - profile[None, :]).max() < 1e-9
    z = analytic(act.values)
    assert np.abs(measured_frequency(z)[:, 0, 0] - 10.0).max() < 1e-6


# ----------------------------------------------------------------------------- packet


def test_packet():
    act, truth = simulate("packet", direction_deg=60.0, duration_sd_s=0.15, extent_sd_mm=1.5)
    pat = truth.pattern.values
    assert pat[0] == "none" and pat[-1] == "none" and pat[500] == "plane"
    on = pat == "plane"
    assert np.isnan(truth.direction_deg.values[~on]).all()
    assert truth.direction_deg.values[on] == pytest.approx(60.0)
    assert truth.centre_x_mm.values[500] == pytest.approx(3.0)
    t = act.time.values
    sd = np.abs(t[on] - 1.0).max() / 2  # on while within 2 s.d. of the peak
    assert sd == pytest.approx(0.15, abs=0.01)
    z = analytic(act.values)
    kx, ky = grid_k(z[500 - TRIM - 100 : 500 - TRIM + 100], 0.4, 0.4)
    f = measured_frequency(z[500 - TRIM - 100 : 500 - TRIM + 100])
    assert np.abs(angle_diff_deg(np.rad2deg(np.arctan2(ky, kx)), 60.0)).max() < 0.1
    c = 2 * np.pi * np.median(f) / np.median(np.hypot(kx, ky))
    assert c == pytest.approx(truth.speed_mm_per_s.values[500], rel=1e-3)
    amp = np.abs(z[500 - TRIM])
    assert amp[8, 8] > 5 * amp[0, 0]  # finite spatial extent


def test_packet_moving_envelope():
    act, truth = simulate("packet", group_speed_mm_per_s=5.0, duration_sd_s=0.3)
    cx = truth.centre_x_mm.values
    on = truth.pattern.values == "plane"
    assert np.diff(cx[on]) == pytest.approx(5.0 / 500.0)


# ------------------------------------------------------------------- superposed, dispersive


def _component_k(act, f):
    t = act.time.values
    Z = (act.values * np.exp(-2j * np.pi * f * t)[:, None, None]).mean(0)
    kx, ky = grid_k(Z, 0.4, 0.4)
    return np.median(kx), np.median(ky), np.abs(Z).mean() * 2


def test_superposed_components():
    comps = [
        {"frequency_hz": 10, "direction_deg": 20, "amplitude": 1.0},
        {"frequency_hz": 16, "direction_deg": -110, "speed_mm_per_s": 200, "amplitude": 0.5},
        {"frequency_hz": 23, "direction_deg": 170, "amplitude": 0.3},
    ]
    act, truth = simulate("superposed", components=comps)
    assert set(truth.pattern.values) == {"superposed"}
    assert truth.direction_deg.values[0] == pytest.approx(20.0)  # the dominant component
    for i in range(3):
        f = float(truth.component_frequency_hz[i])
        kx, ky, amp = _component_k(act, f)
        assert np.rad2deg(np.arctan2(ky, kx)) == pytest.approx(
            float(truth.component_direction_deg[i]), abs=1e-6
        )
        assert 2 * np.pi * f / np.hypot(kx, ky) == pytest.approx(
            float(truth.component_speed_mm_per_s[i]), rel=1e-6
        )
        assert amp == pytest.approx(float(truth.component_amplitude[i]), rel=1e-6)


def test_superposed_default_has_two_components():
    act, truth = simulate("superposed")
    assert truth.sizes["component"] == 2


def test_dispersive_speed_depends_on_frequency():
    act, truth = simulate("dispersive", direction_deg=-45.0, dispersion_exponent=0.5)
    speeds = truth.component_speed_mm_per_s.values
    freqs = truth.component_frequency_hz.values
    assert freqs.tolist() == [5.0, 10.0, 20.0]
    assert speeds == pytest.approx(300.0 * (freqs / 10.0) ** 0.5)
    assert truth.component_group_speed_mm_per_s.values == pytest.approx(speeds / 0.5)
    for f, c in zip(freqs, speeds, strict=True):
        kx, ky, _ = _component_k(act, f)
        assert 2 * np.pi * f / np.hypot(kx, ky) == pytest.approx(c, rel=1e-6)
        assert np.rad2deg(np.arctan2(ky, kx)) == pytest.approx(-45.0, abs=1e-6)
    assert truth.speed_mm_per_s.values[0] == pytest.approx(300.0)  # at the reference frequency


# ----------------------------------------------------------------------------- masks, bad channels


def test_masks_and_bad_channels():
    act, _ = simulate("plane", mask="disc", mask_radius_mm=1.0, bad_channels=[0, 17])
    v = act.values
    assert np.isnan(v[:, 0, 0]).all() and np.isnan(v[:, 1, 1]).all()
    assert np.nanmax(np.abs(v[:, 0, 15])) == 0.0  # outside the disc
    assert np.abs(v[:, 7, 7]).max() > 0.9
    act, _ = simulate("plane", mask="gaussian", mask_radius_mm=1.0)
    assert np.abs(act.values[:, 0, 0]).max() < 0.02 < np.abs(act.values[:, 7, 7]).max()


# ----------------------------------------------------------------------------- sequence


def test_sequence_labels_and_patterns():
    act, truth = pattern_sequence(episode_s=1.0, snr_db=None, seed=4)
    labels = truth.pattern.values
    episodes = json.loads(truth.attrs["parameters"])["episodes"]
    assert [e["pattern"] for e in episodes] == [
        "plane",
        "source",
        "sink",
        "spiral_ccw",
        "spiral_cw",
        "saddle",
        "synchronous",
    ]
    assert act.sizes["time"] == 7 * 500
    for i, e in enumerate(episodes):
        seg = slice(i * 500, (i + 1) * 500)
        assert set(labels[seg]) == {e["pattern"]}
        assert set(truth.episode.values[seg]) == {i}
        z = analytic(act.values[seg], trim=60)
        kx, ky = grid_k(z, 0.4, 0.4)
        X, Y = np.meshgrid(act.x.values[1:-1], act.y.values[1:-1])
        cx, cy = truth.centre_x_mm.values[seg][0], truth.centre_y_mm.values[seg][0]
        if e["pattern"] == "plane":
            d = np.rad2deg(np.arctan2(np.median(ky), np.median(kx)))
            assert d == pytest.approx(truth.direction_deg.values[seg][0], abs=1e-6)
            assert np.isnan(cx)
        elif e["pattern"] in ("source", "sink"):
            far = np.hypot(X - cx, Y - cy) >= 1.2
            out = (kx * (X - cx) + ky * (Y - cy))[:, far]
            assert (out > 0).all() if e["pattern"] == "source" else (out < 0).all()
        elif e["pattern"].startswith("spiral"):
            far = np.hypot(X - cx, Y - cy) >= 1.2
            tang = _circulation(kx, ky, X, Y, cx, cy, far)
            assert np.mean(tang) > 0.3 if e["pattern"] == "spiral_ccw" else np.mean(tang) < -0.3
        elif e["pattern"] == "synchronous":
            assert np.abs(kx).max() < 1e-9
        if e["pattern"] != "plane" and e["pattern"] != "synchronous":
            assert 1.5 <= cx <= 4.5 and 1.5 <= cy <= 4.5  # central half of the array
    lt = local_truth(truth, act)
    assert np.isfinite(lt.frequency_hz.values).all()


def test_sequence_shuffle_repeats_and_noise():
    act, truth = pattern_sequence(
        ["plane", "sink"], episode_s=0.5, repeats=3, shuffle=True, snr_db=5.0, seed=1, layout="utah"
    )
    labels = truth.pattern.values
    assert act.sizes["time"] == 6 * 250 and act.dims == ("time", "channel")
    assert sorted(labels[::250].tolist()) == ["plane"] * 3 + ["sink"] * 3
    assert truth.attrs["snr_db"] == 5.0


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("kind", "kw", "match"), [
    ("bogus", {}, "unknown simulation kind"),
    ("plane", {"layout": "moon"}, "unknown layout"),
    ("plane", {"noise": "brown"}, "unknown noise"),
    ("plane", {"frequency_hz": 300.0}, "Nyquist"),
    ("plane", {"speed_mm_per_s": -1.0}, "positive"),
    ("plane", {"wobble": 2}, "unknown parameter"),
    ("target", {"mode": "drain"}, "mode"),
    ("spiral", {"chirality": "left"}, "chirality"),
    ("spiral", {"arms": 1.5}, "arms"),
    ("superposed", {"components": [{"colour": 1}]}, "component"),
    ("dispersive", {"dispersion_exponent": 1.0}, "below 1"),
    ("sequence", {"patterns": ["plane", "vortex"]}, "patterns"),
    ("plane", {"mask": "star"}, "mask"),
    ("plane", {"mask": "disc", "mask_radius_mm": 0.01, "mask_centre_x_mm": 0.2,
               "mask_centre_y_mm": 0.2, "snr_db": 10.0}, "covers no electrode"),
    ("plane", {"bad_channels": [999]}, "bad_channels"),
    ("plane", {"duration_s": 0.001}, "fewer than 2"),
    ("plane", {"seed": -1}, "seed"),
])  # fmt: skip
def test_usage_errors(kind, kw, match):
    with pytest.raises(UsageError, match=match):
        simulate(kind, **kw)


def test_kinds_listed():
    for k in (
        "plane",
        "target",
        "spiral",
        "saddle",
        "standing",
        "packet",
        "superposed",
        "dispersive",
        "synchronous",
        "pulses",
        "sequence",
    ):
        assert k in KINDS and KINDS[k]


def test_local_truth_refuses_multi_component_kinds():
    act, truth = simulate("superposed", duration_s=0.1)
    with pytest.raises(UsageError, match="local wave vector"):
        local_truth(truth, act)
