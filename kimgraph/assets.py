"""Files a page loads from KIMgraph itself, versioned by their content's hash.

The board and GraphiQL serve their scripts and stylesheets this way: a page asks
for `<prefix><name>?v=<hash>`, which may be cached for a year, since a new file
has a new hash; any other request for the file is revalidated (ETag, 304).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    """A packaged file with its content hash."""

    body: bytes
    media_type: str
    version: str
    prefix: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def href(self, name: str) -> str:
        """Its URL, versioned so that a cached copy is never stale."""
        return f"{self.prefix}{name}?v={self.version}"


def packaged(package: str, path: str, media_type: str, prefix: str) -> Asset:
    """The file at `path` inside `package`, read now (callers cache it)."""
    body = resources.files(package).joinpath(path).read_bytes()
    version = hashlib.sha256(body).hexdigest()[:16]
    return Asset(body, media_type, version, prefix)


def response(
    request: Request, file: Asset, extra_headers: dict[str, str] | None = None
) -> Response:
    """The file, immutable when asked for by its current version; 304 if unchanged."""
    current = request.query_params.get("v") == file.version
    headers = {
        "Cache-Control": IMMUTABLE if current else "no-cache",
        "ETag": file.etag,
        "X-Content-Type-Options": "nosniff",
        **(extra_headers or {}),
    }
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)
