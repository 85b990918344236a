"""This process's board sockets, by the desa each said it shows."""

from __future__ import annotations

import weakref
from typing import Any

from starlette.websockets import WebSocket

from kimgraph.context import Context
from kimgraph.live.connections import Closable, is_open
from kimgraph.models import RegionLevel
from kimgraph.regions.codes import InvalidRegionCode, level_of

APP_STATE = "board_sockets"
"""The name of the process's BoardSockets on the Starlette app's state."""

PAYLOAD_KEY = "board"
"""The connection_init payload's key a board names its desa with."""


class BoardSockets:
    """Open board sockets by desa code; a closed one is dropped at the next look.

    Kept weakly and read only by the heartbeat, so a closing socket needs no
    hook of its own: once closed it simply stops being counted.
    """

    def __init__(self) -> None:
        self._by_code: dict[str, weakref.WeakSet[Closable]] = {}

    def add(self, code: str, socket: Closable) -> None:
        """Count a socket for a desa until it closes."""
        self._by_code.setdefault(code, weakref.WeakSet()).add(socket)

    def codes(self) -> list[str]:
        """The desa with at least one open socket now, in code order."""
        shown = []
        for code, sockets in list(self._by_code.items()):
            if any(is_open(socket) for socket in sockets):
                shown.append(code)
            else:
                del self._by_code[code]
        return sorted(shown)


def board_code(params: dict[str, Any] | None) -> str | None:
    """The desa or kelurahan a connection_init payload names; None if none is.

    The key is optional (other clients send none), and a malformed or
    non-village code is ignored rather than refused: presence is a report
    the board makes, not a condition of being served.
    """
    code = (params or {}).get(PAYLOAD_KEY)
    if not isinstance(code, str):
        return None
    try:
        level = level_of(code)
    except InvalidRegionCode:
        return None
    return code if level in (RegionLevel.DESA, RegionLevel.KELURAHAN) else None


def board_connected(context: Context) -> None:
    """Count an acknowledged socket as the board of the desa its payload names."""
    code = board_code(context.connection_params)
    if code is None or not isinstance(context.request, WebSocket):
        return
    sockets = context.app_object(APP_STATE, BoardSockets)
    if sockets is not None:
        sockets.add(code, context.request)
