"""Aspiration types, their live events, inputs and payloads."""

from schema.aspirations.connection import AspirationConnection
from schema.aspirations.enums import (
    AspirationCategory,
    AspirationReporterAction,
    AspirationStatus,
    AspirationVisibility,
)
from schema.aspirations.events import AspirationEvent, AspirationEventKind
from schema.aspirations.mutations import (
    AspirationModerateInput,
    AspirationModeratePayload,
    AspirationPayload,
    AspirationReporterKeyReissueInput,
    AspirationReporterKeyReissuePayload,
    AspirationReporterStepInput,
    AspirationReporterStepPayload,
    AspirationRespondInput,
    AspirationRespondPayload,
    AspirationSubmitInput,
    AspirationSubmitPayload,
    AspirationTransitionInput,
    AspirationTransitionPayload,
)
from schema.aspirations.types import (
    Aspiration,
    AspirationResponse,
    AspirationTransition,
    Preloaded,
)

__all__ = [
    "Aspiration",
    "AspirationCategory",
    "AspirationConnection",
    "AspirationEvent",
    "AspirationEventKind",
    "AspirationModerateInput",
    "AspirationModeratePayload",
    "AspirationPayload",
    "AspirationReporterAction",
    "AspirationReporterKeyReissueInput",
    "AspirationReporterKeyReissuePayload",
    "AspirationReporterStepInput",
    "AspirationReporterStepPayload",
    "AspirationRespondInput",
    "AspirationRespondPayload",
    "AspirationResponse",
    "AspirationStatus",
    "AspirationSubmitInput",
    "AspirationSubmitPayload",
    "AspirationTransition",
    "AspirationTransitionInput",
    "AspirationTransitionPayload",
    "AspirationVisibility",
    "Preloaded",
]
