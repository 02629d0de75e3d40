"""Compiled kernels of trigger detection and space-time clustering, each with a NumPy reference.

``tests/test_triggers.py`` compares every ``@numba.njit`` kernel with its ``ref_*`` twin on
random inputs (hypothesis).
"""

from __future__ import annotations

import numba
import numpy as np

# ------------------------------------------------------------------ threshold with hysteresis


@numba.njit(cache=True)
def hysteresis_fire(s, level, rearm, min_gap):
    """Samples where each channel of ``s`` (time, channel) first reaches ``level`` again.

    A channel fires at sample ``i`` when ``s[i-1] < level <= s[i]``, it is armed (it has been
    below ``rearm`` since its last firing, or has never fired) and at least ``min_gap`` samples
    have passed since its last firing. NaN samples neither fire nor re-arm.
    """
    nt, nc = s.shape
    fire = np.zeros((nt, nc), dtype=np.bool_)
    for c in range(nc):
        armed = True
        last = -(1 << 60)
        lv = level[c]
        ra = rearm[c]
        if not (lv == lv) or not (ra == ra):
            continue
        for i in range(1, nt):
            v = s[i, c]
            if v < ra:
                armed = True
            p = s[i - 1, c]
            if armed and p < lv and v >= lv and i - last >= min_gap:
                fire[i, c] = True
                armed = False
                last = i
    return fire


def ref_hysteresis_fire(s, level, rearm, min_gap):
    """NumPy reference of :func:`hysteresis_fire` (loop over crossings, not samples)."""
    s = np.asarray(s, float)
    nt, nc = s.shape
    fire = np.zeros((nt, nc), bool)
    for c in range(nc):
        if not (np.isfinite(level[c]) and np.isfinite(rearm[c])):
            continue
        x = s[:, c]
        with np.errstate(invalid="ignore"):
            up = np.flatnonzero((x[:-1] < level[c]) & (x[1:] >= level[c])) + 1
            below = np.flatnonzero(x < rearm[c])
        last = None
        for i in up:
            if last is not None:
                rearmed = np.any((below > last) & (below <= i))
                if not rearmed or i - last < min_gap:
                    continue
            fire[i, c] = True
            last = i
    return fire


# --------------------------------------------------------------- space-time connected components


@numba.njit(cache=True)
def _find(parent, i):
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@numba.njit(cache=True)
def cluster_sorted(t, ch, neighbours, max_dt):
    """Connected components of triggers sorted by time ``t`` on channels ``ch``.

    Two triggers are linked when their channels are neighbours (``neighbours[a, b]``; a channel
    is not its own neighbour) and their times differ by at most ``max_dt``. Returns labels
    ``0..k-1`` numbered in order of each component's first trigger.
    """
    n = t.shape[0]
    parent = np.arange(n)
    j0 = 0
    for i in range(n):
        while t[i] - t[j0] > max_dt:
            j0 += 1
        ci = ch[i]
        for j in range(j0, i):
            if neighbours[ci, ch[j]]:
                a = _find(parent, i)
                b = _find(parent, j)
                if a != b:
                    if a < b:
                        parent[b] = a
                    else:
                        parent[a] = b
    labels = np.empty(n, dtype=np.int64)
    remap = np.full(n, -1, dtype=np.int64)
    k = 0
    for i in range(n):
        r = _find(parent, i)
        if remap[r] < 0:
            remap[r] = k
            k += 1
        labels[i] = remap[r]
    return labels


def ref_cluster_sorted(t, ch, neighbours, max_dt):
    """NumPy/SciPy reference of :func:`cluster_sorted`: all pairwise links, then
    ``scipy.sparse.csgraph.connected_components``, relabelled in order of first trigger."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    t = np.asarray(t, float)
    ch = np.asarray(ch, int)
    n = t.size
    if n == 0:
        return np.zeros(0, np.int64)
    close = np.abs(t[:, None] - t[None, :]) <= max_dt
    linked = close & np.asarray(neighbours, bool)[ch[:, None], ch[None, :]]
    r, c = np.nonzero(linked)
    _, lab = connected_components(coo_matrix((np.ones(r.size), (r, c)), shape=(n, n)))
    _, first = np.unique(lab, return_index=True)
    order = np.argsort(first)
    remap = np.empty_like(order)
    remap[order] = np.arange(order.size)
    return remap[lab].astype(np.int64)
