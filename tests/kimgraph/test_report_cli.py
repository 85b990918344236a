"""`kimgraph report aspirations`: the exact CSV, the XLSX read back, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kimgraph import models
from kimgraph.clock import FixedClock
from tests.kimgraph.test_reports import NOW, make_march


def kimgraph(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command against the database; its output and status."""
    environment = {**os.environ, "KIMGRAPH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def report(database_url: str, output: Path, *extra: str) -> list[str]:
    """Run `report aspirations` for Ketapang in March 2026."""
    return [
        "report",
        "aspirations",
        "--region",
        "61.04",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--output",
        str(output),
        *extra,
    ]


async def expected_rows() -> list[list[str]]:
    """The recap of make_march's month, as the docs/reports.md definitions give it.

    Asked with the real clock, long after April: the responded aspiration's
    auto-resolve deadline (10 April) has passed too, and no timer ran here; so
    has the verified one's disposition deadline (10 March).
    """
    kecamatan = await models.Region.filter(parent_id="61.04").order_by("code")
    below = {"61.04.16": 5, "61.04.18": 1}
    statuses = {"SUBMITTED": 2, "VERIFIED": 1, "RESPONDED": 1, "RESOLVED": 1}
    categories = {"INFRASTRUCTURE": 2, "HEALTH": 1, "EDUCATION": 1}
    categories |= {"GOVERNMENT": 1, "SOCIAL": 1}
    return [
        ["section", "item", "value"],
        ["region", "61.04", ""],
        ["period", "from", "2026-03-01"],
        ["period", "to", "2026-03-31"],
        ["aspirations", "total", "6"],
        ["aspirations", "overdue", "4"],
        *(
            [
                "status",
                s.value,
                str(statuses.get(s.value, 0) + (s.value == "WITHDRAWN")),
            ]
            for s in models.AspirationStatus
        ),
        *(
            ["category", c.value, str(categories.get(c.value, 0))]
            for c in models.AspirationCategory
        ),
        *(
            ["region below", f"{k.code} {k.name}", str(below.get(k.code, 0))]
            for k in kecamatan
        ),
        ["working days to verify", "count", "3"],
        ["working days to verify", "median", "1"],
        ["working days to verify", "p90", "2"],
        ["working days to dispose", "count", "2"],
        ["working days to dispose", "median", "2.5"],
        ["working days to dispose", "p90", "3"],
        ["working days to respond", "count", "2"],
        ["working days to respond", "median", "4"],
        ["working days to respond", "p90", "5"],
        ["announcements", "total", "2"],
        *(
            [
                "announcement category",
                c.value,
                str(int(c.value in ("HEALTH", "DISASTER"))),
            ]
            for c in models.AnnouncementCategory
        ),
        ["announcement priority", "NORMAL", "1"],
        ["announcement priority", "IMPORTANT", "0"],
        ["announcement priority", "EMERGENCY", "1"],
    ]


@pytest.mark.asyncio
async def test_the_csv_recap_is_exactly_the_known_figures(
    ketapang: str, tmp_path: Path
) -> None:
    # given
    await make_march(FixedClock(NOW))
    output = tmp_path / "rekap.csv"
    # when
    done = kimgraph(ketapang, *report(ketapang, output, "--format", "csv"))
    # then
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"wrote the recap of 61.04, 2026-03-01 to 2026-03-31: {output}\n"
    )
    expected = "".join(",".join(row) + "\r\n" for row in await expected_rows())
    assert output.read_bytes().decode("utf-8") == expected


@pytest.mark.asyncio
async def test_the_xlsx_recap_reads_back_with_numbers_as_numbers(
    ketapang: str, tmp_path: Path
) -> None:
    # given
    await make_march(FixedClock(NOW))
    output = tmp_path / "rekap.xlsx"
    # when
    done = kimgraph(ketapang, *report(ketapang, output, "--format", "xlsx"))
    # then
    assert (done.returncode, done.stderr) == (0, "")
    workbook = load_workbook(output, read_only=True)
    try:
        found = [list(row) for row in workbook["Recap"].iter_rows(values_only=True)]
    finally:
        workbook.close()  # read-only mode keeps the file open until then
    expected = [
        [section, item, _cell(value)] for section, item, value in await expected_rows()
    ]
    expected[0] = ["section", "item", "value"]
    assert found == expected


def _cell(text: str) -> object:
    """What openpyxl reads back for a CSV cell of the same recap."""
    if text == "":
        return None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"--region": "61.4"},
            "kimgraph: '61.4' is not a Kemendagri region code: expected the dotted "
            "form, e.g. '61', '61.04', '61.04.16' or '61.04.16.1001'",
        ),
        ({"--region": "61.99"}, "kimgraph: there is no region with code 61.99"),
        (
            {"--to": "2027-03-02"},
            "kimgraph: a report covers at most 366 days; 2026-03-01 to 2027-03-02 "
            "is longer",
        ),
        (
            {"--from": "2026-02-30"},
            "kimgraph: report aspirations: argument --from: '2026-02-30' is not a "
            "date like 2026-01-31 (see kimgraph report aspirations --help)",
        ),
        (
            {"--output": "/nonexistent/rekap.csv"},
            "kimgraph: the folder /nonexistent does not exist",
        ),
    ],
)
@pytest.mark.asyncio
async def test_a_mistake_is_one_line_and_status_2(
    ketapang: str, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    # given
    args = report(ketapang, tmp_path / "rekap.csv")
    for option, value in change.items():
        args[args.index(option) + 1] = value
    # when
    done = kimgraph(ketapang, *args)
    # then
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")
    assert not (tmp_path / "rekap.csv").exists()
