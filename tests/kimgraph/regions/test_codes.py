"""Region-code arithmetic."""

from __future__ import annotations

import pytest

from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import (
    InvalidRegionCode,
    ancestors_of,
    fold_name,
    is_within,
    level_of,
    parent_of,
)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("61", RegionLevel.PROVINSI),
        ("61.04", RegionLevel.KABUPATEN),
        ("61.69", RegionLevel.KABUPATEN),
        ("61.71", RegionLevel.KOTA),
        ("61.04.16", RegionLevel.KECAMATAN),
        ("61.04.16.1001", RegionLevel.KELURAHAN),
        ("61.04.01.2011", RegionLevel.DESA),
        ("91.03.01.3001", RegionLevel.DESA),
    ],
)
def test_level_follows_the_shape_of_the_code(code: str, level: RegionLevel) -> None:
    assert level_of(code) is level


@pytest.mark.parametrize(
    "code",
    [
        "",
        "6",
        "6104",
        "61.4",
        "61.04.",
        "61.00",
        "61.70",
        "61.04.16.4001",
        "61.04.16.101",
        "61-04",
        " 61.04",
        "61.04.16.1001.1",
        "٦١",
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidRegionCode) as caught:
        level_of(code)
    assert caught.value.code == "INVALID_REGION_CODE"
    assert str(caught.value).startswith(f"{code!r} is not a Kemendagri region code")


def test_ancestors_are_the_prefixes_outermost_first() -> None:
    assert ancestors_of("61.04.16.1001") == ["61", "61.04", "61.04.16"]
    assert ancestors_of("61") == []
    assert parent_of("61.04.16.1001") == "61.04.16"
    assert parent_of("61") is None


def test_within_compares_whole_segments() -> None:
    assert is_within("61.04.16.1001", "61.04")
    assert is_within("61.04", "61.04")
    assert not is_within("61.04.16", "61.04.1")
    assert not is_within("61.041", "61.04")
    assert not is_within("61.04", "61.04.16")


def test_fold_name_drops_case_accents_and_extra_spaces() -> None:
    assert fold_name("  Sungai   Putri ") == "sungai putri"
    assert fold_name("Kécamatan ÀBC") == "kecamatan abc"
