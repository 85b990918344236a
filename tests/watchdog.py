"""A hung test fails with the stacks of what it waits on, instead of hanging CI.

Every wait in these tests has a deadline (docs/testing.md), so a test still running
after `KIMGRAPH_TEST_WATCHDOG_S` (600 s; the slowest test takes ~3 minutes) is
stuck. The watchdog, a timer thread per test (setup, call and teardown):

1. writes every thread's stack to a file of the run's watchdog folder;
2. on each event loop still running, writes every task's coroutine stack (an
   `await` with no deadline shows here: the loop itself sits idle in `select`)
   and cancels the tasks, so the test fails and the run goes on; the stacks are
   attached to the failure's report as the "watchdog" section;
3. if the loop is blocked and never runs that, ends the worker process after a
   further minute (pytest-xdist reports the test that crashed it).

Not stderr: pytest captures file descriptor 2 during a test, and what it holds
dies with a worker. The controller prints the folder's files at the end of the
run, whatever became of the worker that wrote them.
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import sys
import tempfile
import threading
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

WATCHDOG_S = float(os.environ.get("KIMGRAPH_TEST_WATCHDOG_S", "600"))
BLOCKED_GRACE_S = 60.0
FOLDER_VARIABLE = "KIMGRAPH_TEST_WATCHDOG_DIR"
_dumps: dict[str, list[str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    """The run's watchdog folder, made by the controller, inherited by workers."""
    if not hasattr(config, "workerinput"):
        os.environ[FOLDER_VARIABLE] = tempfile.mkdtemp(prefix="kimgraph-watchdog-")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    folder = os.environ.get(FOLDER_VARIABLE)
    if folder is None or hasattr(terminalreporter.config, "workerinput"):
        return
    for path in sorted(Path(folder).glob("*.txt")):
        terminalreporter.section(f"watchdog: {path.name}")
        terminalreporter.write(path.read_text())


def _thread_stacks() -> str:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    out = io.StringIO()
    for ident, frame in sys._current_frames().items():
        out.write(f"--- thread {names.get(ident, ident)}\n")
        out.write("".join(traceback.format_stack(frame)))
    return out.getvalue()


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    gc.unfreeze()  # kimgraph.memory freezes objects, the loop among them
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, asyncio.AbstractEventLoop) and obj.is_running()
    ]


def _emit(nodeid: str, text: str) -> None:
    _dumps.setdefault(nodeid, []).append(text)
    folder = os.environ.get(FOLDER_VARIABLE, tempfile.gettempdir())
    with open(Path(folder, f"{os.getpid()}.txt"), "a") as out:
        out.write(f"=== {nodeid}\n{text}\n")


def _on_loop(
    nodeid: str, loop: asyncio.AbstractEventLoop, ran: threading.Event
) -> None:
    ran.set()
    out = io.StringIO()
    tasks = asyncio.all_tasks(loop)
    out.write(f"{len(tasks)} tasks on the loop:\n")
    for task in tasks:
        task.print_stack(file=out)
    _emit(nodeid, out.getvalue())
    for task in tasks:
        task.cancel(f"watchdog: still running after {WATCHDOG_S:.0f} s")


def _fire(nodeid: str, finished: threading.Event) -> None:
    _emit(nodeid, f"still running after {WATCHDOG_S:.0f} s\n{_thread_stacks()}")
    ran = threading.Event()
    for loop in _running_loops():
        loop.call_soon_threadsafe(_on_loop, nodeid, loop, ran)
    if finished.wait(BLOCKED_GRACE_S) or ran.is_set():
        return
    _emit(nodeid, f"blocked: ending the worker\n{_thread_stacks()}")
    os._exit(70)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    finished = threading.Event()
    timer = threading.Timer(WATCHDOG_S, _fire, (item.nodeid, finished))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        finished.set()
        timer.cancel()
        _dumps.pop(item.nodeid, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    for text in _dumps.get(item.nodeid, []):
        report.sections.append(("watchdog", text))
    return report
