"""The watchdog (tests/watchdog.py) fails a hung test with what it waits on."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_a_hung_test_fails_with_the_await_it_hangs_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a test that awaits for ever, and a watchdog of 1 s
    pytester.makepyfile(
        test_hangs="""
        import asyncio

        async def test_waits_for_ever():
            await asyncio.Event().wait()

        def test_after_it():
            pass
        """
    )
    monkeypatch.setenv("KIMGRAPH_TEST_WATCHDOG_S", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    # when
    result = pytester.runpytest_subprocess(
        "-p",
        "tests.watchdog",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        timeout=120,
    )
    # then: it fails, the run goes on, and the report shows the await
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*CancelledError: watchdog: still running after 1 s",
            "*- watchdog -*",
            "*Stack for <Task pending*test_waits_for_ever()*",
            "*await asyncio.Event().wait()",
            "*= watchdog: *.txt =*",
            "=== test_hangs.py::test_waits_for_ever",
        ]
    )
