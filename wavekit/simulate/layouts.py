"""Electrode layouts for simulations: regular grids and irregular arrays, positions in mm.

Every function returns coordinates in millimetres with x the column axis and y the row axis
(SPEC.md). Grid layouts return the two 1-D axes; irregular layouts return one ``(x_mm, y_mm)``
pair of 1-D arrays, one entry per channel.

==========  ===============================================================================
layout      positions
==========  ===============================================================================
grid        ``nx`` x ``ny`` sites at ``spacing_mm``, starting at 0 (:func:`grid_layout`)
random      ``n`` positions uniform in a square ``[0, extent_mm]^2`` (:func:`random_layout`)
utah        10 x 10 at ``pitch_mm`` without the 4 corners: 96 channels (:func:`utah_layout`)
hex         hexagonal lattice in concentric rings (:func:`hex_mea_layout`)
eeg         19 positions of the 10-20 system projected on a disc (:func:`eeg_cap_layout`)
==========  ===============================================================================
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "grid_layout",
    "random_layout",
    "utah_layout",
    "hex_mea_layout",
    "eeg_cap_layout",
    "EEG_10_20_NAMES",
]


def grid_layout(
    nx: int = 16, ny: int = 16, spacing_mm: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """Column and row coordinates of a regular grid.

    Parameters
    ----------
    nx, ny : int
        Number of columns (x) and rows (y).
    spacing_mm : float
        Pitch in mm (the same along x and y).

    Returns
    -------
    x_mm, y_mm : numpy.ndarray
        ``x_mm[j] = j * spacing_mm`` (length ``nx``) and ``y_mm[i] = i * spacing_mm`` (``ny``).

    Examples
    --------
    >>> x, y = grid_layout(4, 3, 0.5)
    >>> x.tolist(), y.tolist()
    ([0.0, 0.5, 1.0, 1.5], [0.0, 0.5, 1.0])
    """
    return np.arange(int(nx)) * float(spacing_mm), np.arange(int(ny)) * float(spacing_mm)


def random_layout(
    n: int = 64, extent_mm: float = 6.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Electrodes at independent uniform random positions in a square.

    Parameters
    ----------
    n : int
        Number of electrodes.
    extent_mm : float
        Side of the square ``[0, extent_mm] x [0, extent_mm]``.
    seed : int
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    x_mm, y_mm : numpy.ndarray
        Positions, shape ``(n,)`` each.

    Examples
    --------
    >>> x, y = random_layout(5, 2.0, seed=1)
    >>> x.shape, bool((x >= 0).all() and (y <= 2.0).all())
    ((5,), True)
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, float(extent_mm), size=(int(n), 2))
    return xy[:, 0].copy(), xy[:, 1].copy()


def utah_layout(pitch_mm: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """A Utah-like array: a 10 x 10 grid at ``pitch_mm`` without its four corners (96 channels).

    Channels are numbered row by row (row 0 first), skipping the corners; coordinates start at 0
    so the positions lie on the lattice ``{0, pitch, ..., 9 pitch}^2``.

    Examples
    --------
    >>> x, y = utah_layout()
    >>> x.size, float(x.max()), float(y.max())
    (96, 3.6, 3.6)
    """
    rows, cols = np.mgrid[0:10, 0:10]
    keep = np.ones((10, 10), dtype=bool)
    keep[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    p = float(pitch_mm)
    return np.round(cols[keep] * p, 12), np.round(rows[keep] * p, 12)


def hex_mea_layout(n_rings: int = 4, pitch_mm: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """A hexagonal multi-electrode array: a centre electrode and ``n_rings`` hexagonal rings.

    Sites are the points of a triangular lattice with nearest-neighbour distance ``pitch_mm``
    within hexagonal distance ``n_rings`` of the centre: ``1 + 3 n (n + 1)`` electrodes
    (61 for 4 rings, like a 60-electrode hexagonal MEA plus its centre). In axial lattice
    coordinates ``(q, r)``: ``x = pitch (q + r / 2)``, ``y = pitch r sqrt(3) / 2``. The centre
    is at the origin.

    Examples
    --------
    >>> x, y = hex_mea_layout(1, 0.1)
    >>> x.size, round(float(np.hypot(x, y).max()), 6)
    (7, 0.1)
    """
    n = int(n_rings)
    qs, rs = [], []
    for q in range(-n, n + 1):
        for r in range(-n, n + 1):
            if max(abs(q), abs(r), abs(q + r)) <= n:
                qs.append(q)
                rs.append(r)
    q = np.asarray(qs, dtype=np.float64)
    r = np.asarray(rs, dtype=np.float64)
    p = float(pitch_mm)
    order = np.lexsort((q + r / 2, r))  # row by row, left to right
    return (p * (q + r / 2))[order], (p * r * np.sqrt(3) / 2)[order]


#: Names of the 19 positions returned by :func:`eeg_cap_layout`, in order.
EEG_10_20_NAMES = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz",
    "C4", "T4", "T5", "P3", "Pz", "P4", "T6", "O1", "O2",
)  # fmt: skip


def eeg_cap_layout(radius_mm: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """The 19 electrodes of the 10-20 system on a disc (azimuthal equidistant projection).

    Cz is at the origin, +y points to the nose and +x to the right ear. On a spherical head,
    the midline electrodes Fz, Cz, Pz are 36 degrees apart and the outer ring (Fp1, Fp2, F7, F8,
    T3, T4, T5, T6, O1, O2) is 72 degrees from Cz at azimuths 18, 54, 90, 126 and 162 degrees from
    the front; the projection keeps arc lengths from Cz, so the outer ring lies at ``radius_mm``
    (about 113 mm for a head of 90 mm radius) and the inner ring (Fz, C3, C4, Pz) at half of it.
    F3, F4, P3, P4 are placed midway between their midline and outer-ring neighbours. Names are in
    :data:`EEG_10_20_NAMES`.

    Examples
    --------
    >>> x, y = eeg_cap_layout(100.0)
    >>> x.size, round(float(np.hypot(x[0], y[0])), 9)
    (19, 100.0)
    """
    R = float(radius_mm)

    def polar(r: float, az_deg: float) -> tuple[float, float]:
        a = np.deg2rad(az_deg)  # azimuth clockwise from the front (+y) toward the right (+x)
        return r * np.sin(a), r * np.cos(a)

    pos: dict[str, tuple[float, float]] = {"Cz": (0.0, 0.0)}
    for name, az in (("Fz", 0), ("C4", 90), ("Pz", 180), ("C3", -90)):
        pos[name] = polar(R / 2, az)
    outer = {"Fp2": 18, "F8": 54, "T4": 90, "T6": 126, "O2": 162,
             "Fp1": -18, "F7": -54, "T3": -90, "T5": -126, "O1": -162}  # fmt: skip
    for name, az in outer.items():
        pos[name] = polar(R, az)
    for name, (a, b) in {"F3": ("Fz", "F7"), "F4": ("Fz", "F8"),
                         "P3": ("Pz", "T5"), "P4": ("Pz", "T6")}.items():  # fmt: skip
        pos[name] = ((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2)
    xy = np.array([pos[n] for n in EEG_10_20_NAMES])
    return np.round(xy[:, 0], 12), np.round(xy[:, 1], 12)
