"""`kimgraph audit export`: the audit trail as CSV, oldest first (docs/audit.md)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import IO, Any

from kimgraph import db, models
from kimgraph.audit.actions import AuditAction, parse_action
from kimgraph.audit.queries import AuditFilter, export
from kimgraph.audit.trail import actor_global_id
from kimgraph.cli_errors import CliError
from kimgraph.clock import to_utc

HEADER = (
    "id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor",
    "role",
    "action",
    "target_type",
    "target_id",
    "summary",
)


def add_parser(commands: Any) -> None:
    """Register `audit export` on the kimgraph command's subparsers."""
    audit = commands.add_parser("audit", help="the audit trail")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    export_parser = sub.add_parser("export", help="write audit entries as CSV")
    export_parser.add_argument(
        "--from", dest="start", help="only at or after this ISO 8601 instant"
    )
    export_parser.add_argument("--to", dest="end", help="only before this instant")
    export_parser.add_argument(
        "--action", help="only this action, e.g. announcement.publish"
    )
    export_parser.add_argument("file", help="the CSV file to write; - for stdout")


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError as error:
        raise CliError(
            f"{option} {text!r}: an ISO 8601 instant with its offset, e.g. "
            f"2026-11-01T00:00:00+07:00 ({error})"
        ) from None


def _action(text: str | None) -> AuditAction | None:
    if text is None:
        return None
    action = parse_action(text)
    if action is None:
        known = ", ".join(member.value for member in AuditAction)
        raise CliError(f"--action: unknown action {text!r}; the actions are {known}")
    return action


def row_of(row: models.AuditEntry) -> list[str]:
    """One CSV line: the columns of HEADER."""
    return [
        str(row.id),
        row.occurred_at.isoformat(),
        row.actor_kind,
        actor_global_id(row) or "",
        row.actor,
        row.role or "",
        row.action,
        row.target_type,
        row.target_id,
        row.summary,
    ]


async def run(args: argparse.Namespace, database_url: str) -> int:
    """Run `audit export`: options checked before the database is opened."""
    where = AuditFilter(
        action=_action(args.action),
        start=_instant(args.start, "--from"),
        end=_instant(args.end, "--to"),
    )
    await db.migrate(database_url)
    await db.init(database_url)
    # Opened only once the options are known good: a mistake leaves no file.
    target: AbstractContextManager[IO[str]] = (
        nullcontext(sys.stdout)
        if args.file == "-"
        else await asyncio.to_thread(open, args.file, "w", newline="", encoding="utf-8")
    )
    count = 0
    with target as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        async for row in export(where):
            writer.writerow(row_of(row))
            count += 1
    if args.file != "-":
        print(f"wrote {count} audit entries to {args.file}", file=sys.stderr)
    return 0
