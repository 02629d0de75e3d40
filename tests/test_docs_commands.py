"""docs/commands/: one page per command, complete, and true when run.

* Every option of every command (read from the Typer application, not from ``--help`` text)
  is mentioned on that command's page, so a new option without documentation fails here.
* Every ```` ```console ```` block of a page is run, in order, in a temporary folder holding a
  copy of ``sample_data/``: each ``$ wavekit ...`` line goes through the CLI in-process, and the
  lines shown under it must appear in what it prints (standard output, then standard error;
  whitespace runs compare equal, ``...`` stands for any text, a line of only ``...`` for
  omitted lines). A command must exit 0 unless the next line is ``$ echo $?``, whose output is
  the exit status. ``$ ls -1 DIR`` lists a folder; ``< FILE`` feeds standard input; unquoted
  globs are expanded as a shell would. Anything else in a console block is an error.
* ```` ```python ```` blocks run in the same folder, in one namespace per page; a
  ``print(...)  # shown`` line must print what its comment shows (or, when a block ends with
  ``# ...`` comment lines, those lines are everything it prints).
* A block whose info string holds ``file=NAME`` (e.g. ```` ```toml file=analysis.toml ````) is
  written to NAME in the folder before the blocks after it run.
* ```` ```bash ```` and ```` ```text ```` blocks are illustrations (paths to replace, a cluster,
  minutes of computing) and are not run.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
import sys
from pathlib import Path

import click
import pytest
import typer

from wavekit.cli import app, main

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "commands"
INDEX = PAGES / "README.md"
CLI = typer.main.get_command(app)
COMMANDS = sorted(CLI.commands)
#: pages whose examples take long (validate --quick runs the benchmark, about 15 s)
SLOW = {"validate"}

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def _page(name: str) -> str:
    return (PAGES / f"{name}.md").read_text()


# ---------------------------------------------------------------------------------- coverage


def test_one_page_per_command_and_an_index_linking_them():
    pages = {p.stem for p in PAGES.glob("*.md")} - {"README"}
    assert pages == set(COMMANDS)
    index = INDEX.read_text()
    for name in COMMANDS:
        assert f"]({name}.md)" in index, f"index does not link {name}.md"
    assert "docs/commands/" in (ROOT / "README.md").read_text()
    assert "commands/" in (ROOT / "docs" / "getting-started.md").read_text()


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_documented(name):
    text = _page(name)
    missing = []
    for param in CLI.commands[name].params:
        if not isinstance(param, click.Option):
            continue
        for flag in [*param.opts, *param.secondary_opts]:
            if flag in ("--help", "-h"):
                continue
            if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                missing.append(flag)
    assert not missing, f"docs/commands/{name}.md does not mention {', '.join(missing)}"
    assert re.search(r"^## Synopsis", text, re.M) and f"wavekit {name}" in text


@pytest.mark.parametrize("name", [*COMMANDS, "README"])
def test_relative_links_resolve(name):
    text = (PAGES / f"{name}.md").read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (PAGES / file).resolve() if file else PAGES / f"{name}.md"
        assert path.exists(), f"docs/commands/{name}.md links to missing {target}"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path.read_text()), f"{name}.md: no heading for {target}"


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = FENCE.sub("", text)
    heads = re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


# ---------------------------------------------------------------------------------- examples


def _tokens(cmd: str) -> tuple[list[str], str | None]:
    """Shell-like words of ``cmd`` (globs expanded unless quoted) and a ``< FILE`` redirect."""
    words: list[str] = []
    stdin = None
    raw = shlex.split(cmd, posix=False)
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok == "<":
            stdin = raw[i + 1]
            i += 2
            continue
        assert tok not in ("|", ">", ">>", "&&", ";") and not tok.startswith((">", "2>")), (
            f"unsupported shell syntax in a console block: {cmd}"
        )
        word = (shlex.split(tok) or [""])[0]
        if tok[0] not in "'\"" and any(c in tok for c in "*?["):
            words.extend(sorted(glob.glob(word)) or [word])
        else:
            words.append(word)
        i += 1
    return words, stdin


def _pattern(line: str) -> re.Pattern:
    parts = " ".join(line.split()).split("...")
    return re.compile(".*".join(re.escape(p.strip()) for p in parts))


def _check_output(cmd: str, shown: list[str], out: str) -> None:
    lines = [" ".join(s.split()) for s in out.splitlines()]
    for want in shown:
        if not want.strip() or want.strip() == "...":
            continue
        pat = _pattern(want)
        assert any(pat.fullmatch(line) for line in lines), (
            f"$ {cmd}\nthe page shows:\n  {want.strip()}\nbut the command printed:\n{out}"
        )


def _console(body: str) -> list[tuple[str, list[str]]]:
    entries: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1] + " " + lines[i].strip()
            entries.append((cmd.strip(), []))
        else:
            assert entries, f"output before the first command in a console block:\n{body}"
            entries[-1][1].append(line)
        i += 1
    return entries


def _run_console(body: str, capsys) -> int:
    entries = _console(body)
    last = None
    n = 0
    for k, (cmd, shown) in enumerate(entries):
        nxt = entries[k + 1][0] if k + 1 < len(entries) else ""
        if cmd == "echo $?":
            assert last is not None, "echo $? before any command"
            _check_output(cmd, shown, f"{last}\n")
            continue
        words, stdin = _tokens(cmd)
        if words[0] == "ls":
            args = [w for w in words[1:] if w != "-1"]
            assert len(args) <= 1, f"ls takes one folder here: {cmd}"
            names = sorted(p.name for p in Path(args[0] if args else ".").iterdir())
            _check_output(cmd, shown, "\n".join(names) + "\n")
            continue
        assert words[0] == "wavekit", f"console blocks run wavekit, ls and echo $? only: {cmd}"
        capsys.readouterr()
        saved = sys.stdin
        if stdin is not None:
            sys.stdin = open(stdin)  # noqa: SIM115 - closed below
        try:
            last = main(words[1:])
        finally:
            if stdin is not None:
                sys.stdin.close()
                sys.stdin = saved
        cap = capsys.readouterr()
        n += 1
        if nxt != "echo $?":
            assert last == 0, f"$ {cmd}\nexit status {last}\n{cap.out}{cap.err}"
        _check_output(cmd, shown, cap.out + cap.err)
    return n


def _run_python(body: str, ns: dict, capsys) -> None:
    lines = body.rstrip().splitlines()
    tail = len(lines)
    while tail and lines[tail - 1].startswith("# "):
        tail -= 1
    if tail < len(lines):  # the block ends with the output, as comment lines
        shown = [line[2:].strip() for line in lines[tail:]]
    else:
        shown = [
            line.split("#", 1)[1].strip()
            for line in lines
            if line.startswith("print(") and "#" in line
        ]
    capsys.readouterr()
    exec(compile(body, "docs/commands", "exec"), ns)  # noqa: S102 - our own docs
    printed = [s for s in capsys.readouterr().out.splitlines() if s.strip()]
    assert len(printed) == len(shown), f"printed {printed}, the page shows {shown}"
    for want, got in zip(shown, printed, strict=True):
        assert _pattern(want).fullmatch(" ".join(got.split())), f"printed {got!r}, shown {want!r}"


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in COMMANDS]
)
def test_page_examples_run_and_print_what_they_show(name, tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    ns: dict = {}
    n_commands = 0
    for info, body in FENCE.findall(_page(name)):
        lang, *attrs = info.split() or [""]
        target = next((a[5:] for a in attrs if a.startswith("file=")), None)
        if target:
            (tmp_path / target).write_text(body)
        elif lang == "console":
            n_commands += _run_console(body, capsys)
        elif lang == "python":
            _run_python(body, ns, capsys)
    assert n_commands >= 2, f"docs/commands/{name}.md has fewer than 2 runnable examples"
