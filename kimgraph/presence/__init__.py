"""Board presence: which desa have a notice board online, across processes.

How it works and why: docs/presence.md.
"""

from kimgraph.presence.heartbeat import Heartbeat, record, stale_after
from kimgraph.presence.queries import LONG_OFFLINE, BoardState, board_page
from kimgraph.presence.sockets import APP_STATE, BoardSockets, board_connected

__all__ = [
    "APP_STATE",
    "LONG_OFFLINE",
    "BoardSockets",
    "BoardState",
    "Heartbeat",
    "board_connected",
    "board_page",
    "record",
    "stale_after",
]
