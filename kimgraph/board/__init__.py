"""The notice-board page: `/board/{code}` and its script, styles and service worker."""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from importlib import resources
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kimgraph import assets, models
from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import InvalidRegionCode, ancestors_of, level_of
from kimgraph.regions.queries import children_by_codes, regions_by_codes

ASSET_PREFIX = "/board-assets/"
_MEDIA_TYPES = {
    "board.js": "text/javascript; charset=utf-8",
    "board.css": "text/css; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
}
_VILLAGE_LEVELS = (RegionLevel.DESA, RegionLevel.KELURAHAN)
_LEVEL_NAMES = {
    RegionLevel.PROVINSI: "Provinsi",
    RegionLevel.KABUPATEN: "Kabupaten",
    RegionLevel.KOTA: "Kota",
    RegionLevel.KECAMATAN: "Kecamatan",
    RegionLevel.KELURAHAN: "Kelurahan",
    RegionLevel.DESA: "Desa",
}
# Only the board's own files, and a socket back to the server that sent the page.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class Place:
    """What the page header shows about the desa/kelurahan."""

    code: str
    level: RegionLevel
    name: str
    above: tuple[str, ...]


@functools.cache
def asset(name: str) -> assets.Asset:
    """The packaged file `name`, read once."""
    return assets.packaged(__package__, name, _MEDIA_TYPES[name], ASSET_PREFIX)


@functools.cache
def _template(name: str) -> Template:
    return Template((resources.files(__package__) / name).read_text("utf-8"))


def render_board(place: Place) -> str:
    """The board page for one desa/kelurahan."""
    title = f"{_LEVEL_NAMES[place.level]} {place.name}"
    return _template("board.html").substitute(
        code=html.escape(place.code),
        title=html.escape(title),
        level=html.escape(_LEVEL_NAMES[place.level]),
        name=html.escape(place.name),
        above=html.escape(" · ".join(place.above)),
        css=html.escape(asset("board.css").href("board.css")),
        js=html.escape(asset("board.js").href("board.js")),
        worker=html.escape(asset("sw.js").href("sw.js")),
    )


def render_missing(heading: str, message: str, links: list[tuple[str, str]]) -> str:
    """A page saying there is no board here, with boards to go to instead."""
    items = "".join(
        f'<li><a href="/board/{html.escape(code)}">{html.escape(label)}</a></li>'
        for code, label in links
    )
    return _template("missing.html").substitute(
        heading=html.escape(heading),
        message=html.escape(message),
        links=f'<ul class="links">{items}</ul>' if items else "",
        css=html.escape(asset("board.css").href("board.css")),
    )


def _missing(heading: str, message: str, links: list[tuple[str, str]]) -> Response:
    return HTMLResponse(
        render_missing(heading, message, links),
        status_code=404,
        headers={"Cache-Control": "no-cache", **_SECURITY_HEADERS},
    )


async def board_page(request: Request) -> Response:
    """The board of a desa/kelurahan; a 404 page in Bahasa Indonesia otherwise."""
    code = str(request.path_params["code"])
    try:
        level = level_of(code)
    except InvalidRegionCode:
        return _missing(
            "Kode wilayah tidak sah",
            f"“{code}” bukan kode wilayah Kemendagri. Contoh kode desa: 61.04.16.2006.",
            [],
        )
    found = await regions_by_codes([*ancestors_of(code), code])
    region = found.get(code)
    if region is None:
        return _missing(
            "Wilayah tidak ditemukan",
            f"Tidak ada wilayah dengan kode {code}. Periksa alamat papan ini.",
            [],
        )
    if level not in _VILLAGE_LEVELS:
        # A kecamatan or higher has no board of its own. Listing the regions below
        # it (desa for a kecamatan, kecamatan for a kabupaten) lets whoever sets up
        # a screen click through to the right board.
        children = (await children_by_codes([code]))[code]
        return _missing(
            f"{_qualified(region)} tidak punya papan sendiri",
            "Papan pengumuman hanya ada untuk desa dan kelurahan."
            + (" Pilih wilayah di bawah ini." if children else ""),
            [(child.code, _qualified(child)) for child in children],
        )
    above = tuple(
        _qualified(found[ancestor])
        for ancestor in reversed(ancestors_of(code)[1:])
        if ancestor in found
    )
    page = render_board(Place(code, level, region.name, above))
    return HTMLResponse(
        page, headers={"Cache-Control": "no-cache", **_SECURITY_HEADERS}
    )


def _qualified(region: models.Region) -> str:
    """The name with its level in front ("Kecamatan Delta Pawan"), said once."""
    level = _LEVEL_NAMES[RegionLevel(region.level)]
    # Kabupaten and kota names in the Kemendagri files already carry it.
    if region.name.casefold().startswith(level.casefold()):
        return region.name
    return f"{level} {region.name}"


async def board_asset(request: Request) -> Response:
    """A board file; immutable when asked for by its current version."""
    name = str(request.path_params["name"])
    if name not in _MEDIA_TYPES:
        return PlainTextResponse("Berkas tidak ditemukan.", status_code=404)
    if name == "sw.js":
        # Browsers look for a newer service worker at every load; it controls the
        # pages under /board/ although it is served from elsewhere.
        return assets.response(
            request,
            asset(name),
            {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/board/"},
        )
    return assets.response(request, asset(name))


def routes() -> list[BaseRoute]:
    """The board page and its assets."""
    return [
        Route("/board/{code}", board_page, methods=["GET"]),
        Route(ASSET_PREFIX + "{name}", board_asset, methods=["GET"]),
    ]
