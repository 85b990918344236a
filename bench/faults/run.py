"""One fault run: bring the deployment up, load it, inject faults, check, report."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

import kimgraph
from bench.faults import check
from bench.faults.check import FaultRecord, LogEvent, Verdict
from bench.faults.clients import (
    PARTNER_CURSOR,
    PARTNER_SUBSCRIPTION,
    Api,
    HttpLog,
    Publisher,
    Subscriber,
    board_documents,
    event_id,
)
from bench.faults.cluster import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    Cluster,
    ServerProcess,
    connect,
    running_cluster,
)

FAULTS = ("kill9", "redis", "pg_terminate", "slow_board", "rolling_restart")
REDIS_DOWN_S = 10.0
# How a stalled board's connection may end: 1013 from the server, or 1006 when
# HAProxy drops it with the close frame still behind what the client never read.
STALL_CLOSES = frozenset({1013, 1006})
SIGTERM_DEADLINE_S = 20.0
SETTLE_DEADLINE_S = 90.0
# A process is still counted dead this long after it answers /readyz again,
# while HAProxy's next check (every 0.5 s) brings it back.
DEAD_MARGIN_S = 2.0
# After pg_terminate_backend, how long a 503 from the cut pool is expected.
UNAVAILABLE_S = 5.0


@dataclass
class Config:
    processes: int = 3
    boards: int = 300
    partners: int = 20
    publishers: int = 2
    rate: float = 5.0  # mutations per second, all publishers together
    seconds: float = 90.0
    desa: int = 24
    mean_life_s: float = 20.0  # a board's mean time between disconnects
    rounds: int = 1  # how many times each fault is injected
    faults: tuple[str, ...] = FAULTS
    seed: int | None = None
    code_path: Path | None = None  # serve another kimgraph (the teeth run)
    # Send Idempotency-Key and retry lost answers; None: if the served code has it.
    idempotency: bool | None = None


@dataclass
class Report:
    config: Config
    seed: int
    verdict: Verdict
    faults: list[FaultRecord]
    events: int
    deliveries: int
    reconnects: int
    delays: list[float]
    per_fault: list[str]
    mutations: dict[str, int]
    close_codes: dict[int, int]
    wall_s: float
    notes: list[str] = field(default_factory=list)
    # Close codes the stalled board(s) got: 1013 when the server found it slow.
    stall_codes: dict[int, int] = field(default_factory=dict)

    def figures(self) -> str:
        lines = [
            f"seed {self.seed}; {self.config.processes} processes, "
            f"{self.config.boards} boards over {self.config.desa} desa, "
            f"{self.config.partners} partners, {self.config.seconds:.0f} s of load",
            f"events {self.events}, deliveries {self.deliveries}, "
            f"reconnects {self.reconnects}, faults {len(self.faults)} "
            f"({', '.join(f.kind for f in self.faults)})",
            f"delivery delay {check.summary(self.delays)}",
            "mutations "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.mutations.items())),
            "close codes seen by clients "
            + ", ".join(f"{k}: {v}" for k, v in sorted(self.close_codes.items())),
            f"lost {self.verdict.lost}, doubled {self.verdict.doubled}, "
            f"out of order {self.verdict.out_of_order}, not visible "
            f"{self.verdict.unexpected}, acknowledged missing "
            f"{len(self.verdict.acked_missing)}, timer problems "
            f"{len(self.verdict.timer_problems)}, replay mismatches "
            f"{len(self.verdict.replay_mismatches)}, 5xx outside dead windows "
            f"{len(self.verdict.server_errors)}",
            *self.per_fault,
            *self.notes,
            f"wall time {self.wall_s:.0f} s",
        ]
        return "\n".join(lines)


def run(config: Config) -> Report:
    """Bring everything up in a temporary folder, run, check; stop everything."""
    seed = config.seed if config.seed is not None else random.randrange(2**32)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="kimgraph-faults-"))
    report = None
    try:
        with running_cluster(folder, config.processes, config.code_path) as cluster:
            report = asyncio.run(_Run(cluster, config, seed).main())
            report.wall_s = time.monotonic() - started
            return report
    finally:
        if report is not None and report.verdict.ok:
            shutil.rmtree(folder, ignore_errors=True)
        elif report is not None:
            report.notes.append(f"logs kept in {folder}")


class _Run:
    def __init__(self, cluster: Cluster, config: Config, seed: int) -> None:
        self.cluster = cluster
        self.config = config
        self.seed = seed
        self.rng = random.Random(seed)
        self.http_log = HttpLog()
        self.faults: list[FaultRecord] = []
        self.stop = asyncio.Event()
        self.churn = asyncio.Event()
        self.boards: list[tuple[Subscriber, str, str]] = []
        self.partners: list[tuple[Subscriber, str, str]] = []
        self.publishers: list[Publisher] = []
        self.notes: list[str] = []
        self.stall_codes: dict[int, int] = {}
        served = config.code_path or Path(kimgraph.__file__).parent.parent
        self.idempotent = (
            config.idempotency
            if config.idempotency is not None
            else (served / "kimgraph" / "idempotency.py").is_file()
        )
        self.fault_problems: list[str] = []

    async def db(self) -> Any:
        return await connect(self.cluster.database_url)

    async def main(self) -> Report:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(
            base_url=self.cluster.http_url, trust_env=False, timeout=30, limits=limits
        ) as http:
            api = Api(http, self.http_log)
            began = time.monotonic()
            await self.setup(api)
            tasks = [
                asyncio.create_task(
                    client.run(
                        self.cluster.ws_url,
                        self.stop,
                        self.churn,
                        self.config.mean_life_s,
                        random.Random(self.rng.random()),
                    )
                )
                for client, _, _ in [*self.boards, *self.partners]
            ]
            await self._until(
                lambda: all(c.connected for c, _, _ in [*self.boards, *self.partners]),
                "every client subscribed",
            )
            self.churn.set()
            load_started = time.time()
            loading = time.monotonic()
            publishing = asyncio.Event()
            publishing.set()
            publishers = [
                asyncio.create_task(self.publish(p, publishing))
                for p in self.publishers
            ]
            faults = asyncio.create_task(self.inject(load_started))
            await asyncio.sleep(self.config.seconds)
            await faults
            publishing.clear()
            await asyncio.gather(*publishers)
            self.churn.clear()
            settling = time.monotonic()
            await self.settle()
            self.stop.set()
            await asyncio.gather(*tasks)
            checking = time.monotonic()
            report = await self.report(load_started)
            report.notes.append(
                f"phases: clients ready {loading - began:.0f} s, load and faults "
                f"{settling - loading:.0f} s, settling {checking - settling:.0f} s, "
                f"check {time.monotonic() - checking:.0f} s"
            )
            return report

    async def setup(self, api: Api) -> None:
        status, body = await api.call(
            "mutation ($i: TokenCreateInput!) { tokenCreate(input: $i) { token } }",
            {"i": {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}},
            None,
        )
        assert status == 200, body
        assert body is not None
        admin = f"Bearer {body['data']['tokenCreate']['token']}"
        conn = await self.db()
        try:
            rows = await conn.fetch(
                "SELECT code FROM region WHERE level = 'desa' AND code LIKE '61.04.%' "
                "ORDER BY code"
            )
        finally:
            await conn.close()
        chosen = self.rng.sample([r["code"] for r in rows], self.config.desa + 1)
        # The last board stands alone at a desa of its own: the slow-consumer
        # fault's burst of large announcements goes there, to it only.
        desa, self.lone_desa = chosen[:-1], chosen[-1]
        kecamatan = sorted({code.rsplit(".", 1)[0] for code in desa})
        targets = desa * 6 + kecamatan * 2 + ["61.04"]
        self.publishers = [
            Publisher(
                f"P{i}",
                api,
                admin,
                targets,
                desa,
                random.Random(self.rng.random()),
                idempotent=self.idempotent,
            )
            for i in range(self.config.publishers)
        ]
        keys = []
        for i in range(min(3, self.config.partners)):
            out = await asyncio.to_thread(
                self.cluster.cli,
                *("apikeys", "create", "--name", f"Mitra {i}", "--region", "61.04"),
            )
            keys.append(f"Bearer {out.strip().splitlines()[-1].strip()}")
        query, subscription = board_documents()
        gate = asyncio.Semaphore(20)

        async def board(i: int) -> tuple[Subscriber, str, str]:
            code = desa[i % len(desa)] if i < self.config.boards else self.lone_desa
            async with gate:
                cursor = await self._first_cursor(api, query, {"region": code}, None)
            client = Subscriber(
                f"board{i}@{code}", subscription, {"region": code}, None
            )
            client.first_cursor = client.cursor = cursor
            return client, "announcement", code

        async def partner(i: int) -> tuple[Subscriber, str, str]:
            region = (["61.04", *kecamatan])[i % (len(kecamatan) + 1)]
            key = keys[i % len(keys)]
            async with gate:
                cursor = await self._first_cursor(api, PARTNER_CURSOR, {}, key)
            client = Subscriber(
                f"partner{i}@{region}", PARTNER_SUBSCRIPTION, {"region": region}, key
            )
            client.first_cursor = client.cursor = cursor
            return client, "aspiration", region

        self.boards = list(
            await asyncio.gather(*(board(i) for i in range(self.config.boards + 1)))
        )
        self.partners = list(
            await asyncio.gather(*(partner(i) for i in range(self.config.partners)))
        )
        self.start_cursor = min(
            (c.first_cursor for c, _, _ in [*self.boards, *self.partners]),
            key=event_id,
        )

    async def _first_cursor(
        self, api: Api, query: str, variables: dict[str, Any], key: str | None
    ) -> str:
        """The eventCursor of a first read, as the board loads before subscribing."""
        for _ in range(50):
            status, body = await api.call(query, variables, key)
            if status == 200 and body is not None and "errors" not in body:
                (connection,) = body["data"].values()
                return str(connection["eventCursor"])
            await asyncio.sleep(0.2)
        raise RuntimeError(f"no first read: {status} {body}")

    async def _until(self, condition: Any, what: str, deadline: float = 120.0) -> None:
        end = time.monotonic() + deadline
        while not condition():
            if time.monotonic() > end:
                raise RuntimeError(f"not reached within {deadline} s: {what}")
            await asyncio.sleep(0.1)

    async def publish(self, publisher: Publisher, publishing: asyncio.Event) -> None:
        interval = len(self.publishers) / self.config.rate
        while publishing.is_set():
            began = time.monotonic()
            await publisher.step()
            pause = self.rng.uniform(0.5, 1.5) * interval - (time.monotonic() - began)
            await asyncio.sleep(max(0.0, pause))

    # -- faults ---------------------------------------------------------------

    async def inject(self, load_started: float) -> None:
        """Each fault `rounds` times, at random moments spread over the run."""
        kinds = [k for _ in range(self.config.rounds) for k in self.config.faults]
        self.rng.shuffle(kinds)
        # The two long faults last would stretch the run: one short one goes last.
        long = {"rolling_restart", "slow_board"}
        short = [i for i, kind in enumerate(kinds) if kind not in long]
        if short and kinds[-1] in long:
            kinds[short[-1]], kinds[-1] = kinds[-1], kinds[short[-1]]
        if not kinds:
            return
        span = self.config.seconds * 0.85
        slot = span / len(kinds)
        for n, kind in enumerate(kinds):
            moment = load_started + 3 + n * slot + self.rng.uniform(0, slot * 0.3)
            await asyncio.sleep(max(0.0, moment - time.time()))
            record = FaultRecord(kind, time.time(), 0.0)
            await getattr(self, f"fault_{kind}")(record)
            record.ended = time.time()
            self.faults.append(record)

    def _server(self) -> ServerProcess:
        return self.rng.choice(self.cluster.servers)

    async def fault_kill9(self, record: FaultRecord) -> None:
        server = self._server()
        server.kill()
        dead_from = time.time()
        record.detail = f"{server.name} killed with SIGKILL"
        await asyncio.sleep(self.rng.uniform(1, 3))
        await asyncio.to_thread(server.start)
        record.dead.append((dead_from, time.time() + DEAD_MARGIN_S))
        await asyncio.to_thread(self.cluster.wait_balanced, server, True)

    async def fault_redis(self, record: FaultRecord) -> None:
        await asyncio.to_thread(self.cluster.redis.stop)
        await asyncio.sleep(REDIS_DOWN_S)
        await asyncio.to_thread(self.cluster.redis.start)
        record.detail = f"Redis stopped {REDIS_DOWN_S:.0f} s, then started"

    async def fault_pg_terminate(self, record: FaultRecord) -> None:
        server = self._server()
        count = await self.cluster.terminate_backends(server)
        record.unavailable.append((record.started, time.time() + UNAVAILABLE_S))
        record.detail = f"{count} PostgreSQL backends of {server.name} terminated"

    async def slow_consumer_closes(self) -> int:
        """kimgraph_slow_consumer_closes summed over the processes (/metrics)."""
        total = 0
        async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
            for server in self.cluster.servers:
                try:
                    text = (await http.get(f"{server.url}/metrics")).text
                except httpx.TransportError:
                    continue  # busy; the next look counts it
                for line in text.splitlines():
                    if line.startswith("kimgraph_slow_consumer_closes_total"):
                        total += int(float(line.split()[-1]))
        return total

    async def fault_slow_board(self, record: FaultRecord) -> None:
        client, _, code = self.boards[-1]
        codes_before = dict(client.close_codes)
        client.was_stalled = True
        published = 0
        closes_at_start = await self.slow_consumer_closes()
        for _ in range(2):
            if client.close_codes != codes_before:
                break
            await self._until(lambda: client.connected, "the lone board connected")
            closes_before = await self.slow_consumer_closes()
            client.flowing.clear()
            # Large announcements at its desa, four at a time, until a process
            # closes a slow consumer: they fill what lies between (the server's
            # socket buffer, HAProxy's small ones, 8 frames in the client), then
            # the outbox.
            burst = self.publishers[0]
            for _ in range(75):
                await asyncio.gather(*(burst.step(burst_target=code) for _ in range(4)))
                published += 4
                if await self.slow_consumer_closes() > closes_before:
                    break
            client.flowing.set()
            conn = await self.db()
            try:
                log = await self.read_log(conn)
            finally:
                await conn.close()
            visible = check.expected_for(log, "announcement", code, 0)
            newest = visible[-1][0] if visible else 0
            # It reads what was buffered, then finds the close (or catches up).
            await self._until(
                partial(self._closed_or_caught_up, client, codes_before, newest),
                "the stalled board closed or caught up",
            )
        new = {
            k: v - codes_before.get(k, 0)
            for k, v in client.close_codes.items()
            if v != codes_before.get(k, 0)
        }
        record.detail = (
            f"{client.name} stopped reading during {published} large publications "
            f"at its desa; closed with {new}"
        )
        self.stall_codes.update(new)
        counted = await self.slow_consumer_closes() > closes_at_start
        # Through HAProxy the 1013 frame may sit behind megabytes of buffers
        # the client never read: HAProxy then ends the connection and the client
        # sees 1006. Either way it resumes from its cursor; that the server
        # closed it as a slow consumer is what its /metrics count shows
        # (README, "Several processes").
        if not counted or not set(new) & STALL_CLOSES:
            self.fault_problems.append(
                f"{client.name} stopped reading and was not closed as a slow "
                f"consumer after {published} large publications at its desa "
                f"({new}; counted by the server: {counted})"
            )

    @staticmethod
    def _closed_or_caught_up(
        client: Subscriber, codes_before: dict[int, int], newest: int
    ) -> bool:
        if client.close_codes != codes_before:
            return True
        return bool(client.received) and client.received[-1].id >= newest

    async def fault_rolling_restart(self, record: FaultRecord) -> None:
        took = []
        for server in self.cluster.servers:
            began = time.time()
            # As README says: out of the balancer first, then SIGTERM; the
            # sockets it holds are closed with 1012 and their boards resume
            # on the other processes.
            await asyncio.to_thread(self.cluster.set_state, server, "maint")
            seconds = await asyncio.to_thread(server.terminate, SIGTERM_DEADLINE_S)
            took.append("hung, killed" if seconds is None else f"{seconds:.1f} s")
            if seconds is None:
                self.fault_problems.append(
                    f"{server.name} did not exit within {SIGTERM_DEADLINE_S:.0f} s "
                    "of SIGTERM (killed)"
                )
            await asyncio.to_thread(server.start)
            record.dead.append((began, time.time() + DEAD_MARGIN_S))
            await asyncio.to_thread(self.cluster.set_state, server, "ready")
            await asyncio.to_thread(self.cluster.wait_balanced, server, True)
        record.detail = (
            "maint, SIGTERM then restart, one by one; exits took " + ", ".join(took)
        )

    # -- the end --------------------------------------------------------------

    async def settle(self) -> None:
        """Until every due timer fired and every client has the log's end."""
        end = time.monotonic() + SETTLE_DEADLINE_S
        conn = await self.db()
        try:
            while time.monotonic() < end:
                pending = await conn.fetchval(
                    "SELECT count(*) FROM timer WHERE fired_at IS NULL "
                    "AND due_at < now() + interval '40 seconds'"
                )
                if pending == 0:
                    break
                await asyncio.sleep(0.5)
            log = await self.read_log(conn)
        finally:
            await conn.close()
        targets = []
        for client, stream, region in [*self.boards, *self.partners]:
            visible = check.expected_for(
                log, stream, region, event_id(client.first_cursor)
            )
            targets.append((client, visible[-1][0] if visible else 0))

        def caught_up() -> bool:
            return all(
                (client.received and client.received[-1].id >= last) or last == 0
                for client, last in targets
            )

        try:
            await self._until(caught_up, "every client at the log's end", 60)
        except RuntimeError as exc:
            self.notes.append(str(exc))
        await asyncio.sleep(1.0)  # anything doubled after the end arrives too

    async def read_log(self, conn: Any) -> list[LogEvent]:
        rows = await conn.fetch(
            "SELECT id, stream, kind, entity_id, regions, occurred_at FROM event "
            "ORDER BY id"
        )
        return [
            LogEvent(
                r["id"],
                r["stream"],
                r["kind"],
                r["entity_id"],
                tuple(r["regions"].split()),
                r["occurred_at"].timestamp(),
            )
            for r in rows
        ]

    async def replay(
        self, stream: str, region: str, last: int
    ) -> list[tuple[int, str, int]]:
        """A fresh subscription on a healthy server from the run's first cursor.

        Until it has sent the last event the log says it should (or 60 s), then
        1 s more, so that anything after the end would show too.
        """
        source = next(
            (c for c, s, _ in [*self.boards, *self.partners] if s == stream), None
        )
        assert source is not None
        client = Subscriber(
            f"replay {region}",
            source.document,
            {"region": region},
            source.authorization,
        )
        client.first_cursor = client.cursor = self.start_cursor
        stop, churn = asyncio.Event(), asyncio.Event()
        server = self.cluster.servers[0]
        task = asyncio.create_task(
            client.run(
                server.url.replace("http", "ws") + "/graphql",
                stop,
                churn,
                1.0,
                random.Random(0),
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            client.received and client.received[-1].id >= last
        ):
            if last == 0 and client.connected:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        stop.set()
        await task
        return [(r.id, r.kind, r.entity) for r in client.received]

    async def report(self, load_started: float) -> Report:
        conn = await self.db()
        try:
            log = await self.read_log(conn)
            rows = await conn.fetch(
                "SELECT id, valid_from, valid_until, withdrawn_at FROM announcement"
            )
            unfired = await conn.fetchval(
                "SELECT count(*) FROM timer WHERE fired_at IS NULL AND due_at < now()"
            )
            now = datetime.now(UTC)
            twice = await conn.fetch(
                "SELECT title, count(*) AS n FROM (SELECT title FROM announcement "
                "UNION ALL SELECT title FROM aspiration) AS t GROUP BY title "
                "HAVING count(*) > 1"
            )
            titles = {
                r["title"]
                for r in await conn.fetch(
                    "SELECT title FROM announcement "
                    "UNION ALL SELECT title FROM aspiration"
                )
            }
        finally:
            await conn.close()
        subscribers = [*self.boards, *self.partners]
        clients = check.check_clients(log, subscribers)
        mutations = [m for p in self.publishers for m in p.mutations]
        acked_missing = check.check_acknowledged(log, mutations) + [
            f"{r['title']!r} was applied {r['n']} times" for r in twice
        ]
        timer_problems = check.check_timers(
            log,
            [
                check.AnnouncementRow(
                    r["id"], r["valid_from"], r["valid_until"], r["withdrawn_at"]
                )
                for r in rows
            ],
            now,
            unfired,
        )
        start = event_id(self.start_cursor)
        replay_mismatches = []
        regions = sorted({(s, r) for _, s, r in subscribers})
        expectations = [check.expected_for(log, s, r, start) for s, r in regions]
        replays = await asyncio.gather(
            *(
                self.replay(s, r, e[-1][0] if e else 0)
                for (s, r), e in zip(regions, expectations, strict=True)
            )
        )
        for (stream, region), replayed, expected in zip(
            regions, replays, expectations, strict=True
        ):
            if replayed != expected:
                result = check.compare(f"{stream}@{region}", expected, replayed)
                replay_mismatches.append(
                    f"{stream}@{region}: the log says {len(expected)} events, a fresh "
                    f"replay gave {len(replayed)}; missing {result.missing[:10]}, "
                    f"extra {result.unexpected[:10]}, doubled {result.doubled[:10]}"
                )
        dead = [window for f in self.faults for window in f.dead]
        unavailable = [window for f in self.faults for window in f.unavailable]
        server_errors = [
            f"HTTP {status} at +{at - load_started:.1f} s"
            for at, status in self.http_log.statuses
            if status >= 500
            and not any(a <= at <= b for a, b in dead)
            and not (status == 503 and any(a <= at <= b for a, b in unavailable))
        ]
        client_errors = [f"{c.name}: {e}" for c, _, _ in subscribers for e in c.errors]
        by_id = {e.id: e for e in log}
        for result in clients:
            if result.missing:
                client = next(c for c, _, _ in subscribers if c.name == result.name)
                self.notes.append(
                    f"{result.name}: missing "
                    + "; ".join(
                        f"ev {i} ({by_id[i].kind} of {by_id[i].entity} at "
                        f"+{by_id[i].occurred - load_started:.2f} s)"
                        for i in result.missing[:5]
                    )
                    + "; its sessions (from, after id, to, close code): "
                    + ", ".join(
                        f"(+{a - load_started:.2f}, {after}, +{b - load_started:.2f},"
                        f" {code})"
                        for a, after, b, code in client.sessions
                    )
                )
        verdict = check.Verdict(
            clients,
            sum(len(c.missing) for c in clients),
            sum(len(c.doubled) for c in clients),
            sum(c.out_of_order for c in clients),
            sum(len(c.unexpected) for c in clients),
            acked_missing,
            timer_problems,
            replay_mismatches,
            server_errors,
            client_errors,
            self.fault_problems,
        )
        run_log = [e for e in log if e.id > start]
        # A board that stopped reading is late by design: its delays are left
        # out of the figures (not out of the check above).
        per_event = check.delays(
            run_log,
            [c for c, _, _ in subscribers if not c.was_stalled],
        )
        all_delays = [d for ds in per_event.values() for d in ds]
        quiet = [
            d
            for e in run_log
            if e.id in per_event
            and not any(
                f.started - 1 <= e.occurred <= f.ended + 15 for f in self.faults
            )
            for d in per_event[e.id]
        ]
        threshold = max(1.0, 2 * check.percentile(quiet, 0.99)) if quiet else 2.0
        per_fault = [
            f"outside faults (+-15 s): delay {check.summary(quiet)}; "
            f"recovered means every event reached all its clients within "
            f"{threshold:.2f} s"
        ]
        for n, fault in enumerate(self.faults):
            following = self.faults[n + 1].started if n + 1 < len(self.faults) else None
            horizon = 60.0 if following is None else following - fault.started
            fault.recover_s = check.recovery(
                run_log, per_event, fault, threshold, min(60.0, horizon)
            )
            around = [
                d
                for e in run_log
                if e.id in per_event and fault.started <= e.occurred <= fault.ended + 10
                for d in per_event[e.id]
            ]
            recovered = (
                "not before the next fault"
                if fault.recover_s is None
                else f"{fault.recover_s:.1f} s after it began"
            )
            per_fault.append(
                f"fault {fault.kind} at +{fault.started - load_started:.0f} s "
                f"({fault.ended - fault.started:.1f} s; {fault.detail}): delay "
                f"{check.summary(around)}; recovered {recovered}"
            )
        outcomes: dict[str, int] = {}
        unknown_committed = 0
        for m in mutations:
            key = f"{m.operation} {m.outcome}"
            if m.outcome != "ack":
                key += f" ({m.status} {m.detail})"
            outcomes[key] = outcomes.get(key, 0) + 1
            if m.outcome == "unknown" and m.title and m.title in titles:
                unknown_committed += 1
        transport = len(self.http_log.transport_errors)
        retried = sum(1 for m in mutations if m.attempts > 1)
        notes = [
            *self.notes,
            f"Idempotency-Key on every mutation: {'yes' if self.idempotent else 'no'}"
            f"; mutations sent more than once: {retried}",
            f"unknown outcomes that had in fact committed: {unknown_committed}; "
            f"HTTP transport errors seen by publishers/readers: {transport}",
        ]
        codes: dict[int, int] = {}
        for client, _, _ in subscribers:
            for code, n in client.close_codes.items():
                codes[code] = codes.get(code, 0) + n
        return Report(
            self.config,
            self.seed,
            verdict,
            self.faults,
            len(run_log),
            sum(len(c.received) for c, _, _ in subscribers),
            sum(c.connects for c, _, _ in subscribers) - len(subscribers),
            all_delays,
            per_fault,
            outcomes,
            codes,
            0.0,
            notes,
            self.stall_codes,
        )
