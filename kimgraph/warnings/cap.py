"""CAP 1.2 documents and the RSS index that lists them, parsed safely (pure).

defusedxml refuses any DTD, so no entity is ever declared, expanded or
fetched: an external entity or a billion-laughs payload fails before the
parser resolves anything (docs/warnings.md, "Parsing").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# The largest real BMKG document on record is ~47 KB (150 polygons).
MAX_DOCUMENT_BYTES = 1_048_576
NS = "{urn:oasis:names:tc:emergency:cap:1.2}"

STATUSES = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPES = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPES = {"Public", "Restricted", "Private"}
SEVERITIES = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}


class CapError(ValueError):
    """A document that is not safe or not valid CAP 1.2; the message says why."""


@dataclass(frozen=True, slots=True)
class Area:
    """One CAP area: its description (BMKG: the province) and nothing else used."""

    description: str


@dataclass(frozen=True, slots=True)
class Info:
    """The info block in the language the ingester reads."""

    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    effective: datetime | None
    expires: datetime | None
    headline: str | None
    description: str | None
    instruction: str | None
    areas: tuple[Area, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A CAP alert message, with the one info block chosen."""

    identifier: str
    sender: str
    sent: str
    sent_at: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[str, ...]
    note: str | None
    info: Info

    @property
    def key(self) -> str:
        """sender,identifier,sent: how CAP references name a message."""
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True, slots=True)
class IndexItem:
    """One RSS item: the CAP identifier and where the document is."""

    guid: str
    link: str


def safe_root(document: bytes) -> Element:
    """The root element; CapError for oversize, DTDs, entities or bad XML."""
    if len(document) > MAX_DOCUMENT_BYTES:
        raise CapError(f"document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        root: Element = fromstring(
            document, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as error:
        raise CapError(f"refused: {type(error).__name__}") from None
    except ParseError as error:
        raise CapError(f"not well-formed XML: {error}") from None
    return root


def parse_index(document: bytes) -> list[IndexItem]:
    """The items of an RSS 2.0 index (guid and link), in feed order."""
    root = safe_root(document)
    items = []
    for item in root.iter("item"):
        guid = _text(item, "guid")
        link = _text(item, "link")
        if guid and link:
            items.append(IndexItem(guid, link))
    return items


def parse_message(document: bytes, language: str = "id") -> Message:
    """A validated CAP 1.2 message; CapError naming the first fault."""
    root = safe_root(document)
    if root.tag != f"{NS}alert":
        raise CapError("the root element is not a CAP 1.2 alert")
    fields = {
        name: _required(root, name)
        for name in ("identifier", "sender", "sent", "status", "msgType", "scope")
    }
    _one_of("status", fields["status"], STATUSES)
    _one_of("msgType", fields["msgType"], MSG_TYPES)
    _one_of("scope", fields["scope"], SCOPES)
    infos = root.findall(f"{NS}info")
    if not infos:
        raise CapError("no info element")
    chosen = next(
        (i for i in infos if (_text(i, "language") or "").startswith(language)),
        infos[0],
    )
    references = tuple((_text(root, "references") or "").split())
    if fields["msgType"] in ("Update", "Cancel") and not references:
        raise CapError(f"a {fields['msgType']} without references")
    return Message(
        identifier=fields["identifier"],
        sender=fields["sender"],
        sent=fields["sent"],
        sent_at=_instant("sent", fields["sent"]),
        status=fields["status"],
        msg_type=fields["msgType"],
        scope=fields["scope"],
        references=references,
        note=_text(root, "note"),
        info=_info(chosen),
    )


def _info(info: Element) -> Info:
    severity = _required(info, "severity")
    _one_of("severity", severity, SEVERITIES)
    effective, expires = _text(info, "effective"), _text(info, "expires")
    areas = tuple(
        Area(_required(area, "areaDesc")) for area in info.findall(f"{NS}area")
    )
    return Info(
        language=_text(info, "language") or "en-US",
        event=_required(info, "event"),
        urgency=_required(info, "urgency"),
        severity=severity,
        certainty=_required(info, "certainty"),
        effective=_instant("effective", effective) if effective else None,
        expires=_instant("expires", expires) if expires else None,
        headline=_text(info, "headline"),
        description=_text(info, "description"),
        instruction=_text(info, "instruction"),
        areas=areas,
    )


def _text(element: Element, name: str) -> str | None:
    """The stripped text of the child (CAP namespace or none), None if empty."""
    child = element.find(f"{NS}{name}")
    if child is None:
        child = element.find(name)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _required(element: Element, name: str) -> str:
    value = _text(element, name)
    if value is None:
        raise CapError(f"required element {name} is missing or empty")
    return value


def _one_of(name: str, value: str, allowed: set[str]) -> None:
    if value not in allowed:
        raise CapError(f"{name} {value!r} is not one of {', '.join(sorted(allowed))}")


_OFFSET = re.compile(r"[+-]\d\d:\d\d$")


def _instant(name: str, text: str) -> datetime:
    """A CAP dateTime, which always carries its offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CapError(f"{name} {text!r} is not a CAP date and time") from None
    if value.tzinfo is None or not _OFFSET.search(text):
        raise CapError(f"{name} {text!r} has no UTC offset")
    return value
