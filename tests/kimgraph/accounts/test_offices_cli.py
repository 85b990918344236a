"""`kimgraph accounts set-office`: the office an account's announcements are from."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kimgraph.cursors import encode_id
from tests.kimgraph.accounts.test_accounts_cli import PASSWORD, kimgraph


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A database with one OFFICER of Kecamatan Delta Pawan."""
    status, _, err = kimgraph(
        tmp_path,
        "accounts", "create", "--username", "camat", "--role", "OFFICER",
        "--region", "61.04.16", "--password", PASSWORD,
    )  # fmt: skip
    assert status == 0, err
    return tmp_path


def test_set_office_names_it_and_derived_goes_back(folder: Path) -> None:
    # when
    named = kimgraph(
        folder, "accounts", "set-office", "camat", "--office", "Dinas  Sosial"
    )
    derived = kimgraph(folder, "accounts", "set-office", "camat", "--derived")
    # then
    assert named == (0, "account camat speaks for Dinas Sosial (named)\n", "")
    assert derived == (
        0,
        "account camat speaks for Kantor Kecamatan Delta Pawan (derived)\n",
        "",
    )


def test_set_office_is_audited_as_the_system(folder: Path) -> None:
    # when: named, named again, then derived
    for option in (["--office", "Dinas Sosial"],) * 2 + (["--derived"],):
        status, _, err = kimgraph(folder, "accounts", "set-office", "camat", *option)
        assert status == 0, err
    # then: one row each, the command line as actor, before and after
    status, out, err = kimgraph(
        folder, "audit", "export", "--action", "account.office_set", "-"
    )
    assert (status, err) == (0, "")
    rows = [
        (r["actor_kind"], r["actor"], r["role"], r["target_id"], r["summary"])
        for r in csv.DictReader(io.StringIO(out))
    ]
    camat = encode_id("Account", 1)
    assert rows == [
        ("system", "system", "", camat, '{"office": [null, "Dinas Sosial"]}'),
        ("system", "system", "", camat, '{"office": ["Dinas Sosial", "Dinas Sosial"]}'),
        ("system", "system", "", camat, '{"office": ["Dinas Sosial", null]}'),
    ]


def test_set_office_needs_one_of_its_options(folder: Path) -> None:
    status, out, err = kimgraph(folder, "accounts", "set-office", "camat")
    assert (status, out) == (2, "")
    assert err == (
        "kimgraph: accounts set-office: one of the arguments --office --derived is "
        "required (see kimgraph accounts set-office --help)\n"
    )
