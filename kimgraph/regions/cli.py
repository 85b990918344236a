"""`kimgraph regions import`: a CSV file or the bundled national file, with progress.

A file with mistakes changes nothing and lists them (at most MAX_ERRORS_SHOWN);
a damaged gzip file is one line (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from kimgraph import cli_errors, db
from kimgraph.cli_errors import CliError
from kimgraph.regions import importer as region_import
from kimgraph.settings import Settings

MAX_ERRORS_SHOWN = 50


async def import_command(
    settings: Settings, file: Path | None, *, national: bool
) -> int:
    console = Console(stderr=True)
    if national:
        source = region_import.bundled_source(region_import.BUNDLED_NATIONAL)
    else:
        assert file is not None
        if not await asyncio.to_thread(file.is_file):
            exists = await asyncio.to_thread(file.exists)
            raise CliError(f"{'not a file' if exists else 'no such file'}: {file}")
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
            # Off a terminal it would print its last frame, before any message.
            disable=not console.is_terminal,
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
    except gzip.BadGzipFile:
        raise CliError(
            f"{source.name}: not a gzip file (a plain CSV file's name ends in .csv)",
            cli_errors.FAILED,
        ) from None
    except EOFError:
        raise CliError(
            f"{source.name}: the gzip file ends early; it is cut short",
            cli_errors.FAILED,
        ) from None
    except zlib.error as exc:
        raise CliError(
            f"{source.name}: the gzip file is damaged ({exc})", cli_errors.FAILED
        ) from None
    finally:
        await db.close()
    print(
        f"{report.rows} rows: {report.added} added, {report.renamed} renamed, "
        f"{report.unchanged} unchanged"
    )
    return 0
