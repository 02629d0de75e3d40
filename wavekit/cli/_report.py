"""How the CLI tells the user about errors: one line on standard error."""

from __future__ import annotations

import sys


def error_line(exc: BaseException) -> None:
    """Print ``wavekit: error: <message>`` on one line (newlines in the message folded)."""
    msg = " ".join(str(exc).split())
    sys.stderr.write(f"wavekit: error: {msg}\n")
    sys.stderr.flush()
