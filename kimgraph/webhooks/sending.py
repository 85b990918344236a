"""One attempt: POST the body to the checked address, signed, within 10 s.

httpx connects to the address that resolve() checked; the URL's host name
still goes in the Host header and as TLS server name (SNI), so the receiver's
certificate is verified against the name the ADMIN registered.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from kimgraph.pii.fields import SealedSecret
from kimgraph.webhooks import signing
from kimgraph.webhooks.addresses import RefusedAddress, resolve

CONNECT_TIMEOUT_S = 5.0
TOTAL_TIMEOUT_S = 10.0
USER_AGENT = "KIMgraph-webhooks/1 (+docs/webhooks.md)"
EVENT_ID_HEADER = "KIMgraph-Event-Id"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt ended: acknowledged (any 2xx) or not, and what happened."""

    ok: bool
    result: str


def new_client() -> httpx.AsyncClient:
    """The sender's client: no redirects, no proxies from the environment.

    No kept-alive connections either: the pool is keyed by the address, and a
    connection verified for one host name must not carry another's request.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(TOTAL_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        limits=httpx.Limits(max_keepalive_connections=0),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    secret: SealedSecret,
    event_cursor: str,
    body: bytes,
    unix_now: int,
    allow_local: bool,
) -> Outcome:
    """POST once; never raises for what the receiver or the network does.

    The secret is decrypted here, to sign, and nowhere else: a key that cannot
    open it raises (start-up refuses such a key first, docs/privacy.md).
    """
    try:
        target = await resolve(url, allow_local)
    except RefusedAddress as refused:
        return Outcome(False, f"refused: {refused}")
    parts = urlsplit(url)
    literal = str(target.address)
    if isinstance(target.address, ipaddress.IPv6Address):
        literal = f"[{literal}]"
    pinned = urlunsplit(
        (parts.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, "")
    )
    host = parts.netloc.rpartition("@")[2]
    headers = {
        "host": host,
        "content-type": "application/json",
        signing.HEADER: signing.signature(secret.reveal(), unix_now, body),
        EVENT_ID_HEADER: event_cursor,
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        async with asyncio.timeout(TOTAL_TIMEOUT_S):
            async with client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response:
                status = response.status_code
    except TimeoutError:
        return Outcome(False, f"no answer within {TOTAL_TIMEOUT_S:g} s")
    except httpx.HTTPError as error:
        return Outcome(False, f"{type(error).__name__}: {error}"[:300])
    if 200 <= status < 300:
        return Outcome(True, f"HTTP {status}")
    if 300 <= status < 400:
        return Outcome(False, f"HTTP {status} (redirects are not followed)")
    return Outcome(False, f"HTTP {status}")
