"""Kemendagri region-code arithmetic: parse, level, ancestors, is_within (pure)."""

from __future__ import annotations

import re
import unicodedata

from kimgraph.errors import ApiError
from kimgraph.models.regions import RegionLevel

_CODE = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")


class InvalidRegionCode(ApiError, ValueError):
    """A string that is not a well-formed Kemendagri region code."""

    code = "INVALID_REGION_CODE"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code!r} is not a Kemendagri region code: expected the dotted form, "
            "e.g. '61', '61.04', '61.04.16' or '61.04.16.1001'"
        )
        self.value = code


def level_of(code: str) -> RegionLevel:
    """The level a well-formed code denotes; InvalidRegionCode otherwise."""
    if not isinstance(code, str) or _CODE.fullmatch(code) is None:
        raise InvalidRegionCode(code)
    segments = code.split(".")
    if len(segments) == 1:
        return RegionLevel.PROVINSI
    if len(segments) == 2:
        # Permendagri 58/2021: 01-69 kabupaten, 71-99 kota.
        second = int(segments[1])
        if 1 <= second <= 69:
            return RegionLevel.KABUPATEN
        if 71 <= second <= 99:
            return RegionLevel.KOTA
        raise InvalidRegionCode(code)
    if len(segments) == 3:
        return RegionLevel.KECAMATAN
    # 1xxx kelurahan; 2xxx desa; 3xxx desa adat, counted as desa.
    prefix = segments[3][0]
    if prefix == "1":
        return RegionLevel.KELURAHAN
    if prefix in "23":
        return RegionLevel.DESA
    raise InvalidRegionCode(code)


def validate(code: str) -> str:
    """Return the code unchanged if it is well-formed; InvalidRegionCode otherwise."""
    level_of(code)
    return code


def parent_of(code: str) -> str | None:
    """The code without its last segment; None for a provinsi."""
    head, dot, _ = code.rpartition(".")
    return head if dot else None


def ancestors_of(code: str) -> list[str]:
    """Codes of every region above this one, outermost first."""
    segments = code.split(".")
    return [".".join(segments[:depth]) for depth in range(1, len(segments))]


def is_within(code: str, ancestor: str) -> bool:
    """True if code is ancestor itself or lies below it (whole-segment prefix)."""
    return code == ancestor or code.startswith(ancestor + ".")


def fold_name(name: str) -> str:
    """Lower-case, accent-free form of a name, used for searching."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
