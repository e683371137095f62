"""What the admin API remembers of a request: idempotency records (Tortoise ORM;
core.models re-exports them)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class IdempotencyRecord(Model):
    """The first answer to a create sent with an `Idempotency-Key`, for its retries.

    Written in the transaction of the create itself, so a commit whose answer was lost
    is found by the retry; kept in the database so every process and host sees it.
    `status` is null while the first request is still running.
    """

    id = fields.BigIntField(primary_key=True)
    # The route the key was used on ("POST /appointments"): one key, one endpoint.
    scope = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    # SHA-256 of the request body as canonical JSON.
    request_hash = fields.CharField(max_length=64)
    status = fields.SmallIntField(null=True)
    body = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_records"
        unique_together = (("scope", "key"),)
        indexes = (("created_at",),)
