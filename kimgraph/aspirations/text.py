"""Free text in an aspiration's inputs: trimmed, limited, never echoed back."""

from __future__ import annotations

from kimgraph.errors import Problem, ProblemCode


def checked_text(
    value: str | None,
    limit: int,
    field: str,
    problems: list[Problem],
    *,
    required: bool = False,
) -> str | None:
    """The value trimmed, None if empty; a problem if too long or required but empty."""
    value = value.strip() if value is not None else None
    if not value:
        if required:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"must have 1-{limit} characters",
                    ["input", field],
                )
            )
        return None
    if len(value) > limit:
        # The message never repeats the value: it may be personal data.
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"must have at most {limit} characters",
                ["input", field],
            )
        )
    return value
