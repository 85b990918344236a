"""`kimgraph accounts …`: list accounts, deactivate, reactivate, reset, set role.

The operator at the command line may act on every account; the rules are the
API's (kimgraph.accounts.management, docs/operations.md "Accounts"). Accounts
are named by global id (as the API shows them) or username, KIM by global id
or number.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from kimgraph import models
from kimgraph.accounts import management, offices, passwords
from kimgraph.accounts.principals import Role
from kimgraph.cli_errors import CliError, id_argument
from kimgraph.clock import SystemClock
from kimgraph.cursors import decode_id, encode_id
from kimgraph.errors import Problem, UserInputError

ROLES = "ADMIN, OFFICER or KIM"
# Every account on one page: an operator's list is not paged.
ALL = 2**31 - 1


def add_commands(commands: Any) -> None:
    """Add list, deactivate, reactivate, reset-password and set-role to `accounts`."""
    listing = commands.add_parser("list", help="list accounts, oldest first")
    listing.add_argument("--role", type=str.upper, help=ROLES)
    listing.add_argument("--region", help="only accounts within this region")
    state = listing.add_mutually_exclusive_group()
    state.add_argument("--active", action="store_true", help="only active accounts")
    state.add_argument(
        "--inactive", action="store_true", help="only deactivated accounts"
    )
    for name, help_text in (
        ("deactivate", "deactivate an account and revoke its tokens"),
        ("reactivate", "let a deactivated account sign in again"),
        ("reset-password", "print a one-time password to be changed at sign-in"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("account", help="its global id or username")
    set_role = commands.add_parser(
        "set-role", help="change an account's role, scope (region) or KIM"
    )
    set_role.add_argument("account", help="its global id or username")
    set_role.add_argument("--role", type=str.upper, help=ROLES)
    set_role.add_argument("--region", help="code of the region of its new scope")
    set_role.add_argument(
        "--kim", type=id_argument("Kim"), help="the KIM's number or id (role KIM)"
    )
    set_office = commands.add_parser(
        "set-office", help="name the office its announcements are from"
    )
    set_office.add_argument("account", help="its global id or username")
    office = set_office.add_mutually_exclusive_group(required=True)
    office.add_argument("--office", help='e.g. "Dinas Pekerjaan Umum"')
    office.add_argument(
        "--derived",
        action="store_true",
        help="back to the office its role and region give (docs/domain.md)",
    )


async def account_number(text: str) -> int:
    """The account named by global id or username; CliError if none."""
    number = decode_id("Account", text)
    if number is not None and await models.Account.exists(id=number):
        return number
    found = await models.Account.get_or_none(username=text)
    if found is None:
        raise _mistake(f"no account has the id or username {text!r}")
    return found.id


def role(text: str) -> Role:
    """A role named on the command line."""
    try:
        return Role(text)
    except ValueError:
        raise _mistake(f"unknown role {text!r}; expected {ROLES}") from None


def _mistake(message: str) -> CliError:
    return CliError(message)


def _status(account: models.Account) -> str:
    if not account.is_active:
        when = account.deactivated_at
        return f"deactivated {when:%Y-%m-%d %H:%M} UTC" if when else "deactivated"
    return "must change password" if account.must_change_password else "active"


async def _list(args: argparse.Namespace) -> int:
    active = True if args.active else False if args.inactive else None
    rows, _, _ = await management.account_page(
        None,
        management.AccountFilter(
            role=role(args.role) if args.role else None,
            region=args.region,
            active=active,
        ),
        None,
        ALL,
    )
    print(f"{'id':<16}  {'username':<24}  {'role':<7}  {'region':<13}  status")
    for row in rows:
        print(
            f"{encode_id('Account', row.id):<16}  {row.username:<24}  "
            f"{row.role:<7}  {row.region_id:<13}  {_status(row)}"
        )
    return 0


def _revoked(count: int) -> str:
    if not count:
        return "no token to revoke"
    return f"{count} token{'s' if count != 1 else ''} revoked"


async def _deactivate(args: argparse.Namespace) -> int:
    changed = await management.deactivate(
        SystemClock(), None, await account_number(args.account)
    )
    print(
        f"account {changed.account.username} is deactivated; "
        f"{_revoked(len(changed.revoked_token_ids))}; servers close its "
        "connections within their credential-check interval"
    )
    return 0


async def _reactivate(args: argparse.Namespace) -> int:
    account = await management.reactivate(
        SystemClock(), None, await account_number(args.account)
    )
    print(f"account {account.username} is active; it signs in with its password")
    return 0


async def _reset_password(args: argparse.Namespace) -> int:
    changed, password = await passwords.reset_password(
        SystemClock(), None, await account_number(args.account)
    )
    print(
        f"one-time password for {changed.account.username} "
        f"({_revoked(len(changed.revoked_token_ids))}):"
    )
    print(password)
    print(
        "Give it to the owner now: it is not shown again, and works only to set "
        "a new password (accountPasswordChange).",
        file=sys.stderr,
    )
    return 0


async def _set_role(args: argparse.Namespace) -> int:
    if args.role is None and args.region is None and args.kim is None:
        raise _mistake("say what to change: --role, --region or --kim")
    change = management.RoleChange(
        role=role(args.role) if args.role else None,
        region=args.region,
        kim_id=args.kim,
        kim_given=args.kim is not None,
    )
    changed = await management.change_role(
        SystemClock(), None, await account_number(args.account), change
    )
    account = changed.account
    print(
        f"account {account.username}: role {account.role}, region "
        f"{account.region_id}"
        + (f", KIM {account.kim_id}" if account.kim_id is not None else "")
        + f"; {_revoked(len(changed.revoked_token_ids))}"
    )
    return 0


async def _set_office(args: argparse.Namespace) -> int:
    account = await offices.set_office(
        SystemClock(),
        None,
        await account_number(args.account),
        None if args.derived else args.office,
    )
    named = "named" if account.office else "derived"
    print(
        f"account {account.username} speaks for "
        f"{await offices.account_office(account)} ({named})"
    )
    return 0


Command = Callable[[argparse.Namespace], Awaitable[int]]


def _plain(command: Command) -> Command:
    """The command with its errors' API field paths left out: options name them."""

    async def run(args: argparse.Namespace) -> int:
        try:
            return await command(args)
        except UserInputError as exc:
            raise UserInputError(
                *(Problem(p.code, p.message, None) for p in exc.problems)
            ) from None

    return run


COMMANDS: dict[str, Command] = {
    "accounts list": _plain(_list),
    "accounts deactivate": _plain(_deactivate),
    "accounts reactivate": _plain(_reactivate),
    "accounts reset-password": _plain(_reset_password),
    "accounts set-role": _plain(_set_role),
    "accounts set-office": _plain(_set_office),
}
