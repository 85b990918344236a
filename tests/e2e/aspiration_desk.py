"""A live aspiration desk for e2e tests: a server, its people, a WebSocket client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.live import ADMIN_PASSWORD, Subscriber, provisioned_server, token_for
from tests.e2e.server import Server

PASSWORD = "kata-sandi-petugas-123"
HOME_DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan, Kabupaten Ketapang
OTHER_DESA = "61.04.18.2003"  # Padang, Kecamatan Benua Kayong, Ketapang
OUTSIDE_DESA = "61.11.01.2001"  # Sutera, Kecamatan Sukadana, Kabupaten Kayong Utara
# A neighbouring kabupaten, imported so that something happens outside Ketapang.
KAYONG_UTARA_CSV = """code,parent_code,level,name
61.11,61,kabupaten,Kabupaten Kayong Utara
61.11.01,61.11,kecamatan,Sukadana
61.11.01.2001,61.11.01,desa,Sutera
"""

MUTATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) {
    ticket aspiration { id version } userErrors { code message }
  }
}
"""
MUTATION_TRANSITION = """
mutation ($id: ID!, $input: AspirationTransitionInput!) {
  aspirationTransition(id: $id, input: $input) {
    aspiration { version } userErrors { code message }
  }
}
"""
MUTATION_RESPOND = """
mutation ($id: ID!, $input: AspirationRespondInput!) {
  aspirationRespond(id: $id, input: $input) { userErrors { code message } }
}
"""
SUBSCRIPTION_ASPIRATION_EVENTS = """
subscription ($region: String, $aspirationId: ID, $ticket: String, $after: String) {
  aspirationEvents(region: $region, aspirationId: $aspirationId, ticket: $ticket,
                   after: $after) {
    cursor kind from to note occurredAt
    aspiration {
      id ticket title description status version contentWithheld
      reporterName reporterContact region { code }
      history { from to note publicNote actorName }
      responses { message public }
    }
  }
}
"""
ACCOUNTS = {
    # name: (role, region)
    "officer_in_scope": ("OFFICER", "61.04.16"),
    "officer_out_of_scope": ("OFFICER", "61.04.18"),
    "admin_kayong_utara": ("ADMIN", "61.11"),
}


@dataclass
class Aspiration:
    """What the tests need to keep acting on an aspiration."""

    id: str
    ticket: str
    version: int = 1


@dataclass
class Desk:
    """A running server with an admin, officers, a KIM account and a partner key."""

    server: Server
    http: httpx.AsyncClient
    authorization: dict[str, str] = field(default_factory=dict)

    async def body(
        self, who: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST an operation as who ('anonymous' sends no credentials)."""
        headers = {}
        if who != "anonymous":
            headers["authorization"] = self.authorization[who]
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        result: dict[str, Any] = response.json()
        return result

    async def data(
        self, who: str, query: str, variables: dict[str, Any] | None = None
    ) -> Any:
        body = await self.body(who, query, variables)
        assert "errors" not in body, body
        return body["data"]

    async def submit(self, who: str, region: str, **fields: Any) -> Aspiration:
        data = await self.data(
            who,
            MUTATION_SUBMIT,
            {
                "input": {
                    "region": region,
                    "title": "Jalan longsor",
                    "description": "Badan jalan longsor sepanjang 20 meter.",
                    "category": "INFRASTRUCTURE",
                }
                | fields
            },
        )
        payload = data["aspirationSubmit"]
        assert payload["userErrors"] == [], payload
        return Aspiration(payload["aspiration"]["id"], payload["ticket"])

    async def step(
        self, who: str, aspiration: Aspiration, to: str, **fields: Any
    ) -> None:
        data = await self.data(
            who,
            MUTATION_TRANSITION,
            {
                "id": aspiration.id,
                "input": {"to": to, "expectedVersion": aspiration.version} | fields,
            },
        )
        payload = data["aspirationTransition"]
        assert payload["userErrors"] == [], payload
        aspiration.version = payload["aspiration"]["version"]

    async def respond(
        self, who: str, aspiration: Aspiration, message: str, public: bool
    ) -> None:
        data = await self.data(
            who,
            MUTATION_RESPOND,
            {"id": aspiration.id, "input": {"message": message, "public": public}},
        )
        assert data["aspirationRespond"]["userErrors"] == []


# Made once per run into a template database (provision.py), with the operator's
# commands: the neighbouring kabupaten, the KIM, the accounts and a partner key.
STAFF_RECIPE = [
    ["file", "kayong-utara.csv", KAYONG_UTARA_CSV],
    ["cli", "regions", "import", "kayong-utara.csv"],
    ["kim", "admin", "KIM Suka Bangun", HOME_DESA],
    *(
        [
            "cli",
            "accounts",
            "create",
            "--username",
            name,
            *options,
            "--password",
            PASSWORD,
        ]
        for name, options in {
            **{
                name: ["--role", role, "--region", region]
                for name, (role, region) in ACCOUNTS.items()
            },
            "kim_home": ["--role", "KIM", "--kim", "{kim}"],
        }.items()
    ),
    [
        "cli",
        "apikeys",
        "create",
        "--name",
        "Aplikasi Layanan Publik",
        "--region",
        "61.04",
    ],
]


@contextmanager
def staffed_server(
    backend: str, folder: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server on a fresh database and everyone's Authorization value."""
    with provisioned_server(backend, folder, env, STAFF_RECIPE) as (
        server,
        _,
        outputs,
    ):
        people = {"admin": ADMIN_PASSWORD} | dict.fromkeys(
            [*ACCOUNTS, "kim_home"], PASSWORD
        )
        # At once: the server checks passwords (argon2, slow on purpose) in threads.
        with ThreadPoolExecutor(len(people)) as pool:
            tokens = pool.map(partial(token_for, server), people, people.values())
            authorization = {
                name: f"Bearer {token}"
                for name, token in zip(people, tokens, strict=True)
            }
        key = outputs[-1].strip().splitlines()[-1].strip()
        authorization["partner"] = f"Bearer {key}"
        yield server, authorization


@asynccontextmanager
async def desk_for(
    server: Server, authorization: dict[str, str]
) -> AsyncIterator[Desk]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        yield Desk(server, http, authorization)


async def follow_aspirations(
    server: Server, variables: dict[str, Any], authorization: str | None
) -> Subscriber:
    """A client following aspirationEvents with these variables; keeps raw frames."""
    return await Subscriber.follow(
        server,
        SUBSCRIPTION_ASPIRATION_EVENTS,
        variables,
        authorization,
        keep_frames=True,
    )
