"""`kimgraph units create|list|add-member|remove-member|archive`, as run.

Through the command's entry point in this process, on a SQLite file, as an
operator runs it (tests/cli_in_process.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kimgraph.cursors import encode_id
from tests.kimgraph.accounts.test_accounts_cli import PASSWORD, kimgraph

HEADER = f"{'id':<12}  {'region':<13}  {'members':>7}  name"


def row(number: int, region: str, members: int, name: str) -> str:
    return f"{encode_id('Unit', number):<12}  {region:<13}  {members:>7}  {name}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A database with an OFFICER (account 1) and a an ADMIN (account 2)."""
    for username, role in (("pupr", "OFFICER"), ("admin", "ADMIN")):
        status, _, err = kimgraph(
            tmp_path,
            "accounts", "create", "--username", username, "--role", role,
            "--region", "61.04", "--password", PASSWORD,
        )  # fmt: skip
        assert status == 0, err
    return tmp_path


def test_an_operator_creates_lists_and_staffs_units(folder: Path) -> None:
    # when
    created = kimgraph(
        folder, "units", "create", "--name", "Dinas PUPR", "--region", "61.04"
    )
    office = kimgraph(
        folder, "units", "create", "--name", "Kantor Camat", "--region", "61.04.18"
    )
    added = kimgraph(folder, "units", "add-member", encode_id("Unit", 1), "pupr")
    listed = kimgraph(folder, "units", "list")
    near = kimgraph(folder, "units", "list", "--region", "61.04.16")
    removed = kimgraph(folder, "units", "remove-member", "1", encode_id("Account", 1))
    archived = kimgraph(folder, "units", "archive", "2")
    in_use = kimgraph(folder, "units", "list")
    every = kimgraph(folder, "units", "list", "--archived")
    # then
    assert created == (0, f"{encode_id('Unit', 1)}\n", "")
    assert office == (0, f"{encode_id('Unit', 2)}\n", "")
    assert added == (0, "pupr is a member of Dinas PUPR from its next request on\n", "")
    pupr = row(1, "61.04", 1, "Dinas PUPR")
    camat = row(2, "61.04.18", 0, "Kantor Camat")
    assert listed == (0, f"{HEADER}\n{pupr}\n{camat}\n", "")
    assert near == (0, f"{HEADER}\n{pupr}\n", "")
    assert removed == (
        0,
        f"{encode_id('Account', 1)} is no longer a member of Dinas PUPR\n",
        "",
    )
    assert archived == (0, "Kantor Camat is archived\n", "")
    pupr = row(1, "61.04", 0, "Dinas PUPR")
    assert in_use == (0, f"{HEADER}\n{pupr}\n", "")
    assert every == (0, f"{HEADER}\n{pupr}\n{camat} (archived)\n", "")


def test_refused_unit_commands_say_why_in_one_line(folder: Path) -> None:
    # given
    kimgraph(folder, "units", "create", "--name", "Dinas PUPR", "--region", "61.04")
    # when
    twice = kimgraph(
        folder, "units", "create", "--name", "Dinas PUPR", "--region", "61.04"
    )
    admin = kimgraph(folder, "units", "add-member", "1", "admin")
    nobody = kimgraph(folder, "units", "add-member", "1", "nobody")
    # then
    assert twice[:2] == (1, "")
    assert "a unit named 'Dinas PUPR' already serves region 61.04" in twice[2]
    assert "only OFFICER accounts belong to units; admin is ADMIN" in admin[2]
    assert "no account has the id or username 'nobody'" in nobody[2]
    assert twice[2].count("\n") == admin[2].count("\n") == 1


def test_unit_commands_are_audited_as_the_system(folder: Path) -> None:
    # given
    kimgraph(folder, "units", "create", "--name", "Dinas PUPR", "--region", "61.04")
    kimgraph(folder, "units", "add-member", "1", "pupr")
    kimgraph(folder, "units", "remove-member", "1", "pupr")
    kimgraph(folder, "units", "archive", "1")
    # when
    status, out, err = kimgraph(folder, "audit", "export", "-")
    # then: each as the system, with no role
    assert (status, err) == (0, "")
    rows = [
        (*line[2:9], json.loads(line[9]))
        for line in csv.reader(io.StringIO(out))
        if line[6].startswith("unit.")
    ]
    unit = encode_id("Unit", 1)
    member = {"account": encode_id("Account", 1), "username": "pupr"}
    system = ("system", "", "system", "")
    assert rows == [
        (
            *system,
            "unit.create",
            "Unit",
            unit,
            {"name": "Dinas PUPR", "region": "61.04"},
        ),
        (*system, "unit.member_add", "Unit", unit, member),
        (*system, "unit.member_remove", "Unit", unit, member),
        (
            *system,
            "unit.archive",
            "Unit",
            unit,
            {"name": "Dinas PUPR", "archived": [False, True]},
        ),
    ]
