"""``wavekit equivariance``: flow-equivariance errors of simulated recurrent networks."""

import typer

from wavekit.cli._app import app


@app.command()
def equivariance(
    model: list[str] = typer.Option(
        None,
        "--model",
        "-m",
        help="Model(s) to test (repeatable): flow-rnn, wrnn, convrnn, irnn, dense. Default: all.",
    ),
    velocity: float = typer.Option(
        1.0, "--velocity", "-v", help="Flow velocity in cells per step (fractional allowed)."
    ),
    steps: int = typer.Option(50, "--steps", help="Length of the input sequence."),
    n: int = typer.Option(17, "--n", help="Ring length in cells (odd for fractional velocities)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random input and weights."),
    activation: str = typer.Option(
        None,
        "--activation",
        help="relu, tanh or linear (default: relu for integer, linear for fractional velocities).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON report instead of a table."),
) -> None:
    """Measure E_t = ||Phi[psi f]_t - rho_t Phi[f]_t|| / ||Phi[psi f]_t|| for each network.

    The input f is Gaussian noise on a ring; psi translates it by VELOCITY cells per step.
    A flow-lifted network (one hidden copy per velocity) is exactly equivariant (E_t ~ 1e-15);
    conv and dense RNNs are not (E_t of order 1).

    Example: wavekit equivariance --velocity 2 --steps 40 --json
    """
    import json

    from wavekit.networks.equivariance import EQUIVARIANCE_MODELS, compare_models

    models = list(model) if model else list(EQUIVARIANCE_MODELS)
    results = compare_models(
        models, velocity=velocity, steps=steps, n=n, seed=seed, activation=activation
    )
    if json_out:
        report = {
            "velocity_cells_per_step": velocity,
            "steps": steps,
            "n": n,
            "seed": seed,
            "tolerance": 1e-6,
            "results": [
                {
                    **r.summary(),
                    "equivariant": r.max_error <= 1e-6,
                    "errors": [float(e) for e in r.errors],
                }
                for r in results
            ],
        }
        typer.echo(json.dumps(report, indent=2))
        return
    act = results[0].extra["activation"] if results else ""
    typer.echo(
        f"flow: {velocity:g} cells/step on a ring of {n} cells, {steps} steps, seed {seed}, "
        f"activation {act}"
    )
    header = f"{'model':<10} {'max E_t':>10} {'mean E_t':>10} {'final E_t':>10}  equivariant"
    typer.echo(header)
    typer.echo("-" * len(header))
    for r in results:
        ok = "yes" if r.max_error <= 1e-6 else "no"
        typer.echo(
            f"{r.model:<10} {r.max_error:>10.2e} {r.mean_error:>10.2e} {r.final_error:>10.2e}  {ok}"
        )
