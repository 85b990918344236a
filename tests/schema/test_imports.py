"""Schema modules import one way; types of a module above are named lazily."""

from __future__ import annotations

import grimp


def test_no_two_schema_modules_import_each_other() -> None:
    # given: what runs, without the imports that only type checkers see
    graph = grimp.build_graph(
        "schema", exclude_type_checking_imports=True, cache_dir=None
    )
    modules = sorted(graph.modules)
    # when
    circles = [
        (low, high)
        for low in modules
        for high in modules
        if low < high
        and graph.chain_exists(importer=low, imported=high)
        and graph.chain_exists(importer=high, imported=low)
    ]
    # then
    assert circles == []
