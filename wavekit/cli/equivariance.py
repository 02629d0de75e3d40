"""``wavekit equivariance``: flow-equivariance errors of simulated recurrent networks."""

from typing import Annotated

import typer

from wavekit.cli._app import app


@app.command()
def equivariance(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Model to test (repeatable): flow-rnn, wrnn, convrnn, irnn, dense. Default: all.",
        ),
    ] = None,
    velocity: Annotated[
        float,
        typer.Option(
            "--velocity", "-v", help="Flow velocity in cells per step (may be fractional)."
        ),
    ] = 1.0,
    steps: Annotated[int, typer.Option("--steps", help="Length of the input sequence.")] = 50,
    n: Annotated[
        int, typer.Option("--n", help="Ring length in cells (odd for fractional velocities).")
    ] = 17,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random input and weights.")] = 0,
    activation: Annotated[
        str | None,
        typer.Option(
            "--activation",
            help="relu, tanh or linear (default: relu; linear for fractional velocities).",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON report instead of a table.")
    ] = False,
) -> None:
    """Flow-equivariance error E_t of recurrent networks for a moving input.

    E_t = ||Phi(psi f)_t - rho_t Phi(f)_t|| / ||Phi(psi f)_t||

    f is Gaussian noise on a ring; psi moves frame t by VELOCITY * t cells.

    The flow-lifted network (one hidden copy per velocity) is exactly equivariant.

    Conv and dense RNNs are not (E_t of order 1). E_0 is 0 for every model.

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
