"""`kimgraph accounts list|deactivate|reactivate|reset-password|set-role`, as run.

Each command runs as an operator runs it, on a SQLite file: through the command's
entry point in this process, as a fresh process would (tests/cli_in_process.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kimgraph.cursors import encode_id
from tests.cli_in_process import run_cli

PASSWORD = "kata-sandi-panjang"
HEADER = f"{'id':<16}  {'username':<24}  {'role':<7}  {'region':<13}  status"


def kimgraph(folder: Path, *args: str) -> tuple[int, str, str]:
    """Run the command; its exit status, standard output and standard error."""
    result = run_cli(
        args,
        env={**os.environ, "KIMGRAPH_DATABASE_URL": f"sqlite://{folder}/kimgraph.db"},
        cwd=folder,
    )
    return result.returncode, result.stdout, result.stderr


def row(number: int, username: str, role: str, region: str, status: str) -> str:
    return (
        f"{encode_id('Account', number):<16}  {username:<24}  {role:<7}  "
        f"{region:<13}  {status}"
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A database with an ADMIN (account 1) and an OFFICER (account 2)."""
    for username, role, region in (
        ("admin", "ADMIN", "61.04"),
        ("camat", "OFFICER", "61.04.16"),
    ):
        status, _, err = kimgraph(
            tmp_path,
            "accounts", "create", "--username", username, "--role", role,
            "--region", region, "--password", PASSWORD,
        )  # fmt: skip
        assert status == 0, err
    return tmp_path


def test_accounts_list_shows_global_ids_and_filters(folder: Path) -> None:
    # when
    everyone = kimgraph(folder, "accounts", "list")
    officers = kimgraph(folder, "accounts", "list", "--role", "officer")
    below = kimgraph(folder, "accounts", "list", "--region", "61.04.16", "--active")
    inactive = kimgraph(folder, "accounts", "list", "--inactive")
    # then
    admin = row(1, "admin", "ADMIN", "61.04", "active")
    camat = row(2, "camat", "OFFICER", "61.04.16", "active")
    assert everyone == (0, f"{HEADER}\n{admin}\n{camat}\n", "")
    assert officers == (0, f"{HEADER}\n{camat}\n", "")
    assert below == (0, f"{HEADER}\n{camat}\n", "")
    assert inactive == (0, f"{HEADER}\n", "")


def test_deactivate_and_reactivate_by_username_or_global_id(folder: Path) -> None:
    # when
    deactivated = kimgraph(folder, "accounts", "deactivate", "camat")
    listed = kimgraph(folder, "accounts", "list", "--inactive")
    reactivated = kimgraph(folder, "accounts", "reactivate", encode_id("Account", 2))
    # then
    assert deactivated == (
        0,
        "account camat is deactivated; no token to revoke; servers close its "
        "connections within their credential-check interval\n",
        "",
    )
    assert (
        listed[1]
        .splitlines()[1]
        .startswith(row(2, "camat", "OFFICER", "61.04.16", "deactivated 20"))
    )
    assert listed[1].endswith(" UTC\n")
    assert reactivated == (
        0,
        "account camat is active; it signs in with its password\n",
        "",
    )


def test_reset_password_prints_a_one_time_password(folder: Path) -> None:
    # when
    status, out, err = kimgraph(folder, "accounts", "reset-password", "camat")
    listed = kimgraph(folder, "accounts", "list", "--role", "OFFICER")
    # then
    first, password = out.splitlines()
    assert (status, first) == (0, "one-time password for camat (no token to revoke):")
    assert len(password) == 22
    assert err == (
        "Give it to the owner now: it is not shown again, and works only to set "
        "a new password (accountPasswordChange).\n"
    )
    assert listed[1].splitlines()[1] == row(
        2, "camat", "OFFICER", "61.04.16", "must change password"
    )


def test_set_role_changes_role_and_scope(folder: Path) -> None:
    # when
    moved = kimgraph(folder, "accounts", "set-role", "camat", "--region", "61.04.18")
    promoted = kimgraph(folder, "accounts", "set-role", "camat", "--role", "ADMIN")
    # then
    assert moved == (
        0,
        "account camat: role OFFICER, region 61.04.18; no token to revoke\n",
        "",
    )
    assert promoted == (
        0,
        "account camat: role ADMIN, region 61.04.18; no token to revoke\n",
        "",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("deactivate", "admin"),
            (
                1,
                "kimgraph: admin is the last active ADMIN and cannot be "
                "deactivated; make another account ADMIN first\n",
            ),
        ),
        (
            ("set-role", "admin", "--role", "OFFICER"),
            (
                1,
                "kimgraph: admin is the last active ADMIN and cannot be demoted; "
                "make another account ADMIN first\n",
            ),
        ),
        (
            ("deactivate", "nobody"),
            (2, "kimgraph: no account has the id or username 'nobody'\n"),
        ),
        (
            ("set-role", "camat"),
            (2, "kimgraph: say what to change: --role, --region or --kim\n"),
        ),
        (
            ("list", "--role", "boss"),
            (2, "kimgraph: unknown role 'BOSS'; expected ADMIN, OFFICER or KIM\n"),
        ),
        (
            ("set-role", "camat", "--role", "KIM"),
            (1, "kimgraph: a KIM account needs its KIM\n"),
        ),
        (
            ("set-role", "camat", "--region", "61.04.99"),
            (1, "kimgraph: there is no region with code 61.04.99\n"),
        ),
    ],
)
def test_mistakes_are_one_line_and_change_nothing(
    folder: Path, args: tuple[str, ...], expected: tuple[int, str]
) -> None:
    # given
    before = kimgraph(folder, "accounts", "list")
    # when
    status, out, err = kimgraph(folder, "accounts", *args)
    # then
    assert (status, err) == expected
    assert out == ""
    assert kimgraph(folder, "accounts", "list") == before
