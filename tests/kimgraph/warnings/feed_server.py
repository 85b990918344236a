"""A local HTTP server for feed tests: serves set documents, counts requests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "cap-samples"
TEMPLATE = (SAMPLES / "synthetic-ketapang-update-id.xml").read_text(encoding="utf-8")
ALERT_SENT = "2026-11-20T13:55:00+07:00"
SENDER = "cuaca.ekstrem@bmkg.go.id"


def ketapang_cap(
    identifier: str = "2.49.0.1.360.0.2026.11.20.07.61.001",
    *,
    msg_type: str = "Alert",
    references: str | None = None,
    severity: str = "Extreme",
    names: str = "BENUA KAYONG, DELTA PAWAN",
    status: str = "Actual",
    scope: str = "Public",
    sent: str = ALERT_SENT,
    expires: str = "2026-11-20T17:30:00+07:00",
    effective: str = "2026-11-20T14:50:00+07:00",
    event: str = "Hujan Lebat dan Petir",
    doctype: str = "",
) -> bytes:
    """A synthetic Ketapang CAP document made from the synthetic sample."""
    text = TEMPLATE
    swaps = {
        "<identifier>2.49.0.1.360.0.2026.11.20.07.61.002</identifier>": (
            f"<identifier>{identifier}</identifier>"
        ),
        "<sent>2026-11-20T14:40:00+07:00</sent>": f"<sent>{sent}</sent>",
        "<msgType>Update</msgType>": f"<msgType>{msg_type}</msgType>",
        "<status>Actual</status>": f"<status>{status}</status>",
        "<scope>Public</scope>": f"<scope>{scope}</scope>",
        "<severity>Severe</severity>": f"<severity>{severity}</severity>",
        "<expires>2026-11-20T17:30:00+07:00</expires>": f"<expires>{expires}</expires>",
        "<event>Hujan Lebat dan Petir</event>": f"<event>{event}</event>",
        "<effective>2026-11-20T14:50:00+07:00</effective>": (
            f"<effective>{effective}</effective>"
        ),
        "BENUA KAYONG, DELTA PAWAN, MATAN HILIR SELATAN, MUARA PAWAN, SUKADANA.": (
            f"{names}."
        ),
    }
    for old, new in swaps.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    reference_line = (
        "  <references>cuaca.ekstrem@bmkg.go.id,2.49.0.1.360.0.2026.11.20.07.61.001,"
        "2026-11-20T13:55:00+07:00</references>\n"
    )
    text = text.replace(
        reference_line,
        f"  <references>{references}</references>\n" if references else "",
    )
    if doctype:
        text = text.replace(
            '<?xml version="1.0" ?>\n', f'<?xml version="1.0" ?>\n{doctype}\n'
        )
    return text.encode()


def reference(identifier: str, sent: str = ALERT_SENT) -> str:
    return f"{SENDER},{identifier},{sent}"


def rss(*items: tuple[str, str]) -> bytes:
    """An RSS index listing (guid, link) items, shaped like BMKG's."""
    body = "".join(
        f"<item><title>t</title><link>{link}</link>"
        f'<guid isPermaLink="false">{guid}</guid></item>'
        for guid, link in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Peringatan Dini Cuaca BMKG</title>{body}</channel></rss>"
    ).encode()


@dataclass
class Feed:
    """What the server serves (path → body), what it was asked, and its address."""

    url: str = ""
    documents: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, path: str, body: bytes) -> None:
        with self.lock:
            self.documents[path] = body


@contextmanager
def feed_server() -> Iterator[Feed]:
    """A ThreadingHTTPServer on a free loopback port, stopped afterwards."""
    feed = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with feed.lock:
                feed.requests.append((self.path, dict(self.headers.items())))
                planned = feed.failures.get(self.path)
                status = planned.pop(0) if planned else None
                body = feed.documents.get(self.path)
            if status is not None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if body is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("if-none-match") == etag:
                self.send_response(304)
                self.send_header("etag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-type", "application/xml")
            self.send_header("etag", etag)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    feed.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
