"""From a CAP message to what the ingester does with it (pure): docs/warnings.md."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kimgraph.announcements.rules import MAX_BODY, MAX_TITLE
from kimgraph.models import AnnouncementPriority, WarningReviewReason
from kimgraph.warnings.areas import Gazetteer, Match, listed_names
from kimgraph.warnings.cap import Message

CREDIT = "Sumber: BMKG"
PRIORITY_OF = {
    "Extreme": AnnouncementPriority.EMERGENCY,
    "Severe": AnnouncementPriority.EMERGENCY,
    "Moderate": AnnouncementPriority.IMPORTANT,
}


class Verdict(enum.Enum):
    """Publish by itself, ask a person, or leave alone (not this kabupaten)."""

    PUBLISH = "publish"
    REVIEW = "review"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, the kecamatan matched exactly, and why if not published."""

    verdict: Verdict
    targets: tuple[str, ...] = ()
    reason: WarningReviewReason | None = None
    detail: str = ""
    names: tuple[str, ...] = field(default=())


def decide(gazetteer: Gazetteer, message: Message) -> Decision:
    """Match every area name; publish only when all of ours matched exactly once."""
    matched: list[str] = []
    unmatched: list[str] = []
    ambiguous: list[str] = []
    names: list[str] = []
    for area in message.info.areas:
        if gazetteer.is_other_province(area.description):
            continue
        if gazetteer.is_our_province(area.description):
            listed = listed_names(message.info.description)
            if not listed:
                unmatched.append(area.description)
            candidates = listed
        else:
            candidates = [n.strip() for n in area.description.split(",") if n.strip()]
        for name in candidates:
            kind, codes = gazetteer.match(name)
            if kind is Match.OURS:
                matched.extend(codes)
                names.append(name)
            elif kind is Match.UNMATCHED:
                unmatched.append(name)
            elif kind is Match.AMBIGUOUS:
                ambiguous.append(name)
    targets = tuple(dict.fromkeys(matched))
    if not targets and not unmatched and not ambiguous:
        return Decision(Verdict.IGNORE, detail="names no region of this kabupaten")
    if ambiguous:
        detail = "names matching several regions: " + ", ".join(ambiguous)
        if unmatched:
            detail += "; names matching no region: " + ", ".join(unmatched)
        return Decision(
            Verdict.REVIEW, targets, WarningReviewReason.AMBIGUOUS, detail, tuple(names)
        )
    if unmatched:
        detail = "names matching no region: " + ", ".join(unmatched)
        return Decision(
            Verdict.REVIEW, targets, WarningReviewReason.UNMATCHED, detail, tuple(names)
        )
    if message.info.severity not in PRIORITY_OF:
        detail = f"severity {message.info.severity} is not published automatically"
        return Decision(
            Verdict.REVIEW, targets, WarningReviewReason.SEVERITY, detail, tuple(names)
        )
    return Decision(Verdict.PUBLISH, targets, names=tuple(names))


def title_of(message: Message, names: tuple[str, ...]) -> str:
    """The headline, or the event and the areas it names."""
    info = message.info
    title = info.headline or f"{info.event} di {', '.join(names) or 'wilayah ini'}"
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def body_of(message: Message) -> str:
    """Description and instruction, ending with the credit BMKG requires."""
    info = message.info
    parts = [p.strip() for p in (info.description, info.instruction) if p]
    text = "\n\n".join(parts) or info.event
    room = MAX_BODY - len(CREDIT) - 2
    if len(text) > room:
        text = text[: room - 1] + "…"
    return f"{text}\n\n{CREDIT}"
