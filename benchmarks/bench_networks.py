"""Time 64 x 64 x 1000-step network simulations: numba kernels vs their NumPy references.

Run from the repository root::

    python benchmarks/bench_networks.py [--size 64] [--steps 1000] [--repeat 3]

Prints one line per network: best-of-``repeat`` wall time of the numba kernel (after a warm-up
call that loads or compiles it) and of the plain NumPy reference implementation (numpy.roll +
einsum per tap), in the same process, and their ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from wavekit.networks import NeuralWaveMachine, WaveRNN
from wavekit.networks._kernels import (
    conv_rnn_run,
    conv_rnn_run_ref,
    oscillator_run,
    oscillator_run_ref,
)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, steps = args.size, args.steps
    rng = np.random.default_rng(0)

    # wave-RNN on an n x n torus, 3 x 3 shift kernel, relu, input at column 0
    w = WaveRNN(shape=(n, n))
    drive = np.zeros((1, steps, 1, n, n))
    drive[0, :, 0, :, 0] = rng.standard_normal((steps, n))
    h0 = np.zeros((1, 1, n, n))
    args_w = (h0, w.kernel, drive, w.bias, 1)

    # Neural Wave Machine (coRNN), 3 x 3 Laplacian coupling, tanh, point drive
    nwm = NeuralWaveMachine(shape=(n, n))
    d2 = np.zeros((1, steps, 1, n, n))
    d2[0, :, 0, n // 2, n // 2] = 0.5 * np.sin(2 * np.pi * np.arange(steps) / 10)
    cell = np.ones((1, n, n))
    args_o = (
        h0,
        h0,
        nwm.w_y,
        nwm.w_z,
        d2,
        np.zeros(1),
        nwm.dt,
        nwm.gamma * cell,
        nwm.eps * cell,
        2,
    )

    print(f"{n} x {n} torus, {steps} steps, best of {args.repeat}")
    print(f"{'network':<22} {'numba s':>9} {'numpy s':>9} {'numpy/numba':>12}")
    for name, fast, ref, a in (
        ("wave-RNN (wrnn2d)", conv_rnn_run, conv_rnn_run_ref, args_w),
        ("NWM / coRNN (nwm)", oscillator_run, oscillator_run_ref, args_o),
    ):
        fast(*a)  # warm-up: load the cached compilation (or compile)
        np.testing.assert_allclose(fast(*a), ref(*a), rtol=1e-9, atol=1e-12)
        tf = best_of(lambda f=fast, a=a: f(*a), args.repeat)
        tr = best_of(lambda f=ref, a=a: f(*a), args.repeat)
        print(f"{name:<22} {tf:>9.3f} {tr:>9.3f} {tr / tf:>12.2f}")


if __name__ == "__main__":
    main()
