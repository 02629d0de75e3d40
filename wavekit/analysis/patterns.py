r"""Per-frame classification of wave patterns on grids, with the measure behind each decision.

Labels (:data:`PATTERNS`): ``synchronous``, ``plane``, ``source``, ``sink``, ``spiral_ccw``,
``spiral_cw``, ``saddle`` and ``none``.

The decision for one frame, in this order (thresholds are keyword options):

1. **plane** when the directions of travel are aligned: the order parameter (resultant length
   of the unit direction vectors) ``Phi = |mean n|`` reaches ``plane_threshold``. This comes
   first: a plane wave much longer than the array has all sites near one phase (high ``R``)
   but still one direction of travel everywhere, which noise around a synchronous oscillation
   does not give.
2. **synchronous** when the Kuramoto synchrony ``R = |mean exp(i phi)|`` of the spatially
   smoothed phasors reaches ``sync_threshold`` (all sites near one phase; smoothing first keeps
   noise from pulling ``R`` down) and the directions are not aligned (or the phase is flat, so
   there is no direction).
3. Otherwise wavekit looks for a centre. Candidates are the cells where the direction field
   winds (critical points, :mod:`wavekit.analysis.critical`) and the phase singularities. For a
   candidate ``c`` with ``theta_i`` the angle of site ``i`` seen from ``c`` and ``alpha_i`` the
   direction of travel at site ``i``, two coherences are computed:

   .. math:: A_{node} = \frac1N \sum_i e^{i(\alpha_i - \theta_i)}, \qquad
             A_{saddle} = \frac1N \sum_i e^{i(\alpha_i + \theta_i)}.

   ``|A_node|`` is 1 for any field ``v = M (r - c)`` with ``M`` a scaled rotation (sources,
   sinks, spirals: the direction makes a constant angle ``arg A_node`` with the radius), and
   ``|A_saddle|`` is 1 for a saddle (the direction is the radius reflected about the saddle's
   axis). The candidate with the largest ``max(|A_node|, |A_saddle|)`` wins; below
   ``centre_threshold`` the frame is ``none``.
4. ``|A_saddle| > |A_node|``: **saddle**. Otherwise, a phase singularity in or next to the
   centre cell makes it a **spiral** whose sense is set by its topological charge ``q`` and the
   sign of the temporal frequency (``q sign(w) = -1``: anticlockwise, ``spiral_ccw``); without a
   singularity, ``|arg A_node| <= 45 deg`` is a **source**, ``>= 135 deg`` a **sink**, and in
   between a spiral turning anticlockwise when ``arg A_node > 0``.

Sense convention: anticlockwise (``ccw``) is rotation from +x toward +y, positive curl of the
direction (or velocity) field; the field ``(-y, x)`` is anticlockwise. With wavekit's y the row
axis, coordinates increasing with the row index, a figure drawn with row 0 at the top shows
anticlockwise rotations turning clockwise on screen.

Why the phase singularity decides between source and spiral: far from its core the wave vector
of a spiral wave ``w t - atan2(y, x) - k r`` is almost radial (it deviates from the radius by
``atan(1 / (k r))``), so its direction field looks like a source's; but its phase winds by
``2 pi`` around the core, which a target wave's phase never does.

References
----------
Townsend R. G., Gong P. (2018) Detection and analysis of spatiotemporal patterns in brain
activity. PLoS Comput. Biol. 14:e1006643. doi:10.1371/journal.pcbi.1006643

Huang X., Xu W., Liang J., Takagaki K., Gao X., Wu J.-Y. (2010) Spiral wave dynamics in
neocortex. Neuron 68:978-990. doi:10.1016/j.neuron.2010.11.007

Muller L., Chavane F., Reynolds J., Sejnowski T. J. (2018) Cortical travelling waves:
mechanisms and computational principles. Nat. Rev. Neurosci. 19:255-268.
doi:10.1038/nrn.2018.20
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import UsageError
from .circstats import angle_deg
from .critical import _bilinear_zero, _orientation, winding_numbers

__all__ = ["PATTERNS", "classify_patterns", "pattern_coherence", "smooth_phasors"]

#: Labels of :func:`classify_patterns`, in the order of their integer codes.
PATTERNS = ("none", "synchronous", "plane", "source", "sink", "spiral_ccw", "spiral_cw", "saddle")


def smooth_phasors(z: np.ndarray, sigma_px: float) -> np.ndarray:
    """Unit phasors of ``z`` (..., ny, nx) smoothed by a NaN-aware Gaussian of ``sigma_px`` sites.

    NaN sites stay NaN; their neighbours are averaged over the finite sites only (normalised
    convolution), never over zeros.
    """
    from scipy.ndimage import gaussian_filter

    z = np.asarray(z)
    if not np.iscomplexobj(z):
        z = np.exp(1j * np.asarray(z, dtype=np.float64))
    mag = np.abs(z)
    ok = np.isfinite(mag) & (mag > 0)
    u = np.where(ok, z / np.where(ok, mag, 1.0), 0.0)
    if sigma_px <= 0:
        return np.where(ok, u, np.nan)
    sig = (0,) * (z.ndim - 2) + (sigma_px, sigma_px)
    num = gaussian_filter(u.real, sig, mode="nearest") + 1j * gaussian_filter(
        u.imag, sig, mode="nearest"
    )
    den = gaussian_filter(ok.astype(np.float64), sig, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(ok, out, np.nan)


def pattern_coherence(
    dir_x: np.ndarray, dir_y: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray, cx: float, cy: float
) -> tuple[complex, complex]:
    r"""Node and saddle coherences ``(A_node, A_saddle)`` of one direction field about ``(cx, cy)``.

    Parameters
    ----------
    dir_x, dir_y : ndarray (ny, nx)
        Vector field (any magnitude; only its direction is used). NaN sites are excluded.
    x_mm, y_mm : ndarray (nx,), (ny,)
        Grid coordinates.
    cx, cy : float
        Candidate centre.

    Returns
    -------
    (complex, complex)
        ``A_node = mean exp(i(alpha - theta))`` and ``A_saddle = mean exp(i(alpha + theta))``.

    Examples
    --------
    >>> import numpy as np
    >>> x = y = np.arange(-3.5, 4)
    >>> yy, xx = np.meshgrid(y, x, indexing="ij")
    >>> a, s = pattern_coherence(-yy, xx, x, y, 0.0, 0.0)      # anticlockwise rotation
    >>> round(abs(a), 6), round(float(np.degrees(np.angle(a))), 6)
    (1.0, 90.0)
    """
    yy, xx = np.meshgrid(y_mm, x_mm, indexing="ij")
    dxr, dyr = xx - cx, yy - cy
    r = np.hypot(dxr, dyr)
    m = np.hypot(dir_x, dir_y)
    ok = np.isfinite(m) & (m > 0) & (r > 0)
    if not ok.any():
        return complex(np.nan), complex(np.nan)
    n = (dir_x[ok] + 1j * dir_y[ok]) / m[ok]
    e = (dxr[ok] + 1j * dyr[ok]) / r[ok]
    return complex(np.mean(n * np.conj(e))), complex(np.mean(n * e))


def _direction(u: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit direction of travel of smoothed phasors ``u`` (nt, ny, nx)."""
    from .vectorfield import _frequency_sign, phase_diff_ref

    a = np.asarray(u, dtype=np.complex128)
    gx = phase_diff_ref(a, x, -1)
    gy = phase_diff_ref(a, y, -2)
    sw = _frequency_sign(a)[:, None, None]
    kx, ky = -sw * gx, -sw * gy
    m = np.hypot(kx, ky)
    some = m > 1e-9  # rad/mm: below, the phase is flat to rounding and has no direction
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(some, kx / m, np.nan), np.where(some, ky / m, np.nan)


def classify_patterns(
    signal: xr.DataArray,
    *,
    velocity: xr.Dataset | None = None,
    smooth_px: float = 1.0,
    sync_threshold: float = 0.85,
    plane_threshold: float = 0.7,
    centre_threshold: float = 0.5,
) -> xr.Dataset:
    r"""Label each frame as synchronous, plane, source, sink, spiral (sense), saddle or none.

    Parameters
    ----------
    signal : xarray.DataArray
        Complex signal or phase (radians), dims ``(..., time, y, x)``, coordinates ``x``, ``y``
        in mm. Leading dims (``trial``) are classified one index at a time; the array is
        loaded into memory one trial at a time.
    velocity : xarray.Dataset, optional
        A vector field to classify instead of the direction of travel derived from the phase,
        with variables ``flow_x``, ``flow_y`` (for example from
        :func:`wavekit.analysis.flow.phase_flow`) on the same grid and times. The phase is still
        used for the synchrony and the phase singularities.
    smooth_px : float
        Standard deviation (in sites) of the Gaussian applied to the unit phasors before the
        synchrony, the direction field and the singularities are computed (0: none).
    sync_threshold, plane_threshold, centre_threshold : float
        Thresholds of the synchrony ``R``, of the order parameter ``Phi`` and of the centre
        coherence ``max(|A_node|, |A_saddle|)`` (module docstring).

    Returns
    -------
    xarray.Dataset
        Along ``time``: ``pattern`` (str, one of :data:`PATTERNS`), ``pattern_code`` (its index),
        ``synchrony``, ``order_parameter``, ``node_coherence`` (``|A_node|``),
        ``node_angle_deg`` (``arg A_node``: 0 source, 180 sink, +-90 rotation),
        ``saddle_coherence``, ``centre_x_mm``, ``centre_y_mm`` (best candidate centre, NaN when
        none), ``charge`` (topological charge of the phase at the centre, 0 if none) and
        ``n_candidates``.

    Notes
    -----
    See the module docstring for the decision and :func:`pattern_coherence` for the
    coherences. The order parameter here is the resultant length of unit vectors
    ``|mean v/|v||`` (the ``pgd_unit_resultant`` of the gradients module when the field is the
    phase gradient). Frames where the phase is undefined (all NaN) are ``none``. The default
    thresholds were chosen on simulated 16 x 16 grids at 5 dB SNR (``tests/test_patterns.py``);
    check them on your array size and pattern scale.

    References
    ----------
    Townsend R. G., Gong P. (2018) PLoS Comput. Biol. 14:e1006643.
    doi:10.1371/journal.pcbi.1006643

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(20)[:, None, None] / 100.0
    >>> c = np.arange(-3.75, 4, 0.5)
    >>> yy, xx = np.meshgrid(c, c, indexing="ij")
    >>> ph = 2 * np.pi * 10 * t - 1.0 * np.hypot(xx - 0.3, yy + 0.2)     # a source
    >>> da = xr.DataArray(ph, dims=("time", "y", "x"), coords={"y": c, "x": c})
    >>> out = classify_patterns(da)
    >>> str(out.pattern[10].values), bool(abs(float(out.centre_x_mm[10]) - 0.3) < 0.25)
    ('source', True)
    """
    for d in ("time", "y", "x"):
        if d not in signal.dims:
            raise UsageError(f"classify_patterns needs dims (time, y, x), got {signal.dims}")
    lead = [d for d in signal.dims if d not in ("time", "y", "x")]
    kw = dict(
        smooth_px=smooth_px,
        sync_threshold=sync_threshold,
        plane_threshold=plane_threshold,
        centre_threshold=centre_threshold,
    )
    if lead:  # one trial (or other leading index) at a time
        st = signal.stack(_lead=lead)
        vst = velocity.stack(_lead=lead) if velocity is not None else None
        parts = [
            classify_patterns(
                st.isel(_lead=i).drop_vars(["_lead", *lead], errors="ignore"),
                velocity=None
                if vst is None
                else vst.isel(_lead=i).drop_vars(["_lead", *lead], errors="ignore"),
                **kw,
            )
            for i in range(st.sizes["_lead"])
        ]
        out = xr.concat(parts, dim="_lead").assign_coords(_lead=st["_lead"])
        return out.unstack("_lead").transpose(*lead, "time")
    sig = signal.transpose("time", "y", "x")
    z = np.asarray(sig.values)
    if not np.iscomplexobj(z):
        z = np.exp(1j * z.astype(np.float64))
    x = np.asarray(sig["x"].values, dtype=np.float64)
    y = np.asarray(sig["y"].values, dtype=np.float64)
    nt = z.shape[0]

    from .vectorfield import _frequency_sign, _sync_block

    u = smooth_phasors(z, smooth_px)
    sync = _sync_block(u)
    if velocity is None:
        vx, vy = _direction(u, x, y)
    else:
        vx = np.asarray(velocity["flow_x"].transpose("time", "y", "x").values, dtype=np.float64)
        vy = np.asarray(velocity["flow_y"].transpose("time", "y", "x").values, dtype=np.float64)
        if vx.shape != z.shape:
            raise UsageError(f"velocity shape {vx.shape} differs from the signal's {z.shape}")
    mag = np.hypot(vx, vy)
    ok = np.isfinite(mag) & (mag > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        nx_ = np.where(ok, vx / np.where(ok, mag, 1), 0.0)
        ny_ = np.where(ok, vy / np.where(ok, mag, 1), 0.0)
        nok = ok.sum(axis=(1, 2))
        order = np.where(nok > 0, np.hypot(nx_.sum((1, 2)), ny_.sum((1, 2))) / nok, np.nan)
    orient = _orientation(x, y)
    ang = np.where(ok, np.arctan2(vy, vx), np.nan)
    wind = winding_numbers(ang) * orient
    charge = winding_numbers(np.angle(u)) * orient
    wsign = _frequency_sign(np.where(np.isfinite(u), u, 0))

    out = {
        k: np.full(nt, np.nan)
        for k in (
            "node_coherence",
            "node_angle_deg",
            "saddle_coherence",
            "centre_x_mm",
            "centre_y_mm",
        )
    }
    q_out = np.zeros(nt, dtype=np.int64)
    n_cand = np.zeros(nt, dtype=np.int64)
    code = np.zeros(nt, dtype=np.int64)
    for k in range(nt):
        if not np.isfinite(sync[k]):
            continue
        if order[k] >= plane_threshold:  # aligned directions: a wave, however long
            code[k] = 2
        elif sync[k] >= sync_threshold:
            code[k] = 1
        ii, jj = np.nonzero((wind[k] != 0) | (charge[k] != 0))
        n_cand[k] = ii.size
        if ii.size == 0:
            continue
        vxk = np.where(ok[k], vx[k], np.nan)
        vyk = np.where(ok[k], vy[k], np.nan)
        # candidate centre: zero of the bilinear interpolant of the unit field inside the cell
        f = np.stack([np.where(ok[k], nx_[k], 0.0), np.where(ok[k], ny_[k], 0.0)], axis=-1)
        s, t, _ = _bilinear_zero(f[ii, jj], f[ii, jj + 1], f[ii + 1, jj], f[ii + 1, jj + 1])
        cxs = x[jj] + s * (x[jj + 1] - x[jj])
        cys = y[ii] + t * (y[ii + 1] - y[ii])
        best, best_score, best_a = -1, -1.0, (0j, 0j)
        for m in range(ii.size):
            a_node, a_sad = pattern_coherence(vxk, vyk, x, y, cxs[m], cys[m])
            score = max(abs(a_node), abs(a_sad))
            if np.isfinite(score) and score > best_score:
                best, best_score, best_a = m, score, (a_node, a_sad)
        if best < 0:
            continue
        a_node, a_sad = best_a
        out["node_coherence"][k] = abs(a_node)
        out["node_angle_deg"][k] = angle_deg(a_node.imag, a_node.real)
        out["saddle_coherence"][k] = abs(a_sad)
        out["centre_x_mm"][k] = cxs[best]
        out["centre_y_mm"][k] = cys[best]
        i0, j0 = ii[best], jj[best]
        near = charge[k, max(i0 - 1, 0) : i0 + 2, max(j0 - 1, 0) : j0 + 2]
        q = int(near.flat[np.argmax(np.abs(near))]) if near.size else 0
        q_out[k] = q
        if code[k] != 0 or best_score < centre_threshold:
            continue
        if abs(a_sad) > abs(a_node):
            code[k] = 7
            continue
        phi = np.angle(a_node)
        if q != 0:
            code[k] = 5 if q * wsign[k] < 0 else 6
        elif abs(phi) <= np.pi / 4:
            code[k] = 3
        elif abs(phi) >= 3 * np.pi / 4:
            code[k] = 4
        else:
            code[k] = 5 if phi > 0 else 6
    labels = np.asarray(PATTERNS)[code]
    coords = {"time": sig["time"]} if "time" in sig.coords else {}
    ds = xr.Dataset(
        {
            "pattern": ("time", labels.astype(str)),
            "pattern_code": ("time", code, {"labels": ", ".join(PATTERNS)}),
            "synchrony": ("time", sync, {"long_name": "|mean exp(i phase)|"}),
            "order_parameter": (
                "time",
                order,
                {"long_name": "resultant length of unit direction vectors"},
            ),
            "node_coherence": ("time", out["node_coherence"], {"long_name": "|A_node|"}),
            "node_angle_deg": (
                "time",
                out["node_angle_deg"],
                {"units": "deg", "long_name": "arg A_node: 0 source, 180 sink, 90 ccw"},
            ),
            "saddle_coherence": ("time", out["saddle_coherence"], {"long_name": "|A_saddle|"}),
            "centre_x_mm": ("time", out["centre_x_mm"], {"units": "mm"}),
            "centre_y_mm": ("time", out["centre_y_mm"], {"units": "mm"}),
            "charge": ("time", q_out, {"long_name": "phase winding at the centre"}),
            "n_candidates": ("time", n_cand),
        },
        coords=coords,
        attrs={
            "field": "velocity"
            if velocity is not None
            else "direction of travel (-sign(w) grad phase)",
            "smooth_px": smooth_px,
            "sync_threshold": sync_threshold,
            "plane_threshold": plane_threshold,
            "centre_threshold": centre_threshold,
            "convention": "ccw = rotation from +x toward +y (positive curl)",
        },
    )
    return ds
