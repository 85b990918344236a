"""`kimgraph report aspirations`: the recap of a region and period, as CSV or XLSX."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kimgraph.cli_errors import CliError
from kimgraph.clock import SystemClock
from kimgraph.errors import InvalidArgumentError, NotFoundError
from kimgraph.regions.codes import InvalidRegionCode, validate
from kimgraph.regions.queries import require_region
from kimgraph.reports.aspirations import Period, aspiration_stats
from kimgraph.reports.export import write_csv, write_xlsx

WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def add_parser(commands: Any) -> None:
    """Register `report aspirations` on the kimgraph command's subparsers."""
    report = commands.add_parser("report", help="figures for the recap")
    kinds = report.add_subparsers(dest="report_command", required=True)
    recap = kinds.add_parser(
        "aspirations",
        help="aspirations and announcements of a region (docs/reports.md)",
    )
    recap.add_argument("--region", required=True, help="region code, e.g. 61.04")
    recap.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_day,
        metavar="DAY",
        help="first day, YYYY-MM-DD",
    )
    recap.add_argument(
        "--to",
        dest="end",
        required=True,
        type=_day,
        metavar="DAY",
        help="last day (included)",
    )
    recap.add_argument(
        "--format", choices=sorted(WRITERS), default="csv", help="csv (default) or xlsx"
    )
    recap.add_argument(
        "--output", required=True, type=Path, metavar="FILE", help="file to write"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date like 2026-01-31"
        ) from None


async def run(args: argparse.Namespace) -> int:
    """Write the recap; the database is open. CliError for a mistake in the input."""
    try:
        region = validate(args.region)
        period = Period(args.start, args.end)
        await require_region(region)
    except (InvalidRegionCode, InvalidArgumentError, NotFoundError) as error:
        raise CliError(str(error)) from None
    if not args.output.parent.is_dir():
        raise CliError(f"the folder {args.output.parent} does not exist")
    stats = await aspiration_stats(region, period, SystemClock().now())
    WRITERS[args.format](stats, args.output)
    print(f"wrote the recap of {region}, {period.start} to {period.end}: {args.output}")
    return 0


COMMANDS = {"report aspirations": run}
