"""Every Python block of docs/api.md runs, in order, in one namespace, from the repository root,
and prints what the page says it prints (the comment after each ``print(...)``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_page_examples_run_and_print_what_they_show(capsys):
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    shown = [
        line.split("#", 1)[1].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("print(") and "#" in line
    ]
    ns: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for block in blocks:
            exec(compile(block, "docs/api.md", "exec"), ns)  # noqa: S102 - our own docs
    finally:
        os.chdir(cwd)
    printed = [s.strip() for s in capsys.readouterr().out.splitlines() if s.strip()]
    assert printed == shown
