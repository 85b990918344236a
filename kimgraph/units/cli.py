"""`kimgraph units …`: create, list, add-member, remove-member, archive.

The operator at the command line may act on every unit; the rules are the
API's (kimgraph.units.management, docs/domain.md "Units"). Units are named by
global id (as the API shows them) or number, accounts by global id or username.
"""

from __future__ import annotations

import argparse
from typing import Any

from kimgraph.accounts.cli import ALL, Command, account_number
from kimgraph.accounts.cli import _plain as plain_errors
from kimgraph.cli_errors import id_argument
from kimgraph.clock import SystemClock
from kimgraph.cursors import encode_id
from kimgraph.units import management


def add_parser(commands: Any) -> None:
    """Register `units …` on the kimgraph command's subparsers."""
    units = commands.add_parser("units", help="units (OPD) aspirations go to")
    sub = units.add_subparsers(dest="units_command", required=True)
    create = sub.add_parser("create", help="create a unit serving a region")
    create.add_argument("--name", required=True, help="e.g. 'Dinas PUPR'")
    create.add_argument(
        "--region", required=True, help="code of the region it serves, and below"
    )
    listing = sub.add_parser("list", help="list units in use, oldest first")
    listing.add_argument("--region", help="only units serving part of this region")
    listing.add_argument("--archived", action="store_true", help="archived units too")
    for name, help_text in (
        ("add-member", "let an OFFICER account act as the unit"),
        ("remove-member", "stop an account acting as the unit"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument(
            "unit", type=id_argument("Unit"), help="its number or global id"
        )
        command.add_argument("account", help="its global id or username")
    archive = sub.add_parser("archive", help="take a unit out of use")
    archive.add_argument("unit", type=id_argument("Unit"), help="its number or id")


async def _create(args: argparse.Namespace) -> int:
    unit = await management.create(SystemClock(), None, args.name, args.region)
    print(encode_id("Unit", unit.id))
    return 0


async def _list(args: argparse.Namespace) -> int:
    rows, _, _ = await management.unit_page(
        None, args.region, None, ALL, archived=args.archived
    )
    members = await management.members_by_unit_ids([row.id for row in rows])
    print(f"{'id':<12}  {'region':<13}  {'members':>7}  name")
    for row in rows:
        archived = " (archived)" if row.archived_at is not None else ""
        print(
            f"{encode_id('Unit', row.id):<12}  {row.region_id:<13}  "
            f"{len(members[row.id]):>7}  {row.name}{archived}"
        )
    return 0


async def _add_member(args: argparse.Namespace) -> int:
    account = await account_number(args.account)
    unit = await management.add_member(SystemClock(), None, args.unit, account)
    print(f"{args.account} is a member of {unit.name} from its next request on")
    return 0


async def _remove_member(args: argparse.Namespace) -> int:
    account = await account_number(args.account)
    unit = await management.remove_member(SystemClock(), None, args.unit, account)
    print(f"{args.account} is no longer a member of {unit.name}")
    return 0


async def _archive(args: argparse.Namespace) -> int:
    unit = await management.archive(SystemClock(), None, args.unit)
    print(f"{unit.name} is archived")
    return 0


COMMANDS: dict[str, Command] = {
    "units create": plain_errors(_create),
    "units list": plain_errors(_list),
    "units add-member": plain_errors(_add_member),
    "units remove-member": plain_errors(_remove_member),
    "units archive": plain_errors(_archive),
}
