"""Hand-written SQL for both dialects: the values a statement binds."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient


def default_connection() -> BaseDBAsyncClient:
    """The connection the ORM would use here (a transaction's, inside one)."""
    return Tortoise.get_connection("default")


class Bound:
    """The values a statement binds, and the numbered placeholder of each.

    A statement may name the same input more than once; numbered placeholders
    let each name the same value.
    """

    def __init__(self, dialect: str) -> None:
        self.values: list[object] = []
        self._postgres = dialect == "postgres"

    @classmethod
    def of(cls, conn: BaseDBAsyncClient) -> Bound:
        """Placeholders for this connection's dialect."""
        return cls(str(conn.capabilities.dialect))

    def row(self, *typed: tuple[object, str]) -> str:
        """A VALUES row binding each value, with its PostgreSQL type."""
        return f"({', '.join(self.value(value, kind) for value, kind in typed)})"

    def value(self, value: object, postgres_type: str) -> str:
        """The placeholder of a newly bound value."""
        self.values.append(value)
        n = len(self.values)
        # PostgreSQL cannot infer the type of a parameter in a VALUES list (it
        # guesses text), nor in `$1 IS NULL`; SQLite compares by value and
        # needs no type.
        return f"${n}::{postgres_type}" if self._postgres else f"?{n}"
