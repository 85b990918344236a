"""Provisioned e2e databases: set up once per test run, copied for every test.

Provisioning an e2e database the way an operator does (`kimgraph accounts
create`, `regions import`, `apikeys create`) cost one interpreter start each,
~1-2 s on a loaded CI machine, up to seven per test. Here the same commands run
once, through `kimgraph.cli.main` in ONE helper process (this module run with
`python -m`; Tortoise's state then never meets the test process's), into a
template database. Each test gets its own copy: the SQLite file copied, or
PostgreSQL's `CREATE DATABASE ... TEMPLATE`. A test's writes stay its own.

A recipe is a list of steps, run in order in the template's folder:
`["cli", *argv]` runs `kimgraph *argv` (stdout kept; "{kim}" in an argument is
replaced by the last registered KIM's key), `["kim", username, name, region]`
registers a KIM as that account would with kimRegister (with its three
officers, `tests.people.officers`), `["file", name, text]`
writes a file a later command reads.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import POSTGRES_URL, postgres_database, settled, sqlite_copy

Recipe = list[list[str]]
ROOT = Path(__file__).resolve().parents[2]  # where `tests` is importable from

# (backend, recipe as JSON) -> (template: SQLite file or PostgreSQL URL, outputs)
_templates: dict[tuple[str, str], tuple[str, list[str]]] = {}
_folder: Path | None = None


def _session_folder() -> Path:
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="kimgraph-provisioned-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def _provision(url: str, folder: Path, recipe: Recipe) -> list[str]:
    """Run the recipe against url in a helper process; each step's output."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.provision", json.dumps(recipe)],
        env={
            **os.environ,
            "KIMGRAPH_DATABASE_URL": url,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), os.environ.get("PYTHONPATH", "")]
            ),
        },
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"provisioning failed ({result.returncode}):\n{result.stderr}"
        )
    outputs: list[str] = json.loads(result.stdout)
    return outputs


def _template(backend: str, recipe: Recipe) -> tuple[str, list[str]]:
    key = (backend, json.dumps(recipe))
    if key not in _templates:
        folder = Path(tempfile.mkdtemp(dir=_session_folder()))
        if backend == "sqlite":
            path = folder / "kimgraph.db"
            outputs = _provision(f"sqlite://{path}", folder, recipe)
            _templates[key] = (str(settled(path)), outputs)
        else:
            # Kept for the whole run (its exit drops it), like the migrated one.
            manager = postgres_database(migrated=True)
            url = manager.__enter__()
            atexit.register(manager.__exit__, None, None, None)
            outputs = _provision(url, folder, recipe)
            _templates[key] = (url, outputs)
    return _templates[key]


@contextmanager
def provisioned(
    backend: str, folder: Path, recipe: Recipe
) -> Iterator[tuple[str, list[str]]]:
    """A database of its own for this test, as the recipe left it; (url, outputs)."""
    template, outputs = _template(backend, recipe)
    if backend == "sqlite":
        yield sqlite_copy(Path(template), folder), outputs
        return
    with postgres_database(template=template.removeprefix(POSTGRES_URL)) as url:
        yield url, outputs


def _run(recipe: Recipe) -> list[str]:
    """In the helper process: every step, in order, as the CLI would."""
    from kimgraph import cli, db, kims, models
    from kimgraph.accounts.auth import account_principal
    from kimgraph.clock import SystemClock
    from tests.people import officers

    outputs: list[str] = []
    kim = ""
    for kind, *args in recipe:
        if kind == "file":
            Path(args[0]).write_text(args[1], encoding="utf-8")
            outputs.append("")
        elif kind == "kim":

            async def register(username: str, name: str, region: str) -> str:
                await db.init(os.environ["KIMGRAPH_DATABASE_URL"])
                try:
                    account = await models.Account.get(username=username)
                    row = await kims.register_kim(
                        SystemClock(),
                        account_principal(account),
                        name=name,
                        region_code=region,
                        decree_number=None,
                        established_on=None,
                        members=officers(name),
                    )
                    return str(row.id)
                finally:
                    await db.close()

            kim = asyncio.run(register(*args))
            outputs.append(kim)
        else:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = cli.main([a.replace("{kim}", kim) for a in args])
            if status != 0:
                raise SystemExit(f"kimgraph {' '.join(args)} exited {status}")
            outputs.append(out.getvalue())
    return outputs


if __name__ == "__main__":
    print(json.dumps(_run(json.loads(sys.argv[1]))))
