"""The `kimgraph` command's failures, each told in one line and an exit status.

main() passes every exception of every subcommand through explain(), so a new
subcommand reports settings, database and input mistakes like the others
without code of its own; a command that finds a mistake itself raises CliError.
The rules and the messages: docs/operations.md, "Command-line errors".
"""

from __future__ import annotations

import argparse
import difflib
import errno
import socket
import sys
from collections.abc import Callable, Mapping
from typing import NoReturn
from urllib.parse import urlsplit

from kimgraph.cursors import decode_id, key_id
from kimgraph.errors import ApiError, Problem, UserInputError
from kimgraph.setting_values import SettingsError
from kimgraph.settings import PREFIX, variable_names

# 2: the command cannot start as given (its arguments, a setting, a file or a
# database it names); 1: it started and failed (refused data, a service down).
USAGE = 2
FAILED = 1

# Read by the test suite, not by KIMgraph: never warned about.
TEST_VARIABLES = (
    "KIMGRAPH_TEST_",
    "KIMGRAPH_REQUIRE_SERVICES",
    "KIMGRAPH_BOARD_SCREENSHOTS",
)


class CliError(Exception):
    """A mistake or failure the operator can act on: one line per line of message."""

    def __init__(self, message: str, status: int = USAGE) -> None:
        super().__init__(message)
        self.status = status

    def lines(self) -> list[str]:
        """What stderr shows, each line starting `kimgraph: `."""
        return [f"kimgraph: {line}" for line in str(self).splitlines()]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake told in one line instead of the usage text."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("kimgraph").strip()
        self.exit(
            USAGE,
            f"kimgraph: {where + ': ' if where else ''}{message} "
            f"(see {self.prog} --help)\n",
        )


def id_argument(type_name: str) -> Callable[[str], int]:
    """An argparse type: a row's number, or the global id the API hands out."""

    def read(text: str) -> int:
        number = key_id(text)
        if number is None:
            number = decode_id(type_name, text)
        if number is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} is neither a number nor the id of a {type_name}"
            )
        return number

    read.__name__ = f"{type_name} id"
    return read


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each KIMGRAPH_* variable no setting reads, with its likely name."""
    known = variable_names()
    # Compared without the prefix, which every name shares and would make alike.
    suffixes = [name.removeprefix(PREFIX) for name in known]
    warnings = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in known:
            continue
        if name.startswith(TEST_VARIABLES):
            continue
        close = difflib.get_close_matches(name.removeprefix(PREFIX), suffixes, n=1)
        hint = (
            f"did you mean {PREFIX}{close[0]}?"
            if close
            else "`kimgraph serve --help` lists them"
        )
        warnings.append(f"kimgraph: warning: {name} is not a KIMgraph setting; {hint}")
    return warnings


def explain(exc: BaseException, database_url: str | None) -> CliError | None:
    """The report of an ordinary failure; None for a bug (main shows it whole)."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, SettingsError):
        return CliError(str(exc), USAGE)
    if isinstance(exc, UserInputError):
        return CliError("\n".join(_problem(p) for p in exc.problems), FAILED)
    if isinstance(exc, ApiError):
        return CliError(str(exc), FAILED)
    if isinstance(exc, ModuleNotFoundError):
        return CliError(f"the Python module {exc.name} is not installed", USAGE)
    database = _database_failure(exc, database_url)
    if database is not None:
        return database
    redis = sys.modules.get("redis.exceptions")
    if redis is not None and isinstance(exc, redis.RedisError):
        return CliError(f"Redis (KIMGRAPH_REDIS_URL) failed: {exc}", FAILED)
    if isinstance(exc, OSError) and exc.filename is not None:
        mistake = isinstance(
            exc, FileNotFoundError | PermissionError | IsADirectoryError
        )
        return CliError(f"{exc.filename}: {exc.strerror}", USAGE if mistake else FAILED)
    return None


def _problem(problem: Problem) -> str:
    field = ".".join(problem.field or ())
    return f"{field}: {problem.message}" if field else problem.message


def _database_failure(exc: BaseException, database_url: str | None) -> CliError | None:
    """Why the database could not be opened, naming the server, never the URL."""
    tortoise = sys.modules.get("tortoise.exceptions")
    if tortoise is not None and isinstance(exc, tortoise.ConfigurationError):
        return CliError(f"KIMGRAPH_DATABASE_URL: {exc}", USAGE)
    if tortoise is not None and isinstance(exc, tortoise.DBConnectionError):
        cause = exc.__cause__ or exc.__context__
        if cause is not None:
            return _database_failure(cause, database_url) or _cannot(
                str(cause), database_url, FAILED
            )
        return _cannot(str(exc), database_url, FAILED)
    asyncpg = sys.modules.get("asyncpg.exceptions")
    if asyncpg is not None and isinstance(
        exc,
        asyncpg.InvalidCatalogNameError
        | asyncpg.InvalidAuthorizationSpecificationError,
    ):
        return _cannot(str(exc), database_url, USAGE)
    if asyncpg is not None and isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.TooManyConnectionsError,
    ):
        return _cannot(str(exc), database_url, FAILED)
    if not _where(database_url):
        return None  # SQLite: a socket error came from elsewhere
    if isinstance(exc, socket.gaierror):
        return _cannot("no such host", database_url, USAGE)
    if isinstance(exc, ConnectionRefusedError):
        return _cannot("connection refused (is it running?)", database_url, FAILED)
    if isinstance(exc, TimeoutError | ConnectionError) or (
        isinstance(exc, OSError)
        and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
    ):
        return _cannot(exc.strerror or "no answer", database_url, FAILED)
    return None


def _cannot(reason: str, database_url: str | None, status: int) -> CliError:
    return CliError(f"cannot open the database{_where(database_url)}: {reason}", status)


def _where(database_url: str | None) -> str:
    """The server a PostgreSQL URL names (host:port), without user or password."""
    if not database_url:
        return ""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        return ""
    try:
        port = parts.port or 5432
    except ValueError:
        return ""
    return f" at {parts.hostname or 'localhost'}:{port}"
