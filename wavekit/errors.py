"""Errors a user can cause, each carrying the exit status that SPEC.md documents.

Library code raises these with one readable sentence (file, what is wrong, what to do); the CLI
prints that sentence on one line and exits with :attr:`WavekitError.exit_code`. Everything else
that escapes is a bug in wavekit and is reported as such.

Exit statuses: 0 success; 1 the analysis failed; 2 wrong usage; 3 unreadable or invalid input;
4 a batch finished with some inputs failed.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ANALYSIS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_BATCH_PARTIAL = 4


class WavekitError(Exception):
    """Base class of every error wavekit raises on purpose."""

    exit_code = EXIT_ANALYSIS


class InputError(WavekitError, ValueError):
    """An input file (or array) cannot be read or is not valid activity (exit status 3).

    Parameters
    ----------
    path : str or None
        The file concerned; it starts the message so the user knows which input is at fault.
    problem : str
        What is wrong and, where possible, what to do about it.
    """

    exit_code = EXIT_INPUT

    def __init__(self, path: object, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class UsageError(WavekitError, ValueError):
    """Options that contradict each other or cannot apply (exit status 2)."""

    exit_code = EXIT_USAGE


class AnalysisError(WavekitError, RuntimeError):
    """The input was valid but the analysis could not produce a result (exit status 1)."""

    exit_code = EXIT_ANALYSIS
