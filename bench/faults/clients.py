"""The load: boards, partner apps and publishers, all through HAProxy.

Boards subscribe with the board's own documents, read from kimgraph/board/board.js
at run time (not retyped), and resume from their last cursor as the board does.
Every client records what it received, with the wall-clock time of receipt.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

PARTNER_SUBSCRIPTION = """
subscription Partner($region: String, $after: String) {
  aspirationEvents(region: $region, after: $after) {
    cursor kind from to occurredAt
    aspiration { id ticket status version contentWithheld region { code } }
  }
}
"""
PARTNER_CURSOR = "{ aspirations(first: 1) { eventCursor } }"
RETRIES = 8  # attempts of one mutation with an Idempotency-Key
CONNECT_ERRORS = (OSError, InvalidHandshake, TimeoutError, ConnectionClosed)


def board_documents() -> tuple[str, str]:
    """The board's query and subscription, exactly as board.js sends them."""
    script = (resources.files("kimgraph.board") / "board.js").read_text("utf-8")
    fields_match = re.search(r"const FIELDS = '([^']*)';", script)
    query_match = re.search(r"const QUERY = `([^`]*)`;", script)
    subscription_match = re.search(r"const SUBSCRIPTION = `([^`]*)`;", script)
    if not (fields_match and query_match and subscription_match):
        raise RuntimeError("board.js no longer defines FIELDS, QUERY and SUBSCRIPTION")
    fields = fields_match.group(1)
    return (
        query_match.group(1).replace("${FIELDS}", fields),
        subscription_match.group(1).replace("${FIELDS}", fields),
    )


def event_id(cursor: str) -> int:
    """The log id an opaque cursor names (base64url of `ev:<id>`)."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    prefix, _, number = raw.partition(":")
    if prefix != "ev":
        raise ValueError(f"not an event cursor: {cursor!r}")
    return int(number)


def database_id(global_id: str) -> int:
    """The row id inside a Relay global id (base64 of `Type:id`)."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(raw.split(":", 1)[1])


@dataclass
class Received:
    id: int
    kind: str
    entity: int
    at: float  # time.time() of receipt


@dataclass
class Subscriber:
    """A client following one subscription through reconnects."""

    name: str
    document: str
    variables: dict[str, Any]
    authorization: str | None
    first_cursor: str = ""
    cursor: str = ""
    received: list[Received] = field(default_factory=list)
    connects: int = 0
    close_codes: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Cleared: the client stops reading (the slow-consumer fault) until set again.
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    was_stalled: bool = False
    # (connected at, the after cursor's id, ended at, close code): the timeline
    # the report shows for a client with a gap.
    sessions: list[tuple[float, int, float, int]] = field(default_factory=list)
    connected: bool = False

    @property
    def last_id(self) -> int:
        return event_id(self.cursor)

    def _record(self, payload: dict[str, Any]) -> None:
        if "errors" in payload:
            stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
            self.errors.append(f"at {stamp}: {json.dumps(payload)[:400]}")
            return
        (event,) = payload["data"].values()
        entity = event.get("announcement") or event.get("aspiration") or {}
        self.received.append(
            Received(
                event_id(event["cursor"]),
                event["kind"],
                database_id(entity["id"]),
                time.time(),
            )
        )
        self.cursor = event["cursor"]

    async def run(
        self,
        ws_url: str,
        stop: asyncio.Event,
        churn: asyncio.Event,
        mean_life_s: float,
        rng: random.Random,
    ) -> None:
        """Connect, follow, drop at random while `churn` is set, resume; until stop."""
        self.flowing.set()
        while not stop.is_set():
            life = rng.expovariate(1 / mean_life_s) if churn.is_set() else None
            try:
                await self._session(ws_url, stop, life)
            except CONNECT_ERRORS as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                if isinstance(exc, InvalidStatus):
                    code = exc.response.status_code
                self.close_codes[code or 0] = self.close_codes.get(code or 0, 0) + 1
            self.connected = False
            if not stop.is_set():
                # The board backs off 1-30 s; a shorter, jittered pause here.
                await asyncio.sleep(rng.uniform(0.1, 0.8))

    async def _session(
        self, ws_url: str, stop: asyncio.Event, life: float | None
    ) -> None:
        async with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            proxy=None,
            open_timeout=30,
            max_size=2**22,
            max_queue=8,
            ping_interval=None,
        ) as ws:
            self.connects += 1
            opened, after = time.time(), event_id(self.cursor)
            payload = (
                {"authorization": self.authorization} if self.authorization else {}
            )
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            async with asyncio.timeout(30):
                ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                self.errors.append(f"no ack: {ack}")
                return
            variables = {**self.variables, "after": self.cursor}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": self.document, "variables": variables},
                    }
                )
            )
            self.connected = True
            deadline = None if life is None else time.monotonic() + life
            try:
                await self._read(ws, stop, deadline)
            finally:
                rcvd = ws.protocol.close_rcvd
                code = rcvd.code if rcvd is not None else ws.close_code or 1006
                self.sessions.append((opened, after, time.time(), code))

    async def _read(
        self, ws: ClientConnection, stop: asyncio.Event, deadline: float | None
    ) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                if not self.flowing.is_set():
                    await self.flowing.wait()  # what arrives meanwhile stays buffered
                    # A board that stopped reading reads what was buffered and
                    # finds the server's close (or catches up): its own random
                    # hang-up, due meanwhile, would hide whether the server closed it.
                    deadline = None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    await ws.close()
                    return
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait(
                    {receive, stopping}, timeout=left, return_when="FIRST_COMPLETED"
                )
                if receive not in done:
                    receive.cancel()
                    await asyncio.gather(receive, return_exceptions=True)
                    await ws.close()
                    return
                message = json.loads(receive.result())
                kind = message.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    self._record(message["payload"])
                elif kind == "error":
                    self.errors.append(json.dumps(message)[:300])
                    await ws.close()
                    return
                elif kind == "complete":
                    self.errors.append("completed by the server")
                    await ws.close()
                    return
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            self.close_codes[code] = self.close_codes.get(code, 0) + 1
        finally:
            stopping.cancel()


@dataclass
class Mutation:
    """One mutation as the publisher saw it."""

    operation: str
    entity: int | None
    # "ack"; "applied" (APPLIED_WITHOUT_ANSWER: committed, answer lost);
    # "rejected" (userErrors, a refusal); "unknown" (no answer, no safe retry)
    outcome: str
    sent: float
    answered: float
    status: int | None
    detail: str = ""
    title: str = ""
    attempts: int = 1


def _outcome(
    status: int | None, body: dict[str, Any] | None
) -> tuple[str, str, dict[str, Any] | None]:
    """ack / rejected (userErrors or a refusal: nothing changed) / unknown."""
    if status == 200 and body is not None and body.get("data"):
        (payload,) = body["data"].values()
        if payload is not None and payload["userErrors"]:
            return "rejected", payload["userErrors"][0]["code"], None
        if payload is not None:
            return "ack", "", payload
    if body is not None and body.get("errors"):
        codes = {str(e.get("extensions", {}).get("code")) for e in body["errors"]}
        detail = ",".join(sorted(codes))
        unknown = {"INTERNAL", "APPLIED_WITHOUT_ANSWER", "IDEMPOTENCY_KEY_IN_USE"}
        # A refusal (FORBIDDEN, ...) changed nothing; INTERNAL may have.
        if status == 200 and not codes & unknown:
            return "rejected", detail, None
        return "unknown", detail, None
    return "unknown", "", None


@dataclass
class HttpLog:
    """Every HTTP answer status with its time; 5xx are checked against faults."""

    statuses: list[tuple[float, int]] = field(default_factory=list)
    transport_errors: list[tuple[float, str]] = field(default_factory=list)


class Api:
    """GraphQL over HTTP through HAProxy, recording statuses."""

    def __init__(self, http: httpx.AsyncClient, log: HttpLog) -> None:
        self.http = http
        self.log = log

    async def call(
        self,
        query: str,
        variables: dict[str, Any],
        authorization: str | None,
        idempotency_key: str | None = None,
    ) -> tuple[int | None, dict[str, Any] | None]:
        headers = {"authorization": authorization} if authorization else {}
        if idempotency_key is not None:
            headers["idempotency-key"] = idempotency_key
        try:
            response = await self.http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
            )
        except httpx.TransportError as exc:
            self.log.transport_errors.append((time.time(), type(exc).__name__))
            return None, None
        self.log.statuses.append((time.time(), response.status_code))
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            return response.status_code, None
        return response.status_code, body


PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { id revision } userErrors { code message }
  }
}
"""
UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { id revision } userErrors { code message }
  }
}
"""
WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { id } userErrors { code message }
  }
}
"""
SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) {
    ticket aspiration { id version } userErrors { code message }
  }
}
"""
TRANSITION = """
mutation ($id: ID!, $input: AspirationTransitionInput!) {
  aspirationTransition(id: $id, input: $input) {
    aspiration { id version } userErrors { code message }
  }
}
"""
# The way an aspiration moves in the run, one step per mutation.
PATH = [
    ("VERIFIED", {}),
    ("DISPOSED", {"assignedUnit": "Dinas PUPR"}),
]


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@dataclass
class Publisher:
    """Publishes, updates and withdraws announcements; moves aspirations."""

    name: str
    api: Api
    authorization: str
    targets: list[str]  # desa, kecamatan and the kabupaten, weighted by repetition
    desa: list[str]
    rng: random.Random
    idempotent: bool = False  # send Idempotency-Key and retry until answered
    mutations: list[Mutation] = field(default_factory=list)
    # announcement id -> (global id, revision);
    # aspiration id -> (global id, version, steps taken)
    announcements: dict[int, tuple[str, int]] = field(default_factory=dict)
    aspirations: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    count: int = 0

    async def _mutate(
        self,
        operation: str,
        query: str,
        variables: dict[str, Any],
        entity: int | None,
        title: str = "",
    ) -> tuple[dict[str, Any] | None, Mutation]:
        """Send; with idempotency keys, send again until the answer is known.

        Without them there is no safe retry: a lost answer stays "unknown" and
        the check looks the change up in the log.
        """
        key = uuid.uuid4().hex if self.idempotent else None
        sent = time.time()
        attempts = 0
        while True:
            attempts += 1
            status, body = await self.api.call(
                query, variables, self.authorization, idempotency_key=key
            )
            outcome, detail, payload = _outcome(status, body)
            if outcome != "unknown" or key is None or attempts >= RETRIES:
                break
            if detail == "APPLIED_WITHOUT_ANSWER":
                break
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))
        if detail == "APPLIED_WITHOUT_ANSWER":
            outcome = "applied"
            assert body is not None
            applied = body["errors"][0].get("extensions", {}).get("applied") or []
            if entity is None and applied:
                entity = database_id(applied[0]["id"])
        mutation = Mutation(
            operation,
            entity,
            outcome,
            sent,
            time.time(),
            status,
            detail,
            title,
            attempts,
        )
        self.mutations.append(mutation)
        return (payload if outcome == "ack" else None), mutation

    async def step(self, burst_target: str | None = None) -> None:
        self.count += 1
        roll = self.rng.random()
        if burst_target is not None or roll < 0.45 or not self.announcements:
            await self.publish(burst_target)
        elif roll < 0.60:
            await self.update()
        elif roll < 0.70:
            await self.withdraw()
        elif roll < 0.80 or not self.aspirations:
            await self.submit()
        else:
            await self.transition()

    async def publish(self, target: str | None = None) -> None:
        title = f"{self.name}-{self.count}"
        draft: dict[str, Any] = {
            "title": title,
            # A burst's bodies are large: 9,000 characters of 3 bytes each.
            "body": f"Isi {title}. " + ("\u20ac" * 9000 if target else "Uji."),
            "category": "GENERAL",
            "targets": [target or self.rng.choice(self.targets)],
        }
        roll = self.rng.random()
        if target is None and roll < 0.25:
            draft["validUntil"] = iso_in(self.rng.uniform(4, 15))  # expiry timer
        elif target is None and roll < 0.35:
            draft["validFrom"] = iso_in(self.rng.uniform(2, 8))  # publication timer
        payload, mutation = await self._mutate(
            "publish", PUBLISH, {"input": draft}, None, title=title
        )
        if payload is not None:
            node = payload["announcement"]
            number = database_id(node["id"])
            mutation.entity = number
            if "validFrom" not in draft and "validUntil" not in draft:
                self.announcements[number] = (node["id"], node["revision"])

    async def update(self) -> None:
        number = self.rng.choice(list(self.announcements))
        global_id, revision = self.announcements.pop(number)
        payload, _ = await self._mutate(
            "update",
            UPDATE,
            {
                "id": global_id,
                "input": {
                    "title": f"{self.name}-{self.count} (diubah)",
                    "expectedRevision": revision,
                },
            },
            number,
        )
        if payload is not None:
            self.announcements[number] = (
                global_id,
                payload["announcement"]["revision"],
            )

    async def withdraw(self) -> None:
        number = self.rng.choice(list(self.announcements))
        global_id, _ = self.announcements.pop(number)
        await self._mutate(
            "withdraw", WITHDRAW, {"id": global_id, "reason": "Uji gangguan."}, number
        )

    async def submit(self) -> None:
        title = f"{self.name}-{self.count}"
        payload, mutation = await self._mutate(
            "submit",
            SUBMIT,
            {
                "input": {
                    "region": self.rng.choice(self.desa),
                    "title": title,
                    "description": "Jalan rusak di depan sekolah.",
                    "category": "INFRASTRUCTURE",
                    "visibility": "PUBLIC",
                }
            },
            None,
            title=title,
        )
        if payload is not None:
            node = payload["aspiration"]
            number = database_id(node["id"])
            mutation.entity = number
            self.aspirations[number] = (node["id"], node["version"], 0)

    async def transition(self) -> None:
        number = self.rng.choice(list(self.aspirations))
        global_id, version, done = self.aspirations.pop(number)
        to, extra = PATH[done]
        payload, _ = await self._mutate(
            "transition",
            TRANSITION,
            {"id": global_id, "input": {"to": to, "expectedVersion": version, **extra}},
            number,
        )
        if payload is not None and done + 1 < len(PATH):
            self.aspirations[number] = (
                global_id,
                payload["aspiration"]["version"],
                done + 1,
            )
