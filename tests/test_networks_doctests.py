"""The runnable examples in the docstrings of wavekit.networks are correct."""

import doctest
import importlib

import pytest

MODULES = [
    "shifts",
    "wrnn",
    "flow",
    "vocabulary",
    "equivariance",
    "oscillators",
    "kuramoto",
    "simulate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"wavekit.networks.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
