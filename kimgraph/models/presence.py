"""Which desa have a notice board connected, across every server process."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class BoardPresence(Model):
    """A desa or kelurahan whose notice board some process has recorded.

    One row per desa, shared by all processes, kept after its board goes away
    so that a long silence can be flagged (docs/presence.md).
    """

    code = fields.CharField(max_length=13, primary_key=True)
    # The start of the board's latest unbroken run of heartbeats.
    since = fields.DatetimeField()
    last_seen = fields.DatetimeField()

    class Meta:
        table = "board_presence"
