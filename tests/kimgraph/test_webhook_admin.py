"""Registering webhooks: who may, refused URLs and addresses, the lifecycle."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from kimgraph.webhooks import addresses
from tests.conftest import execute
from tests.kimgraph.test_webhooks import CREATE, DELIVERIES, register, webhook_key
from tests.people import Cast

REFUSED = [
    (
        "http://partner.example/hook",
        "the URL must use https (http is allowed only when "
        "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)",
    ),
    (
        "https://169.254.169.254/latest/meta-data",
        "169.254.169.254 is a link-local address",
    ),
    ("https://[fe80::1]/hook", "fe80::1 is a link-local address"),
    ("https://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ("https://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
    (
        "https://127.0.0.1/hook",
        "127.0.0.1 is a loopback or private address (allowed only when "
        "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)",
    ),
    (
        "https://10.1.2.3/hook",
        "10.1.2.3 is a loopback or private address (allowed only when "
        "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)",
    ),
    (
        "https://user:pw@partner.example/",
        "the URL must not carry a user name or password",
    ),
    ("ftp://partner.example/", "the URL must be an absolute https:// URL"),
]


@pytest.mark.parametrize(("url", "message"), REFUSED)
async def test_refused_urls_give_exact_user_errors_and_store_nothing(
    client: httpx.AsyncClient, cast: Cast, url: str, message: str
) -> None:
    # given: the default settings (no http, no private addresses)
    key = await models.ApiKey.get(name="Aplikasi Layanan Publik")
    # when
    body = await execute(
        client,
        CREATE,
        {"input": {"apiKeyId": encode_id("ApiKey", key.id), "url": url}},
        cast.headers["admin"],
    )
    # then
    assert body["data"]["webhookCreate"] == {
        "webhook": None,
        "secret": None,
        "userErrors": [
            {"code": "INVALID", "message": message, "field": ["input", "url"]}
        ],
    }
    assert await models.WebhookEndpoint.all().count() == 0


@pytest.mark.parametrize("who", ["partner", "officer_in_scope", "anonymous"])
async def test_only_an_admin_registers_webhooks(
    client: httpx.AsyncClient, cast: Cast, who: str
) -> None:
    key = await models.ApiKey.get(name="Aplikasi Layanan Publik")
    body = await execute(
        client,
        CREATE,
        {
            "input": {
                "apiKeyId": encode_id("ApiKey", key.id),
                "url": "https://a.example/",
            }
        },
        cast.headers[who],
    )
    assert body["data"] is None
    code = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert await models.WebhookEndpoint.all().count() == 0


LIFECYCLE = """
mutation ($id: ID!, $url: String) {
  webhookUpdate(id: $id, input: {url: $url, rotateSecret: true, announcements: true}) {
    webhook { url announcements } secret userErrors { code message field }
  }
}
"""
SWITCH = """
mutation ($id: ID!) {
  webhookDisable(id: $id) { webhook { status } userErrors { code } }
}
"""
ENABLE = """
mutation ($id: ID!) {
  webhookEnable(id: $id) { webhook { status } userErrors { code } }
}
"""
DELETE = """
mutation ($id: ID!) {
  webhookDelete(id: $id) { deletedId userErrors { code message field } }
}
"""


async def test_an_admin_updates_disables_enables_lists_and_deletes_a_webhook(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    admin = cast.headers["admin"]
    # given: a webhook (https to a public address: this test sends nothing)
    webhook, secret = await register(client, cast, "https://93.184.215.14/hook")
    assert secret.startswith("whsec_")
    # when: a refused URL
    refused = await execute(
        client, LIFECYCLE, {"id": webhook, "url": "https://169.254.1.1/"}, admin
    )
    # then: nothing changed, no new secret
    assert refused["data"]["webhookUpdate"] == {
        "webhook": None,
        "secret": None,
        "userErrors": [
            {
                "code": "INVALID",
                "message": "169.254.1.1 is a link-local address",
                "field": ["input", "url"],
            }
        ],
    }
    row = await models.WebhookEndpoint.get(id=webhook_key(webhook))
    assert (row.url, row.secret.reveal(), row.announcements) == (
        "https://93.184.215.14/hook",
        secret,
        False,
    )
    # when: a good update rotates the secret
    updated = await execute(
        client, LIFECYCLE, {"id": webhook, "url": "https://93.184.215.14/v2"}, admin
    )
    new = updated["data"]["webhookUpdate"]
    assert new["webhook"] == {"url": "https://93.184.215.14/v2", "announcements": True}
    assert new["secret"].startswith("whsec_")
    assert new["secret"] != secret
    # disable, enable
    off = await execute(client, SWITCH, {"id": webhook}, admin)
    assert off["data"]["webhookDisable"]["webhook"] == {"status": "DISABLED"}
    on = await execute(client, ENABLE, {"id": webhook}, admin)
    assert on["data"]["webhookEnable"]["webhook"] == {"status": "ACTIVE"}
    # the list shows no secret field at all, and the log is empty
    listed = await execute(client, "{ webhooks { id url status } }", None, admin)
    assert listed["data"]["webhooks"] == [
        {"id": webhook, "url": "https://93.184.215.14/v2", "status": "ACTIVE"}
    ]
    log = await execute(client, DELIVERIES, {"id": webhook}, admin)
    assert log["data"]["webhookDeliveries"] == {"totalCount": 0, "edges": []}
    # delete, then it is gone
    gone = await execute(client, DELETE, {"id": webhook}, admin)
    assert gone["data"]["webhookDelete"] == {"deletedId": webhook, "userErrors": []}
    # and its log is a NOT_FOUND error (found by the fuzz test as INTERNAL)
    lost = await execute(client, DELIVERIES, {"id": webhook}, admin)
    assert (
        lost["data"],
        [(e["message"], e["extensions"]) for e in lost["errors"]],
    ) == (
        None,
        [("there is no such webhook", {"code": "NOT_FOUND"})],
    )
    again = await execute(client, DELETE, {"id": webhook}, admin)
    assert again["data"]["webhookDelete"] == {
        "deletedId": None,
        "userErrors": [
            {
                "code": "NOT_FOUND",
                "message": "there is no such webhook",
                "field": ["id"],
            }
        ],
    }
    assert await models.WebhookEndpoint.all().count() == 0
    # and: one audit row per change, none for the refusals (docs/audit.md)
    audited = models.AuditEntry.filter(target_type="Webhook").order_by("id")
    assert await audited.values_list("action", "target_id") == [
        (f"webhook.{action}", webhook)
        for action in ("create", "update", "disable", "enable", "delete")
    ]


@pytest.mark.parametrize(
    ("address", "allow_local", "refusal"),
    [
        ("::ffff:169.254.169.254", True, "169.254.169.254 is a link-local address"),
        ("169.254.10.10", True, "169.254.10.10 is a link-local address"),
        ("100.100.100.200", True, "100.100.100.200 is a cloud metadata address"),
        ("0.0.0.0", True, "0.0.0.0 is not a unicast address"),
        ("224.0.0.1", True, "224.0.0.1 is not a unicast address"),
        ("192.168.1.5", True, None),
        ("::1", True, None),
        (
            "192.168.1.5",
            False,
            "192.168.1.5 is a loopback or private address (allowed only when "
            "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)",
        ),
        (
            "100.64.0.1",
            False,
            "100.64.0.1 is a loopback or private address (allowed only when "
            "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)",
        ),
        ("93.184.215.14", False, None),
    ],
)
def test_which_addresses_a_webhook_may_reach(
    address: str, allow_local: bool, refusal: str | None
) -> None:
    if refusal is None:
        addresses.check_address(ipaddress.ip_address(address), allow_local)
        return
    with pytest.raises(addresses.RefusedAddress) as refused:
        addresses.check_address(ipaddress.ip_address(address), allow_local)
    assert str(refused.value) == refusal


async def test_a_name_resolving_to_loopback_is_refused() -> None:
    # "localhost" resolves here (to 127.0.0.1 and perhaps ::1): every
    # address is checked, so the name is refused whichever comes first.
    with pytest.raises(addresses.RefusedAddress) as refused:
        await addresses.resolve("https://localhost/hook", allow_local=False)
    assert str(refused.value).endswith(
        "is a loopback or private address (allowed only when "
        "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)"
    )
    target = await addresses.resolve("http://localhost:8080/hook", allow_local=True)
    assert (target.host, target.port, target.address.is_loopback) == (
        "localhost",
        8080,
        True,
    )
