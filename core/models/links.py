"""Status links: a customer's link to the live page of one visit (/s/<token>)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.models.line import Appointment


class StatusLink(Model):
    """One link to one appointment's status page (core.services.status_links).

    Only the SHA-256 of the token is stored: whoever reads the table cannot open a
    customer's page. `day` is the appointment's day, kept here so a link's expiry (the
    end of that day where the provider is) is read with the link itself.
    """

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    appointment: fields.ForeignKeyRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="status_links", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "status_links"
        # Pruning drops the links of days that ended.
        indexes = (("day",),)
        table_description = "A customer's link to one visit's status page (token stored hashed)"
