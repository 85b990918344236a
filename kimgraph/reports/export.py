"""The recap as a table: CSV for anything, XLSX for the Bupati's office."""

from __future__ import annotations

import csv
from pathlib import Path

from kimgraph.reports.aspirations import AspirationStats

Cell = str | int | float | None
HEADER = ("section", "item", "value")
_STEP_TITLES = {
    "verify": "working days to verify",
    "dispose": "working days to dispose",
    "respond": "working days to respond",
}


def rows(stats: AspirationStats) -> list[tuple[str, str, Cell]]:
    """Every figure of the recap, one per row, in the order docs/reports.md gives."""
    table: list[tuple[str, str, Cell]] = [
        ("region", stats.region, None),
        ("period", "from", stats.period.start.isoformat()),
        ("period", "to", stats.period.end.isoformat()),
        ("aspirations", "total", stats.total),
        ("aspirations", "overdue", stats.overdue),
    ]
    table += [("status", s.value, n) for s, n in stats.by_status.items()]
    table += [("category", c.value, n) for c, n in stats.by_category.items()]
    table += [("region below", f"{c.code} {c.name}", c.count) for c in stats.by_child]
    for step, title in _STEP_TITLES.items():
        found = stats.steps[step]
        table += [
            (title, "count", found.count),
            (title, "median", found.median),
            (title, "p90", found.p90),
        ]
    announced = stats.announcements
    table.append(("announcements", "total", announced.total))
    table += [
        ("announcement category", c.value, n) for c, n in announced.by_category.items()
    ]
    table += [
        ("announcement priority", p.name, n) for p, n in announced.by_priority.items()
    ]
    return table


def _text(value: Cell) -> str:
    """A CSV cell: empty for none, 2.5 as 2.5 and 2.0 as 2."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def write_csv(stats: AspirationStats, file: Path) -> None:
    """The recap as UTF-8 CSV with a header row."""
    with file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows((s, i, _text(v)) for s, i, v in rows(stats))


def write_xlsx(stats: AspirationStats, file: Path) -> None:
    """The recap as one worksheet with a header row; numbers stay numbers."""
    # Imported here: openpyxl costs ~0.3 s to import, which every `kimgraph`
    # command (serve included) would pay for the one that writes a workbook.
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None, "a new workbook has a sheet"
    sheet.title = "Recap"
    sheet.append(HEADER)
    for row in rows(stats):
        sheet.append(row)
    workbook.save(file)
