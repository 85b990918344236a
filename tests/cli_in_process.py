"""`kimgraph ARGS` run inside the test process, told as a finished subprocess would be.

Starting `python -m kimgraph.cli` costs ~1 s of imports (more on a loaded CI
machine), and the CLI tests start it over a hundred times. Most of them check
what the command says and its exit status, which `kimgraph.cli.main` decides
alone, so they call it here with what a fresh process would have: exactly the
given environment and working folder, an empty standard input, logging not yet
configured, Python's default warning filters (not pytest's "error"), and a
traceback on standard error if an exception escapes, as the interpreter would
print. What only a real process shows (a closed pipe, no terminal for the
password prompt, the interpreter's own traceback, a server that starts) stays
in subprocess tests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tortoise.backends.base.executor import EXECUTOR_CACHE

from kimgraph import cli

# Python's own default filters (library/warnings.html, "Default Warning Filter").
_DEFAULT_FILTERS = [
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
]


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    """No handler on the root logger, so the command's basicConfig takes effect."""
    root = logging.getLogger()
    tortoise = logging.getLogger("tortoise")
    saved = (root.handlers[:], root.level, tortoise.level)
    root.handlers.clear()
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        tortoise.setLevel(saved[2])


@contextlib.contextmanager
def _default_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for action, category, module in reversed(_DEFAULT_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
        yield


def _status(code: object) -> int:
    """The exit status `raise SystemExit(code)` gives a process."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_cli(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`kimgraph *args` in folder cwd with exactly env; as subprocess.run tells it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    # Tortoise caches INSERT statements by connection name only: a PostgreSQL
    # command after a SQLite one would reuse "?" placeholders.
    EXECUTOR_CACHE.clear()
    with (
        _environment(env),
        contextlib.chdir(cwd),
        _fresh_logging(),
        _default_warnings(),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        saved_stdin, sys.stdin = sys.stdin, io.StringIO("")
        try:
            status = _status(cli.main(list(args)))
        except SystemExit as exc:
            status = _status(exc.code)
        except BaseException:  # noqa: BLE001 (the interpreter tells any)
            traceback.print_exc()
            status = 1
        finally:
            sys.stdin = saved_stdin
            EXECUTOR_CACHE.clear()
    return subprocess.CompletedProcess(
        ["kimgraph", *args], status, stdout.getvalue(), stderr.getvalue()
    )
