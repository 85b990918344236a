"""Many regions' boards at once: a page of each, read a page at a time in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kimgraph.announcements.queries import (
    BoardPage,
    PageKey,
    records_by_ids,
    shown_codes,
)
from kimgraph.announcements.visibility import PUBLIC, Reader
from kimgraph.events import log
from kimgraph.statements import Bound, default_connection

# A board binds at most 33 values (a view of its own: 11; itself: 2; 4 codes: 3
# each as pairs and 2 each as shows), so this many stay under what one statement
# may bind: 32,766 on SQLite, 32,767 on asyncpg.
BOARDS_PER_STATEMENT = 900

# The statement's inputs, as VALUES lists (columns column1, column2, … on both
# dialects). A view is one set of arguments, shared by boards read at slightly
# different times (each at its own `now`: earliest to latest); a pair is a view
# and a code some board of it shows; a show, a board's pair.
_VIEWS = """(SELECT column1 AS view, column2 AS active_only, column3 AS earliest,
  column4 AS latest, column5 AS after_priority, column6 AS after_valid_from,
  column7 AS after_id, column8 AS page_size, column9 AS reader_scope,
  column10 AS reader_kim, column11 AS reader_account
  FROM (VALUES {views}) AS view_rows)"""
_PAIRS = """(SELECT column1 AS pair, column2 AS view, column3 AS code
  FROM (VALUES {pairs}) AS pair_rows)"""
_BOARDS = """(SELECT column1 AS board, column2 AS now_at
  FROM (VALUES {boards}) AS board_rows)"""
_SHOWS = """(SELECT column1 AS board, column2 AS pair
  FROM (VALUES {shows}) AS show_rows)"""

# Whether the view's reader may read announcement a while it is scheduled
# (visibility.Reader.sees_scheduled): never NULL, so NOT works.
_SEES_SCHEDULED = """(
  (views.reader_kim IS NOT NULL AND a.kim_id IS NOT NULL
    AND a.kim_id = views.reader_kim)
  OR (views.reader_account IS NOT NULL AND a.publisher_id IS NOT NULL
    AND a.publisher_id = views.reader_account)
  OR (views.reader_scope IS NOT NULL AND EXISTS (
    SELECT 1 FROM announcement_target AS mine
    WHERE mine.announcement_id = a.id
      AND (mine.region_id = views.reader_scope
        OR mine.region_id LIKE views.reader_scope || '.%'))))"""
# What each pair may show: announcements targeted at its code; if its view asks
# for active ones, those active at some time of its boards; otherwise those
# public at some time of its boards or readable while scheduled. Unsettled:
# shown at the times of some of them only, so each board tests it at its own
# (_ACTIVE_HERE): 1 if it must be active there, 2 if only public (validFrom
# passed). SQLite keeps the written order of CROSS JOINs, which it would
# otherwise start, lacking statistics, from every announcement; PostgreSQL
# plans them as any join.
_SHOWN = f"""
SELECT pairs.pair, pairs.code, views.page_size, a.id, a.priority, a.valid_from,
  a.valid_until,
  CASE WHEN views.active_only
    AND (a.valid_from > views.earliest OR a.valid_until <= views.latest)
  THEN 1
  WHEN NOT views.active_only AND a.valid_from > views.earliest
    AND NOT {_SEES_SCHEDULED}
  THEN 2 ELSE 0 END AS unsettled
FROM {_VIEWS} AS views
CROSS JOIN {_PAIRS} AS pairs
CROSS JOIN announcement_target AS target
CROSS JOIN announcement AS a
WHERE pairs.view = views.view
  AND target.region_id = pairs.code
  AND a.id = target.announcement_id
  AND (NOT views.active_only
    OR (a.withdrawn_at IS NULL AND a.valid_from <= views.latest
      AND (a.valid_until IS NULL OR a.valid_until > views.earliest)))
  AND (views.active_only OR a.valid_from <= views.latest OR {_SEES_SCHEDULED})
"""
_AFTER_CURSOR = """
AND (views.after_id IS NULL
  OR a.priority < views.after_priority
  OR (a.priority = views.after_priority AND a.valid_from < views.after_valid_from)
  OR (a.priority = views.after_priority AND a.valid_from = views.after_valid_from
    AND a.id < views.after_id))
"""
_ACTIVE_HERE = """({row}.unsettled = 0 OR ({row}.valid_from <= boards.now_at
  AND ({row}.unsettled = 2 OR {row}.valid_until IS NULL
    OR {row}.valid_until > boards.now_at)))"""

# The filters are board_page's, written in SQL. First the pages: a board's first
# page_size + 1 after its cursor are among the first page_size + 1 of each code it
# shows, once the code's unsettled rows are added, so a code is ranked once per
# view, however many boards show it, and each board ranks only those. Then the
# totals: a board shows every region above each code it shows, so an announcement
# it shows has one highest target on it, with no other target above (is_within,
# in SQL). Counted there, the totals also cost no row per board and announcement.
_STATEMENT = f"""
SELECT board, id, rn, NULL AS total FROM (
  SELECT board, id, page_size, ROW_NUMBER() OVER (
    PARTITION BY board ORDER BY priority DESC, valid_from DESC, id DESC
  ) AS rn
  FROM (
    SELECT DISTINCT shows.board, top.id, top.priority, top.valid_from, top.page_size
    FROM {_SHOWS} AS shows
    JOIN {_BOARDS} AS boards ON boards.board = shows.board
    JOIN (
      SELECT pair, id, priority, valid_from, valid_until, unsettled, page_size
      FROM (
        SELECT pair, id, priority, valid_from, valid_until, unsettled, page_size,
          ROW_NUMBER() OVER (
            PARTITION BY pair ORDER BY priority DESC, valid_from DESC, id DESC
          ) AS rn,
          SUM(CASE WHEN unsettled > 0 THEN 1 ELSE 0 END) OVER (PARTITION BY pair)
            AS unsettled_rows
        FROM ({_SHOWN}{_AFTER_CURSOR}) AS shown
      ) AS ranked
      WHERE rn <= page_size + 1 + unsettled_rows
    ) AS top ON top.pair = shows.pair
    WHERE {_ACTIVE_HERE.format(row="top")}
  ) AS candidates
) AS page
WHERE rn <= page_size + 1
UNION ALL
SELECT shows.board, NULL, 0,
  SUM(CASE WHEN {_ACTIVE_HERE.format(row="highest")} THEN highest.total ELSE 0 END)
FROM {_SHOWS} AS shows
JOIN {_BOARDS} AS boards ON boards.board = shows.board
JOIN (
  SELECT pair, unsettled, MIN(valid_from) AS valid_from,
    MIN(valid_until) AS valid_until, COUNT(*) AS total
  FROM ({_SHOWN}) AS shown
  WHERE NOT EXISTS (
    SELECT 1 FROM announcement_target AS other
    WHERE other.announcement_id = shown.id
      AND shown.code LIKE other.region_id || '.%'
  )
  GROUP BY pair, unsettled, CASE WHEN unsettled > 0 THEN id END
) AS highest ON highest.pair = shows.pair
GROUP BY shows.board
ORDER BY board, rn
"""


@dataclass(frozen=True, slots=True)
class BoardKey:
    """One page of a region's board: what it shows at `now`, after `after`."""

    region: str
    active_only: bool
    now: datetime
    after: PageKey | None
    limit: int
    # Who reads: scheduled announcements only for whom visibility.py allows.
    reader: Reader = PUBLIC


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one statement read, each board named by its place in the batch."""

    # Ids after the board's cursor, in board order: at most limit + 1.
    shown: dict[int, list[int]]
    # All the board shows, wherever the cursor is; absent if nothing.
    totals: dict[int, int]


async def boards_by_keys(keys: Sequence[BoardKey]) -> dict[BoardKey, BoardPage]:
    """A page of each board: a statement per 900 boards, then the rows shown.

    A board costs at most limit + 1 ids however long its history is. The
    position comes first, as in board_page.
    """
    position = await log.position()
    unique = list(dict.fromkeys(keys))
    pages: dict[BoardKey, tuple[list[int], bool, int]] = {}
    for start in range(0, len(unique), BOARDS_PER_STATEMENT):
        batch = unique[start : start + BOARDS_PER_STATEMENT]
        fetched = await fetch_boards(batch)
        for n, key in enumerate(batch):
            after = fetched.shown.get(n, [])
            total = fetched.totals.get(n, 0)
            pages[key] = (after[: key.limit], len(after) > key.limit, total)
    ids = sorted({i for shown, _, _ in pages.values() for i in shown})
    rows = await records_by_ids(ids)
    return {
        key: BoardPage(position, [rows[i] for i in shown], has_next, total)
        for key, (shown, has_next, total) in pages.items()
    }


async def fetch_boards(keys: Sequence[BoardKey]) -> Fetched:
    """Each board's first limit + 1 ids after its cursor, and its total: one read."""
    conn = default_connection()
    sql, values = _statement(keys, Bound.of(conn))
    shown: defaultdict[int, list[int]] = defaultdict(list)
    totals = {}
    for row in await conn.execute_query_dict(sql, values):
        board = int(row["board"])
        if row["total"] is None:
            shown[board].append(int(row["id"]))
        else:
            totals[board] = int(row["total"])
    return Fetched(dict(shown), totals)


def _statement(keys: Sequence[BoardKey], bind: Bound) -> tuple[str, list[object]]:
    views: dict[tuple[bool, PageKey | None, int, Reader], int] = {}
    times: defaultdict[int, list[datetime]] = defaultdict(list)
    pairs: dict[tuple[int, str], int] = {}
    shows: list[tuple[int, int]] = []
    for board, key in enumerate(keys):
        arguments = (key.active_only, key.after, key.limit, key.reader)
        view = views.setdefault(arguments, len(views))
        times[view].append(key.now)
        for code in shown_codes(key.region):
            shows.append((board, pairs.setdefault((view, code), len(pairs))))
    view_rows = []
    for (active_only, after, limit, reader), view in views.items():
        priority, valid_from, row_id = after or (None, None, None)
        view_rows.append(
            bind.row(
                (view, "integer"),
                (active_only, "boolean"),
                (min(times[view]), "timestamptz"),
                (max(times[view]), "timestamptz"),
                (priority, "integer"),
                (valid_from, "timestamptz"),
                (row_id, "integer"),
                (limit, "integer"),
                (reader.scope, "text"),
                (reader.kim_id, "integer"),
                (reader.account_id, "integer"),
            )
        )
    pair_rows = [
        bind.row((pair, "integer"), (view, "integer"), (code, "text"))
        for (view, code), pair in pairs.items()
    ]
    board_rows = [
        bind.row((board, "integer"), (key.now, "timestamptz"))
        for board, key in enumerate(keys)
    ]
    show_rows = [
        bind.row((board, "integer"), (pair, "integer")) for board, pair in shows
    ]
    sql = _STATEMENT.format(
        views=", ".join(view_rows),
        pairs=", ".join(pair_rows),
        boards=", ".join(board_rows),
        shows=", ".join(show_rows),
    )
    return sql, bind.values
