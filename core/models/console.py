"""The provider console's access: sign-in codes, sessions and staff phones (Tortoise
ORM; core.models re-exports them; core.services.console_access is their one user)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.models.line import ServiceAccount


class SignInCode(Model):
    """A 6-digit code sent to a phone to sign in to the console (only its hash is kept)."""

    id = fields.IntField(primary_key=True)
    # The phone it was sent to (canonical E.164); the hourly limit counts by it.
    phone = fields.CharField(max_length=20, db_index=True)
    code_hash = fields.CharField(max_length=128)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # Wrong codes tried against it: at core.rules.console_access.MAX_TRIES it is spent.
    tries = fields.IntField(default=0)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "console_codes"
        # Pruning finds the old codes.
        indexes = (("created_at",),)


class ConsoleSession(Model):
    """A signed-in console: the cookie holds the id, the table only its hash."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    service_account: fields.ForeignKeyRelation[ServiceAccount] = fields.ForeignKeyField(
        "models.ServiceAccount", related_name="console_sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # Set by "Sign out" (this one) or "Sign out everywhere" (all of the provider's).
    ended_at = fields.DatetimeField(null=True)

    service_account_id: int

    class Meta:
        table = "console_sessions"
        # Pruning finds the expired sessions.
        indexes = (("expires_at",),)


class StaffPhone(Model):
    """A phone other than the provider's own that may sign in to its console and send
    its text commands (a phone is staff of one provider at most)."""

    id = fields.IntField(primary_key=True)
    service_account: fields.ForeignKeyRelation[ServiceAccount] = fields.ForeignKeyField(
        "models.ServiceAccount", related_name="staff", on_delete=fields.CASCADE
    )
    phone = fields.CharField(max_length=20, unique=True)

    service_account_id: int

    class Meta:
        table = "staff_phones"
