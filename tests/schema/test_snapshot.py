"""The committed SDL is the schema the server serves."""

from __future__ import annotations

from pathlib import Path

from kimgraph.api import build_schema
from kimgraph.settings import Settings

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"


def test_committed_sdl_equals_the_schema() -> None:
    printed = build_schema(Settings()).as_str() + "\n"
    assert SDL.read_text(encoding="utf-8") == printed, (
        "schema/schema.graphql is stale: run `kimgraph schema > schema/schema.graphql`"
    )


def test_every_type_field_and_argument_is_described() -> None:
    schema = build_schema(Settings())._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Boolean", "Int", "ID", "Float"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
        for value_name, value in getattr(graphql_type, "values", {}).items():
            if not value.description:
                missing.append(f"{name}.{value_name}")
    assert missing == []
