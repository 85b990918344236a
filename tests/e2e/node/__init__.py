"""The Node tools some tests run, installed with `npm ci` outside the tree.

package.json and package-lock.json here pin every version (graphql-http's server
audit, the Relay compiler, the graphql-sse and meros clients). The install goes
to a cache folder named by the lock file's hash,
~/.cache/kimgraph-tests/node-<hash> (KIMGRAPH_TEST_NODE_CACHE moves it), so a
session after the first installs nothing; no node_modules is ever left in the
tree. Without node or npm the tests skip, or fail under
KIMGRAPH_REQUIRE_SERVICES=1 (tests/services.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.services import service_missing

HERE = Path(__file__).parent
FILES = ("package.json", "package-lock.json", "audit.mjs", "http_subscribe.mjs")
INSTALL_TIMEOUT_S = 600


def _cache_root() -> Path:
    configured = os.environ.get("KIMGRAPH_TEST_NODE_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "kimgraph-tests"


def executable(name: str) -> str:
    """The path of node or npm; skips, or fails when services are required."""
    found = shutil.which(name)
    if found is None:
        service_missing(f"{name} is not installed (Node 18+ and npm are needed)")
        raise AssertionError("unreachable")  # service_missing always raises
    return found


def installed() -> Path:
    """A folder holding the pinned packages in node_modules, installed once."""
    npm = executable("npm")
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((HERE / name).read_bytes())
    folder = _cache_root() / f"node-{digest.hexdigest()[:16]}"
    if (folder / "node_modules").is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Installed beside, then renamed: a concurrent session sees all or nothing.
    work = Path(tempfile.mkdtemp(prefix="installing-", dir=folder.parent))
    try:
        for name in FILES:
            shutil.copy(HERE / name, work / name)
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=work,
            timeout=INSTALL_TIMEOUT_S,
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0:  # no registry: a missing service
            service_missing(f"npm ci failed:\n{install.stderr}")
        try:
            work.rename(folder)
        except OSError:  # another session got there first
            if not (folder / "node_modules").is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder
