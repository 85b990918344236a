"""Parsed documents, remembered within a byte budget, and what they select.

The parser cache holds a document's AST, which costs far more memory than its
text: graphql-core keeps every token (comments too, which count as no token
for the token limit) in a linked list under the AST's locations, about 400
bytes a token plus the text, twice for a comment (docs/performance.md,
"Memory"). A cache bounded by a count of entries is then bounded by nothing:
1,000 distinct queries with a 1 MB comment each kept 1.4 GB. So the cache
counts the bytes of each entry, keeps none over a per-document limit, and
drops the least recently used past its total.

Each entry also carries a memo, for results that hold only for that document
(its validation, its costs): they live and die with it, so no other cache
keeps an evicted document alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    Node,
    SelectionSetNode,
    parse,
)
from strawberry.extensions import SchemaExtension

from kimgraph.byte_lru import ByteBoundedLru

# What one token of a parsed document costs in memory, measured (tracemalloc,
# graphql-core 3.3.2, CPython 3.11): a 14 KB document of 4,812 tokens keeps
# 2.0 MB, a 28 KB one of 9,800 tokens 3.0 MB.
TOKEN_BYTES = 420
# Text is kept twice: the source, and each token's value (a comment's whole).
TEXT_COPIES = 2

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024


def document_bytes(query: str, document: DocumentNode) -> int:
    """The memory a parsed document keeps, estimated from its text and tokens."""
    tokens = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        token = token.next
    return TEXT_COPIES * len(query) + TOKEN_BYTES * tokens


def count_selections(document: DocumentNode) -> int:
    """Fields, inline fragments and fragment spreads written in the document.

    A document's validation costs time that grows with this count, and with
    its square where many selections share a response name
    (OverlappingFieldsCanBeMerged): counting first, in time linear in the AST,
    lets a document too big to validate cheaply be refused before validation.
    """
    count = 0
    stack: list[Node] = [
        d for d in document.definitions if isinstance(d, ExecutableDefinitionNode)
    ]
    while stack:
        node = stack.pop()
        selection_set: SelectionSetNode | None = getattr(node, "selection_set", None)
        if not isinstance(node, ExecutableDefinitionNode):
            count += 1
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return count


@dataclass(slots=True)
class Entry:
    """One cached document, its estimated size, and results about it."""

    document: DocumentNode
    size: int
    memo: dict[Any, Any] = field(default_factory=dict)


class DocumentCache:
    """Documents by query text and parse options, LRU within a byte budget.

    One per schema, shared by every request (like the caches it replaces:
    docs/performance.md, "a cache built per request never hits").
    """

    def __init__(
        self,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self.hits = 0
        self.misses = 0
        self._by_document: dict[int, Entry] = {}
        self._entries: ByteBoundedLru[tuple[str, tuple[Any, ...]], Entry] = (
            ByteBoundedLru(max_total_bytes, max_document_bytes, self._forget)
        )

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._entries.total_bytes

    @property
    def max_total_bytes(self) -> int:
        return self._entries.max_total_bytes

    def parse(self, query: str, **options: Any) -> DocumentNode:
        """The parsed document; raises GraphQLError (syntax, token limit)."""
        key = (query, tuple(sorted(options.items())))
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            return entry.document
        self.misses += 1
        document = parse(query, **options)
        entry = Entry(document, document_bytes(query, document))
        self._by_document[id(document)] = entry
        if not self._entries.put(key, entry, entry.size):
            self._forget(entry)
        return document

    def memo(self, document: DocumentNode) -> dict[Any, Any] | None:
        """The memo of a cached document; None for one not cached."""
        entry = self._by_document.get(id(document))
        if entry is None or entry.document is not document:
            return None
        return entry.memo

    def _forget(self, evicted: Entry) -> None:
        self._by_document.pop(id(evicted.document), None)


class CachedParsing(SchemaExtension):
    """Strawberry's parsing step through a DocumentCache (for ParserCache).

    Made per request, as Strawberry requires; the cache it reads is the
    schema's one.
    """

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = self.cache.parse(
                context.query, **context.parse_options
            )
        yield
