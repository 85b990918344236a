"""The `kimgraph` command as an operator runs it (through its entry point in this
process, as a fresh process would: tests/cli_in_process.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from tortoise.backends.base.executor import EXECUTOR_CACHE

from kimgraph import db
from kimgraph.accounts import auth
from kimgraph.clock import SystemClock
from kimgraph.errors import UserInputError
from tests.cli_in_process import run_cli

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"
HEADER = "code,parent_code,level,name\n"


def kimgraph(
    *args: str, database_url: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        args, cwd=cwd, env={**os.environ, "KIMGRAPH_DATABASE_URL": database_url}
    )


def test_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = kimgraph("schema", database_url="", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, SDL.read_text(encoding="utf-8"))


def test_import_reports_bad_rows_with_line_numbers_and_imports_nothing(
    database_url: str, tmp_path: Path
) -> None:
    # given
    good = tmp_path / "ketapang-extra.csv"
    good.write_text(
        HEADER
        + "61,,provinsi,Kalimantan Barat\n"
        + "61.04,61,kabupaten,Kabupaten Ketapang\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "61.04.01,61.04,kecamatan,Matan Hilir Utara\n"
        + "61.04.99.9999,61.04.99,desa,Salah\n",
        encoding="utf-8",
    )
    # when
    imported = kimgraph(
        "regions", "import", str(good), database_url=database_url, cwd=tmp_path
    )
    refused = kimgraph(
        "regions", "import", str(bad), database_url=database_url, cwd=tmp_path
    )
    again = kimgraph(
        "regions", "import", str(good), database_url=database_url, cwd=tmp_path
    )
    # then
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "2 rows: 2 added, 0 renamed, 0 unchanged\n"
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.splitlines()[-2:] == [
        f"{bad}:3: '61.04.99.9999' is not a Kemendagri region code: expected the "
        "dotted form, e.g. '61', '61.04', '61.04.16' or '61.04.16.1001'",
        "kimgraph: 1 bad row(s); nothing was imported",
    ]
    assert again.stdout == "2 rows: 0 added, 0 renamed, 2 unchanged\n"


def test_import_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = kimgraph("regions", "import", "nope.csv", database_url="", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "kimgraph: no such file: nope.csv\n"
    assert not (tmp_path / "kimgraph.db").exists()


def test_accounts_create_reports_every_bad_argument(
    database_url: str, tmp_path: Path
) -> None:
    # when
    created = kimgraph(
        "accounts",
        "create",
        "--username",
        "camat",
        "--role",
        "officer",
        "--region",
        "61.04.16",
        "--password",
        "kata-sandi-panjang",
        database_url=database_url,
        cwd=tmp_path,
    )
    refused = kimgraph(
        "accounts",
        "create",
        "--username",
        "camat",
        "--role",
        "OFFICER",
        "--region",
        "61.04.99",
        "--password",
        "pendek",
        database_url=database_url,
        cwd=tmp_path,
    )
    bad_role = kimgraph(
        "accounts",
        "create",
        "--username",
        "x1y",
        "--role",
        "BOSS",
        "--region",
        "61.04",
        "--password",
        "kata-sandi-panjang",
        database_url=database_url,
        cwd=tmp_path,
    )
    # then
    assert (created.returncode, created.stdout) == (
        0,
        "account camat created: role OFFICER, region 61.04.16\n",
    )
    assert refused.returncode == 1
    assert refused.stderr == (
        "kimgraph: username: username 'camat' is taken\n"
        "kimgraph: password: password must have at least 10 characters\n"
        "kimgraph: region: there is no region with code 61.04.99\n"
    )
    assert (bad_role.returncode, bad_role.stderr) == (
        1,
        "kimgraph: role: unknown role 'BOSS'; expected ADMIN, OFFICER or KIM\n",
    )


def test_api_keys_are_shown_once_listed_by_prefix_and_revoked(
    database_url: str, tmp_path: Path
) -> None:
    # when
    created = kimgraph(
        "apikeys",
        "create",
        "--name",
        "Aplikasi Mitra",
        "--region",
        "61.04",
        database_url=database_url,
        cwd=tmp_path,
    )
    key = created.stdout.splitlines()[1]
    listed = kimgraph("apikeys", "list", database_url=database_url, cwd=tmp_path)
    revoked = kimgraph(
        "apikeys", "revoke", "1", database_url=database_url, cwd=tmp_path
    )
    missing = kimgraph(
        "apikeys", "revoke", "99", database_url=database_url, cwd=tmp_path
    )
    relisted = kimgraph("apikeys", "list", database_url=database_url, cwd=tmp_path)
    # then
    assert created.stdout.splitlines()[0] == (
        "API key 1 for Aplikasi Mitra (region 61.04):"
    )
    assert key.startswith("kgk_")
    assert len(key) > 40
    assert "Store it now: it is not shown again." in created.stderr
    assert key not in listed.stdout
    assert key[:10] in listed.stdout
    assert listed.stdout.splitlines()[1].split()[-3:] == ["-", "Aplikasi", "Mitra"]
    assert revoked.stdout == "API key 1 (Aplikasi Mitra) is revoked\n"
    assert (missing.returncode, missing.stderr) == (
        1,
        "kimgraph: id: no API key has id 99\n",
    )
    assert "UTC" in relisted.stdout.splitlines()[1].split("UTC", 1)[1]


def test_demo_prints_credentials_that_work(database_url: str, tmp_path: Path) -> None:
    # when
    first = kimgraph("demo", database_url=database_url, cwd=tmp_path)
    second = kimgraph("demo", database_url=database_url, cwd=tmp_path)
    # then
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    # It says before anything else that the old demo credentials stop working.
    assert lines[0] == (
        "Replacing the demo credentials: the demo accounts get new passwords, and "
        "their old tokens and the old demo partner key stop working."
    )
    assert lines[2:6] == [
        "  KIM 1: KIM Demo Sampit (61.04.16.1004)",
        "  KIM 2: KIM Demo Kauman (61.04.18.1001)",
        "  KIM 3: KIM Demo Sungai Jawi (61.04.12.2006)",
        "  KIM 4: KIM Demo Tempurukan (61.04.17.2003)",
    ]
    published = [line for line in lines if "(DEMO) (" in line]
    assert [line.split()[0] for line in published] == ["EMERGENCY"] + ["NORMAL"] * 3
    assert all("(DEMO) (published" in line for line in published)
    assert " UTC)" in published[0]
    shown = [line for line in second.stdout.splitlines() if "(DEMO) (" in line]
    assert len(shown) == 4
    assert all("(already showing" in line for line in shown)
    passwords = {
        line.split()[0]: line.split()[-1] for line in lines if " password " in line
    }
    assert sorted(passwords) == [
        "demo.admin",
        "demo.camat.deltapawan",
        "demo.kim.sampit",
    ]
    assert second.stdout.splitlines()[2:6] == lines[2:6]
    new_passwords = {
        line.split()[0]: line.split()[-1]
        for line in second.stdout.splitlines()
        if " password " in line
    }
    assert new_passwords.keys() == passwords.keys()
    assert all(new_passwords[u] != passwords[u] for u in passwords)
    assert asyncio.run(
        _signs_in(database_url, "demo.admin", new_passwords["demo.admin"])
    )
    assert not asyncio.run(
        _signs_in(database_url, "demo.admin", passwords["demo.admin"])
    )


async def _signs_in(database_url: str, username: str, password: str) -> bool:
    EXECUTOR_CACHE.clear()
    await db.init(database_url)
    try:
        await auth.issue_token(SystemClock(), username, password)
    except UserInputError:
        return False
    finally:
        await db.close()
    return True
