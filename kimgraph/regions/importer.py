"""Load Kemendagri region CSV files (plain or gzip) into the database, all or none."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from kimgraph import db
from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import InvalidRegionCode, fold_name, level_of, parent_of

HEADER = ["code", "parent_code", "level", "name"]
MAX_NAME_LENGTH = 120
_CHUNK = 2000
_LEVELS = ", ".join(level.value for level in RegionLevel)

# The bundled seed: Kabupaten Ketapang, whose file leaves out its provinsi (61).
BUNDLED_SEED = ("kalimantan-barat.csv", "ketapang.csv")
BUNDLED_NATIONAL = "indonesia-regions.csv.gz"

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row: where it is and what is wrong with it."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class RegionImportError(ValueError):
    """A file held bad rows; nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s); nothing was imported")
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class RegionRow:
    """A validated row, ready to write."""

    code: str
    parent_code: str | None
    level: RegionLevel
    name: str


@dataclass(slots=True)
class ImportReport:
    """What an import changed."""

    rows: int = 0
    added: int = 0
    renamed: int = 0
    unchanged: int = 0
    added_codes: list[str] = field(default_factory=list, repr=False)


@dataclass(frozen=True, slots=True)
class Source:
    """A named stream of CSV text."""

    name: str
    open: Callable[[], IO[str]]


def file_source(path: Path) -> Source:
    """A CSV or CSV.gz file on disk."""
    if path.suffix == ".gz":
        return Source(str(path), lambda: gzip.open(path, "rt", encoding="utf-8"))
    return Source(str(path), lambda: path.open(encoding="utf-8", newline=""))


def bundled_source(name: str) -> Source:
    """A file shipped in kimgraph/data."""
    resource = resources.files("kimgraph.data") / name

    def opener() -> IO[str]:
        raw = resource.read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        return io.StringIO(raw.decode("utf-8"), newline="")

    return Source(f"kimgraph/data/{name}", opener)


def read_rows(source: Source, known_codes: Iterable[str] = ()) -> list[RegionRow]:
    """Parse and check every row; RegionImportError lists all bad rows."""
    return _check([source], set(known_codes))


def _check(sources: Sequence[Source], known: set[str]) -> list[RegionRow]:
    errors: list[RowError] = []
    rows: list[RegionRow] = []
    first_line: dict[str, tuple[str, int]] = {}
    parents: list[tuple[RowError, str]] = []
    for source in sources:
        with source.open() as stream:
            for line, record in _records(source.name, stream, errors):
                where = RowError(source.name, line, "")
                row = _parse(where, record, errors)
                if row is None:
                    continue
                seen = first_line.get(row.code)
                if seen is not None:
                    errors.append(_at(where, f"code {row.code} repeats line {seen[1]}"))
                    continue
                first_line[row.code] = (source.name, line)
                if row.parent_code is not None:
                    parents.append((where, row.parent_code))
                rows.append(row)
    for where, parent in parents:
        if parent not in first_line and parent not in known:
            errors.append(
                _at(
                    where, f"parent {parent} is neither in the file nor in the database"
                )
            )
    if errors:
        raise RegionImportError(sorted(errors, key=lambda e: (e.source, e.line)))
    return rows


def _records(
    name: str, stream: IO[str], errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None or [h.strip().lstrip("\ufeff") for h in header] != HEADER:
            errors.append(
                RowError(
                    name, 1, f"the header must be {','.join(HEADER)}, got {header}"
                )
            )
            return
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        errors.append(RowError(name, reader.line_num, f"unreadable CSV: {exc}"))
    except UnicodeDecodeError:
        errors.append(RowError(name, reader.line_num + 1, "the file is not UTF-8"))


def _at(where: RowError, message: str) -> RowError:
    return RowError(where.source, where.line, message)


def _parse(
    where: RowError, record: list[str], errors: list[RowError]
) -> RegionRow | None:
    if len(record) != len(HEADER):
        errors.append(_at(where, f"expected 4 columns, got {len(record)}"))
        return None
    code, parent_code, level_text, name = (value.strip() for value in record)
    try:
        shape = level_of(code)
    except InvalidRegionCode as exc:
        errors.append(_at(where, str(exc)))
        return None
    try:
        level = RegionLevel(level_text)
    except ValueError:
        errors.append(_at(where, f"unknown level {level_text!r}; expected {_LEVELS}"))
        return None
    problems = []
    if level is not shape:
        problems.append(f"level {level} disagrees with code {code}, which is a {shape}")
    expected_parent = parent_of(code)
    if (parent_code or None) != expected_parent:
        problems.append(
            f"parent_code {parent_code!r} must be {expected_parent or ''!r}, "
            f"the code without its last segment"
        )
    if not name:
        problems.append("the name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if problems:
        errors.extend(_at(where, problem) for problem in problems)
        return None
    return RegionRow(code, expected_parent, level, name)


async def import_regions(
    sources: Sequence[Source], progress: Progress | None = None
) -> ImportReport:
    """Check every row of every source, then add new codes and rename changed ones."""
    conn = Tortoise.get_connection("default")
    existing = {
        str(r["code"]): str(r["name"])
        for r in await conn.execute_query_dict("SELECT code, name FROM region")
    }
    rows = _check(sources, set(existing))
    report = ImportReport(rows=len(rows))
    changed: list[RegionRow] = []
    for row in rows:
        old = existing.get(row.code)
        if old is None:
            report.added += 1
            report.added_codes.append(row.code)
        elif old != row.name:
            report.renamed += 1
        else:
            report.unchanged += 1
            continue
        changed.append(row)
    # Parents first, so the foreign key holds row by row.
    changed.sort(key=lambda r: (r.code.count("."), r.code))
    await _write(changed, progress)
    return report


async def _write(rows: list[RegionRow], progress: Progress | None) -> None:
    if db.dialect() == "postgres":
        sql = (
            "INSERT INTO region (code, parent_id, level, name, search_name) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE "
            "SET name = EXCLUDED.name, search_name = EXCLUDED.search_name"
        )
    else:
        sql = (
            "INSERT INTO region (code, parent_id, level, name, search_name) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE "
            "SET name = excluded.name, search_name = excluded.search_name"
        )
    done = 0
    if progress is not None:
        progress(done, len(rows))
    async with in_transaction() as conn:
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            await conn.execute_many(
                sql,
                [
                    [r.code, r.parent_code, r.level.value, r.name, fold_name(r.name)]
                    for r in chunk
                ],
            )
            done += len(chunk)
            if progress is not None:
                progress(done, len(rows))


async def has_regions() -> bool:
    """True once any region has been loaded."""
    conn = Tortoise.get_connection("default")
    found = await conn.execute_query_dict("SELECT 1 AS one FROM region LIMIT 1")
    return bool(found)


async def load_bundled_seed() -> ImportReport:
    """Load the bundled Kabupaten Ketapang regions (with its provinsi)."""
    return await import_regions([bundled_source(name) for name in BUNDLED_SEED])
