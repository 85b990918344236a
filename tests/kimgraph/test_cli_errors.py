"""Ordinary mistakes at the `kimgraph` command: one line, an exit status, no traceback.

Each test runs the real command with a clean environment, as an operator would
(docs/operations.md, "Command-line errors"): in this process (tests/cli_in_process.py),
or in a subprocess where only a process shows the behaviour (`process=True`).
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from kimgraph import db, models
from kimgraph.cursors import encode_id
from kimgraph.serve import open_database
from kimgraph.settings import Settings, described, variable_names
from tests.cli_in_process import run_cli
from tests.services import postgres_database

README = Path(__file__).parents[2] / "README.md"
CSV = "code,parent_code,level,name\n61,,provinsi,Kalimantan Barat\n"
FILE_MISTAKE = 2
RUN_FAILURE = 1


def kimgraph(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdout: int | None = subprocess.PIPE,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """The command with nothing of this process's environment but PATH."""
    environment = {"PATH": os.environ["PATH"], **(env or {})}
    if not process and stdout == subprocess.PIPE:
        return run_cli(args, cwd=cwd, env=environment)
    return subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        check=False,
        # No controlling terminal: getpass cannot open /dev/tty.
        start_new_session=True,
    )


def told(result: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    """(exit status, first line of stderr), after checking no traceback shows."""
    assert "Traceback" not in (result.stdout or "") + result.stderr, result.stderr
    lines = result.stderr.splitlines()
    return result.returncode, lines[0] if lines else ""


def server(url: str) -> str:
    """host:port of a PostgreSQL URL, as the command names it."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}"


def seed(folder: Path) -> None:
    """The command's default database in folder, migrated and holding Ketapang.

    A command that finds it empty would log the seeding first.
    """

    async def opened() -> None:
        EXECUTOR_CACHE.clear()
        await open_database(Settings(database_url=f"sqlite://{folder}/kimgraph.db"))
        await db.close()

    asyncio.run(opened())


def free_port() -> int:
    """A port nobody listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unknown_log_level(tmp_path: Path) -> None:
    result = kimgraph("migrate", cwd=tmp_path, env={"KIMGRAPH_LOG_LEVEL": "verbose"})
    assert told(result) == (
        2,
        "kimgraph: KIMGRAPH_LOG_LEVEL must be one of critical, error, warning, "
        "info, debug, got 'verbose'",
    )


def test_a_mysql_database_url(tmp_path: Path) -> None:
    url = "mysql://kim:rahasia@localhost/kimgraph"
    result = kimgraph("migrate", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": url})
    assert told(result) == (
        2,
        "kimgraph: KIMGRAPH_DATABASE_URL must look like sqlite://FILE or "
        "postgres://user:pass@host:5432/db; got scheme 'mysql'",
    )
    assert "rahasia" not in result.stderr


def test_a_database_url_of_no_known_scheme(tmp_path: Path) -> None:
    result = kimgraph(
        "schema", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": "kimgraph.db"}
    )
    assert told(result) == (
        2,
        "kimgraph: KIMGRAPH_DATABASE_URL must look like sqlite://FILE or "
        "postgres://user:pass@host:5432/db; got no scheme",
    )


def test_a_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    # given: a real server, and a name no database on it has
    with postgres_database() as url:
        missing = url + "_missing"
        # when
        result = kimgraph(
            "migrate", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": missing}
        )
    # then
    name = missing.rsplit("/", 1)[1]
    assert told(result) == (
        2,
        f'kimgraph: cannot open the database at {server(url)}: database "{name}" '
        "does not exist",
    )


def test_a_postgresql_port_nobody_listens_on(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgres://postgres:rahasia@127.0.0.1:{port}/kimgraph"
    result = kimgraph("migrate", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": url})
    assert told(result) == (
        1,
        f"kimgraph: cannot open the database at 127.0.0.1:{port}: "
        "connection refused (is it running?)",
    )
    assert "rahasia" not in result.stderr


def test_a_postgresql_user_that_does_not_exist(tmp_path: Path) -> None:
    with postgres_database() as url:
        stranger = re.sub(r"^postgres://[^@/]*@", "postgres://orang_asing@", url)
        result = kimgraph(
            "migrate", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": stranger}
        )
    assert told(result) == (
        2,
        f"kimgraph: cannot open the database at {server(url)}: "
        'role "orang_asing" '
        "does not exist",
    )


def test_a_database_folder_that_does_not_exist(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/nowhere/kimgraph.db"
    result = kimgraph("migrate", cwd=tmp_path, env={"KIMGRAPH_DATABASE_URL": url})
    assert told(result) == (
        2,
        f"kimgraph: the database folder {tmp_path}/nowhere does not exist",
    )


def test_a_file_that_is_not_gzip(tmp_path: Path) -> None:
    (tmp_path / "regions.csv.gz").write_text(CSV, encoding="utf-8")
    result = kimgraph("regions", "import", "regions.csv.gz", cwd=tmp_path)
    assert told(result) == (
        1,
        "kimgraph: regions.csv.gz: not a gzip file "
        "(a plain CSV file's name ends in .csv)",
    )


def test_a_gzip_file_cut_short(tmp_path: Path) -> None:
    whole = gzip.compress((CSV * 200).encode())
    (tmp_path / "regions.csv.gz").write_bytes(whole[: len(whole) // 2])
    result = kimgraph("regions", "import", "regions.csv.gz", cwd=tmp_path)
    assert told(result) == (
        1,
        "kimgraph: regions.csv.gz: the gzip file ends early; it is cut short",
    )


def test_a_damaged_gzip_file(tmp_path: Path) -> None:
    # given: the first deflate block (after the 10-byte header) of type 3,
    # which does not exist
    whole = bytearray(gzip.compress(CSV.encode()))
    whole[10] = 0b111
    (tmp_path / "regions.csv.gz").write_bytes(bytes(whole))
    # when
    result = kimgraph("regions", "import", "regions.csv.gz", cwd=tmp_path)
    # then
    assert told(result) == (
        1,
        "kimgraph: regions.csv.gz: the gzip file is damaged "
        "(Error -3 while decompressing data: invalid block type)",
    )


def test_a_region_file_that_does_not_exist(tmp_path: Path) -> None:
    result = kimgraph("regions", "import", "nope.csv", cwd=tmp_path)
    assert told(result) == (2, "kimgraph: no such file: nope.csv")


def test_a_password_prompt_without_a_terminal(tmp_path: Path) -> None:
    result = kimgraph(
        "accounts",
        "create",
        "--username",
        "camat",
        "--role",
        "OFFICER",
        "--region",
        "61.04.16",
        cwd=tmp_path,
        process=True,
    )
    assert told(result) == (
        2,
        "kimgraph: no terminal to ask for the password on; pass --password",
    )
    assert not (tmp_path / "kimgraph.db").exists()


def test_schema_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    # given: a pipe whose reader has gone, as `kimgraph schema | head` leaves it
    reader, writer = os.pipe()
    os.close(reader)
    try:
        # when
        result = kimgraph("schema", cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    # then
    assert (result.returncode, result.stderr) == (1, "")


def test_an_unknown_role(tmp_path: Path) -> None:
    seed(tmp_path)
    result = kimgraph(
        "accounts",
        "create",
        "--username",
        "bos",
        "--role",
        "BOSS",
        "--region",
        "61.04",
        "--password",
        "kata-sandi-panjang",
        cwd=tmp_path,
    )
    assert told(result) == (
        1,
        "kimgraph: role: unknown role 'BOSS'; expected ADMIN, OFFICER or KIM",
    )


def test_a_region_code_that_does_not_exist(tmp_path: Path) -> None:
    seed(tmp_path)
    result = kimgraph(
        "apikeys", "create", "--name", "Mitra", "--region", "61.04.99", cwd=tmp_path
    )
    assert told(result) == (
        1,
        "kimgraph: region: there is no region with code 61.04.99",
    )


def test_an_unknown_kim_by_number_or_id(tmp_path: Path) -> None:
    # given
    seed(tmp_path)
    # when
    results = [
        kimgraph(
            "accounts",
            "create",
            "--username",
            "kim.baru",
            "--role",
            "KIM",
            "--kim",
            kim,
            "--password",
            "kata-sandi-panjang",
            cwd=tmp_path,
        )
        for kim in ("99", encode_id("Kim", 99))
    ]
    # then
    assert [told(result) for result in results] == [
        (1, "kimgraph: kim: no KIM has id 99"),
    ] * 2


def test_a_kim_given_as_neither_number_nor_id(tmp_path: Path) -> None:
    result = kimgraph(
        "accounts",
        "create",
        "--username",
        "kim.baru",
        "--role",
        "KIM",
        "--kim",
        encode_id("Announcement", 1),
        cwd=tmp_path,
    )
    assert told(result) == (
        2,
        "kimgraph: accounts create: argument --kim: "
        f"{encode_id('Announcement', 1)!r} is neither a number nor the id of a "
        "Kim (see kimgraph accounts create --help)",
    )


def test_accounts_create_takes_the_kims_global_id(tmp_path: Path) -> None:
    # given
    seed(tmp_path)
    kim_id = asyncio.run(_a_kim(tmp_path))
    # when
    result = kimgraph(
        "accounts",
        "create",
        "--username",
        "kim.uji",
        "--role",
        "KIM",
        "--kim",
        encode_id("Kim", kim_id),
        "--password",
        "kata-sandi-panjang",
        cwd=tmp_path,
    )
    # then
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"account kim.uji created: role KIM, region 61.04.16.1004, KIM {kim_id}\n",
        "",
    )


async def _a_kim(folder: Path) -> int:
    EXECUTOR_CACHE.clear()
    await db.init(f"sqlite://{folder}/kimgraph.db")
    try:
        now = datetime.now(UTC)
        kim = await models.Kim.create(
            name="KIM Uji", region_id="61.04.16.1004", created_at=now, updated_at=now
        )
    finally:
        await db.close()
    return kim.id


def test_apikeys_revoke_takes_a_number_or_the_keys_global_id(tmp_path: Path) -> None:
    # when
    created = [
        kimgraph("apikeys", "create", "--name", name, "--region", "61.04", cwd=tmp_path)
        for name in ("Mitra Satu", "Mitra Dua")
    ]
    by_number = kimgraph("apikeys", "revoke", "1", cwd=tmp_path)
    by_id = kimgraph("apikeys", "revoke", encode_id("ApiKey", 2), cwd=tmp_path)
    unknown = kimgraph("apikeys", "revoke", encode_id("ApiKey", 99), cwd=tmp_path)
    # then
    assert [result.returncode for result in created] == [0, 0]
    assert by_number.stdout == "API key 1 (Mitra Satu) is revoked\n"
    assert by_id.stdout == "API key 2 (Mitra Dua) is revoked\n"
    assert told(unknown) == (1, "kimgraph: id: no API key has id 99")


def test_a_usage_mistake_is_one_line(tmp_path: Path) -> None:
    # when
    results = [
        kimgraph(*args, cwd=tmp_path)
        for args in (
            (),
            ("serve", "--port", "99999"),
            ("serve", "--workers", "0"),
            ("accounts", "create", "--role", "ADMIN"),
        )
    ]
    # then
    assert [told(result) for result in results] == [
        (2, "kimgraph: the following arguments are required: command "
            "(see kimgraph --help)"),
        (2, "kimgraph: serve: argument --port: '99999' is not a port from 1 to "
            "65535 (see kimgraph serve --help)"),
        (2, "kimgraph: serve: argument --workers: '0' is not a number from 1 up "
            "(see kimgraph serve --help)"),
        (2, "kimgraph: accounts create: the following arguments are required: "
            "--username (see kimgraph accounts create --help)"),
    ]  # fmt: skip
    assert all(len(result.stderr.splitlines()) == 1 for result in results)


def test_serve_on_a_port_in_use(tmp_path: Path) -> None:
    # given
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # when
        result = kimgraph("serve", "--port", str(port), cwd=tmp_path, process=True)
    # then
    assert told(result) == (
        1,
        f"kimgraph: cannot listen on 127.0.0.1:{port}: address already in use",
    )
    assert not (tmp_path / "kimgraph.db").exists()


def test_serve_on_a_host_that_does_not_exist(tmp_path: Path) -> None:
    result = kimgraph(
        "serve", "--host", "tidak-ada.invalid", cwd=tmp_path, process=True
    )
    assert told(result) == (
        2,
        "kimgraph: cannot listen on tidak-ada.invalid:8000: no such host",
    )


# Values no setting of that type accepts, and what the command says of them.
BAD_VALUES = {
    "int": ("many", "{name} must be a whole number, got 'many'"),
    "float": ("soon", "{name} must be a number, got 'soon'"),
    "bool": ("maybe", "{name} must be 1 or 0 (on/off), got 'maybe'"),
}
BAD_TEXT = {
    "KIMGRAPH_DATABASE_URL": (
        "mysql://localhost/kimgraph",
        "KIMGRAPH_DATABASE_URL must look like sqlite://FILE or "
        "postgres://user:pass@host:5432/db; got scheme 'mysql'",
    ),
    "KIMGRAPH_REDIS_URL": (
        "http://localhost:6379",
        "KIMGRAPH_REDIS_URL must look like redis://host:6379/0, "
        "rediss://host:6379/0 or unix:///path/to/redis.sock; got scheme 'http'",
    ),
    "KIMGRAPH_ALLOWED_ORIGINS": (
        "*",
        "KIMGRAPH_ALLOWED_ORIGINS: '*' is not an origin like https://app.example.id "
        "or http://localhost:5173 (list each origin; * is not accepted)",
    ),
    "KIMGRAPH_LOG_LEVEL": (
        "loud",
        "KIMGRAPH_LOG_LEVEL must be one of critical, error, warning, info, debug, "
        "got 'loud'",
    ),
}
CASES = {
    **{
        f"KIMGRAPH_{f.name.upper()}": (
            BAD_VALUES[str(f.type)][0],
            BAD_VALUES[str(f.type)][1].format(name=f"KIMGRAPH_{f.name.upper()}"),
        )
        for f in fields(Settings)
        if str(f.type) in BAD_VALUES
    },
    **BAD_TEXT,
}


@pytest.mark.parametrize(("variable", "case"), sorted(CASES.items()))
def test_an_invalid_value_of_each_setting(
    variable: str, case: tuple[str, str], tmp_path: Path
) -> None:
    value, message = case
    result = kimgraph("migrate", cwd=tmp_path, env={variable: value})
    assert told(result) == (2, f"kimgraph: {message}")
    assert not (tmp_path / "kimgraph.db").exists()


def test_every_setting_is_read_from_its_own_variable() -> None:
    # given: an empty environment that remembers what was asked of it
    asked: list[str] = []

    class Recording(Mapping[str, str]):
        def __getitem__(self, key: str) -> str:
            asked.append(key)
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    # when
    Settings.from_env(Recording())
    # then: the names the warning knows are exactly the names read
    assert sorted(set(asked)) == sorted(variable_names())


def test_a_misspelt_variable_is_warned_about_with_the_likely_name(
    tmp_path: Path,
) -> None:
    result = kimgraph(
        "schema",
        cwd=tmp_path,
        env={"KIMGRAPH_DATABSE_URL": "sqlite://x.db", "KIMGRAPH_WARNA": "merah"},
    )
    assert result.returncode == 0
    assert "type Query {" in result.stdout
    assert result.stderr.splitlines() == [
        "kimgraph: warning: KIMGRAPH_DATABSE_URL is not a KIMgraph setting; "
        "did you mean KIMGRAPH_DATABASE_URL?",
        "kimgraph: warning: KIMGRAPH_WARNA is not a KIMgraph setting; "
        "`kimgraph serve --help` lists them",
    ]


def test_the_test_suites_variables_are_not_warned_about(tmp_path: Path) -> None:
    result = kimgraph(
        "schema",
        cwd=tmp_path,
        env={
            "KIMGRAPH_TEST_POSTGRES_URL": "postgres://postgres@127.0.0.1:5432/",
            "KIMGRAPH_TEST_REDIS_URL": "redis://127.0.0.1:6379/0",
            "KIMGRAPH_TEST_NODE_CACHE": "/tmp",
            "KIMGRAPH_REQUIRE_SERVICES": "1",
            "KIMGRAPH_BOARD_SCREENSHOTS": "docs",
        },
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_version_comes_from_the_package(tmp_path: Path) -> None:
    result = kimgraph("--version", cwd=tmp_path, process=True)
    assert (result.returncode, result.stdout) == (
        0,
        f"kimgraph {version('kimgraph')}\n",
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgres://postgres@127.0.0.1:{port}/kimgraph"
    result = kimgraph(
        "--debug",
        "migrate",
        cwd=tmp_path,
        env={"KIMGRAPH_DATABASE_URL": url},
        process=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.splitlines()[-1].startswith("ConnectionRefusedError: ")


def test_serve_help_lists_every_option_and_variable_with_its_default(
    tmp_path: Path,
) -> None:
    # when
    result = kimgraph("serve", "--help", cwd=tmp_path)
    # then: each option (but --help) says its default
    options = result.stdout.split("options:\n", 1)[1].split("\n\n", 1)[0]
    entries = [" ".join(e.split()) for e in re.split(r"\n(?=  -)", options)]
    defaults = {
        entry.split()[0]: re.findall(r"\(default: ([^)]*)\)$", entry)
        for entry in entries
    }
    assert defaults.pop("-h,") == []
    assert {
        "--host": ["127.0.0.1"],
        "--port": ["8000"],
        "--workers": ["1"],
    }.items() <= (defaults.items())
    assert all(len(found) == 1 for found in defaults.values()), defaults
    # and every variable, with its default and what it does
    listed = re.findall(
        r"^  (KIMGRAPH_\w+) \(default: (.*)\)\n      (.+)$", result.stdout, re.M
    )
    assert listed == described()
    assert all(about for _, _, about in listed)


def test_the_readme_lists_every_setting_with_its_default() -> None:
    # given: the README's configuration table
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    # A default is `written` or a word (unset, empty), maybe with a note after.
    rows = re.findall(
        r"^\| `(KIMGRAPH_\w+)` \| (?:`([^`]*)`|(\w+))[^|]*\|", section, re.M
    )
    table = {name: written or word for name, written, word in rows}
    assert len(table) == len(rows), "a variable has two rows"
    # then
    assert table == {name: default for name, default, _ in described()}
