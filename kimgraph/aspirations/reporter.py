"""Reporter self-service: the reporter key, and the steps it allows without an account.

The key is handed out once, with the ticket, and kept only as a SHA-256 digest,
like bearer tokens and API keys (kimgraph.accounts.auth). Attempts are counted
before the key is checked, as sign-ins are (docs/aspiration-workflow.md,
"The reporter"). A verifier may issue a new key in place of a lost one
("A lost key").
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.auth import digest
from kimgraph.accounts.authorization import Action, enforce
from kimgraph.accounts.principals import Principal
from kimgraph.aspirations.handling import MAX_REASON, readable, require_verifier
from kimgraph.aspirations.records import (
    Author,
    Outcome,
    StepText,
    apply_step,
    conflict,
)
from kimgraph.aspirations.submission import (
    key_digest,
    new_reporter_key,
    normalize_ticket,
)
from kimgraph.aspirations.text import checked_text
from kimgraph.aspirations.workflow import (
    OPEN_STATES,
    REPORTER,
    WITHDRAWABLE_STATES,
    TransitionRequest,
    check_transition,
)
from kimgraph.clock import Clock
from kimgraph.errors import (
    Problem,
    ProblemCode,
    UserInputError,
    invalid,
)
from kimgraph.events import log
from kimgraph.events.bus import Doorbell
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.rate_limit import refusals
from kimgraph.rate_limit.buckets import Bucket, Limit, LimitStore, MemoryStore, Taken

_S = AspirationStatus
MAX_TEXT = 2_000
REPORTER_AUTHOR = Author("Pelapor")
"""The name history shows for a reporter's step: never the reporter's own name."""
# Compared against when the ticket is unknown, so both cases take as long.
_DUMMY_DIGEST = digest("no ticket has this key")


class ReporterAction(enum.StrEnum):
    """What the reporter may do with the ticket and its key."""

    ANSWER = "ANSWER"
    CONFIRM = "CONFIRM"
    DISPUTE = "DISPUTE"
    WITHDRAW = "WITHDRAW"


# Each action: the states it starts from and the state it leads to.
_ACTIONS: dict[ReporterAction, tuple[frozenset[AspirationStatus], AspirationStatus]] = {
    ReporterAction.ANSWER: (frozenset({_S.NEEDS_INFO}), _S.SUBMITTED),
    ReporterAction.CONFIRM: (frozenset({_S.RESPONDED}), _S.RESOLVED),
    ReporterAction.DISPUTE: (frozenset({_S.RESPONDED}), _S.IN_PROGRESS),
    ReporterAction.WITHDRAW: (WITHDRAWABLE_STATES, _S.WITHDRAWN),
}


class ReporterKeyThrottle:
    """Key attempts are limited like sign-ins (kimgraph.accounts.sign_in).

    Each attempt takes, before the key is checked and in one atomic step, a
    token from its address (PER_ADDRESS, across tickets), its (ticket, address)
    pair (per_ticket_and_address: 5, one back every retry_seconds) and its
    ticket from all addresses together (PER_TICKET), falling back to a small
    allowance of the pair once the ticket's is spent
    (PER_TICKET_AND_ADDRESS_STRAINED), so that a guesser
    cannot lock the reporter out everywhere. An unknown ticket is counted the
    same, so the limit tells nothing about which tickets exist. A right key
    gives its tokens back.
    """

    PER_ADDRESS = Limit(capacity=20, per_second=1 / 45)
    PER_TICKET_AND_ADDRESS_CAPACITY = 5
    RETRY_SECONDS = 300.0
    PER_TICKET = Limit(capacity=20, per_second=1 / 180)
    PER_TICKET_AND_ADDRESS_STRAINED = Limit(capacity=3, per_second=1 / 1200)

    def __init__(
        self,
        clock: Clock,
        store: LimitStore | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.clock = clock
        self.store: LimitStore = store if store is not None else MemoryStore()
        # KIMGRAPH_REPORTER_KEY_RETRY_SECONDS: the pair's refill, the one wait
        # a reporter who mistyped the key meets.
        self.per_ticket_and_address = Limit(
            capacity=self.PER_TICKET_AND_ADDRESS_CAPACITY,
            per_second=1 / retry_seconds,
        )

    def groups(self, client: str, ticket: str) -> list[list[Bucket]]:
        """The allowances one attempt spends from (a list of alternatives each)."""
        # Hashed: a key of bounded length whatever the caller typed as ticket.
        name = hashlib.sha256(ticket.encode()).hexdigest()[:32]
        return [
            [Bucket(f"reporter:address:{client}", self.PER_ADDRESS)],
            [Bucket(f"reporter:pair:{name}:{client}", self.per_ticket_and_address)],
            [
                Bucket(f"reporter:ticket:{name}", self.PER_TICKET),
                Bucket(
                    f"reporter:strained:{name}:{client}",
                    self.PER_TICKET_AND_ADDRESS_STRAINED,
                ),
            ],
        ]

    async def attempt(self, client: str, ticket: str) -> Taken:
        """Spend this attempt's tokens; RATE_LIMITED (nothing spent) if one is out."""
        taken = await self.store.take(
            self.clock.now().timestamp(), self.groups(client, ticket)
        )
        if not taken.allowed:
            refusals.note(taken)
            raise UserInputError(
                Problem(
                    ProblemCode.RATE_LIMITED,
                    "too many wrong reporter keys; try again in "
                    f"{max(1, math.ceil(taken.wait / 60))} minute(s)",
                    None,
                )
            )
        return taken

    async def succeeded(self, taken: Taken) -> None:
        """A right key costs nothing: give its tokens back."""
        await self.store.give_back(self.clock.now().timestamp(), taken)


@dataclass(frozen=True, slots=True)
class ReporterStep:
    """The input of aspirationReporterStep."""

    ticket: str
    key: str
    action: ReporterAction
    text: str | None = None
    expected_version: int | None = None


def wrong_key() -> UserInputError:
    """One answer for an unknown ticket and a wrong key: tickets are not enumerable."""
    return UserInputError(
        Problem(
            ProblemCode.INVALID_CREDENTIALS,
            "wrong ticket or reporter key",
            ["input", "key"],
        )
    )


async def keyed_aspiration(ticket: str, key: str) -> models.Aspiration:
    """The aspiration with this ticket if key is its reporter key; else wrong_key."""
    row = await models.Aspiration.get_or_none(ticket=normalize_ticket(ticket))
    stored = row.reporter_key_hash if row is not None else None
    matches = hmac.compare_digest(stored or _DUMMY_DIGEST, key_digest(key))
    if row is None or stored is None or not matches:
        raise wrong_key()
    return row


def _not_now(action: ReporterAction, current: AspirationStatus) -> UserInputError:
    sources = ", ".join(sorted(_ACTIONS[action][0]))
    return UserInputError(
        Problem(
            ProblemCode.INVALID_TRANSITION,
            f"the reporter can {action} an aspiration only when it is {sources}; "
            f"it is {current}",
            ["input", "action"],
        )
    )


async def reporter_step(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    step: ReporterStep,
    *,
    throttle: ReporterKeyThrottle | None = None,
    client: str = "unknown",
) -> Outcome:
    """Take one of the reporter's steps with the ticket and its reporter key.

    principal plays no part: the key is the credential, whoever holds it.
    """
    ticket = normalize_ticket(step.ticket)
    taken = await throttle.attempt(client, ticket) if throttle else None
    row = await keyed_aspiration(ticket, step.key)
    if throttle is not None and taken is not None:
        await throttle.succeeded(taken)
    if step.expected_version is not None and row.version != step.expected_version:
        raise conflict(row.version, step.expected_version)
    sources, target = _ACTIONS[step.action]
    if row.status not in sources:
        raise _not_now(step.action, row.status)
    problems: list[Problem] = []
    text = checked_text(step.text, MAX_TEXT, "text", problems)
    if problems:
        raise UserInputError(*problems)
    now = clock.now()
    plan = check_transition(
        row.status,
        target,
        REPORTER,
        TransitionRequest(public_note=text),
        now=now,
        due_at=row.due_at,
    )
    expected = row.version
    async with log.transaction(doorbell) as tx:
        event_id = await apply_step(
            tx,
            row,
            plan,
            StepText(public_note=text),
            expected_version=expected,
            actor=REPORTER_AUTHOR,
            at=now,
        )
        if event_id is None:
            current = await models.Aspiration.get(id=row.id, using_db=tx.conn)
            raise conflict(current.version, expected)
    return Outcome(row, event_id)


@dataclass(frozen=True, slots=True)
class KeyReissue:
    """The input of aspirationReporterKeyReissue: the aspiration by id or ticket."""

    reason: str
    # The aspiration's row id; 0 stands for an id given that names none.
    aspiration_id: int | None = None
    ticket: str | None = None


async def _named(principal: Principal, reissue: KeyReissue) -> models.Aspiration:
    """The aspiration the input names, if principal may read it; else NOT_FOUND."""
    if (reissue.aspiration_id is None) == (reissue.ticket is None):
        raise invalid("give either the aspiration's id or its ticket", "input")
    if reissue.ticket is not None:
        row = await models.Aspiration.get_or_none(
            ticket=normalize_ticket(reissue.ticket)
        )
        return readable(principal, row, "input", "ticket")
    row = await models.Aspiration.get_or_none(id=reissue.aspiration_id)
    return readable(principal, row, "input", "id")


async def reissue_key(
    clock: Clock, principal: Principal, reissue: KeyReissue
) -> Outcome:
    """A new reporter key in place of the aspiration's old one (or of none).

    Only a verifier of the aspiration's region issues one: the desk that speaks
    with reporters, not the unit. The key is in the outcome, once; the audit
    row keeps the reason and whether a key was replaced, never a key or hash.
    """
    enforce(principal, Action.ASPIRATION_REPORTER_KEY)
    row = await _named(principal, reissue)
    require_verifier(principal, row, "issue a reporter key")
    problems: list[Problem] = []
    why = checked_text(reissue.reason, MAX_REASON, "reason", problems, required=True)
    if row.status not in OPEN_STATES:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"the aspiration is {row.status}: the reporter has no step left "
                "to take with a key",
                ["input", "ticket" if reissue.ticket is not None else "id"],
            )
        )
    if problems:
        raise UserInputError(*problems)
    key = new_reporter_key()
    old = row.reporter_key_hash
    async with in_transaction() as conn:
        # On the old digest: of two reissues at once, one key is handed out.
        changed = (
            await models.Aspiration.filter(id=row.id, reporter_key_hash=old)
            .using_db(conn)
            .update(reporter_key_hash=key_digest(key))
        )
        if not changed:
            raise invalid("a new reporter key was issued meanwhile", "input")
        await audit.record(
            conn,
            principal,
            audit.AuditAction.ASPIRATION_REPORTER_KEY_REISSUE,
            audit.target("Aspiration", row.id),
            {"replaced": old is not None, "reason": why},
            at=clock.now(),
        )
    await row.refresh_from_db()
    return Outcome(row, reporter_key=key)
