"""Flow equivariance: exact for the flow-lifted network, order one for conv and dense RNNs."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from wavekit.errors import UsageError
from wavekit.networks import (
    IRNN,
    ConvRNN,
    EquivariantRecurrentLayer,
    Flow,
    HomomorphicFlowProcessor,
    TravelingWaveNetwork,
    WaveRNN,
    propagator_diagnostics,
    seed_propagation_matrix,
    velocity_tuning,
    verify_equivariance,
)
from wavekit.networks.equivariance import compare_models


@pytest.mark.parametrize("velocity", [1, 2, -3, 5])
@pytest.mark.parametrize("init,channels", [("identity", 1), ("random", 3)])
def test_flow_lifted_ring_is_exactly_equivariant(velocity, init, channels):
    x = np.random.default_rng(velocity + 10).standard_normal((2, 40, 16))
    layer = EquivariantRecurrentLayer(n=16, channels=channels, init=init, seed=4)
    res = verify_equivariance(layer, x, Flow(velocity))
    assert res.errors.shape == (40,)
    assert res.max_error <= 1e-6  # measured ~2e-15


@pytest.mark.parametrize("velocity", [(1, 0), (-1, 2), (3, 3)])
def test_flow_lifted_torus_is_exactly_equivariant(velocity):
    x = np.random.default_rng(0).standard_normal((12, 8, 8))
    layer = EquivariantRecurrentLayer(shape=(8, 8), channels=2, init="random", seed=1)
    assert verify_equivariance(layer, x, velocity).max_error <= 1e-6


@pytest.mark.parametrize("velocity", [0.5, -1.5, 2.5])
def test_fractional_flow_exact_for_linear_lifted_network(velocity):
    x = np.random.default_rng(1).standard_normal((25, 15))
    layer = EquivariantRecurrentLayer(n=15, velocity_step=0.5, activation="linear", seed=2)
    assert verify_equivariance(layer, x, velocity).max_error <= 1e-6  # measured ~5e-15
    # a pointwise nonlinearity does not commute with a band-limited (Fourier) shift
    relu = EquivariantRecurrentLayer(n=15, velocity_step=0.5, activation="relu", seed=2)
    assert verify_equivariance(relu, x, velocity).max_error > 0.01


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("velocity", [1, -2, 0.5])
def test_conv_and_dense_rnns_are_not_flow_equivariant(seed, velocity):
    n = 17  # odd, so the fractional flow itself is an exact group action
    # a batch of 4 sequences (E_t takes the norm over the batch); single sequences dip to 0.10
    x = np.random.default_rng(seed).standard_normal((4, 40, n))
    act = "relu" if float(velocity).is_integer() else "linear"
    for model in (
        ConvRNN(n=n, seed=seed, activation=act),
        IRNN(n=n, seed=seed, activation=act),
        IRNN(n=n, init="random", spectral_radius=0.9, seed=seed, activation=act),
    ):
        res = verify_equivariance(model, x, velocity)
        assert res.errors[0] == 0.0  # no displacement yet at t = 0
        # measured minima over t >= 1 and all 12 cases: conv 0.21, iRNN 0.74, dense 0.38
        assert np.all(res.errors[1:] > 0.1), (model.name, res.errors[1:].min())


def test_single_wave_rnn_is_not_flow_equivariant_but_its_lifted_bank_is():
    x = np.random.default_rng(3).standard_normal((30, 16))
    single = WaveRNN(n=16, shift=1, input_mode="field")
    assert verify_equivariance(single, x, 1).errors[1:].min() > 0.1
    lifted = EquivariantRecurrentLayer(n=16, decay=1.0)
    assert verify_equivariance(lifted, x, 1).max_error <= 1e-6


@pytest.mark.parametrize("velocity", [-5, -1, 0, 2, 3, 7])
def test_velocity_tuning_recovers_input_velocity(velocity):
    rng = np.random.default_rng(abs(velocity))
    pattern = np.maximum(rng.standard_normal(16), 0.0)
    x = Flow(velocity).apply(np.broadcast_to(pattern, (60, 1, 16)))[:, 0]
    vel, energy = velocity_tuning(EquivariantRecurrentLayer(n=16), x)
    assert vel[np.argmax(energy)].tolist() == [0.0, float(velocity)]


def test_velocity_tuning_fractional():
    pattern = np.exp(-0.5 * ((np.arange(15) - 7) / 1.5) ** 2)
    x = Flow(1.5).apply(np.broadcast_to(pattern, (60, 1, 15)))[:, 0]
    layer = EquivariantRecurrentLayer(n=15, velocity_step=0.5, activation="linear")
    vel, energy = velocity_tuning(layer, x)
    assert vel[np.argmax(energy)].tolist() == [0.0, 1.5]


def test_homomorphic_processor_group_law_and_relabelling():
    p = HomomorphicFlowProcessor(n=9, velocity_step=1)
    h = np.random.default_rng(0).standard_normal((p.n_velocities, 2, 1, 9))
    assert p.group_law_error(h, 2, 5) < 1e-12
    # relabelling is a representation: rho(a) rho(b) = rho(a + b)
    np.testing.assert_allclose(p.relabel(p.relabel(h, 2), 3), p.relabel(h, 5))
    assert p.velocity_index(-1) == 8 and p.velocities[8].tolist() == [0.0, -1.0]
    frac = HomomorphicFlowProcessor(n=9, velocity_step=0.5)
    hf = np.random.default_rng(1).standard_normal((frac.n_velocities, 1, 1, 9))
    assert frac.group_law_error(hf, 1.5, 2.5) < 1e-12
    with pytest.raises(UsageError):
        HomomorphicFlowProcessor(n=9, velocity_step=2)  # does not divide 9
    with pytest.raises(UsageError):
        p.relabel(h, 0.5)


def test_seed_matrix_is_not_a_wave():
    d = propagator_diagnostics(seed_propagation_matrix(64))
    assert d.mass_gain_per_step == pytest.approx(1.5)
    assert d.drift_cells_per_step == pytest.approx(1 / 3)
    assert d.spread_cells2_per_step == pytest.approx(8 / 9)
    assert (d.max_gain, d.min_gain) == (pytest.approx(1.5), pytest.approx(0.5))
    assert not d.is_wave
    # the same numbers from running it: mass x1.5 per step, centre +1/3 cell per step
    p = seed_propagation_matrix(201)
    h = np.zeros(201)
    h[100] = 1.0
    cells = np.arange(201)
    for t in range(1, 31):
        h = p @ h
        assert h.sum() == pytest.approx(1.5**t)
        assert np.sum(cells * h) / h.sum() - 100 == pytest.approx(t / 3)
    width = np.sqrt(np.sum(cells**2 * h) / h.sum() - (np.sum(cells * h) / h.sum()) ** 2)
    assert width == pytest.approx(np.sqrt(30 * 8 / 9))  # it smears: no fixed shape


@pytest.mark.parametrize("n,speed", [(32, 1), (31, 0.5), (31, -2.25), (32, 0.5)])
def test_traveling_wave_network_is_a_wave(n, speed):
    net = TravelingWaveNetwork(n=n, speed=speed)
    d = propagator_diagnostics(net.propagation_matrix())
    assert d.is_wave
    assert d.phase_speed_cells_per_step == pytest.approx(speed)
    assert d.mass_gain_per_step == pytest.approx(1.0)
    if n % 2:  # odd ring: lossless for every spatial frequency
        assert d.min_gain == pytest.approx(1.0)


def test_traveling_wave_network_fractional_speed_moves_centre():
    n = 63
    net = TravelingWaveNetwork(n=n, speed=0.25)
    x = np.zeros((41, n))
    x[0] = np.exp(-0.5 * ((np.arange(n) - 20) / 2.0) ** 2)
    h = net.run(x)[0, :, 0, 0]
    cells = np.arange(n)
    centres = (h * cells).sum(axis=1) / h.sum(axis=1)
    np.testing.assert_allclose(centres - 20, 0.25 * np.arange(41), atol=1e-6)


def test_compare_models_and_usage_errors():
    res = compare_models(["flow-rnn", "convrnn", "dense"], velocity=2, steps=20)
    assert res[0].max_error <= 1e-6
    assert all(np.all(r.errors[1:] > 0.1) for r in res[1:])
    with pytest.raises(UsageError):
        compare_models(["lstm"])
    with pytest.raises(UsageError):
        compare_models(velocity=0.5, n=16)
    with pytest.raises(UsageError):
        verify_equivariance(WaveRNN(n=8), np.zeros((5, 1)), 1)  # source-input model


def _cli():
    from wavekit.cli.equivariance import equivariance

    app = typer.Typer()
    app.command()(equivariance)
    app.command("noop")(lambda: None)
    return app


def test_cli_table_and_json():
    runner = CliRunner()
    out = runner.invoke(_cli(), ["equivariance", "--velocity", "2", "--steps", "15"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[1].split()[:2] == ["model", "max"]
    rows = {ln.split()[0]: ln.split() for ln in lines[3:]}
    assert rows["flow-rnn"][-1] == "yes" and rows["convrnn"][-1] == "no"
    out = runner.invoke(_cli(), ["equivariance", "-m", "flow-rnn", "-v", "0.5", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    (r,) = report["results"]
    assert r["model"] == "flow-rnn" and r["equivariant"] and len(r["errors"]) == 50
    bad = runner.invoke(_cli(), ["equivariance", "-v", "0.5", "--n", "16"])
    assert isinstance(bad.exception, UsageError) and bad.exception.exit_code == 2
