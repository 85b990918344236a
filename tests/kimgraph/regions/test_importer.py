"""Importing Kemendagri region files: validation, idempotence, all or nothing."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kimgraph import models
from kimgraph.regions import importer as region_import
from kimgraph.regions.importer import RegionImportError, RowError, file_source

HEADER = "code,parent_code,level,name\n"


def write(folder: Path, text: str, name: str = "regions.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def region_names() -> dict[str, str]:
    return {r.code: r.name for r in await models.Region.all()}


async def test_bundled_seed_is_ketapang_with_its_provinsi(db: str) -> None:
    # when
    report = await region_import.load_bundled_seed()
    # then
    assert (report.rows, report.added, report.renamed) == (284, 284, 0)
    levels = {
        level: await models.Region.filter(level=level).count()
        for level in ("provinsi", "kabupaten", "kecamatan", "kelurahan", "desa")
    }
    assert levels == {
        "provinsi": 1,
        "kabupaten": 1,
        "kecamatan": 20,
        "kelurahan": 9,
        "desa": 253,
    }
    putri = await models.Region.get(code="61.04.01.2011")
    assert (putri.name, putri.parent_id, putri.search_name) == (
        "Sungai Putri",
        "61.04.01",
        "sungai putri",
    )


async def test_national_import_is_complete_and_idempotent(db: str) -> None:
    # given
    await region_import.load_bundled_seed()
    national = region_import.bundled_source(region_import.BUNDLED_NATIONAL)
    # when
    first = await region_import.import_regions([national])
    again = await region_import.import_regions([national])
    # then
    assert (first.rows, first.added, first.renamed, first.unchanged) == (
        91_599,
        91_315,
        0,
        284,
    )
    assert (again.added, again.renamed, again.unchanged) == (0, 0, 91_599)
    assert await models.Region.all().count() == 91_599
    assert await models.Region.filter(level="desa").count() == 75_266
    assert await models.Region.filter(level="kelurahan").count() == 8_496


async def test_reimport_renames_and_adds_without_duplicating(
    ketapang: str, tmp_path: Path
) -> None:
    # given
    path = write(
        tmp_path,
        HEADER
        + "61.04.01.2011,61.04.01,desa,Sungai Putri Baru\n"
        + "61.04.01.2999,61.04.01,desa,Desa Contoh\n"
        + "61.04.01.2012,61.04.01,desa,Tanjung Baik Budi\n",
    )
    # when
    report = await region_import.import_regions([file_source(path)])
    # then
    assert (report.rows, report.added, report.renamed, report.unchanged) == (3, 1, 1, 1)
    names = await region_names()
    assert len(names) == 285
    assert names["61.04.01.2011"] == "Sungai Putri Baru"
    assert names["61.04.01.2999"] == "Desa Contoh"
    renamed = await models.Region.get(code="61.04.01.2011")
    assert renamed.search_name == "sungai putri baru"


async def test_gzip_files_import_like_plain_ones(ketapang: str, tmp_path: Path) -> None:
    # given
    path = tmp_path / "new.csv.gz"
    path.write_bytes(
        gzip.compress((HEADER + "61.04.01.2998,61.04.01,desa,Desa Gzip\n").encode())
    )
    # when
    report = await region_import.import_regions([file_source(path)])
    # then
    assert report.added == 1
    assert (await models.Region.get(code="61.04.01.2998")).name == "Desa Gzip"


async def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    ketapang: str, tmp_path: Path
) -> None:
    # given
    path = write(
        tmp_path,
        HEADER
        + "61.04.01.2997,61.04.01,desa,Desa Baik\n"  # 2: fine on its own
        + "61.04.1,61.04,kecamatan,Kode Rusak\n"  # 3: malformed code
        + "61.04.99.2001,61.04.99,desa,Yatim\n"  # 4: parent nowhere
        + "61.04.01.2996,61.04.01,dusun,Dusun\n"  # 5: unknown level
        + "61.04.01.1996,61.04.01,desa,Bukan Desa\n"  # 6: level vs shape
        + "61.04.01.2995,61.04.02,desa,Salah Induk\n"  # 7: parent not the prefix
        + "61.04.01.2997,61.04.01,desa,Dua Kali\n"  # 8: repeated code
        + "61.04.01.2994,61.04.01,desa\n"  # 9: three columns
        + "61.04.01.2993,61.04.01,desa,\n",  # 10: empty name
    )
    before = await region_names()
    source = str(path)
    # when
    with pytest.raises(RegionImportError) as caught:
        await region_import.import_regions([file_source(path)])
    # then
    assert caught.value.errors == [
        RowError(
            source,
            3,
            "'61.04.1' is not a Kemendagri region code: expected the dotted form, "
            "e.g. '61', '61.04', '61.04.16' or '61.04.16.1001'",
        ),
        RowError(
            source, 4, "parent 61.04.99 is neither in the file nor in the database"
        ),
        RowError(
            source,
            5,
            "unknown level 'dusun'; expected provinsi, kabupaten, kota, kecamatan, "
            "kelurahan, desa",
        ),
        RowError(
            source,
            6,
            "level desa disagrees with code 61.04.01.1996, which is a kelurahan",
        ),
        RowError(
            source,
            7,
            "parent_code '61.04.02' must be '61.04.01', the code without its last "
            "segment",
        ),
        RowError(source, 8, "code 61.04.01.2997 repeats line 2"),
        RowError(source, 9, "expected 4 columns, got 3"),
        RowError(source, 10, "the name is empty"),
    ]
    assert str(caught.value) == "8 bad row(s); nothing was imported"
    assert await region_names() == before


async def test_a_wrong_header_is_refused(ketapang: str, tmp_path: Path) -> None:
    # given
    path = write(tmp_path, "kode,nama\n61.04.01.2997,Desa\n")
    # when
    with pytest.raises(RegionImportError) as caught:
        await region_import.import_regions([file_source(path)])
    # then
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:1: the header must be code,parent_code,level,name, "
        "got ['kode', 'nama']"
    ]
    assert await models.Region.all().count() == 284


async def test_a_parent_later_in_the_file_is_accepted(db: str, tmp_path: Path) -> None:
    # given: children before parents, as a hand-edited file might have them
    path = write(
        tmp_path,
        HEADER
        + "62.01.01,62.01,kecamatan,Kecamatan Dua\n"
        + "62.01,62,kabupaten,Kabupaten Satu\n"
        + "62,,provinsi,Provinsi Nol\n",
    )
    # when
    report = await region_import.import_regions([file_source(path)])
    # then
    assert report.added == 3
    assert await region_names() == {
        "62": "Provinsi Nol",
        "62.01": "Kabupaten Satu",
        "62.01.01": "Kecamatan Dua",
    }
