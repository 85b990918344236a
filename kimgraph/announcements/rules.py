"""The input rules of announcements: text lengths, valid times, target regions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kimgraph import models
from kimgraph.accounts.authorization import in_scope
from kimgraph.accounts.principals import Principal
from kimgraph.clock import to_utc
from kimgraph.errors import Problem, ProblemCode, UserInputError, invalid
from kimgraph.regions.codes import validate

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_TARGETS = 50
MAX_REASON = 500


def check_text(
    title: str | None, body: str | None, problems: list[Problem]
) -> tuple[str | None, str | None]:
    """Title and body with white space tidied; a problem for each bad length."""
    if title is not None:
        title = " ".join(title.split())
        if not 1 <= len(title) <= MAX_TITLE:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"must have 1-{MAX_TITLE} characters",
                    ["input", "title"],
                )
            )
    if body is not None:
        body = body.strip()
        if not 1 <= len(body) <= MAX_BODY:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"must have 1-{MAX_BODY} characters",
                    ["input", "body"],
                )
            )
    return title, body


def check_instants(times: dict[str, datetime | None], problems: list[Problem]) -> bool:
    """Add a problem for each given time that names no instant; True if none did."""
    fine = True
    for name, value in times.items():
        if value is None:
            continue
        try:
            to_utc(value)
        except ValueError as error:
            problems.append(Problem(ProblemCode.INVALID, str(error), ["input", name]))
            fine = False
    return fine


def check_valid_until(
    valid_until: datetime | None,
    valid_from: datetime,
    now: datetime,
    problems: list[Problem],
) -> None:
    """Add a problem if a given validUntil is not later than validFrom and now."""
    if valid_until is not None and valid_until <= max(valid_from, now):
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "must be later than validFrom and than now",
                ["input", "validUntil"],
            )
        )


async def check_targets(
    principal: Principal, codes: Sequence[str], field: Sequence[str]
) -> list[str]:
    """Existing, in-scope, de-duplicated target codes; UserInputError otherwise."""
    unique = list(dict.fromkeys(validate(code) for code in codes))
    if not unique or len(unique) > MAX_TARGETS:
        raise invalid(f"give 1-{MAX_TARGETS} target regions", *field)
    existing = {
        str(code)
        for code in await models.Region.filter(code__in=unique).values_list(
            "code", flat=True
        )
    }
    problems = [
        Problem(
            ProblemCode.NOT_FOUND,
            f"there is no region with code {code}",
            [*field, str(i)],
        )
        for i, code in enumerate(unique)
        if code not in existing
    ]
    problems += [
        Problem(
            ProblemCode.OUT_OF_SCOPE,
            f"region {code} lies outside your region {principal.region_code}",
            [*field, str(i)],
        )
        for i, code in enumerate(unique)
        if code in existing and not in_scope(principal, code)
    ]
    if problems:
        raise UserInputError(*problems)
    return unique
