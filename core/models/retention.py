"""What pruning keeps of what it deletes, and its own runs (Tortoise ORM; core.models
re-exports them; core.services.pruning writes them)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

# `MessageCount.service_account_id` of messages no provider is known for (a stranger,
# a customer without a visit that day).
NO_PROVIDER = 0


class MessageCount(Model):
    """Messages of one day, per provider, channel and direction ("in", "sent", "unsent"),
    with the SMS segments of those sent (core.services.message_counts says which day).

    Added to as pruning deletes the messages, in the same transaction, so a count never
    misses rows nor counts one twice. It holds no phone: erasing a person leaves it.
    No foreign key, as for line versions: nothing here may stop a provider's deletion,
    and its counts, which name no one, may stay.
    """

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    service_account_id = fields.IntField()
    channel = fields.CharField(max_length=16)
    direction = fields.CharField(max_length=8)
    messages = fields.BigIntField()
    segments = fields.BigIntField(default=0)

    class Meta:
        table = "message_counts"
        # In this order for STATS, which read one provider's sent counts over a range of days.
        unique_together = (("service_account_id", "direction", "day", "channel"),)


class PruneRun(Model):
    """One prune: when it ran and how many rows of each table went (`deleted`).

    The prune worker reads the latest to space the runs across every process."""

    id = fields.IntField(primary_key=True)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    deleted: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "prune_runs"
