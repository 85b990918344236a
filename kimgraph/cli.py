"""The `kimgraph` command: serve, regions, accounts, API keys, demo, schema, backups."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import sys
import warnings
from collections.abc import AsyncIterator, Sequence
from importlib.metadata import version
from pathlib import Path

from kimgraph import backup, cli_errors, db, logs
from kimgraph import serve as serve_command
from kimgraph.accounts import api_keys, auth
from kimgraph.accounts import cli as accounts_cli
from kimgraph.accounts.principals import Role
from kimgraph.audit import cli as audit_cli
from kimgraph.cli_errors import CliError, Parser, id_argument
from kimgraph.clock import SystemClock
from kimgraph.demo import DEMO_BOARD, DEMO_KEY_REGION, load_demo
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.events.bus import Doorbell
from kimgraph.pii import cli as pii_cli
from kimgraph.regions import cli as regions_cli
from kimgraph.reports import cli as reports_cli
from kimgraph.settings import Settings
from kimgraph.units import cli as units_cli
from kimgraph.warnings import cli as warnings_cli

logger = logging.getLogger("kimgraph.cli")


def _parser() -> argparse.ArgumentParser:
    # Parser: a usage mistake is one line (kimgraph/cli_errors.py), subcommands too.
    parser = Parser(prog="kimgraph", description="Real-time GraphQL server for KIM.")
    parser.add_argument(
        "--version", action="version", version=f"kimgraph {version('kimgraph')}"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="migrate the database and serve the API",
        description="Migrate the database, load the bundled Ketapang regions into "
        "an empty one,\nand serve the API on http://HOST:PORT/graphql.",
        epilog=serve_command.settings_help(),
        formatter_class=serve_command.ServeHelp,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument(
        "--port", type=serve_command.port, default=8000, help="port to listen on"
    )
    serve.add_argument(
        "--workers",
        type=serve_command.positive,
        default=1,
        help="server processes; several share events through KIMGRAPH_REDIS_URL",
    )

    commands.add_parser("migrate", help="apply the database migrations")

    regions = commands.add_parser("regions", help="region reference data")
    region_commands = regions.add_subparsers(dest="regions_command", required=True)
    importer = region_commands.add_parser(
        "import", help="import a Kemendagri region CSV or CSV.gz file"
    )
    source = importer.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help="the CSV or CSV.gz file")
    source.add_argument(
        "--national",
        action="store_true",
        help="the bundled national file (91,599 regions)",
    )

    commands.add_parser("schema", help="print the GraphQL SDL")

    accounts = commands.add_parser("accounts", help="accounts that sign in")
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    create = account_commands.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--role", required=True, type=str.upper, help="ADMIN, OFFICER or KIM"
    )
    create.add_argument("--region", help="code of the region whose subtree it serves")
    create.add_argument(
        "--kim", type=id_argument("Kim"), help="the KIM's number or id (KIM accounts)"
    )
    create.add_argument("--display-name", help="shown instead of the username")
    create.add_argument("--password", help="prompted for when omitted")
    accounts_cli.add_commands(account_commands)

    apikeys = commands.add_parser("apikeys", help="partner API keys")
    key_commands = apikeys.add_subparsers(dest="apikeys_command", required=True)
    key_create = key_commands.add_parser("create", help="create a key; shown once")
    key_create.add_argument("--name", required=True, help="the partner app's name")
    key_create.add_argument("--region", required=True, help="code of its region")
    key_list = key_commands.add_parser("list", help="list keys, revoked ones too")
    key_list.add_argument("--region", help="only keys within this region")
    key_revoke = key_commands.add_parser("revoke", help="revoke a key")
    key_revoke.add_argument(
        "id", type=id_argument("ApiKey"), help="the key's number from `list`, or its id"
    )

    commands.add_parser(
        "demo", help="load fictional demo KIM, accounts and a partner key"
    )
    warnings_cli.add_parser(commands)
    audit_cli.add_parser(commands)
    pii_cli.add_parser(commands)
    units_cli.add_parser(commands)
    reports_cli.add_parser(commands)
    backup.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every failure told as cli_errors says."""
    args = _parser().parse_args(argv)
    for warning in cli_errors.unknown_variables(os.environ):
        print(warning, file=sys.stderr)
    database_url = os.environ.get("KIMGRAPH_DATABASE_URL")
    try:
        status = _run(args, Settings.from_env())
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        # The reader left (`kimgraph schema | head`): stop quietly, as the
        # Python docs recommend (library/signal.html, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        error = cli_errors.explain(exc, database_url)
        if args.debug:
            raise
        if error is None:
            error = CliError(
                f"unexpected {type(exc).__name__}: {exc} (run `kimgraph --debug "
                "...` for the traceback, and report it)",
                cli_errors.FAILED,
            )
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # `serve` gives uvicorn logs.config, which replaces this (kimgraph.logs).
    logs.basic(settings.log_level, settings.log_format)
    if settings.log_level != "debug":
        logging.getLogger("tortoise").setLevel(logging.WARNING)
    if args.command == "schema":
        # Imported here: the GraphQL stack costs ~0.4 s that other commands skip.
        from kimgraph.api import build_schema

        print(build_schema(settings).as_str())
        return 0
    if args.command == "migrate":
        db.run_closing(db.migrate(settings.database_url))
        return 0
    if args.command == "regions":
        return db.run_closing(
            regions_cli.import_command(settings, args.file, national=args.national)
        )
    if args.command == "serve":
        return serve_command.serve(settings, args.host, args.port, args.workers)
    if args.command == "warnings":
        return warnings_cli.run(args, settings)
    if args.command == "pii":
        return db.run_closing(pii_cli.run(args, settings))
    if args.command == "audit":
        return db.run_closing(audit_cli.run(args, settings.database_url))
    if args.command == "backup":
        return backup.backup(settings.database_url, args.file, force=args.force)
    if args.command == "restore":
        return db.run_closing(backup.restore(settings.database_url, args.file))
    return db.run_closing(_admin(settings, args))


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    """Run an accounts, apikeys or demo command against a migrated database."""
    if args.command == "accounts" and getattr(args, "password", "") is None:
        args.password = _prompt_password()
    await serve_command.open_database(settings)
    try:
        # Refused input (UserInputError) is told by main(), as for every command.
        return await _ADMIN_COMMANDS[_command_name(args)](args)
    finally:
        await db.close()


def _command_name(args: argparse.Namespace) -> str:
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _prompt_password() -> str:
    # Without a terminal getpass would warn and read standard input, echoed.
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            first = getpass.getpass("Password: ")
            again = getpass.getpass("Password again: ")
        except getpass.GetPassWarning:
            raise CliError(
                "no terminal to ask for the password on; pass --password"
            ) from None
        except EOFError:
            raise CliError("no password given") from None
    if again != first:
        raise CliError("the passwords differ")
    return first


async def _accounts_create(args: argparse.Namespace) -> int:
    account = await auth.create_account(
        SystemClock(),
        username=args.username,
        password=args.password,
        role=_role(args.role),
        region_code=args.region,
        kim_id=args.kim,
        display_name=args.display_name,
    )
    print(
        f"account {account.username} created: role {account.role}, "
        f"region {account.region_id}"
        + (f", KIM {account.kim_id}" if account.kim_id is not None else "")
    )
    return 0


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise UserInputError(
            Problem(
                ProblemCode.INVALID,
                f"unknown role {text!r}; expected ADMIN, OFFICER or KIM",
                ["role"],
            )
        ) from None


async def _apikeys_create(args: argparse.Namespace) -> int:
    key, row = await api_keys.create_api_key(SystemClock(), args.name, args.region)
    print(f"API key {row.id} for {row.name} (region {row.region_id}):")
    print(key)
    print("Store it now: it is not shown again.", file=sys.stderr)
    return 0


async def _apikeys_list(args: argparse.Namespace) -> int:
    rows = await api_keys.list_api_keys(within=args.region)
    header = ("id", "prefix", "region", "created", "revoked", "name")
    print("{:>4}  {:<10}  {:<13}  {:<20}  {:<20}  {}".format(*header))
    for row in rows:
        revoked = (
            row.revoked_at.strftime("%Y-%m-%d %H:%M UTC") if row.revoked_at else "-"
        )
        created = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
        print(
            f"{row.id:>4}  {row.prefix:<10}  {row.region_id:<13}  {created:<20}  "
            f"{revoked:<20}  {row.name}"
        )
    return 0


async def _apikeys_revoke(args: argparse.Namespace) -> int:
    row = await api_keys.revoke_api_key(SystemClock(), args.id)
    print(f"API key {row.id} ({row.name}) is revoked")
    return 0


async def _demo(args: argparse.Namespace) -> int:
    print(
        "Replacing the demo credentials: the demo accounts get new passwords, and "
        "their old tokens and the old demo partner key stop working."
    )
    await pii_cli.ready(Settings.from_env())  # the demo's reporters are encrypted
    async with _doorbell(Settings.from_env()) as doorbell:
        demo = await load_demo(SystemClock(), doorbell)
    print("Demo data loaded (all of it fictional, marked DEMO):")
    for kim in demo.kims:
        print(f"  KIM {kim.id}: {kim.name} ({kim.region_id})")
    print("Demo accounts (passwords are new on every run):")
    for account in demo.accounts:
        print(
            f"  {account.username:<24} {account.role:<8} {account.region_code:<14} "
            f"password {account.password}"
        )
    print(f"Demo partner API key (region {DEMO_KEY_REGION}): {demo.api_key}")
    print(f"Demo announcements (on the board /board/{DEMO_BOARD}):")
    for row in demo.announcements:
        until = f", until {row.valid_until:%H:%M} UTC" if row.valid_until else ""
        new = "published" if row.id in demo.published else "already showing"
        print(f"  {row.priority.name:<9} {row.title} ({new}{until})")
    print("Demo aspirations (follow them with aspirationTrack):")
    for aspiration in demo.aspirations:
        print(f"  {aspiration.ticket}  {aspiration.title}")
    print(
        "Sign in from GraphiQL with the tokenCreate mutation, then send "
        '{"Authorization": "Bearer <token>"} in the headers tab. Example '
        "operations: examples/ (README, For frontend developers)."
    )
    return 0


@contextlib.asynccontextmanager
async def _doorbell(settings: Settings) -> AsyncIterator[Doorbell]:
    """Rings the servers over Redis if configured; they poll the log anyway."""
    if settings.redis_url is None:
        yield _nobody_rings
        return
    from kimgraph.events.redis_bus import RedisBus  # only when Redis is configured

    bus = RedisBus(settings.redis_url)
    await bus.start()
    try:
        yield bus.publish
    finally:
        await bus.close()


async def _nobody_rings(position: int, /) -> None:
    """Without Redis, servers find the demo's events by polling the event log."""


_ADMIN_COMMANDS = {
    "accounts create": _accounts_create,
    **accounts_cli.COMMANDS,
    "apikeys create": _apikeys_create,
    "apikeys list": _apikeys_list,
    "apikeys revoke": _apikeys_revoke,
    "demo": _demo,
    **units_cli.COMMANDS,
    **reports_cli.COMMANDS,
}


if __name__ == "__main__":
    raise SystemExit(main())
