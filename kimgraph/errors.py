"""Errors the API reports to clients with a stable `extensions.code`."""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """An expected failure whose message is safe to show; never masked."""

    code: ClassVar[str] = "BAD_REQUEST"


class InvalidArgumentError(ApiError):
    """An argument outside its documented range (e.g. `first` over 100)."""

    code = "INVALID_ARGUMENT"


class InvalidCursorError(ApiError):
    """An `after` cursor this server did not hand out."""

    code = "INVALID_CURSOR"


class NotFoundError(ApiError):
    """A well-formed reference to something that does not exist."""

    code = "NOT_FOUND"


class UnauthenticatedError(ApiError):
    """The operation needs a signed-in caller."""

    code = "UNAUTHENTICATED"


class ForbiddenError(ApiError):
    """The caller is signed in but may not do this."""

    code = "FORBIDDEN"
