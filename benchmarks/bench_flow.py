"""Benchmark: wavekit's phase optical flow vs scikit-image's TV-L1 and iterative Lucas-Kanade.

Issue target: on 64 x 64 phase frames, wavekit's optical flow is at least 10x faster per frame
pair than ``skimage.registration.optical_flow_tvl1`` on the same frames, with a lower angular
error on plane and spiral ground truth.

Frames: the phase (radians, wrapped) of analytic waves from :mod:`wavekit.simulate.waves` on an
``n x n`` grid of pitch 1 (so mm = pixels), 10 Hz sampled at 200 frames/s, wavelength 16 pixels:
the phase moves 0.8 pixel per frame. Cases: plane waves travelling toward 0, 30, 120 and -150
degrees, and one-armed outward spirals of both senses (``ccw``, ``cw``) centred off the pixel grid
near the middle; each without noise and with Gaussian phase noise of ``--noise`` rad (i.i.d. per
pixel and frame).

Truth: the normal velocity of the iso-phase lines, ``v = -(dphi/dt) grad(phi) / |grad(phi)|^2
= w k / |k|^2`` with the analytic local ``(w, k)`` of ``wavekit.simulate.waves.*_local`` (pixels
per frame; static for these cases). Angular error: ``|angle(v_est conj(v_true))|`` in degrees,
pooled over all evaluated frames and pixels, excluding (identically for every method) a border
of ``--border`` pixels, where every method falls back on one-sided differences or boundary
conditions, and for spirals the core (``rho <= --core`` pixels), where the truth is singular.
A zero or non-finite estimate counts as 90 degrees (no direction). Flow magnitudes depend on
each method's regularisation, so the direction is the primary measure; the median ratio
``|v_est| / |v_true|`` is printed for information.

Methods, all on the same frames:

* ``wavekit``: :func:`wavekit.analysis.phase_flow` (Horn-Schunck with Charbonnier penalties on
  the wrapped phase, warm-started from frame to frame), on the whole sequence at its defaults
  and with a budget of ``--budget`` sweeps per frame (``max_iter``); time per pair = time of the
  run / (frames - 1). "one pair, cold" is ``phase_flow`` on 2 frames (the first starts from
  the regularised normal flow with up to ``max_iter`` = 50 sweeps, the second from the first's
  flow with up to 20), after a warm-up call (numba compilation excluded). Every method's input
  (wavekit's DataArray, scikit-image's intensity frames) is prepared before the clock starts.
* ``tvl1``: ``optical_flow_tvl1(frame[t], frame[t + 1])`` per pair, at its defaults and with one
  tuned setting (``--tvl1-tuned``): the lowest mean angular error of the ``attachment`` x
  ``tightness`` grid printed by ``--scan`` (run on these same cases, so chosen in scikit-image's
  favour) among the settings whose median flow magnitude is within a factor 2 of the truth in
  every case. The rule excludes settings that win on direction by shrinking the flow to almost
  nothing (``attachment=0.5, tightness=0.01``: 1.6 deg, magnitude 2-3 % of the truth). TV-L1
  works on intensity images, so it is given ``(1 + cos(phase)) / 2`` or
  ``(wrapped phase + pi) / (2 pi)``, both in [0, 1], and the encoding with the lower mean error
  of TV-L1 at its defaults is used for every scikit-image row (both are printed).
* ``ilk``: ``optical_flow_ilk`` at its defaults, same encoding.

Timing: best of ``--repeat`` runs in this process, single-threaded by default (``--threads``;
scikit-image's flows run on one core), on the ``ccw`` spiral with and without noise; the
accuracy runs (one per method and case) are separate (``--timing-only`` skips them). Besides
whole sequences, isolated pairs ``(t, t + 1)`` are compared too: every method then sees the same
two frames, and wavekit has neither a warm start nor a three-frame time derivative.

Run from the repository root (needs scikit-image: ``pip install -e '.[bench]'``)::

    PYTHONPATH=. python benchmarks/bench_flow.py [--size 64] [--frames 61] [--noise 0.3]
    PYTHONPATH=. python benchmarks/bench_flow.py --scan      # how --tvl1-tuned was chosen

Exits with status 2 and a message when scikit-image is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

FS_HZ = 200.0
FREQ_HZ = 10.0
WAVELENGTH_PX = 16.0
TVL1_TUNED = {"attachment": 5.0, "tightness": 0.01}
PLANE_DIRECTIONS = (0.0, 30.0, 120.0, -150.0)
SPIRALS = ("ccw", "cw")


def have_skimage() -> bool:
    try:
        import skimage.registration  # noqa: F401
    except ImportError:
        return False
    return True


def cases() -> list[tuple[str, object]]:
    return [("plane", d) for d in PLANE_DIRECTIONS] + [("spiral", c) for c in SPIRALS]


def case_name(kind: str, arg: object, noise: float) -> str:
    what = f"plane {arg:g} deg" if kind == "plane" else f"spiral {arg}"
    return what + (f", noise {noise:g} rad" if noise else "")


def make_case(
    kind: str,
    arg: object,
    *,
    n: int = 64,
    n_frames: int = 61,
    noise_rad: float = 0.0,
    seed: int = 0,
    border: int = 2,
    core: float = 2.0,
) -> dict:
    """Wrapped phase ``(n_frames, n, n)``, true normal velocity ``(n, n)`` in pixels per frame,
    and the evaluation mask ``(n, n)``."""
    from wavekit.simulate.waves import (
        plane_wave,
        plane_wave_local,
        spiral_wave,
        spiral_wave_local,
    )

    t = (np.arange(n_frames) / FS_HZ)[:, None, None]
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    speed = WAVELENGTH_PX * FREQ_HZ  # pixels (= mm) per s
    mask = np.zeros((n, n), dtype=bool)
    mask[border : n - border, border : n - border] = True
    if kind == "plane":
        p = dict(frequency_hz=FREQ_HZ, speed_mm_per_s=speed, direction_deg=float(arg))
        phase, _ = plane_wave(t, xx, yy, **p)
        w, kx, ky = plane_wave_local(0.0, xx, yy, **p)
    elif kind == "spiral":
        cx, cy = n / 2 - 0.2, n / 2 - 0.7
        p = dict(
            frequency_hz=FREQ_HZ,
            speed_mm_per_s=speed,
            centre_x_mm=cx,
            centre_y_mm=cy,
            chirality=str(arg),
        )
        phase, _ = spiral_wave(t, xx, yy, **p)
        w, kx, ky = spiral_wave_local(0.0, xx, yy, **p)
        mask &= np.hypot(xx - cx, yy - cy) > core
    else:
        raise ValueError(kind)
    if noise_rad:
        phase = phase + np.random.default_rng(seed).normal(0.0, noise_rad, phase.shape)
    k2 = kx * kx + ky * ky
    return {
        "phase": np.angle(np.exp(1j * phase)),
        "u": w * kx / k2 / FS_HZ,
        "v": w * ky / k2 / FS_HZ,
        "mask": mask,
    }


def angular_error(u, v, ut, vt, mask) -> dict:
    """Mean and median angle (deg) between estimated ``(u, v)`` (..., n, n) and true
    ``(ut, vt)`` (n, n) over ``mask``; zero or non-finite estimates count as 90 deg."""
    est = (np.asarray(u) + 1j * np.asarray(v))[..., mask]
    true = (ut + 1j * vt)[mask]
    ang = np.degrees(np.abs(np.angle(est * np.conj(true))))
    undefined = ~np.isfinite(est) | (est == 0)
    ang = np.where(undefined, 90.0, ang)
    ratio = (np.abs(est) / np.abs(true))[~undefined]
    return {
        "mean": float(np.mean(ang)),
        "median": float(np.median(ang)),
        "mag_ratio": float(np.median(ratio)) if ratio.size else float("nan"),
        "undefined": int(undefined.sum()),
    }


def wavekit_input(phase: np.ndarray):
    """``phase`` (nt, ny, nx) as the DataArray :func:`wavekit.analysis.phase_flow` takes (pitch
    1, ``fs_hz = 1``: flow in pixels per frame)."""
    import xarray as xr

    nt, ny, nx = phase.shape
    return xr.DataArray(
        phase,
        dims=("time", "y", "x"),
        coords={"x": np.arange(nx, dtype=np.float64), "y": np.arange(ny, dtype=np.float64)},
        attrs={"fs_hz": 1.0},
    )


def wavekit_flow(phase, **kw) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wavekit.analysis.phase_flow` of ``phase`` ((nt, ny, nx) array, or the DataArray of
    :func:`wavekit_input`); flow in pixels per frame at every frame."""
    from wavekit.analysis import phase_flow

    da = phase if hasattr(phase, "dims") else wavekit_input(phase)
    fl = phase_flow(da, **kw)
    return fl["flow_x"].values, fl["flow_y"].values


def encode(phase: np.ndarray, encoding: str) -> np.ndarray:
    """Intensity frames in [0, 1] for the scikit-image flows."""
    if encoding == "cos":
        return (1.0 + np.cos(phase)) / 2.0
    if encoding == "wrapped":
        return (np.angle(np.exp(1j * phase)) + np.pi) / (2.0 * np.pi)
    raise ValueError(encoding)


def skimage_flow(frames: np.ndarray, method: str, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Flow of every pair ``(frames[t], frames[t + 1])``; ``(nt - 1, ny, nx)`` x and y."""
    from skimage.registration import optical_flow_ilk, optical_flow_tvl1

    fn = {"tvl1": optical_flow_tvl1, "ilk": optical_flow_ilk}[method]
    u = np.empty((frames.shape[0] - 1,) + frames.shape[1:])
    v = np.empty_like(u)
    for t in range(frames.shape[0] - 1):
        fy, fx = fn(frames[t], frames[t + 1], **kw)  # (row, col) = (y, x) displacements
        u[t] = fx
        v[t] = fy
    return u, v


def timed(fn, repeat: int) -> tuple[float, float]:
    """Wall time of the first of ``repeat`` calls and the best of them (s)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def accuracy_wavekit(case: dict, **kw) -> dict:
    """Angular error of wavekit's flow at every frame of the case's sequence."""
    u, v = wavekit_flow(case["phase"], **kw)
    return angular_error(u, v, case["u"], case["v"], case["mask"])


def accuracy_skimage(case: dict, method: str, encoding: str, **kw) -> dict:
    """Angular error of a scikit-image flow on every pair of the case's sequence."""
    u, v = skimage_flow(encode(case["phase"], encoding), method, **kw)
    return angular_error(u, v, case["u"], case["v"], case["mask"])


def pair_starts(n_frames: int, n_pairs: int = 5) -> np.ndarray:
    return np.unique(np.linspace(0, n_frames - 2, n_pairs).astype(int))


def accuracy_pairs(case: dict, method: str, encoding: str = "cos", **kw) -> dict:
    """Angular error on isolated pairs ``(t, t + 1)`` (:func:`pair_starts`): every method sees
    only the two frames; wavekit's flow is that of the first frame (no warm start)."""
    us, vs = [], []
    for t in pair_starts(case["phase"].shape[0]):
        two = case["phase"][t : t + 2]
        if method == "wavekit":
            u, v = wavekit_flow(two, **kw)
        else:
            u, v = skimage_flow(encode(two, encoding), method, **kw)
        us.append(u[0])
        vs.append(v[0])
    return angular_error(np.array(us), np.array(vs), case["u"], case["v"], case["mask"])


def scan_tvl1(all_cases: dict, encoding: str, pairs: int) -> list[tuple[dict, float, float, float]]:
    """TV-L1 over a grid of its two weights, on the first ``pairs`` pairs of every case: mean
    angular error, and the smallest and largest per-case median magnitude ratio."""
    out = []
    for att in (0.5, 1.0, 2.0, 5.0, 15.0, 50.0):
        for tight in (0.01, 0.05, 0.1, 0.3):
            kw = {"attachment": att, "tightness": tight}
            res = [
                accuracy_skimage({**c, "phase": c["phase"][: pairs + 1]}, "tvl1", encoding, **kw)
                for c in all_cases.values()
            ]
            err = float(np.mean([r["mean"] for r in res]))
            mags = [r["mag_ratio"] for r in res]
            out.append((kw, err, float(np.min(mags)), float(np.max(mags))))
            print(
                f"  tvl1 {kw}: angular error {err:6.2f} deg, "
                f"|v| ratio {out[-1][2]:.2f}-{out[-1][3]:.2f}",
                flush=True,
            )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64, help="grid side (pixels)")
    ap.add_argument("--frames", type=int, default=61, help="frames per sequence")
    ap.add_argument("--noise", type=float, default=0.3, help="phase noise s.d. (rad); 0: none")
    ap.add_argument("--repeat", type=int, default=3, help="best of N timing runs")
    ap.add_argument("--budget", type=int, default=20, help="wavekit max_iter of the budget row")
    ap.add_argument("--threads", type=int, default=1, help="numba threads (0: numba's default)")
    ap.add_argument("--border", type=int, default=2, help="border pixels left out of the error")
    ap.add_argument("--core", type=float, default=2.0, help="spiral core radius left out (px)")
    ap.add_argument(
        "--tvl1-tuned", type=json.loads, default=TVL1_TUNED, help="JSON dict of tvl1 kwargs"
    )
    ap.add_argument("--scan", action="store_true", help="print the tvl1 parameter scan and exit")
    ap.add_argument("--scan-pairs", type=int, default=10, help="pairs per case in the scan")
    ap.add_argument("--timing-only", action="store_true", help="skip the accuracy tables")
    args = ap.parse_args(argv)

    if not have_skimage():
        print(
            "bench_flow: scikit-image is not installed; install it with "
            "`pip install -e '.[bench]'` (or `pip install scikit-image`) to run this benchmark.",
            file=sys.stderr,
        )
        return 2

    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    n, nf = args.size, args.frames
    noises = [0.0] + ([args.noise] if args.noise else [])
    all_cases = {
        case_name(k, a, s): make_case(
            k, a, n=n, n_frames=nf, noise_rad=s, border=args.border, core=args.core
        )
        for s in noises
        for k, a in cases()
    }

    if args.scan:
        scan = scan_tvl1(all_cases, "cos", args.scan_pairs)
        for label, rows in (
            ("best", scan),
            (
                "best with |v| within a factor 2 in every case",
                [r for r in scan if r[2] >= 0.5 and r[3] <= 2],
            ),
        ):
            kw, err, lo, hi = min(rows, key=lambda r: r[1])
            print(f"{label}: {kw} (angular error {err:.2f} deg, |v| ratio {lo:.2f}-{hi:.2f})")
        return 0

    budget = {"max_iter": args.budget}
    wavekit_flow(all_cases[case_name("spiral", "ccw", 0.0)]["phase"][:3])  # compile / load
    tuned = args.tvl1_tuned
    bname = f"wavekit max_iter={args.budget}"

    # ---- scikit-image's input: the encoding with the lower error of TV-L1 at its defaults
    enc_err = {}
    if not args.timing_only:
        for e in ("cos", "wrapped"):
            res = [accuracy_skimage(c, "tvl1", e)["mean"] for c in all_cases.values()]
            enc_err[e] = float(np.mean(res))
    enc = min(enc_err, key=enc_err.get) if enc_err else "cos"

    # ---- timing on the ccw spiral with and without noise (first call, best of N)
    timing = {}
    first_call = {}
    for s in noises:
        ph = all_cases[case_name("spiral", "ccw", s)]["phase"]
        frames = encode(ph, enc)  # every method's input is prepared before the clock starts
        seq, two = wavekit_input(ph), wavekit_input(ph[:2])
        pairs = nf - 1
        runs = {
            "wavekit defaults": (lambda d=seq: wavekit_flow(d), pairs),
            bname: (lambda d=seq: wavekit_flow(d, **budget), pairs),
            "wavekit one pair, cold (2 frames)": (lambda d=two: wavekit_flow(d), 1),
            f"wavekit one pair, cold, max_iter={args.budget}": (
                lambda d=two: wavekit_flow(d, **budget),
                1,
            ),
            "tvl1 defaults": (lambda f=frames: skimage_flow(f, "tvl1"), pairs),
            "tvl1 tuned": (lambda f=frames: skimage_flow(f, "tvl1", **tuned), pairs),
            "ilk defaults": (lambda f=frames: skimage_flow(f, "ilk"), pairs),
        }
        timing[s] = {}
        for m, (fn, npair) in runs.items():
            # single pairs take milliseconds: more runs against the noise of a shared machine
            first, best = timed(fn, args.repeat if npair > 1 else 5 * args.repeat)
            timing[s][m] = best / npair
            first_call[(s, m)] = first / npair

    # ---- accuracy on whole sequences: one run per method and case
    methods = (
        {}
        if args.timing_only
        else {
            "wavekit defaults": lambda c: accuracy_wavekit(c),
            bname: lambda c: accuracy_wavekit(c, **budget),
            "tvl1 defaults": lambda c: accuracy_skimage(c, "tvl1", enc),
            "tvl1 tuned": lambda c: accuracy_skimage(c, "tvl1", enc, **tuned),
            "ilk defaults": lambda c: accuracy_skimage(c, "ilk", enc),
        }
    )
    acc = {m: {name: fn(c) for name, c in all_cases.items()} for m, fn in methods.items()}
    pair_methods = (
        {}
        if args.timing_only
        else {
            "wavekit defaults": lambda c: accuracy_pairs(c, "wavekit"),
            bname: lambda c: accuracy_pairs(c, "wavekit", **budget),
            "tvl1 defaults": lambda c: accuracy_pairs(c, "tvl1", enc),
            "tvl1 tuned": lambda c: accuracy_pairs(c, "tvl1", enc, **tuned),
        }
    )
    acc_pairs = {
        m: {name: fn(c) for name, c in all_cases.items()} for m, fn in pair_methods.items()
    }

    import skimage

    print(
        f"optical flow on {n} x {n} phase frames, {nf} frames ({nf - 1} pairs) per case; "
        f"wavelength {WAVELENGTH_PX:g} px, {WAVELENGTH_PX * FREQ_HZ / FS_HZ:g} px/frame; "
        f"numba threads {numba.get_num_threads()}; scikit-image {skimage.__version__}"
    )
    print(
        f"scikit-image input: {enc} (TV-L1 defaults, mean angular error over all cases: "
        + (", ".join(f"{e} {v:.2f} deg" for e, v in enc_err.items()) or "not measured")
        + f"); tvl1 tuned = {tuned}"
    )
    print(f"excluded from the error: {args.border}-pixel border, spiral core rho <= {args.core} px")
    print()
    print(
        f"time per frame pair (ms), best of {args.repeat} ({5 * args.repeat} for single pairs), "
        "spiral ccw; ratio = tvl1 defaults / row"
    )
    hdr = f"{'method':42s}"
    for s in noises:
        hdr += f" {'noise ' + format(s, 'g'):>10s} {'ratio':>7s}"
    print(hdr)
    for m in timing[0.0]:
        row = f"{m:42s}"
        for s in noises:
            t = timing[s][m]
            row += f" {t * 1e3:10.3f} {timing[s]['tvl1 defaults'] / t:7.1f}"
        print(row)
    print(
        "first timed call after the warm-up, wavekit defaults: "
        + ", ".join(
            f"noise {s:g}: {first_call[(s, 'wavekit defaults')] * 1e3:.3f} ms/pair" for s in noises
        )
    )

    def table(title, res):
        names = list(res)
        print()
        print(title)
        print(f"{'case':28s}" + "".join(f" {m:>24s}" for m in names))
        for cname in all_cases:
            row = f"{cname:28s}"
            for m in names:
                a = res[m][cname]
                cell = f"{a['mean']:.2f} / {a['median']:.2f} [{a['mag_ratio']:.2f}]"
                if a["undefined"]:
                    cell = f"({a['undefined']} undef.) " + cell
                row += f" {cell:>24s}"
            print(row)
        for s in noises:
            sel = [c for c in all_cases if ("noise" in c) == bool(s)]
            row = f"{'mean, noise ' + format(s, 'g'):28s}"
            for m in names:
                row += f" {np.mean([res[m][c]['mean'] for c in sel]):>24.2f}"
            print(row)

    if args.timing_only:
        return 0
    table(
        f"angular error on whole sequences ({nf} frames), mean / median (deg) "
        "[median |v_est| / |v_true|]",
        acc,
    )
    starts = pair_starts(nf).tolist()
    table(
        f"angular error on isolated pairs (t, t+1), t in {starts}: every method sees two frames",
        acc_pairs,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
