"""The `kimgraph` command as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SDL = Path(__file__).parent.parent / "schema" / "schema.graphql"
HEADER = "code,parent_code,level,name\n"


def kimgraph(
    *args: str, database_url: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", *args],
        cwd=cwd,
        env={**os.environ, "KIMGRAPH_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = kimgraph("schema", database_url="", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, SDL.read_text(encoding="utf-8"))


def test_import_reports_bad_rows_with_line_numbers_and_imports_nothing(
    database_url: str, tmp_path: Path
) -> None:
    # given
    good = tmp_path / "ketapang-extra.csv"
    good.write_text(
        HEADER
        + "61,,provinsi,Kalimantan Barat\n"
        + "61.04,61,kabupaten,Kabupaten Ketapang\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "61.04.01,61.04,kecamatan,Matan Hilir Utara\n"
        + "61.04.99.9999,61.04.99,desa,Salah\n",
        encoding="utf-8",
    )
    # when
    imported = kimgraph(
        "regions", "import", str(good), database_url=database_url, cwd=tmp_path
    )
    refused = kimgraph(
        "regions", "import", str(bad), database_url=database_url, cwd=tmp_path
    )
    again = kimgraph(
        "regions", "import", str(good), database_url=database_url, cwd=tmp_path
    )
    # then
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "2 rows: 2 added, 0 renamed, 0 unchanged\n"
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.splitlines()[-2:] == [
        f"{bad}:3: '61.04.99.9999' is not a Kemendagri region code: expected the "
        "dotted form, e.g. '61', '61.04', '61.04.16' or '61.04.16.1001'",
        "kimgraph: 1 bad row(s); nothing was imported",
    ]
    assert again.stdout == "2 rows: 0 added, 0 renamed, 2 unchanged\n"


def test_import_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = kimgraph("regions", "import", "nope.csv", database_url="", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "kimgraph: no such file: nope.csv\n"
    assert not (tmp_path / "kimgraph.db").exists()
