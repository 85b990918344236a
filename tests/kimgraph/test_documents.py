"""The parser cache is bounded by bytes; documents' selections are counted."""

from __future__ import annotations

from graphql import parse

from kimgraph.admission import MAX_SELECTIONS
from kimgraph.api import build_schema
from kimgraph.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_TOTAL_BYTES,
    DocumentCache,
    count_selections,
    document_bytes,
)
from kimgraph.settings import Settings

# Issue 17, item 9: comments cost no tokens, but the AST keeps them.
MEGABYTE_COMMENT = "#" + "x" * 1_000_000 + "\n"


def test_a_document_with_a_1_mb_comment_is_not_kept() -> None:
    # given
    cache = DocumentCache()
    query = MEGABYTE_COMMENT + "{ __typename }"
    # when
    document = cache.parse(query)
    # then: parsed, not kept
    assert count_selections(document) == 1
    assert document_bytes(query, document) > MAX_DOCUMENT_BYTES
    assert (len(cache), cache.total_bytes, cache.memo(document)) == (0, 0, None)


async def test_the_schema_keeps_no_1_mb_comment_it_executed() -> None:
    # given
    schema = build_schema(Settings())
    query = MEGABYTE_COMMENT + "{ __typename }"
    # when: twice
    first = await schema.execute(query)
    second = await schema.execute(query)
    # then
    assert first.data == second.data == {"__typename": "Query"}
    assert (len(schema.documents), schema.documents.total_bytes) == (0, 0)


def test_many_distinct_big_documents_stay_within_the_byte_budget() -> None:
    # given: room for a few 100 KB documents
    cache = DocumentCache(max_total_bytes=1_000_000, max_document_bytes=300_000)
    sizes = []
    # when: 60 distinct ones, each kept at first
    for number in range(60):
        query = f"#{number}" + "y" * 50_000 + "\n{ __typename }"
        document = cache.parse(query)
        sizes.append(document_bytes(query, document))
        # then: never over the budget
        assert cache.total_bytes <= 1_000_000
    assert min(sizes) > 100_000
    assert len(cache) == 1_000_000 // min(sizes)
    # the newest is the one kept, the oldest went first
    assert cache.memo(document) == {}
    assert cache.parse("#0" + "y" * 50_000 + "\n{ __typename }") is not None
    assert cache.misses == 61


def test_a_small_document_is_parsed_once() -> None:
    # given
    cache = DocumentCache()
    # when
    first = cache.parse('{ region(code: "61") { code } }', max_tokens=100)
    again = cache.parse('{ region(code: "61") { code } }', max_tokens=100)
    # then
    assert first is again
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert 0 < cache.total_bytes <= MAX_TOTAL_BYTES


def test_selections_count_fields_and_fragments_as_written() -> None:
    document = parse("""
        query { a { b c ... on T { d } ...F } e }
        fragment F on T { f g { h } }
    """)
    # a b c (inline) d (spread) e, and f g h in the fragment
    assert count_selections(document) == 10


def test_the_introspection_query_of_graphiql_is_far_under_the_limit() -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert count_selections(parse(query)) < MAX_SELECTIONS // 2
