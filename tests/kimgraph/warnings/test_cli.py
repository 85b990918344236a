"""`kimgraph warnings poll --feed URL --once`, run as an operator would."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from tests.cli_in_process import run_cli
from tests.kimgraph.warnings.feed_server import feed_server, ketapang_cap, rss

WIB = timezone(timedelta(hours=7))
ALERT = "2.49.0.1.360.0.2026.11.29.07.61.001"


def _wib(offset: timedelta) -> str:
    return (datetime.now(UTC) + offset).astimezone(WIB).isoformat(timespec="seconds")


def _poll(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIMGRAPH_DATABASE_URL": f"sqlite://{folder / 'k.db'}"}
    env.pop("KIMGRAPH_WARNINGS_FEED_URL", None)
    # In this process, as a fresh one would run it (tests/cli_in_process.py).
    return run_cli(["warnings", "poll", *args], env=env, cwd=folder)


def test_poll_once_publishes_then_finds_nothing_new(tmp_path: Path) -> None:
    with feed_server() as feed:
        alert = ketapang_cap(
            ALERT,
            sent=_wib(timedelta(minutes=-2)),
            effective=_wib(timedelta(minutes=-2)),
            expires=_wib(timedelta(hours=2)),
        )
        feed.serve("/cap/a.xml", alert)
        feed.serve("/rss.xml", rss((ALERT, "/cap/a.xml")))
        first = _poll(tmp_path, "--feed", f"{feed.url}/rss.xml", "--once")
        second = _poll(tmp_path, "--feed", f"{feed.url}/rss.xml", "--once")
    assert (first.returncode, first.stdout) == (
        0,
        "PUBLISHED: announcement 1, review -\n",
    )
    assert (second.returncode, second.stdout) == (0, "")


def test_poll_needs_a_feed(tmp_path: Path) -> None:
    result = _poll(tmp_path, "--once")
    assert (result.returncode, result.stderr) == (
        2,
        "kimgraph: give --feed URL or set KIMGRAPH_WARNINGS_FEED_URL\n",
    )
