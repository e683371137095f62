"""Messages and the channels they travel: contacts, conversations, the outbox, inbound
records and rates, Telegram links (Tortoise ORM; core.models re-exports them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.rules.optout import OPT_OUT_WORDS


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"

    @property
    def carrier_opt_out_words(self) -> frozenset[str]:
        """Words the channel's carrier acts on itself, opting the sender out (upper-case).

        Only SMS has them (Twilio's); elsewhere CANCEL, say, is just a word to us.
        """
        return OPT_OUT_WORDS if self is Channel.SMS else frozenset()


class Conversation(Model):
    """Where a multi-step dialogue stands, per channel and phone, so any process can resume it."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    phone = fields.CharField(max_length=20)
    state = fields.CharField(max_length=32)
    data: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    expires_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversations"
        unique_together = (("channel", "phone"),)


class Contact(Model):
    """What we know about reaching a phone: opt-out and the channel it last used."""

    id = fields.IntField(primary_key=True)
    phone = fields.CharField(max_length=20, unique=True)
    opted_out = fields.BooleanField(default=False)
    opted_out_at = fields.DatetimeField(null=True)
    preferred_channel = fields.CharField(max_length=16, null=True)
    # Twilio said the number cannot take an SMS at all (not a valid or mobile number,
    # an unknown destination): a failed notice elsewhere is not sent there by SMS.
    # Cleared when the phone writes to us by SMS again.
    sms_undeliverable = fields.BooleanField(default=False, db_default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contacts"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class OutboxMessage(Model):
    """A proactive message, written in the transaction of the change that caused it."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    recipient = fields.CharField(max_length=20)
    text = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    idempotency_key = fields.CharField(max_length=128, unique=True)
    external_id = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # Set when a dispatcher claims the message to send it, cleared once an outcome is
    # recorded. Still set when the message is claimed again: the earlier attempt's
    # outcome is unknown (the process died mid-send, the request timed out), so the
    # dispatcher asks the channel whether it went out (FindsSent.find_sent) first.
    sending_started_at = fields.DatetimeField(null=True)
    # What the channel last reported about delivery (Twilio: queued, sent, delivered,
    # undelivered, failed, read), from its status callback.
    delivery_status = fields.CharField(max_length=16, null=True)
    delivered_at = fields.DatetimeField(null=True)
    # The channel the message first went to, when it failed there for good (a blocked
    # Telegram bot, WhatsApp outside its window) and was moved to `channel` (SMS):
    # a message moves once (core.services.outbox.failover).
    failed_over_from = fields.CharField(max_length=16, null=True)
    # The provider whose line the message is about (None: a reply, a sign-in code): a
    # plain id, not a foreign key, so the outbox never waits on the provider's row.
    service_account_id = fields.IntField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"), ("service_account_id", "sent_at"))


class InboundMessage(Model):
    """Inbound deliveries seen, recorded before any side effect so redeliveries change nothing."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    external_id = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=20, null=True)
    reply = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbound_messages"
        unique_together = (("channel", "external_id"),)


class InboundRate(Model):
    """A phone's inbound message count in its current one-minute window, per channel.

    One row per phone, bumped in the statement that records a delivery: the flood
    limit costs one row whatever the phone sent before, and concurrent messages from
    one phone are counted in turn on the row's lock, so none is missed.
    """

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    phone = fields.CharField(max_length=20)
    window_start = fields.DatetimeField()
    seen = fields.IntField()

    class Meta:
        table = "inbound_rates"
        unique_together = (("channel", "phone"),)


class TelegramLink(Model):
    """A Telegram chat verified to belong to a phone (shared contact of the sender)."""

    id = fields.IntField(primary_key=True)
    chat_id = fields.BigIntField(unique=True)
    telegram_user_id = fields.BigIntField()
    phone = fields.CharField(max_length=20, db_index=True)
    reachable = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "telegram_links"
