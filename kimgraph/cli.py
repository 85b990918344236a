"""The `kimgraph` command: serve, import regions, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from kimgraph import db, region_import
from kimgraph.settings import Settings, SettingsError

logger = logging.getLogger("kimgraph.cli")
MAX_ERRORS_SHOWN = 50


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimgraph", description="Real-time GraphQL server for KIM."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"kimgraph: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if settings.log_level != "debug":
        logging.getLogger("tortoise").setLevel(logging.WARNING)
    if args.command == "schema":
        # Imported here: the GraphQL stack costs ~0.4 s that other commands skip.
        from kimgraph.api import build_schema

        print(build_schema(settings).as_str())
        return 0
    if args.command == "migrate":
        asyncio.run(db.migrate(settings.database_url))
        return 0
    if args.command == "regions":
        return asyncio.run(_import(settings, args.file, national=args.national))
    return _serve(settings, args.host, args.port, args.workers)


async def prepare_database(settings: Settings) -> None:
    """Migrate, and load the bundled Ketapang regions into an empty database."""
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    try:
        if not await region_import.has_regions():
            report = await region_import.load_bundled_seed()
            logger.info("loaded %d bundled regions (Kabupaten Ketapang)", report.added)
    finally:
        await db.close()


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    asyncio.run(prepare_database(settings))
    uvicorn.run(
        "kimgraph.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        ws_ping_interval=15,
        ws_ping_timeout=20,
        ws_per_message_deflate=False,
        proxy_headers=True,
    )
    return 0


async def _import(settings: Settings, file: Path | None, *, national: bool) -> int:
    console = Console(stderr=True)
    if national:
        source = region_import.bundled_source(region_import.BUNDLED_NATIONAL)
    else:
        assert file is not None
        if not await asyncio.to_thread(file.is_file):
            console.print(f"kimgraph: no such file: {file}", soft_wrap=True)
            return 2
        source = region_import.file_source(file)
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"importing {source.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await region_import.import_regions([source], advance)
    except region_import.RegionImportError as exc:
        for error in exc.errors[:MAX_ERRORS_SHOWN]:
            console.print(str(error), markup=False, highlight=False, soft_wrap=True)
        hidden = len(exc.errors) - MAX_ERRORS_SHOWN
        if hidden > 0:
            console.print(f"… and {hidden} more")
        console.print(f"kimgraph: {exc}", soft_wrap=True)
        return 1
    finally:
        await db.close()
    print(
        f"{report.rows} rows: {report.added} added, {report.renamed} renamed, "
        f"{report.unchanged} unchanged"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
