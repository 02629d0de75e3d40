"""Every example in wavekit's docstrings runs and shows what it prints.

The modules are found on disk (``wavekit/pipeline`` is a namespace package that
``pkgutil.walk_packages`` would skip), so a new module with ``>>>`` examples is tested without
being listed here. Examples run with ``NORMALIZE_WHITESPACE | ELLIPSIS`` and numpy's default
print options, whatever an earlier test set.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

import wavekit

PKG = Path(wavekit.__file__).resolve().parent
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
#: numpy's defaults, so that an example's output does not depend on the tests run before it
PRINT = dict(
    precision=8,
    threshold=1000,
    edgeitems=3,
    linewidth=75,
    suppress=False,
    nanstr="nan",
    infstr="inf",
    sign="-",
    floatmode="maxprec",
    legacy=False,
)
#: public functions without an example, and why (their modules are being rewritten elsewhere)
NO_EXAMPLE_YET = {
    "analyze": "pipeline/analyze.py: its example is in the wavekit module docstring",
    "analyze_file": "pipeline/analyze.py: writes a folder; shown in docs/api.md",
    "make_config": "pipeline/config.py: shown with analyze in the wavekit module docstring",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(
    _module_name(p)
    for p in PKG.rglob("*.py")
    if p.name != "__main__.py" and ">>>" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with np.printoptions(**PRINT):
        result = doctest.testmod(module, optionflags=FLAGS, report=True)
    assert result.attempted > 0, f"{name} has '>>>' outside a docstring doctest can find"
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (see the output)"


def _public_functions():
    import wavekit.analysis as analysis

    for owner, names in ((wavekit, wavekit.__all__), (analysis, analysis.__all__)):
        for name in names:
            obj = getattr(owner, name)
            if inspect.isfunction(obj):
                yield f"{owner.__name__}.{name}", name, obj


def test_public_functions_have_examples():
    missing = [
        qual
        for qual, name, obj in _public_functions()
        if ">>>" not in (inspect.getdoc(obj) or "") and name not in NO_EXAMPLE_YET
    ]
    assert not missing, f"public functions without a docstring example: {', '.join(missing)}"
