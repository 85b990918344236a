"""The signature a receiver checks: HMAC-SHA256 over "<unix time>.<body>".

The time is inside what is signed so that a captured request cannot be
replayed later: a receiver refuses a timestamp too far from its clock
(docs/webhooks.md has the receiver's side in Python).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "KIMgraph-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300


def new_secret() -> str:
    """A signing secret, shown to the ADMIN once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for this body sent at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_S
) -> bool:
    """What a receiver does: the header matches the body and the time is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = fields.get("t", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, int(timestamp), body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={fields.get('v1', '')}")
