"""Which kecamatan of this server's kabupaten a warning names (docs/warnings.md).

A name matches when, normalised, it equals exactly one region name: that one
must be ours (a kecamatan of the served kabupaten, or the kabupaten itself).
Names are compared across the whole province, so a name shared with another
kabupaten's kecamatan is ambiguous rather than silently ours.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import functools
import gzip
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kimgraph import models
from kimgraph.regions.codes import fold_name

_PREFIX = re.compile(
    r"^(kecamatan|kec|kabupaten|kab|kota|provinsi|prov)(\.|\s)\s*", re.IGNORECASE
)
# BMKG lists the kecamatan in the description, after these words, up to ".\n".
_LIST_START = re.compile(r"(?:khususnya di|especially in):?\s+", re.IGNORECASE)
_LIST_END = re.compile(r"\.\s*(?:\n|$)")


class WarningsConfigError(ValueError):
    """The poller cannot tell which kabupaten it serves, or an alias is wrong."""


def normalise(name: str) -> str:
    """The matching key: no "Kec."-like prefix, case, accents, punctuation or spaces."""
    folded = fold_name(name)
    while (stripped := _PREFIX.sub("", folded)) != folded:
        folded = stripped
    return "".join(ch for ch in folded if ch.isalnum())


def listed_names(description: str | None) -> list[str]:
    """The comma-separated names BMKG lists after "khususnya di" (or none)."""
    if not description:
        return []
    start = _LIST_START.search(description)
    if start is None:
        return []
    rest = description[start.end() :]
    end = _LIST_END.search(rest)
    # Names may hold a period ("BTS. ULU"): only ".\n" ends the list.
    listed = rest[: end.start()] if end else rest
    return [name.strip() for name in listed.split(",") if name.strip()]


class Match(enum.Enum):
    """What one name turned out to be."""

    OURS = "ours"
    ELSEWHERE = "elsewhere"
    UNMATCHED = "unmatched"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """The names the ingester knows: ours, the province's others, provinces."""

    kabupaten: str
    province: str
    ours: Mapping[str, tuple[str, ...]]
    elsewhere: Mapping[str, int]
    provinces: frozenset[str]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def match(self, name: str) -> tuple[Match, tuple[str, ...]]:
        """What name is, and the codes of ours it matched."""
        key = normalise(name)
        if key in self.aliases:
            code = self.aliases[key]
            return (Match.OURS, (code,))
        ours = self.ours.get(key, ())
        others = self.elsewhere.get(key, 0)
        if len(ours) == 1 and others == 0:
            return Match.OURS, ours
        if not ours and others:
            return Match.ELSEWHERE, ()
        if not ours:
            return Match.UNMATCHED, ()
        return Match.AMBIGUOUS, ours

    def is_our_province(self, area: str) -> bool:
        return normalise(area) == normalise(self.province)

    def is_other_province(self, area: str) -> bool:
        key = normalise(area)
        return key in self.provinces and key != normalise(self.province)


async def served_kabupaten(setting: str | None) -> models.Region:
    """The kabupaten/kota this server serves: the setting, else the only one."""
    levels = (models.RegionLevel.KABUPATEN, models.RegionLevel.KOTA)
    if setting is not None:
        region = await models.Region.get_or_none(code=setting, level__in=levels)
        if region is None:
            raise WarningsConfigError(
                f"KIMGRAPH_WARNINGS_KABUPATEN={setting!r} names no kabupaten or "
                "kota in the database"
            )
        return region
    found = await models.Region.filter(level__in=levels).order_by("code").limit(2)
    if len(found) != 1:
        raise WarningsConfigError(
            "set KIMGRAPH_WARNINGS_KABUPATEN: the database holds "
            + ("no kabupaten or kota" if not found else "several kabupaten/kota")
        )
    return found[0]


async def load_gazetteer(
    kabupaten_setting: str | None, aliases_file: str | None = None
) -> Gazetteer:
    """The names of the served kabupaten (database) and its province (bundled)."""
    kabupaten = await served_kabupaten(kabupaten_setting)
    province_code = kabupaten.parent_id or kabupaten.code.split(".")[0]
    kecamatan = await models.Region.filter(
        parent_id=kabupaten.code, level=models.RegionLevel.KECAMATAN
    ).values_list("code", "name")
    ours: dict[str, tuple[str, ...]] = {}
    for code, name in [(kabupaten.code, kabupaten.name), *kecamatan]:
        key = normalise(str(name))
        ours[key] = (*ours.get(key, ()), str(code))
    # Reading the national file takes ~0.4 s: off the event loop.
    province_name, others, provinces = await asyncio.to_thread(
        _bundled, province_code, kabupaten.code
    )
    aliases = read_aliases(Path(aliases_file)) if aliases_file else {}
    known = {code for codes in ours.values() for code in codes}
    for alias, code in aliases.items():
        if code not in known:
            raise WarningsConfigError(
                f"alias {alias!r} names {code}, not a kecamatan of {kabupaten.code}"
            )
    return Gazetteer(
        kabupaten=kabupaten.code,
        province=province_name,
        ours=ours,
        elsewhere=others,
        provinces=provinces,
        aliases=aliases,
    )


def read_aliases(path: Path) -> dict[str, str]:
    """An alias file: CSV lines `spelling,region code`; # starts a comment."""
    aliases = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WarningsConfigError(
            f"cannot read the alias file {path}: {error}"
        ) from None
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise WarningsConfigError(
                f"{path}:{number}: expected `spelling,region code`"
            )
        aliases[normalise(row[0])] = row[1].strip()
    return aliases


@functools.cache
def _national_rows() -> tuple[tuple[str, str, str], ...]:
    """(code, level, name) of every region in the bundled national file."""
    resource = resources.files("kimgraph.data") / "indonesia-regions.csv.gz"
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        reader = csv.DictReader(text)
        return tuple((r["code"], r["level"], r["name"]) for r in reader)


def _bundled(
    province_code: str, kabupaten_code: str
) -> tuple[str, dict[str, int], frozenset[str]]:
    """Province name, other kecamatan/kabupaten names in it (counted), provinces."""
    rows = _national_rows()
    provinces = frozenset(normalise(n) for _, level, n in rows if level == "provinsi")
    name = next(
        (n for c, level, n in rows if c == province_code and level == "provinsi"),
        province_code,
    )
    counted: dict[str, int] = {}
    for code, level, region_name in _within(rows, province_code):
        if code == kabupaten_code or code.startswith(kabupaten_code + "."):
            continue
        if level in ("kecamatan", "kabupaten", "kota"):
            key = normalise(region_name)
            counted[key] = counted.get(key, 0) + 1
    return name, counted, provinces


def _within(
    rows: Iterable[tuple[str, str, str]], province_code: str
) -> Iterable[tuple[str, str, str]]:
    prefix = province_code + "."
    return (row for row in rows if row[0].startswith(prefix))
