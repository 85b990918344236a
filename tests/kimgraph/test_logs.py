"""A database error is logged by type, SQLSTATE and traceback, never its message.

asyncpg's and SQLite's messages repeat the values they refused: logged as
kimgraph.api logs an unexpected error, the value once reached the log three
times (the line, the exception, its cause).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from tortoise import Tortoise

from kimgraph import logs

MARKER = "Hartini Wulandari 0812-5550-8642"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What a handler of `kimgraph serve` (kimgraph.logs.config) writes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    handler.addFilter(logs.WithholdDatabaseErrors())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


async def test_a_database_error_is_logged_without_the_values_it_carries(
    db: str, log: io.StringIO
) -> None:
    # given: a statement the database refuses, its message repeating the value
    connection = Tortoise.get_connection("default")
    with pytest.raises(Exception) as raised:  # noqa: PT011 (whichever driver's)
        await connection.execute_query(f'SELECT * FROM "{MARKER}"')
    error = raised.value
    assert MARKER in str(error)
    # when: logged as kimgraph.api logs an unexpected error
    logging.getLogger("tests.logs").error(
        "unexpected error at %s: %s", ["aspirationSubmit"], str(error), exc_info=error
    )
    # then
    text = log.getvalue()
    assert MARKER not in text
    assert "unexpected error at ['aspirationSubmit']: [withheld" in text
    assert "Traceback (most recent call last):" in text
    assert f"{type(error).__module__}.{type(error).__qualname__}" in text
    if db.startswith("postgres"):
        assert "(SQLSTATE 42P01): [message withheld]" in text


def test_other_errors_keep_their_message(log: io.StringIO) -> None:
    try:
        raise ValueError("no personal data here")
    except ValueError:
        logging.getLogger("tests.logs").exception("failed")
    assert "ValueError: no personal data here" in log.getvalue()


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_access_and_websocket_lines_keep_the_path_only() -> None:
    url = "/graphql?query=mutation&variables=%7B%22reporterName%22%3A%22Budi%22%7D"
    access = record(
        "uvicorn.access", '%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", url, "1.1", 405
    )
    socket = record("uvicorn.error", '%s - "WebSocket %s" [accepted]', "1.2.3.4", url)
    for line in (access, socket):
        assert logs.DropQueryStrings().filter(line)
        assert "Budi" not in line.getMessage()
        assert "/graphql" in line.getMessage()
