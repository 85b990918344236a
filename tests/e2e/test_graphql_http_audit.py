"""GraphQL over HTTP: graphql-http's own server audit against a real server.

graphql-http (npm) is the spec's reference implementation; its `auditServer`
sends ~60 requests and judges each answer. Every MUST and SHOULD check has to
pass; a MAY check may only give a notice (docs/http.md, "GraphQL over HTTP").
The audit reads the HTTP layer only, which is the same on every database: one
server on SQLite.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import node
from tests.e2e.server import Server, running_server

AUDIT_TIMEOUT_S = 300


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path, {"KIMGRAPH_DATABASE_URL": ""}) as running:
        yield running


def audit(url: str) -> list[dict[str, Any]]:
    """graphql-http's auditServer results: id, name, status, reason."""
    folder = node.installed()
    script = folder / "audit.mjs"
    run = subprocess.run(
        [node.executable("node"), str(script), url],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=AUDIT_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    return results


def test_every_must_and_should_check_of_the_audit_passes(server: Server) -> None:
    # when
    results = audit(f"{server.url}/graphql")
    # then: all 61 checks ran; MUST and SHOULD ones all passed
    by_level: dict[str, int] = {}
    for result in results:
        level = result["name"].split()[0]
        by_level[level] = by_level.get(level, 0) + 1
    assert by_level == {"MUST": 13, "SHOULD": 23, "MAY": 25}
    failed = [
        f"{r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["name"].startswith(("MUST", "SHOULD")) and r["status"] != "ok"
    ]
    assert failed == []
