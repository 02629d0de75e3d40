"""The ``wavekit`` command: a thin layer that parses options, calls the library, prints results.

No science lives here. Commands register on :data:`wavekit.cli._app.app`; each command module
imports only typer at import time so ``wavekit --help`` answers at once. Errors a user can cause
arrive as :class:`wavekit.errors.WavekitError` and leave as one line on standard error with the
documented exit status (SPEC.md); anything else is a wavekit bug, reported in one line too, with
the full traceback when ``WAVEKIT_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys

from ._app import app

_COMMANDS = ("info", "convert", "analyze", "batch", "plot", "simulate", "equivariance", "validate")
for _name in _COMMANDS:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a command whose module is not written yet
        if _exc.name != f"{__name__}.{_name}":
            raise


def _version_callback(value: bool) -> None:
    import typer

    if value:
        from .._version import __version__

        sys.stdout.write(f"wavekit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = __import__("typer").Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Analyse traveling waves in recorded and simulated activity.

    Start with: wavekit info FILE (what wavekit finds in a recording).
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Usage errors are reported by Typer (exit status 2); the console script exits with the
    returned status.
    """
    from ..errors import EXIT_ANALYSIS, WavekitError
    from ._report import error_line

    try:
        app(args=argv, prog_name="wavekit", standalone_mode=True)
        code = 0
    except SystemExit as exc:  # standalone mode always ends this way: success, --help, usage
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except WavekitError as exc:
        error_line(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("wavekit: interrupted\n")
        code = 130
    except BrokenPipeError:  # e.g. `wavekit info ... | head`
        code = 0
    except Exception as exc:  # noqa: BLE001 - a bug in wavekit: one line unless debugging
        if os.environ.get("WAVEKIT_DEBUG"):
            raise
        error_line(
            RuntimeError(
                f"internal error ({type(exc).__name__}: {exc}); please report "
                "it, rerun with WAVEKIT_DEBUG=1 for the traceback"
            )
        )
        code = EXIT_ANALYSIS
    return code
