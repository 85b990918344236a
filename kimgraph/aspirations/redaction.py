"""Keeps reporters' personal data out of the debug log of SQL statements."""

from __future__ import annotations

import logging

WITHHELD = "[values withheld: may hold personal data]"
# Tortoise logs each statement with its values; aiosqlite logs each call with both.
STATEMENT_LOGGERS = ("tortoise.db_client", "aiosqlite")
_TABLE = "aspiration"
_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def _is_statement(value: object) -> bool:
    return isinstance(value, str) and value.lstrip().upper().startswith(_STATEMENTS)


class WithholdAspirationValues(logging.Filter):
    """Replace the values logged with a statement on the aspiration tables.

    At KIMGRAPH_LOG_LEVEL=debug these include the reporter's name and contact.
    The statement itself (placeholders only) stays, for debugging.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_TABLE in str(arg) for arg in args):
            record.args = tuple(a if _is_statement(a) else WITHHELD for a in args)
        return True


def install() -> None:
    """Add the filter to the statement loggers, once per process."""
    for name in STATEMENT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdAspirationValues) for f in logger.filters):
            logger.addFilter(WithholdAspirationValues())
