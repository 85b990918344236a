"""The HTTP read path: the board's load query, a region lookup, a cold variant.

Each variant runs against ``kimgraph serve`` and, in the same run and with the
same pinning, against a bare Starlette endpoint (uvicorn, same settings) that
returns the very bytes KIMgraph answered (headers that matter included: a
gzipped answer stays gzipped). Servers run under ``taskset -c 0``, ``wrk`` (the
Debian package; ``apt-get install -y wrk``) under ``taskset -c 1``.

- ``board``: the board's load query as ``kimgraph/board/board.js`` sends it once
  its hash is registered (automatic persisted queries: the hash and the
  variables, no document), with a browser's ``Accept`` and ``Accept-Encoding``;
  the document and its hash are read out of board.js at run time. Anonymous,
  20 announcements visible at the desa (all targeted at Kabupaten Ketapang).
- ``board-document``: the same query with its document in every request, as a
  client without persisted queries sends it.
- ``region``: ``region(code:) { code name }`` of one desa.
- ``cold``: the board query rotating over all 253 desa of Ketapang, against a
  second server on the same database started with ``KIMGRAPH_READ_CACHE_BYTES=0``
  (the read cache off, so every request executes: what a cache miss costs).

Each measurement is ``wrk -t1 -c64`` for ``--duration`` seconds after a 2 s
warm-up; p50/p99 come from wrk's latency histogram. The server's share of its
core during the run is reported too: well under 100 % means something else ran
on core 0 (other work on this shared machine), and the figure is low for that.
"req per CPU-s" divides the rate by that share: what the server does per second
of its own CPU, the rate it would reach with the core to itself (it ignores
cache and scheduling effects of the contention, so it is a ceiling).

Run from the repository root::

    python -m bench.http [--runs 3] [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
# The KIMgraph checkout the servers run (--source): this one unless told.
SOURCE = ROOT
SERVER_CPU = "0"
CLIENT_CPU = "1"
KABUPATEN = "61.04"
DESA = "61.04.16.2006"
ANNOUNCEMENTS = 20
ADMIN_PASSWORD = "kata-sandi-bench-http-123"
STARTUP_TIMEOUT_S = 120.0
WARM_UP_S = 2
# What a browser's fetch() sends besides the board's own headers.
BROWSER_HEADERS = {
    "content-type": "application/json",
    "accept": "*/*",
    "accept-encoding": "gzip, deflate, br",
}
QUERY_REGION = "query Region($code: String!) { region(code: $code) { code name } }"
QUERY_DESA = """
query Desa($code: String!) {
  region(code: $code) { ... on Kabupaten { kecamatan { desa { code } } } }
}
"""
MUTATION_PUBLISH = """
mutation Publish($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { announcement { id } userErrors { code } }
}
"""
MUTATION_TOKEN = """
mutation Token($input: TokenCreateInput!) { tokenCreate(input: $input) { token } }
"""
# The answer headers a client sees and the bare endpoint repeats.
KEPT_HEADERS = ("content-type", "content-encoding", "vary")


class BenchError(Exception):
    """The benchmark could not run as designed."""


def board_document() -> str:
    """The board's load query, exactly as board.js builds it."""
    source = (SOURCE / "kimgraph" / "board" / "board.js").read_text(encoding="utf-8")
    fields = re.search(r"const FIELDS = '([^']*)';", source)
    query = re.search(r"const QUERY = `([^`]*)`;", source)
    if fields is None or query is None:
        raise BenchError("board.js no longer defines FIELDS and QUERY as expected")
    return query.group(1).replace("${FIELDS}", fields.group(1))


def persisted_body(document: str, variables: dict[str, Any], *, send: bool) -> bytes:
    """A request body as board.js sends it: the hash, the document if `send`."""
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    request: dict[str, Any] = {"variables": variables}
    if send:
        request["query"] = document
    request["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    return json.dumps(request, separators=(",", ":")).encode("utf-8")


def document_body(document: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": document, "variables": variables}).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if self.headers.get("content-encoding") == "gzip":
            import gzip

            return json.loads(gzip.decompress(self.body))
        return json.loads(self.body)


def post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> Answer:
    """One POST; the raw (still encoded) answer."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("POST", path, body, {**BROWSER_HEADERS, **(headers or {})})
        response = connection.getresponse()
        kept = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, kept, response.read())
    finally:
        connection.close()


def graphql(port: int, document: str, variables: dict[str, Any], token: str) -> Any:
    answer = post(
        port,
        "/graphql",
        document_body(document, variables),
        {"authorization": f"Bearer {token}"} if token else None,
    )
    data = answer.json()
    if answer.status != 200 or "errors" in data:
        raise BenchError(f"GraphQL call failed: {answer.status} {data}")
    return data["data"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(cpu: str, argv: Sequence[str]) -> list[str]:
    """argv under `taskset -c cpu` (as is on a one-CPU machine or without taskset)."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return list(argv)
    return ["taskset", "-c", cpu, *argv]


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class ServerProcess:
    pid: int
    port: int

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the whole process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_process(
    argv: Sequence[str], env: dict[str, str], folder: Path, port: int
) -> Iterator[ServerProcess]:
    """A server pinned to SERVER_CPU, healthy; SIGTERM (then kill) after."""
    log = folder / f"server-{port}.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            pinned(SERVER_CPU, argv),
            cwd=SOURCE,
            env={**os.environ, "PYTHONPATH": str(SOURCE), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(port):
            if child.poll() is not None:
                raise BenchError(f"server exited early:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise BenchError(f"server not healthy:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield ServerProcess(child.pid, port)
        output = log.read_text(errors="replace")
        if "Traceback" in output or "ERROR" in output:
            print(f"  the server logged errors:\n{output[-3000:]}", file=sys.stderr)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def kimgraph_server(
    database_url: str, folder: Path, extra: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    env = {
        "KIMGRAPH_DATABASE_URL": database_url,
        "KIMGRAPH_LOG_LEVEL": "warning",
        **(extra or {}),
    }
    port = free_port()
    argv = [sys.executable, "-m", "kimgraph.cli", "serve", "--port", str(port)]
    with server_process(argv, env, folder, port) as server:
        yield server


@contextmanager
def bare_server(answers: Path, folder: Path) -> Iterator[ServerProcess]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.http", "--bare-server", str(port)]
    argv += ["--answers", str(answers)]
    with server_process(argv, {}, folder, port) as server:
        yield server


def serve_bare(port: int, answers_file: Path) -> None:
    """The bare endpoint: the recorded answers, chosen by path (and region)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    recorded = json.loads(answers_file.read_text())

    def answer(entry: dict[str, Any]) -> Response:
        return Response(base64.b64decode(entry["body"]), headers=entry["headers"])

    fixed = {path: answer(entry) for path, entry in recorded["fixed"].items()}
    by_region = {code: answer(e) for code, e in recorded["by_region"].items()}

    async def one(request: Request) -> Response:
        await request.body()
        return fixed[request.url.path]

    async def rotating(request: Request) -> Response:
        request_data = json.loads(await request.body())
        return by_region[request_data["variables"]["region"]]

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            *(Route(path, one, methods=["POST"]) for path in fixed),
            Route("/cold", rotating, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        log_level="warning",
        access_log=False,
        http="httptools",  # as kimgraph.serve
    )


# wrk's script: every body in turn (one, or one per desa), then a JSON summary.
WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local headers = %(headers)s
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d,'
    .. ' "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.errors.status))
end
"""


@dataclass(frozen=True, slots=True)
class Measurement:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_share: float
    load_before: str
    errors: int

    @property
    def per_cpu_second(self) -> float:
        """Requests per second of server CPU: the rate of a core it had to itself."""
        return self.requests_per_s / max(self.server_cpu_share, 1e-9)


def lua_table(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"


def run_wrk(
    server: ServerProcess,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    folder: Path,
    duration: int,
    connections: int,
) -> Measurement:
    """wrk against one path: a warm-up, then the measured run."""
    bodies_file = folder / f"bodies-{path.strip('/').replace('/', '-')}.txt"
    bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
    script = folder / "wrk.lua"
    script.write_text(
        WRK_SCRIPT
        % {"bodies": bodies_file, "headers": lua_table(headers), "path": path}
    )
    url = f"http://{HOST}:{server.port}{path}"

    def wrk(seconds: int) -> str:
        argv = pinned(
            CLIENT_CPU,
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script)],
        )
        done = subprocess.run(
            [*argv, url], capture_output=True, text=True, timeout=seconds + 60
        )
        if done.returncode != 0:
            raise BenchError(f"wrk failed: {done.stderr}")
        return done.stdout

    wrk(WARM_UP_S)
    load = Path("/proc/loadavg").read_text().split()[0]
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    output = wrk(duration)
    cpu = server.cpu_seconds() - cpu_before
    wall = time.monotonic() - wall_before
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    # Socket errors (wrk's 2 s timeout on a loaded box) are reported, not fatal.
    if result["non2xx"]:
        raise BenchError(f"{path}: {result['non2xx']} answers other than 2xx")
    return Measurement(
        requests_per_s=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        server_cpu_share=cpu / wall,
        load_before=load,
        errors=result["errors"],
    )


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    path: str  # the bare endpoint's path; KIMgraph's is /graphql
    bodies: tuple[bytes, ...]
    cold: bool = False


def prepare(port: int) -> tuple[str, list[str]]:
    """An admin, 20 announcements for the kabupaten; (admin token, all desa codes)."""
    token = graphql(
        port,
        MUTATION_TOKEN,
        {"input": {"username": "admin", "password": ADMIN_PASSWORD}},
        "",
    )["tokenCreate"]["token"]
    for index in range(ANNOUNCEMENTS):
        draft = {
            "title": f"Pengumuman bench {index + 1}",
            "body": "Isi pengumuman untuk papan desa. " * 8,
            "category": "GENERAL",
            "priority": "IMPORTANT" if index % 5 == 0 else "NORMAL",
            "targets": [KABUPATEN],
        }
        payload = graphql(port, MUTATION_PUBLISH, {"input": draft}, token)
        if payload["announcementPublish"]["userErrors"]:
            raise BenchError(f"publish failed: {payload}")
    data = graphql(port, QUERY_DESA, {"code": KABUPATEN}, "")
    codes = [d["code"] for k in data["region"]["kecamatan"] for d in k["desa"]]
    return token, codes


def create_admin(database_url: str, folder: Path) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "kimgraph.cli", "accounts", "create"),
            *("--username", "admin", "--role", "ADMIN", "--region", KABUPATEN),
            *("--password", ADMIN_PASSWORD),
        ],
        env={
            **os.environ,
            "PYTHONPATH": str(SOURCE),
            "KIMGRAPH_DATABASE_URL": database_url,
        },
        cwd=SOURCE,
        capture_output=True,
        timeout=300,
        check=True,
    )


def record(server: ServerProcess, variant: Variant) -> list[Answer]:
    """KIMgraph's answers to a variant's bodies, checked to be what it should be."""
    answers = []
    for body in variant.bodies:
        answer = post(server.port, "/graphql", body)
        data = answer.json()
        if answer.status != 200 or "errors" in data:
            raise BenchError(f"{variant.name}: {answer.status} {data}")
        if variant.name != "region":
            edges = data["data"]["announcements"]["edges"]
            if len(edges) != ANNOUNCEMENTS:
                raise BenchError(f"{variant.name}: {len(edges)} announcements")
        answers.append(answer)
    return answers


def register(server: ServerProcess, document: str) -> None:
    """Stores the board's hash, as the board's first load does."""
    answer = post(
        server.port, "/graphql", persisted_body(document, {"region": DESA}, send=True)
    )
    if answer.status != 200 or "errors" in answer.json():
        raise BenchError(f"registering the board's hash failed: {answer.json()}")


def kept(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k in KEPT_HEADERS}


def fmt(values: Sequence[float], digits: int = 0) -> str:
    """Median, and the spread as min-max when there are several runs."""
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:,.{digits}f}"
    return f"{middle:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--variants", nargs="*", default=["board", "board-document", "region", "cold"]
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="the KIMgraph checkout to serve (default: this one)",
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server is not None:
        serve_bare(args.bare_server, args.answers)
        return 0
    global SOURCE
    SOURCE = args.source.resolve()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    document = board_document()
    board = {"region": DESA}
    results: dict[str, list[tuple[Measurement, Measurement]]] = {}
    with tempfile.TemporaryDirectory(prefix="kimgraph-bench-http-") as name:
        folder = Path(name)
        database_url = f"sqlite:///{folder / 'kimgraph.db'}"
        with kimgraph_server(database_url, folder) as warm:
            create_admin(database_url, folder)
            _, desa = prepare(warm.port)
        if len(desa) != 253:
            raise BenchError(f"expected Ketapang's 253 desa, found {len(desa)}")
        variants = [
            Variant("board", "/board", (persisted_body(document, board, send=False),)),
            Variant("board-document", "/document", (document_body(document, board),)),
            Variant(
                "region", "/region", (document_body(QUERY_REGION, {"code": DESA}),)
            ),
            Variant(
                "cold",
                "/cold",
                tuple(
                    persisted_body(document, {"region": code}, send=False)
                    for code in desa
                ),
                cold=True,
            ),
        ]
        variants = [v for v in variants if v.name in args.variants]
        answers_file = folder / "answers.json"
        recorded: dict[str, Any] = {"fixed": {}, "by_region": {}}
        for run in range(args.runs):
            for cold in (False, True):
                chosen = [v for v in variants if v.cold is cold]
                if not chosen:
                    continue
                extra = {"KIMGRAPH_READ_CACHE_BYTES": "0"} if cold else {}
                kimgraph_results: dict[str, Measurement] = {}
                with kimgraph_server(database_url, folder, extra) as server:
                    register(server, document)
                    for variant in chosen:
                        answers = record(server, variant)
                        if variant.cold:
                            for body, answer in zip(
                                variant.bodies, answers, strict=True
                            ):
                                code = json.loads(body)["variables"]["region"]
                                recorded["by_region"][code] = {
                                    "body": base64.b64encode(answer.body).decode(),
                                    "headers": kept(answer),
                                }
                        else:
                            recorded["fixed"][variant.path] = {
                                "body": base64.b64encode(answers[0].body).decode(),
                                "headers": kept(answers[0]),
                            }
                        kimgraph_results[variant.name] = run_wrk(
                            server, "/graphql", variant.bodies, BROWSER_HEADERS,
                            folder, args.duration, args.connections,
                        )  # fmt: skip
                        _log_one(
                            run,
                            variant.name,
                            "kimgraph",
                            kimgraph_results[variant.name],
                        )
                answers_file.write_text(json.dumps(recorded))
                with bare_server(answers_file, folder) as bare:
                    for variant in chosen:
                        measured = run_wrk(
                            bare, variant.path, variant.bodies, BROWSER_HEADERS,
                            folder, args.duration, args.connections,
                        )  # fmt: skip
                        _log_one(run, variant.name, "bare", measured)
                        results.setdefault(variant.name, []).append(
                            (kimgraph_results[variant.name], measured)
                        )
    print(markdown(results, args))
    return 0


def _log_one(run: int, name: str, server: str, m: Measurement) -> None:
    print(
        f"run {run + 1} {name:15} {server:8} {m.requests_per_s:9,.0f} req/s  "
        f"p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms  "
        f"server CPU {m.server_cpu_share:4.0%} ({m.per_cpu_second:,.0f}/CPU-s)  "
        f"load {m.load_before}  "
        f"socket errors {m.errors}",
        file=sys.stderr,
        flush=True,
    )


def markdown(
    results: dict[str, list[tuple[Measurement, Measurement]]], args: argparse.Namespace
) -> str:
    lines = [
        f"wrk -t1 -c{args.connections}, {args.duration} s per run, {args.runs} runs: "
        "median (min-max)",
        "",
        "| variant | KIMgraph req/s | p50 ms | p99 ms | server CPU "
        "| req per CPU-s | bare req/s | bare p99 ms | bare req per CPU-s "
        "| KIMgraph/bare (req/s) | KIMgraph/bare (per CPU-s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, pairs in results.items():
        ours = [p[0] for p in pairs]
        bare = [p[1] for p in pairs]
        ratio = [a.requests_per_s / b.requests_per_s for a, b in pairs]
        cpu_ratio = [a.per_cpu_second / b.per_cpu_second for a, b in pairs]
        lines.append(
            f"| {name} | {fmt([m.requests_per_s for m in ours])} "
            f"| {fmt([m.p50_ms for m in ours], 1)} "
            f"| {fmt([m.p99_ms for m in ours], 1)} "
            f"| {fmt([100 * m.server_cpu_share for m in ours])} % "
            f"| {fmt([m.per_cpu_second for m in ours])} "
            f"| {fmt([m.requests_per_s for m in bare])} "
            f"| {fmt([m.p99_ms for m in bare], 1)} "
            f"| {fmt([m.per_cpu_second for m in bare])} "
            f"| {fmt([100 * r for r in ratio])} % "
            f"| {fmt([100 * r for r in cpu_ratio])} % |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
