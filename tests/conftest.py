"""Shared test fixtures: where the real recordings live, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REAL = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real").resolve()
HAS_REAL = REAL.is_dir()
needs_real = pytest.mark.skipif(not HAS_REAL, reason="../shared/data/real is absent")


@pytest.fixture
def run_cli(capsys):
    """Run ``wavekit ARGS`` in-process; return (exit status, stdout, stderr)."""
    from wavekit.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
