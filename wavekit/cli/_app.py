"""The Typer application object that every command module registers on.

Command modules import only this module and ``typer`` at import time; heavy libraries (numpy,
xarray, numba, ...) are imported inside the command functions so ``wavekit --help`` stays fast.
"""

import typer

app = typer.Typer(
    name="wavekit",
    help="Analyse traveling waves in recorded and simulated activity.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
