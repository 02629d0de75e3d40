"""Telling the user what a long command is doing, on standard error only.

* **Stage messages** go through :mod:`logging` (logger ``wavekit``; the pipeline logs under
  ``wavekit.pipeline.*`` at INFO level). They are silent unless a command runs with
  ``--verbose`` (:func:`verbose_to_stderr`), which prints each on standard error with the
  seconds since the command started. In Python, ``logging.basicConfig(level="INFO")`` shows
  them too.
* **Progress bars** (:class:`Progress`) draw one line on standard error that rewrites itself.
  They are drawn only inside :func:`show_progress` (the CLI enters it when standard error is a
  terminal and ``--quiet`` is not given: :func:`wants_progress`), so pipes, log files and
  notebooks never receive them.

Standard output is never written here: it carries only results.

Only the standard library is imported, so the CLI may import this module at any time.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

LOGGER = "wavekit"

_SHOW: contextvars.ContextVar[bool] = contextvars.ContextVar("wavekit_progress", default=False)
#: the bar currently drawn (a log line clears it first, and it is redrawn after)
_ACTIVE: list[Progress] = []


def wants_progress(quiet: bool = False) -> bool:
    """Whether a command should draw progress bars: not ``--quiet`` and standard error is a
    terminal."""
    if quiet:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


@contextlib.contextmanager
def show_progress(enabled: bool = True) -> Iterator[None]:
    """Let :class:`Progress` bars created in this block draw (when ``enabled``)."""
    token = _SHOW.set(bool(enabled))
    try:
        yield
    finally:
        _SHOW.reset(token)
        for bar in list(_ACTIVE):  # a step that failed half-way: end its line
            bar.close()


def _fmt_s(s: float) -> str:
    return f"{s:.1f} s" if s < 600 else f"{s / 60:.1f} min"


class Progress:
    """A text progress line on standard error: ``label [#####.....] 3/10 1.2 s``.

    Parameters
    ----------
    label : str
        What is counted (``chunks``, ``surrogates``, ``inputs``).
    total : int
        Number of steps.
    enabled : bool, optional
        Draw at all (default: inside :func:`show_progress`).
    min_interval_s : float
        Redraw at most this often (the last step is always drawn).

    Examples
    --------
    >>> bar = Progress("chunks", 3, enabled=False)   # nothing is drawn when disabled
    >>> for _ in range(3):
    ...     bar.update()
    >>> bar.close()
    >>> bar.done
    3
    """

    width = 24

    def __init__(
        self,
        label: str,
        total: int,
        *,
        enabled: bool | None = None,
        min_interval_s: float = 0.1,
    ) -> None:
        self.label = label
        self.total = max(0, int(total))
        self.enabled = _SHOW.get() if enabled is None else bool(enabled)
        self.done = 0
        self.note = ""
        self._t0 = time.perf_counter()
        self._last = -1.0
        self._min = min_interval_s
        self._shown = 0  # characters on the line now
        self._closed = False
        if self.enabled:
            _ACTIVE.append(self)
            self._draw()

    @staticmethod
    def _stream() -> TextIO:
        return sys.stderr  # looked up each time: tests and the CLI may replace it

    def line(self) -> str:
        """The text of the progress line."""
        n = self.total
        frac = min(1.0, self.done / n) if n else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{self.label} [{bar}] {self.done}/{n} {_fmt_s(time.perf_counter() - self._t0)}"
        return f"{text} {self.note}" if self.note else text

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self._min:
            return
        self._last = now
        text = self.line()
        pad = max(0, self._shown - len(text))
        stream = self._stream()
        stream.write("\r" + text + " " * pad)
        stream.flush()
        self._shown = len(text)

    def clear(self) -> None:
        """Erase the line (before another message is written)."""
        if self.enabled and self._shown:
            stream = self._stream()
            stream.write("\r" + " " * self._shown + "\r")
            stream.flush()
            self._shown = 0

    def update(self, n: int = 1, note: str | None = None) -> None:
        """Advance by ``n`` steps (optionally changing the note after the counts)."""
        self.done += n
        if note is not None:
            self.note = note
        if self.enabled and not self._closed:
            self._draw(force=self.done >= self.total)

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw(force=True)
            stream = self._stream()
            stream.write("\n")
            stream.flush()
            self._shown = 0
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def counted(fn: Callable[..., Any], label: str, total: int) -> Callable[..., Any]:
    """``fn`` wrapped so that each call advances a progress bar of ``total`` steps (created at
    the first call, closed after the last)."""
    state: dict[str, Progress | None] = {"bar": None}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["bar"] is None:
            state["bar"] = Progress(label, total)
        out = fn(*args, **kwargs)
        bar = state["bar"]
        bar.update()
        if bar.done >= total:
            bar.close()
        return out

    return wrapper


class _Handler(logging.StreamHandler):
    """Writes log lines on the current standard error, clearing a drawn progress line first."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.t0 = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        for bar in _ACTIVE:
            bar.clear()
        super().emit(record)
        for bar in _ACTIVE:
            bar._draw(force=True)


class _Elapsed(logging.Formatter):
    def __init__(self, handler: _Handler, prefix: str = "") -> None:
        super().__init__()
        self.handler = handler
        self.prefix = f"{prefix}: " if prefix else ""

    def format(self, record: logging.LogRecord) -> str:
        t = time.perf_counter() - self.handler.t0
        return f"wavekit [{t:7.2f} s] {self.prefix}{record.getMessage()}"


@contextlib.contextmanager
def verbose_to_stderr(enabled: bool = True, prefix: str = "") -> Iterator[None]:
    """Print the pipeline's stage messages on standard error in this block (``--verbose``):
    ``wavekit [   1.23 s] band 7.07-14.1 Hz (spectral peak ...)``; ``prefix`` (for example
    the input's name in ``batch``) goes before each message."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(LOGGER)
    handler = _Handler()
    handler.setFormatter(_Elapsed(handler, prefix))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
