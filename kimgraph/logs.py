"""The server's logging: no personal data or secret in any line, at any level.

Three leaks this closes (issue 17, item 15, and item 4's log):

- a database driver's message repeats the values it refused (asyncpg's
  "invalid input for query argument $1: 'Budi…'", a unique key's DETAIL):
  a database error is logged with its type, SQLSTATE and traceback, never
  its message;
- uvicorn's access line keeps the whole URL, and a GET request's query
  string holds its variables (a refused GET mutation, with a reporter's name
  and contact): access and WebSocket lines keep the path only;
- at debug, websockets (through uvicorn's `uvicorn.error` logger) logs every
  frame with the head and tail of its payload (a password in tokenCreate, a
  connection_init's bearer token) and every handshake header
  (Authorization, Cookie): frames are logged by kind and size, headers by
  name.

Debug still logs every SQL statement, with its values except those of the
aspiration tables (kimgraph.aspirations.redaction).

Every line carries the id of the request it was logged for (kimgraph.request_log
sets REQUEST_ID), and KIMGRAPH_LOG_FORMAT=json writes each line as one JSON
object for log shippers (docs/operations.md, "Logs and metrics").
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# serve's lines add the process (one of --workers N) and the request id.
SERVE_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(process)d %(request_id)s] %(message)s"
)
# The id of the request (or WebSocket) being served, "-" outside one.
REQUEST_ID: ContextVar[str] = ContextVar("kimgraph_request_id", default="-")
WITHHELD = "[withheld: may hold personal data]"
# Modules whose exceptions may carry stored or refused values in their message.
DATABASE_MODULES = ("asyncpg", "sqlite3", "aiosqlite", "tortoise", "pypika")


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error and its causes and contexts, newest first."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or (
            None if error.__suppress_context__ else error.__context__
        )


def is_database_error(error: BaseException) -> bool:
    """True for an exception raised by a database driver or the ORM."""
    module = type(error).__module__
    return module.split(".", 1)[0] in DATABASE_MODULES


def describe(error: BaseException) -> str:
    """The error's type and SQLSTATE, without its message."""
    kind = type(error)
    sqlstate = getattr(error, "sqlstate", None)
    state = f" (SQLSTATE {sqlstate})" if isinstance(sqlstate, str) else ""
    return f"{kind.__module__}.{kind.__qualname__}{state}: [message withheld]"


def _traceback(chain: list[BaseException]) -> str:
    """Tracebacks oldest first, as Python prints them, each message withheld."""
    parts = []
    for error in reversed(chain):
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{describe(error)}")
    return "\n\nwhich led to:\n\n".join(parts)


class WithholdDatabaseErrors(logging.Filter):
    """Log a database error by its type, SQLSTATE and traceback, not its message.

    On the handlers, so that every logger's records pass it: the error hook
    of kimgraph.api, a failed shared subscription, the timer loop, uvicorn's
    "Exception in ASGI application".
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        chain = list(_chain(error))
        if not any(is_database_error(e) for e in chain):
            return True
        messages = {str(e) for e in chain} - {""}
        record.msg = _withhold(str(record.msg), messages)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _withhold(a, messages) if isinstance(a, str) else a for a in record.args
            )
        record.exc_info = None
        record.exc_text = _traceback(chain)
        return True


def _withhold(text: str, messages: set[str]) -> str:
    return WITHHELD if any(m in text for m in messages) else text


def _path_only(target: object) -> object:
    return target.split("?", 1)[0] if isinstance(target, str) else target


class DropQueryStrings(logging.Filter):
    """Access and WebSocket lines name the path, not the query string.

    A GET request carries its query and variables in the query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == "uvicorn.access" and len(args) == 5:
            # (client, method, path with query, HTTP version, status)
            record.args = (*args[:2], _path_only(args[2]), *args[3:])
        elif str(record.msg).startswith('%s - "WebSocket %s"') and len(args) >= 2:
            record.args = (args[0], _path_only(args[1]), *args[2:])
        return True


class WithholdFrames(logging.Filter):
    """websockets' debug lines show a frame's kind and size, a header's name.

    websockets logs through uvicorn's "uvicorn.error" logger, which also
    carries uvicorn's own lines: this rewrites only the frame and header lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or not isinstance(record.msg, str):
            return True
        if record.msg in ("< %s", "> %s") and len(args) == 1:
            frame = args[0]
            opcode, data = getattr(frame, "opcode", None), getattr(frame, "data", None)
            if opcode is not None and isinstance(data, bytes | bytearray):
                record.args = (f"{opcode.name} [{len(data)} bytes]",)
        elif record.msg in ("< %s: %s", "> %s: %s") and len(args) == 2:
            record.args = (args[0], "[withheld]")
        elif record.msg == "< %s %s %s" and len(args) == 3:
            record.args = (args[0], _path_only(args[1]), args[2])
        return True


class WithRequestId(logging.Filter):
    """Stamps each record with the id of the request it was logged for."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, pid.

    An access line (kimgraph.request_log) adds its fields. The traceback is the
    one WithholdDatabaseErrors left, when it rewrote the record.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
            "pid": record.process,
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def basic(level: str, log_format: str) -> None:
    """Every command's logging, `serve`'s until uvicorn applies config().

    In the format KIMGRAPH_LOG_FORMAT asks for: a log shipper reading `serve`
    gets JSON from its first line.
    """
    handler = logging.StreamHandler()
    handler.addFilter(WithRequestId())
    handler.addFilter(WithholdDatabaseErrors())
    formatter = JsonLines() if log_format == "json" else logging.Formatter(FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level.upper(), handlers=[handler])


def config(level: str, log_format: str = "text") -> dict[str, Any]:
    """The dictConfig of `kimgraph serve`, given to uvicorn (every worker applies it).

    In text, uvicorn's own formats are kept and the root logger gets
    KIMgraph's; in json, every handler writes JsonLines.
    """
    filters = {
        "request_id": {"()": f"{__name__}.WithRequestId"},
        "database_errors": {"()": f"{__name__}.WithholdDatabaseErrors"},
        "query_strings": {"()": f"{__name__}.DropQueryStrings"},
        "frames": {"()": f"{__name__}.WithholdFrames"},
    }
    loggers: dict[str, Any] = {
        "uvicorn": {"handlers": ["uvicorn"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO", "filters": ["query_strings", "frames"]},
        "uvicorn.access": {
            "handlers": ["access"],
            "level": "INFO",
            "propagate": False,
            "filters": ["query_strings"],
        },
        # websockets' own loggers (a client's, or an implementation that does
        # not log through uvicorn's) log payloads at debug.
        "websockets": {"level": "INFO"},
    }
    if level != "debug":
        loggers["tortoise"] = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": filters,
        "formatters": {
            "kimgraph": {"format": SERVE_FORMAT},
            "uvicorn": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": None,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" '
                "%(status_code)s",
            },
            "json": {"()": f"{__name__}.JsonLines"},
        },
        "handlers": {
            "kimgraph": _stream("kimgraph", "stderr", log_format),
            "uvicorn": _stream("uvicorn", "stderr", log_format),
            "access": _stream("access", "stdout", log_format),
        },
        "loggers": loggers,
        "root": {"handlers": ["kimgraph"], "level": level.upper()},
    }


def _stream(formatter: str, stream: str, log_format: str) -> dict[str, Any]:
    return {
        "class": "logging.StreamHandler",
        "formatter": "json" if log_format == "json" else formatter,
        "stream": f"ext://sys.{stream}",
        "filters": ["request_id", "database_errors"],
    }
