"""The conversation engine: (channel, phone, text) in, reply text out.

Every channel (SMS, Telegram, the console) calls `handle_message`. It works out who is
talking (a provider by its account phone, else a customer; a phone that is both is read
by core.rules.commands.read_as), what they ask for, and
answers through the core services: no booking rule lives here.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from bot import customer, provider, replies
from bot.inbound import Inbound
from core.models import Channel
from core.rules.commands import Command, Role, parse, read_as
from core.rules.days import utcnow
from core.rules.phones import mask_phone
from core.services import contacts, conversations, sender

log = logging.getLogger(__name__)

# Longer texts are cut: no command needs more, and parsing stays cheap.
MAX_TEXT = 1000
# PostgreSQL refuses NUL in text; other control characters mean nothing to us either.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    # Lone surrogates cannot be stored as UTF-8.
    text = (text or "")[:MAX_TEXT].encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(" ", text)


async def handle_message(
    *,
    channel: Channel,
    phone: str,
    text: str,
    default_provider_phone: str | None = None,
    now: datetime | None = None,
    who: sender.Sender | None = None,
) -> str:
    """Reply to one inbound message. Never raises, never returns an empty reply.

    `phone` is the sender's normalised E.164 number; `default_provider_phone` is the
    provider a customer reached when the channel tells us (SMS to a provider's number).
    `who` is who is writing when the channel read it already, as of `now`, with
    standings if `wants_standings(text)`.
    """
    message = Inbound(
        channel=channel,
        phone=phone,
        text=_clean(text),
        default_provider_phone=default_provider_phone,
        now=now or utcnow(),
    )
    try:
        reply = await _respond(message, who)
    except Exception:
        log.exception("engine failed for %s via %s", mask_phone(phone), channel.value)
        return replies.sorry()
    return reply if reply.strip() else replies.sorry()


def wants_standings(text: str) -> bool:
    """Whether answering `text` from a customer reads their standings: a channel that
    reads who is writing itself asks for them then (see handle_message's `who`)."""
    return customer.needs_standings(parse(_clean(text), role=Role.CUSTOMER))


async def _respond(message: Inbound, who: sender.Sender | None) -> str:
    # Most senders are customers: parse as one, and read who is writing (with where they
    # stand, when the command needs it) in one query.
    parsed = parse(message.text, role=Role.CUSTOMER)
    with_standings = customer.needs_standings(parsed)
    if who is None or (with_standings and who.standings is None):
        who = await sender.identify(
            channel=message.channel,
            phone=message.phone,
            now=message.now,
            with_standings=with_standings,
        )
    if who.preferred_channel != message.channel.value:
        await contacts.record_channel(phone=message.phone, channel=message.channel, now=message.now)
    account = who.account
    role = Role.CUSTOMER
    if account is not None:
        role, parsed = read_as(
            message.text,
            provider=True,
            customer=who.registered,
            in_dialogue=who.dialogue is not None,
        )
    if parsed.command is Command.STOP:
        await contacts.set_opted_out(phone=message.phone, opted_out=True, now=message.now)
        await conversations.clear(channel=message.channel, phone=message.phone)
        return replies.stopped()
    if parsed.command is Command.START:
        await contacts.set_opted_out(phone=message.phone, opted_out=False, now=message.now)
        return replies.started()
    if account is not None and role is Role.PROVIDER:
        return await provider.respond(message, account, parsed)
    return await customer.respond(message, parsed, who)
