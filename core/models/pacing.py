"""The outbound send budget shared by every process and host on PostgreSQL (Tortoise
ORM; core.models re-exports it). core.services.pacing writes it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PacingSlot(Model):
    """When the next send under one limit may start: a sending number, a Telegram bot,
    a Telegram chat.

    `free_at` is in seconds since the epoch on the database server's clock, so hosts
    whose clocks disagree still take turns on one time line. A row whose time has
    passed means the same as no row.
    """

    key = fields.CharField(max_length=128, primary_key=True)
    free_at = fields.FloatField()

    class Meta:
        table = "pacing_slots"
