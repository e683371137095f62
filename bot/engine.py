"""The conversation engine: (channel, phone, text) in, a Reply out.

Every channel (SMS, Telegram, the console) calls `handle_message`, which reads the
text once (`read`) and answers it. The engine works out who is writing (a provider by
its account phone, else a customer; a phone that is both is read by
core.rules.commands.read_as), what they ask for, and answers through the core
services: no booking rule lives here. It alone saves or clears a customer's dialogue,
from what the handler's answer says (bot.dialogue, bot.customer.DIALOGUE).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot import customer, provider, replies
from bot.dialogue import CLOSE, Answer, Ask, State, Stay, Then, Turn
from bot.inbound import Inbound
from bot.reply import Choice, Menu, Reply
from core.models import Channel
from core.rules.commands import Parsed, parse, read_as
from core.rules.days import utcnow
from core.rules.phones import mask_phone
from core.rules.vocabulary import Command, Role
from core.services import contacts, conversations, correspondents, standings
from core.services.correspondents import Correspondent
from core.services.line_ranks import RankCache

log = logging.getLogger(__name__)

# Longer texts are cut: no command needs more, and parsing stays cheap.
MAX_TEXT = 1000
# PostgreSQL refuses NUL in text; other control characters mean nothing to us either.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Reading:
    """A text as the engine reads it, once per message."""

    # The text cleaned: cut to MAX_TEXT, without control characters or lone surrogates.
    text: str
    # What it asks when a customer sent it; a provider's phone has it read again as the
    # provider's (by the engine, only for such a phone).
    as_customer: Parsed

    @property
    def needs_standings(self) -> bool:
        """Whether answering it reads the customer's standings: a channel that reads who
        is writing itself reads them along (see handle_message's `who`)."""
        return customer.reads_standings(self.as_customer)


def read(text: str) -> Reading:
    # Lone surrogates cannot be stored as UTF-8.
    cleaned = (text or "")[:MAX_TEXT].encode("utf-8", "replace").decode("utf-8")
    cleaned = _CONTROL.sub(" ", cleaned)
    return Reading(cleaned, parse(cleaned, role=Role.CUSTOMER))


async def handle_message(
    *,
    channel: Channel,
    phone: str,
    text: str,
    default_provider_phone: str | None = None,
    now: datetime | None = None,
    reading: Reading | None = None,
    who: Correspondent | None = None,
    menus: bool = False,
    ranks: RankCache | None = None,
    link_base: str | None = None,
    sms_price: Decimal | None = None,
) -> Reply:
    """Reply to one inbound message. Never raises, never returns an empty reply text.

    `phone` is the sender's normalised E.164 number; `default_provider_phone` is the
    provider a customer reached when the channel tells us (SMS to a provider's number).
    `reading` is `read(text)` when the channel read the text already; `who` is who is
    writing when the channel read it already, as of `now`, with standings if the
    reading `needs_standings`. `menus`: the channel draws the reply's menu, so the
    engine learns whether the customer is in a line where nothing else tells it; a
    channel without menus pays nothing for them (the menu is then NONE where unknown).
    `ranks` is the process's rank cache, for the spots the engine reads itself.
    `link_base` is PUBLIC_BASE_URL: join and STATUS replies then carry a status link.
    `sms_price` is SMS_PRICE_PER_SEGMENT: STATS then estimates what the SMS cost.
    """
    reading = reading or read(text)
    message = Inbound(
        channel=channel,
        phone=phone,
        text=reading.text,
        default_provider_phone=default_provider_phone,
        now=now or utcnow(),
        link_base=link_base,
        sms_price=sms_price,
    )
    try:
        reply = await _respond(message, reading, who, menus=menus, ranks=ranks)
    except Exception:
        log.exception("engine failed for %s via %s", mask_phone(phone), channel.value)
        return Reply(replies.sorry())
    return reply if reply.text.strip() else Reply(replies.sorry(), reply.menu, reply.choices)


async def _respond(
    message: Inbound,
    reading: Reading,
    who: Correspondent | None,
    *,
    menus: bool,
    ranks: RankCache | None,
) -> Reply:
    # Most senders are customers: the text was read as one, and who is writing is read
    # (with where they stand, when the command needs it) in one query.
    if who is None:
        who = await correspondents.identify(
            channel=message.channel,
            phone=message.phone,
            now=message.now,
            with_standings=reading.needs_standings,
            with_in_line=menus,
            ranks=ranks,
        )
    if who.preferred_channel != message.channel.value:
        await contacts.record_channel(phone=message.phone, channel=message.channel, now=message.now)
    role, parsed = Role.CUSTOMER, reading.as_customer
    if who.account is not None:
        role, parsed = read_as(
            reading.as_customer,
            parse(reading.text, role=Role.PROVIDER),
            customer=who.registered,
            in_dialogue=who.dialogue is not None,
        )
    if parsed.command is Command.STOP:
        await contacts.set_opted_out(phone=message.phone, opted_out=True, now=message.now)
        answer = Answer(replies.stopped(), CLOSE)
    elif parsed.command is Command.START:
        await contacts.set_opted_out(phone=message.phone, opted_out=False, now=message.now)
        answer = Answer(replies.started())
    elif who.account is not None and role is Role.PROVIDER:
        answer = Answer(await provider.respond(message, who.account, parsed))
    else:
        found = customer.step(who.dialogue, parsed, message.text)
        if who.standings is None and (found.reads_standings or customer.reads_standings(parsed)):
            # The open question needs them and they were not read with who is writing.
            mine = await standings.standings(
                user_phone=message.phone, now=message.now, ranks=ranks
            )
            who = who.with_standings(mine)
        answer = await customer.respond(Turn(message, parsed, who, found.number), found)
    after = await _keep(message, who.dialogue, answer.then)
    return Reply(answer.text, _menu(who, answer, after), _choices(after), answer.follow_up)


async def _keep(
    message: Inbound, dialogue: conversations.Dialogue | None, then: Then
) -> conversations.Dialogue | None:
    """Save or clear the dialogue as `then` says; the dialogue open afterwards."""
    if isinstance(then, Stay):
        return dialogue
    if isinstance(then, Ask):
        await conversations.save(
            channel=message.channel,
            phone=message.phone,
            state=then.state.value,
            data=then.data,
            now=message.now,
        )
        return conversations.Dialogue(then.state.value, then.data)
    # Nothing to clear when no question was open as the message came in.
    if dialogue is not None:
        await conversations.clear(channel=message.channel, phone=message.phone)
    return None


async def menu_for(*, channel: Channel, phone: str, now: datetime | None = None) -> Menu:
    """The menu under a message to `phone` that answers nothing (a proactive notice):
    one read of who the phone is and whether it is in a line."""
    who = await correspondents.identify(
        channel=channel, phone=phone, now=now or utcnow(), with_standings=False, with_in_line=True
    )
    return _standing_menu(who, in_line=who.in_line, awaited=who.awaited)


def _menu(who: Correspondent, answer: Answer, after: conversations.Dialogue | None) -> Menu:
    if who.account is None and after is not None and after.state == State.ASK_NAME:
        return Menu.NONE
    if answer.in_line is None and answer.awaited is None:
        return _standing_menu(who, in_line=who.in_line, awaited=who.awaited)
    # The answer changed the customer's lines: what was read before it is stale.
    in_line = who.in_line if answer.in_line is None else answer.in_line
    return _standing_menu(who, in_line=in_line, awaited=bool(answer.awaited))


def _standing_menu(who: Correspondent, *, in_line: bool | None, awaited: bool) -> Menu:
    if who.account is not None:
        return Menu.PROVIDER_CONSOLE
    if in_line is None:
        return Menu.NONE
    if in_line and awaited:
        return Menu.CUSTOMER_CALLED
    return Menu.CUSTOMER_IN_LINE if in_line else Menu.CUSTOMER_IDLE


def _choices(after: conversations.Dialogue | None) -> tuple[Choice, ...]:
    """The numbered options of the question left open, when their labels are known."""
    if after is None:
        return ()
    options = list(after.data.get("options") or [])
    labels = [str(label) for label in after.data.get("labels") or []]
    if not options or len(labels) != len(options):
        return ()
    return tuple(Choice(label, str(n)) for n, label in enumerate(labels, start=1))
