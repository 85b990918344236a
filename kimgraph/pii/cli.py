"""`kimgraph pii encrypt | rotate-key | erase` (docs/privacy.md).

encrypt and rotate-key cover every encrypted column: reporters' names and
contacts and webhooks' signing secrets (kimgraph.pii.store.SEALED).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from kimgraph import db
from kimgraph.aspirations import redaction
from kimgraph.cli_errors import CliError
from kimgraph.clock import SystemClock
from kimgraph.pii import erasure, keys, store
from kimgraph.setting_values import MIN_SECRET_LENGTH
from kimgraph.settings import Settings


def add_parser(commands: Any) -> None:
    """Register `pii ...` on the kimgraph command's subparsers."""
    pii = commands.add_parser(
        "pii", help="reporters' personal data and webhook secrets at rest"
    )
    sub = pii.add_subparsers(dest="pii_command", required=True)
    sub.add_parser(
        "encrypt",
        help="encrypt names, contacts and webhook secrets still stored in clear",
    )
    rotate = sub.add_parser(
        "rotate-key",
        help="re-encrypt everything under KIMGRAPH_SECRET_KEY; resumable",
        description="Re-encrypt every reporter name and contact and every "
        "webhook secret under "
        "KIMGRAPH_SECRET_KEY, reading the old ones with KIMGRAPH_SECRET_KEY_PREVIOUS "
        "(or --previous-key-file). Batches commit as they go: run it again after "
        "an interruption.",
    )
    rotate.add_argument(
        "--previous-key-file",
        type=Path,
        help="a file holding the old secret (kept off the command line)",
    )
    sub.add_parser(
        "erase", help="erase now what KIMGRAPH_PII_RETENTION_DAYS says is due"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `pii` subcommand against the migrated database."""
    redaction.install()  # at debug level, no value in clear in the SQL log
    keyring = _keyring(args, settings)
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    try:
        keys.install(keyring)
        return await _command(args, settings, keyring)
    except keys.PersonalDataKeyError as error:
        # A wrong key, or a stored value that fails its integrity check.
        raise CliError(str(error)) from None
    finally:
        await db.close()


async def _command(
    args: argparse.Namespace, settings: Settings, keyring: keys.Keyring | None
) -> int:
    await store.check(keyring)
    if args.pii_command == "erase":
        retention = timedelta(days=settings.pii_retention_days)
        erased = await erasure.erase_due(SystemClock().now(), retention)
        print(f"erased the personal data of {erased} aspirations")
        return 0
    if keyring is None:
        raise CliError(f"set KIMGRAPH_SECRET_KEY to `pii {args.pii_command}`")
    only_clear = args.pii_command == "encrypt"
    changed = await store.reencrypt(keyring, only_clear=only_clear)
    print(f"{store.counted(changed)} written under key {keyring.current.id}")
    return 0


async def ready(settings: Settings) -> None:
    """store.prepare for a command that reads or writes personal data: CliError."""
    try:
        await store.prepare(settings)
    except keys.PersonalDataKeyError as error:
        raise CliError(str(error)) from None


def _keyring(args: argparse.Namespace, settings: Settings) -> keys.Keyring | None:
    if getattr(args, "previous_key_file", None) is None:
        return store.keyring_from(settings)
    if settings.secret_key is None:
        raise CliError("set KIMGRAPH_SECRET_KEY to `pii rotate-key`")
    path: Path = args.previous_key_file
    try:
        previous = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    if len(previous) < MIN_SECRET_LENGTH:
        raise CliError(f"{path} holds no secret of {MIN_SECRET_LENGTH}+ characters")
    return keys.Keyring(settings.secret_key, [previous])
