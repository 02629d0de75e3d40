"""Critical points, Jacobian classification, phase singularities and tracking (analytic fields)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from _patternwaves import grid, phase_field

from wavekit.analysis.critical import (
    classify_jacobian,
    critical_points,
    phase_singularities,
    track_points,
)

ANALYTIC = {
    # name: (vx(X, Y), vy(X, Y), expected kind, index)
    "source": (lambda X, Y: X, lambda X, Y: Y, "source", 1),
    "sink": (lambda X, Y: -X, lambda X, Y: -Y, "sink", 1),
    "ccw": (lambda X, Y: -Y, lambda X, Y: X, "rotation_ccw", 1),
    "cw": (lambda X, Y: Y, lambda X, Y: -X, "rotation_cw", 1),
    "saddle": (lambda X, Y: X, lambda X, Y: -Y, "saddle", -1),
    "spiral_out_ccw": (lambda X, Y: X - Y, lambda X, Y: X + Y, "spiral_out_ccw", 1),
    "spiral_in_cw": (lambda X, Y: -X + Y, lambda X, Y: -X - Y, "spiral_in_cw", 1),
    "saddle_45": (lambda X, Y: Y, lambda X, Y: X, "saddle", -1),
}


def _field(fx, fy, x, y, c=(0.0, 0.0)):
    yy, xx = np.meshgrid(y, x, indexing="ij")
    X, Y = xx - c[0], yy - c[1]
    coords = {"y": y, "x": x}
    return (
        xr.DataArray(fx(X, Y) + 0.0 * X, dims=("y", "x"), coords=coords),
        xr.DataArray(fy(X, Y) + 0.0 * Y, dims=("y", "x"), coords=coords),
    )


@pytest.mark.parametrize("name", list(ANALYTIC))
@pytest.mark.parametrize(
    "x, y",
    [
        (np.arange(-3.0, 3.5, 0.5), np.arange(-3.0, 3.5, 0.5)),  # isotropic, 0.5 mm
        (np.arange(9) * 0.4 - 1.7, np.arange(7) * 0.7 - 2.2),  # anisotropic pitch
        (np.arange(-3.0, 3.5, 0.5)[::-1], np.arange(-3.0, 3.5, 0.5)),  # descending x
    ],
)
def test_analytic_fields_are_labelled_exactly(name, x, y):
    fx, fy, kind, index = ANALYTIC[name]
    c = (0.23, -0.31)  # strictly inside a cell
    vx, vy = _field(fx, fy, x, y, c)
    p = critical_points(vx, vy)
    assert p.sizes["point"] == 1
    assert str(p.kind.values[0]) == kind
    assert int(p.index[0]) == index
    np.testing.assert_allclose([float(p.x_mm[0]), float(p.y_mm[0])], c, atol=1e-9)
    # the Jacobian is the field's own (columns: d/dx then d/dy), never swapped
    e = 1e-3
    J = np.array(
        [
            [(fx(e, 0) - fx(-e, 0)) / (2 * e), (fx(0, e) - fx(0, -e)) / (2 * e)],
            [(fy(e, 0) - fy(-e, 0)) / (2 * e), (fy(0, e) - fy(0, -e)) / (2 * e)],
        ]
    )
    np.testing.assert_allclose(p.jacobian.values[0], J, atol=1e-9)


def test_curl_and_divergence_signs_of_rotations():
    x = y = np.arange(-2.25, 2.5, 0.5)
    p = critical_points(*_field(*ANALYTIC["ccw"][:2], x, y))
    assert float(p.curl[0]) == pytest.approx(2.0) and float(p.divergence[0]) == pytest.approx(0)
    p = critical_points(*_field(*ANALYTIC["cw"][:2], x, y))
    assert float(p.curl[0]) == pytest.approx(-2.0)
    p = critical_points(*_field(*ANALYTIC["source"][:2], x, y))
    assert float(p.divergence[0]) == pytest.approx(2.0)


def test_plane_field_has_no_critical_point():
    x = y = np.arange(-2.0, 2.5, 0.5)
    vx, vy = _field(lambda X, Y: 1.0 + 0 * X, lambda X, Y: 0 * X, x, y)
    assert critical_points(vx, vy).sizes["point"] == 0


def test_classify_jacobian_plane_and_degenerate():
    labels = classify_jacobian(np.zeros((3, 2, 2))).tolist()
    assert labels == ["degenerate"] * 3
    assert classify_jacobian([[2.0, 0.0], [0.0, 2.0]]).item() == "source"
    # scale invariance: tiny fields are classified like large ones
    assert classify_jacobian(1e-12 * np.array([[1.0, -1.0], [1.0, 1.0]])).item() == (
        "spiral_out_ccw"
    )


def test_nan_corner_cells_are_skipped():
    x = y = np.arange(-2.25, 2.5, 0.5)
    vx, vy = _field(lambda X, Y: X, lambda X, Y: Y, x, y)
    vx = vx.copy()
    vx[4, 4] = np.nan  # a corner of the cell holding the source
    p = critical_points(vx, vy)
    assert p.sizes["point"] == 0


def test_critical_points_over_time_and_time_coordinate():
    x = y = np.arange(-2.25, 2.5, 0.5)
    frames = []
    for cx in (-0.6, -0.3, 0.1):
        vx, vy = _field(lambda X, Y: X, lambda X, Y: Y, x, y, (cx, 0.1))
        frames.append((vx, vy))
    vx = xr.concat([f[0] for f in frames], "time").assign_coords(time=[0.0, 0.01, 0.02])
    vy = xr.concat([f[1] for f in frames], "time").assign_coords(time=[0.0, 0.01, 0.02])
    p = critical_points(vx, vy)
    assert p.frame.values.tolist() == [0, 1, 2]
    np.testing.assert_allclose(p.time_s.values, [0.0, 0.01, 0.02])
    np.testing.assert_allclose(p.x_mm.values, [-0.6, -0.3, 0.1], atol=1e-9)


@pytest.mark.parametrize("kind, charge", [("spiral_ccw", -1), ("spiral_cw", 1)])
def test_phase_singularity_charge_and_location(kind, charge):
    x, y = grid(12, 12, 0.5)
    c = (0.4, -0.7)
    ph = phase_field(kind, np.array([0.0, 0.01]), x, y, centre=c)
    da = xr.DataArray(ph, dims=("time", "y", "x"), coords={"y": y, "x": x, "time": [0, 0.01]})
    s = phase_singularities(da)
    assert s.sizes["point"] == 2  # one per frame
    assert set(s.charge.values.tolist()) == {charge}
    assert np.all(np.abs(s.x_mm.values - c[0]) <= 0.25 + 1e-9)
    assert np.all(np.abs(s.y_mm.values - c[1]) <= 0.25 + 1e-9)
    # the complex signal gives the same answer
    s2 = phase_singularities(np.exp(1j * da))
    assert s2.charge.values.tolist() == s.charge.values.tolist()


def test_target_waves_have_no_phase_singularity():
    x, y = grid(12, 12, 0.5)
    for kind in ("source", "sink", "plane", "saddle"):
        ph = phase_field(kind, np.array([0.0]), x, y, centre=(0.3, 0.2))
        da = xr.DataArray(ph, dims=("time", "y", "x"), coords={"y": y, "x": x})
        assert phase_singularities(da).sizes["point"] == 0, kind


def test_tracking_links_through_gaps_and_splits_far_points():
    frame = [0, 1, 3, 3, 4, 8]
    xm = [0.0, 0.2, 0.4, 3.0, 0.5, 0.6]
    p = xr.Dataset(
        {
            "frame": ("point", frame),
            "x_mm": ("point", xm),
            "y_mm": ("point", np.zeros(6)),
            "kind": ("point", ["source"] * 6),
        }
    )
    t = track_points(p, max_distance_mm=0.5, max_gap_frames=1)
    assert t.track.values.tolist() == [0, 0, 0, 1, 0, 2]  # frame 8 is after a 3-frame gap
    assert t.track_length.values.tolist() == [5, 5, 5, 1, 5, 1]
    # labels must agree along a track
    p["kind"] = ("point", ["source", "sink", "source", "source", "source", "source"])
    t = track_points(p, max_distance_mm=0.5, max_gap_frames=1)
    assert t.track.values[0] != t.track.values[1]


def test_tracking_a_drifting_spiral_core():
    x, y = grid(12, 12, 0.5)
    t = np.arange(30) / 200.0
    frames = []
    for i, ti in enumerate(t):
        c = (-1.0 + 0.03 * i, 0.2)
        frames.append(phase_field("spiral_ccw", np.array([ti]), x, y, centre=c)[0])
    da = xr.DataArray(np.array(frames), dims=("time", "y", "x"), coords={"y": y, "x": x})
    s = track_points(phase_singularities(da), max_distance_mm=0.6, max_gap_frames=2)
    assert np.unique(s.track.values).size == 1
    assert int(s.track_length.max()) == 30


def test_docstring_examples_run():
    import doctest

    import wavekit.analysis.critical as mod

    assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
