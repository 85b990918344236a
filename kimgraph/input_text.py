"""Refuses text no database stores, before anything runs: lone surrogates and NUL.

A JavaScript client that cuts an emoji in half sends a lone UTF-16 surrogate
(U+D800 to U+DFFF); JSON carries it as `\\ud800` and Python decodes it into a
`str` that is no Unicode text. asyncpg cannot encode it (an INTERNAL error
whose message repeats the value), SQLite's driver neither, and PostgreSQL
refuses NUL (U+0000) in any text column. Checked once for every operation,
queries, mutations and subscriptions over HTTP and WebSocket alike: every
string among the variables, at any depth, and every string literal of the
document (the parser already refuses a surrogate there, not `\\u0000`).
The refusal names where the text was, never the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from kimgraph.errors import InvalidArgumentError

CODE = InvalidArgumentError.code
NUL = "a NUL character (U+0000)"
SURROGATE = "a lone surrogate (U+D800 to U+DFFF: half of a character)"


def _problem(text: str) -> str | None:
    """What in text no database stores, or None if it is storable."""
    if "\x00" in text:
        return NUL
    if text.isascii():
        return None
    try:
        text.encode()  # at C speed: ~30x a regular expression's search
    except UnicodeEncodeError:  # only a surrogate makes UTF-8 fail
        return SURROGATE
    return None


def _in_value(value: object) -> tuple[list[str], str] | None:
    """The first unstorable string in a JSON value: (where, innermost first; what)."""
    if isinstance(value, str):
        problem = _problem(value)
        return None if problem is None else ([], problem)
    if isinstance(value, dict):
        for key, item in value.items():
            # A key is text too: an unknown field's name is echoed in errors.
            if (problem := _problem(key)) is not None:
                return [], problem
            if (found := _in_value(item)) is not None:
                found[0].append(f".{key}")
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _in_value(item)) is not None:
                found[0].append(f"[{index}]")
                return found
    return None


def variables_error(variables: dict[str, Any] | None) -> GraphQLError | None:
    """The refusal of the first unstorable string among the variables, if any."""
    found = _in_value(variables or {})
    if found is None:
        return None
    path, problem = found
    where = "".join(reversed(path)).removeprefix(".")
    label = f"${where}" if where else "A variable's name"
    return GraphQLError(
        f"{label} holds {problem}: send well-formed Unicode text.",
        extensions={"code": CODE, "variable": where},
    )


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: tuple[StringValueNode, str] | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        problem = _problem(node.value)
        if problem is not None and self.found is None:
            self.found = (node, problem)
            return self.BREAK
        return None


def literals_error(
    document: DocumentNode | None, query: str | None = None
) -> GraphQLError | None:
    """The refusal of the first unstorable string literal in the document, if any.

    The parser refuses a lone surrogate, raw or escaped, so only a raw NUL or
    an escape can make one: a query text with neither is not walked (a walk
    costs ~0.4 ms).
    """
    if document is None or (
        query is not None and "\x00" not in query and "\\u" not in query
    ):
        return None
    literals = _Literals()
    visit(document, literals)
    if literals.found is None:
        return None
    node, problem = literals.found
    return GraphQLError(
        f"A string in the document holds {problem}: send well-formed Unicode text.",
        nodes=[node],
        extensions={"code": CODE},
    )


class RefuseUnstorableText(SchemaExtension):
    """Refuse an operation whose text holds a lone surrogate or NUL; run nothing.

    Its check is the validation step's: listed after the extension that
    validates (kimgraph.admission.Admission), it adds its error to none found.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors:
            error = variables_error(context.variables) or literals_error(
                context.graphql_document, context.query
            )
            if error is not None:
                context.pre_execution_errors = [error]
        yield
