"""Small circular statistics shared by the fits (angles in radians unless a name says otherwise).

Plain NumPy, vectorised along an ``axis``; NaN angles are excluded (never treated as zero).

References
----------
Fisher NI (1993) Statistical Analysis of Circular Data. Cambridge University Press.
doi:10.1017/CBO9780511564345
Jammalamadaka SR, SenGupta A (2001) Topics in Circular Statistics. World Scientific.
doi:10.1142/4031
Mardia KV (1976) Linear-circular correlation coefficients and rhythmometry. Biometrika 63:403.
doi:10.1093/biomet/63.2.403
Kempter R, Leibold C, Buzsaki G, Diba K, Schmidt R (2012) Quantifying circular-linear associations:
hippocampal phase precession. J Neurosci Methods 207:113. doi:10.1016/j.jneumeth.2012.03.007
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "wrap_angle",
    "angle_deg",
    "circ_mean",
    "resultant_length",
    "circ_diff",
    "rayleigh_test",
    "circ_corrcc",
    "circ_corrcl",
    "adjusted_r2",
]


def wrap_angle(a):
    """Wrap radians to (-pi, pi].

    Examples
    --------
    >>> float(wrap_angle(3 * np.pi / 2)), float(wrap_angle(-np.pi))
    (-1.5707963267948966, 3.141592653589793)
    """
    a = np.asarray(a, dtype=np.float64)
    w = np.mod(a + np.pi, 2 * np.pi) - np.pi
    return np.where(w == -np.pi, np.pi, w)


def angle_deg(y, x):
    """Angle of the vector ``(x, y)`` in degrees, CCW from +x, in (-180, 180] (SPEC convention).

    Examples
    --------
    >>> float(angle_deg(0.0, -1.0)), float(angle_deg(-1e-300, -1.0))
    (180.0, 180.0)
    """
    d = np.degrees(np.arctan2(y, x))
    d = np.where(d <= -180.0 + 1e-12, 180.0, d)
    return d


def _masked(angles, weights, axis):
    a = np.asarray(angles, dtype=np.float64)
    w = np.ones_like(a) if weights is None else np.broadcast_to(np.asarray(weights, float), a.shape)
    ok = np.isfinite(a) & np.isfinite(w)
    w = np.where(ok, w, 0.0)
    a = np.where(ok, a, 0.0)
    c = np.sum(w * np.cos(a), axis=axis)
    s = np.sum(w * np.sin(a), axis=axis)
    return c, s, np.sum(w, axis=axis)


def circ_mean(angles, *, axis=-1, weights=None):
    """Circular mean direction ``arg(sum_j w_j exp(i a_j))`` in (-pi, pi].

    NaN angles are excluded; all-NaN slices give NaN.

    Examples
    --------
    >>> round(float(circ_mean(np.array([3.1, -3.1]))), 6)
    3.141593
    """
    c, s, n = _masked(angles, weights, axis)
    m = np.arctan2(s, c)
    return np.where(n > 0, wrap_angle(m), np.nan)


def resultant_length(angles, *, axis=-1, weights=None):
    """Mean resultant length ``R = |sum_j w_j exp(i a_j)| / sum_j w_j`` in [0, 1].

    Examples
    --------
    >>> float(resultant_length(np.zeros(5)))
    1.0
    >>> round(float(resultant_length(np.array([0, np.pi]))), 12)
    0.0
    """
    c, s, n = _masked(angles, weights, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.hypot(c, s) / n, np.nan)


def circ_diff(a, b):
    """Signed smallest difference ``a - b`` wrapped to (-pi, pi].

    Examples
    --------
    >>> round(float(np.degrees(circ_diff(np.radians(10.0), np.radians(350.0)))), 6)   # not -340
    20.0
    """
    return wrap_angle(np.asarray(a, float) - np.asarray(b, float))


def rayleigh_test(angles, *, axis=-1):
    """Rayleigh test of uniformity against a unimodal alternative.

    Returns ``(z, p)`` with ``z = n R^2`` and the p-value with the finite-sample correction of
    Zar (1999) / Fisher (1993, eq. 4.17): ``p = exp(sqrt(1 + 4n + 4(n^2 - R_n^2)) - (1 + 2n))``,
    ``R_n = n R``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z, p = rayleigh_test(rng.vonmises(0.0, 2.0, 100))
    >>> bool(p < 1e-6)
    True
    """
    a = np.asarray(angles, dtype=np.float64)
    n = np.sum(np.isfinite(a), axis=axis).astype(float)
    r = resultant_length(a, axis=axis)
    rn = r * n
    z = n * r**2
    with np.errstate(invalid="ignore"):
        p = np.exp(np.sqrt(1 + 4 * n + 4 * (n**2 - rn**2)) - (1 + 2 * n))
    return z, np.clip(p, 0.0, 1.0)


def circ_corrcc(a, b, *, axis=-1):
    """Circular-circular correlation of Jammalamadaka & SenGupta (2001, eq. 8.2.2).

    ``rho = sum sin(a - abar) sin(b - bbar) / sqrt(sum sin^2(a - abar) sum sin^2(b - bbar))``
    with ``abar``, ``bbar`` the circular means. With ``b`` the phase predicted by a
    circular-linear model this is the ``rho_cc`` of Zhang et al. (2018) and the circular-linear
    correlation of Kempter et al. (2012) (their ``Theta = 2 pi a x mod 2 pi`` is the predicted
    phase). Pairs with a NaN are excluded.

    Returns
    -------
    rho : ndarray
        In [-1, 1]; NaN when one variable is constant.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> a = rng.uniform(-np.pi, np.pi, 50)
    >>> round(float(circ_corrcc(a, a + 1.0)), 12)
    1.0
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = np.broadcast_arrays(a, b)
    ok = np.isfinite(a) & np.isfinite(b)
    a = np.where(ok, a, np.nan)
    b = np.where(ok, b, np.nan)
    ma = np.expand_dims(circ_mean(a, axis=axis), axis)
    mb = np.expand_dims(circ_mean(b, axis=axis), axis)
    sa = np.where(ok, np.sin(a - ma), 0.0)
    sb = np.where(ok, np.sin(b - mb), 0.0)
    num = np.sum(sa * sb, axis=axis)
    den = np.sqrt(np.sum(sa**2, axis=axis) * np.sum(sb**2, axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def circ_corrcl(angles, x):
    """Circular-linear correlation of Mardia (1976) between angles and one linear variable.

    ``R^2 = (r_xc^2 + r_xs^2 - 2 r_xc r_xs r_cs) / (1 - r_cs^2)`` with ``r_xc = corr(x, cos a)``,
    ``r_xs = corr(x, sin a)``, ``r_cs = corr(sin a, cos a)``. Returns ``(R, p)`` where
    ``n R^2`` is approximately chi-square with 2 degrees of freedom under independence. This
    measures association but does not fit a slope: it misses linear relations whose phase wraps
    more than once (Kempter et al. 2012); the plane fit uses :func:`circ_corrcc` instead.

    Examples
    --------
    >>> x = np.linspace(0, 1, 40)
    >>> r, p = circ_corrcl(2.0 * x, x)
    >>> bool(r > 0.9 and p < 1e-6)
    True
    """
    a = np.asarray(angles, float).ravel()
    x = np.asarray(x, float).ravel()
    ok = np.isfinite(a) & np.isfinite(x)
    a, x = a[ok], x[ok]
    n = a.size
    c, s = np.cos(a), np.sin(a)
    rxc = np.corrcoef(x, c)[0, 1]
    rxs = np.corrcoef(x, s)[0, 1]
    rcs = np.corrcoef(s, c)[0, 1]
    r2 = (rxc**2 + rxs**2 - 2 * rxc * rxs * rcs) / (1 - rcs**2)
    r2 = float(np.clip(r2, 0.0, 1.0))
    # chi-square survival with 2 degrees of freedom, exp(-x / 2) (no scipy.stats import: 0.3 s)
    return np.sqrt(r2), float(np.exp(-0.5 * n * r2))


def adjusted_r2(rho, n, n_predictors=2):
    """Adjusted coefficient of determination ``1 - (1 - rho^2)(n - 1)/(n - p - 1)``.

    Zhang et al. (2018) adjust ``rho_cc^2`` for the fitted plane's predictors; wavekit uses
    ``p = 2`` (the two wave-vector components; the phase offset plays the intercept's role).
    NaN when there are too few points (``n <= n_predictors + 1``).

    Examples
    --------
    >>> adjusted_r2([0.9, 0.9], [10, 3]).round(4).tolist()    # 10 sites; 3 sites: undefined
    [0.7557, nan]
    """
    rho = np.asarray(rho, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 1.0 - (1.0 - rho**2) * (n - 1.0) / (n - n_predictors - 1.0)
    return np.where(n > n_predictors + 1, out, np.nan)
