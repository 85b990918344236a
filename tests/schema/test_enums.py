"""Each GraphQL enum spells the members of exactly one kimgraph enum."""

from __future__ import annotations

import enum
import importlib
import pkgutil

import pytest
from strawberry.types.enum import StrawberryEnumDefinition

import schema
from kimgraph import models
from kimgraph.accounts.principals import Role
from kimgraph.announcements import records as announcement_records
from kimgraph.aspirations import records as aspiration_records
from kimgraph.aspirations.reporter import ReporterAction
from kimgraph.audit import actions as audit_actions
from kimgraph.errors import ProblemCode

# GraphQL name → the enum kimgraph keeps: stored enums in kimgraph.models, Role
# with the principals, derived and event enums in their domain's records, the
# userError codes with the errors.
DOMAIN_ENUMS: dict[str, type[enum.Enum]] = {
    "RegionLevel": models.RegionLevel,
    "KimRole": models.KimRole,
    "AnnouncementCategory": models.AnnouncementCategory,
    "AnnouncementPriority": models.AnnouncementPriority,
    "AnnouncementStatus": announcement_records.Status,
    "AnnouncementEventKind": announcement_records.EventKind,
    "AspirationStatus": models.AspirationStatus,
    "AspirationCategory": models.AspirationCategory,
    "AspirationVisibility": models.AspirationVisibility,
    "AspirationEventKind": aspiration_records.EventKind,
    "AspirationReporterAction": ReporterAction,
    "Role": Role,
    "UserErrorCode": ProblemCode,
    "WarningReviewReason": models.WarningReviewReason,
    "WarningReviewStatus": models.WarningReviewStatus,
    "AuditAction": audit_actions.AuditAction,
    "AuditActorKind": audit_actions.ActorKind,
    "WebhookStatus": models.WebhookStatus,
    "WebhookDeliveryStatus": models.DeliveryStatus,
}


def schema_enums() -> dict[str, type[enum.Enum]]:
    """Every Strawberry enum defined in a module under schema/, by GraphQL name."""
    found: dict[str, type[enum.Enum]] = {}
    for module in pkgutil.walk_packages(schema.__path__, "schema."):
        for value in vars(importlib.import_module(module.name)).values():
            definition = getattr(value, "__strawberry_definition__", None)
            if isinstance(definition, StrawberryEnumDefinition):
                assert found.setdefault(definition.name, value) is value
    return found


def test_every_schema_enum_has_a_domain_enum() -> None:
    assert sorted(schema_enums()) == sorted(DOMAIN_ENUMS)


@pytest.mark.parametrize("name", sorted(DOMAIN_ENUMS))
def test_a_schema_enum_has_exactly_its_domain_enums_members(name: str) -> None:
    # given
    graphql, domain = schema_enums()[name], DOMAIN_ENUMS[name]
    # then: the same names; each value is the domain member's value, or
    # (where the schema spells its values by name) the name
    assert {m.name for m in graphql} == {m.name for m in domain}
    values = {m.name: m.value for m in graphql}
    assert values in (
        {m.name: m.value for m in domain},
        {m.name: m.name for m in domain},
    )
