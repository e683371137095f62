"""The one inbound path: every channel hands the messages the engine answers to `Inbox`.

A channel's adapter verifies and reads its own delivery (a signed Twilio form, a
Telegram update), makes a `Message` of it, calls `Inbox.receive` and turns the
`Outcome` into its own answer (TwiML, a Bot API call). In between, the same for every
channel:

1. the delivery is recorded under its id before any side effect, with its phone's
   count in the flood limit's window and who is writing (one statement on PostgreSQL,
   core.services.deliveries); a redelivery comes back `Duplicate`;
2. the channel's `FirstStep`, if it passed one, runs (SMS: the carrier's opt-out words;
   Telegram: linking a chat to the phone it shared);
3. the flood limit (core.rules.ratelimit) answers `SlowedDown` once, then `Silent`;
4. the engine answers, within the channel's time budget;
5. the reply is stored, in batches after the answer (deliveries.PendingReplies).

What differs per channel comes in as its `ChannelPolicy` and its first step; nothing
here asks which channel a message came by.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Protocol

from bot.engine import Reading, handle_message, read
from bot.reply import Reply
from core import locales, metrics
from core.locales import say
from core.models import Channel
from core.rules import languages
from core.rules.days import utcnow
from core.rules.phones import mask_phone
from core.rules.ratelimit import Verdict, inbound_verdict
from core.services import deliveries, pending_links, service_accounts, sql
from core.services.correspondents import Correspondent
from core.services.line_ranks import RankCache
from core.services.outbox.enqueue import enqueue
from core.services.outbox.wakeup import Wakeup

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """One inbound message, as its channel's adapter read it."""

    channel: Channel
    # The sender's normalised E.164 phone: the engine and the flood limit know people by it.
    phone: str
    text: str
    # The channel's own id for this delivery (Twilio's MessageSid, "<bot id>:<update_id>").
    delivery_id: str
    now: datetime
    # The number the message was sent to, when it may be a provider's own: a customer who
    # texts a provider's number has that provider as the default. None when the channel
    # has no such number, or it is one of ours.
    reached: str | None = None
    # Written under the engine's answer (SMS: only the first 1600 characters were read).
    postscript: str | None = None
    # The language the channel says the sender uses (Telegram's language_code), if any.
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """What the inbound path does differently per channel."""

    # The catalog key (core/locales) of the one reply to a phone that goes over the flood
    # limit in a window, written in the sender's language as far as it is known.
    slow_down: str
    # The catalog key of the reply when the engine fails, runs out of time or says nothing.
    sorry: str
    # Seconds the engine may take, when someone waits for the answer (Twilio waits 15 s
    # for the webhook's); None for no limit.
    engine_budget: float | None = None
    # How long a redelivery waits for the first delivery's reply, to give it again
    # (SMS: the reply is the webhook's answer); None: a redelivery gets no reply
    # (Telegram: the reply went out once, as a message of its own).
    repeat_wait: float | None = None
    # Whether the channel draws the reply's menu (Telegram's buttons): the engine then
    # learns whether the customer is in a line where nothing else tells it.
    menus: bool = False


@dataclass(frozen=True, slots=True)
class Answered:
    """The engine's answer (its text and what a channel may draw as buttons), or the
    channel's own from its first step (an empty text says nothing)."""

    answer: Reply

    @classmethod
    def saying(cls, text: str) -> Answered:
        return cls(Reply(text))

    @property
    def reply(self) -> str:
        return self.answer.text


@dataclass(frozen=True, slots=True)
class SlowedDown:
    """The first message over the flood limit in its window: the policy's `slow_down`."""

    reply: str


@dataclass(frozen=True, slots=True)
class Silent:
    """Over the flood limit and told already: no answer until the window passes."""

    reply: str = ""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A redelivery: nothing happened again. `reply` is the first delivery's, when the
    policy repeats it and it was given."""

    reply: str | None = None


Outcome = Answered | SlowedDown | Silent | Duplicate


class GoOn(Enum):
    """A first step that leaves the message to the flood limit and the engine."""

    # Who is writing stands as read with the delivery.
    SAME_SENDER = "same_sender"
    # The step changed who is writing (it registered a customer): the engine reads it again.
    SENDER_CHANGED = "sender_changed"


# What a channel does once a delivery is known to be new, before the flood limit: it
# answers in the engine's place (`Answered`) or lets the message go on (`GoOn`).
FirstStep = Callable[[], Awaitable[Answered | GoOn]]


class Engine(Protocol):
    def __call__(
        self,
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
        language_hint: str | None = None,
        sms_price: Decimal | None = None,
    ) -> Awaitable[Reply]: ...


@dataclass
class Inbox:
    """The inbound path of one app, with the resources it owns (created at start-up)."""

    replies: deliveries.PendingReplies
    # Messages a phone may send per channel in a minute (INBOUND_PER_MINUTE).
    per_minute: int
    # The app's rankings of its lines, for the spots a STATUS tells.
    ranks: RankCache
    # The app's outbox dispatcher, woken once what a message caused has committed.
    wakeup: Wakeup
    engine: Engine = handle_message
    # PUBLIC_BASE_URL: join and STATUS replies carry a status link (None: no links).
    link_base: str | None = None
    # SMS_PRICE_PER_SEGMENT: STATS estimate what the SMS cost (None: no estimate).
    sms_price: Decimal | None = None

    async def receive(
        self, message: Message, *, policy: ChannelPolicy, first: FirstStep | None = None
    ) -> Outcome:
        """Record `message`, apply the flood limit, answer it and store the answer."""
        reading = read(message.text)
        recorded = await deliveries.record_and_identify(
            channel=message.channel,
            external_id=message.delivery_id,
            phone=message.phone,
            now=message.now,
            with_standings=reading.needs_standings,
            with_in_line=policy.menus,
            ranks=self.ranks,
        )
        if recorded is None:
            metrics.inbound_by[message.channel.value, metrics.DUPLICATE].inc()
            return Duplicate(await self._earlier_reply(message, policy))
        delivery, who = recorded
        # What the answer wrote to the outbox (the engine's notices, a carrier CANCEL's)
        # has committed when the block ends: the dispatcher is woken for it then.
        with self.wakeup.after_writes():
            outcome = await self._answer(
                message,
                reading,
                policy=policy,
                first=first,
                who=who,
                seen=delivery.seen_in_window,
            )
        self.replies.add(delivery.id, outcome.reply)
        outcome_name = metrics.ANSWERED if isinstance(outcome, Answered) else metrics.FLOODED
        metrics.inbound_by[message.channel.value, outcome_name].inc()
        return outcome

    async def queue_reply(self, message: Message, reply: str) -> None:
        """Hand `reply` to the outbox when the channel could not send it now (Telegram's
        flood control): the engine has acted, so its answer must not be lost."""
        with self.wakeup.after_writes():
            await enqueue(
                conn=sql.connection(),
                recipient=message.phone,
                text=reply,
                idempotency_key=f"{message.channel.value}-reply:{message.delivery_id}",
                now=utcnow(),
            )

    async def _answer(
        self,
        message: Message,
        reading: Reading,
        *,
        policy: ChannelPolicy,
        first: FirstStep | None,
        who: Correspondent | None,
        seen: int,
    ) -> Answered | SlowedDown | Silent:
        # The first step runs whatever the flood limit says: an opt-out is honoured.
        if first is not None:
            step = await first()
            if isinstance(step, Answered):
                return step
            if step is GoOn.SENDER_CHANGED:
                who = None
        verdict = inbound_verdict(seen_in_window=seen, limit=self.per_minute)
        if verdict is Verdict.SLOW_DOWN:
            log.info(
                "%s from %s: over %d a minute",
                message.channel.value,
                mask_phone(message.phone),
                self.per_minute,
            )
            return SlowedDown(say(policy.slow_down, language=_language(message, who)))
        if verdict is Verdict.SILENT:
            return Silent()
        answer = await self._engine_reply(message, reading, policy=policy, who=who)
        if answer.follow_up:
            # Through the outbox, so every channel sends it as its own message, once
            # (a redelivery finds the key taken).
            await enqueue(
                conn=sql.connection(),
                recipient=message.phone,
                text=answer.follow_up,
                idempotency_key=f"{message.channel.value}-link:{message.delivery_id}",
                now=message.now,
            )
        if message.postscript:
            answer = replace(answer, text=f"{answer.text}\n{message.postscript}")
        return Answered(answer)

    async def _engine_reply(
        self,
        message: Message,
        reading: Reading,
        *,
        policy: ChannelPolicy,
        who: Correspondent | None,
    ) -> Reply:
        reached = message.reached
        default_provider = (
            reached
            if reached is not None and await service_accounts.is_provider_phone(phone=reached)
            else None
        )
        try:
            # The status links the answer gives are written with its stored reply.
            with pending_links.deferred(self.replies.links):
                async with asyncio.timeout(policy.engine_budget):
                    answer = await self.engine(
                        channel=message.channel,
                        phone=message.phone,
                        text=message.text,
                        default_provider_phone=default_provider,
                        now=message.now,
                        reading=reading,
                        who=who,
                        menus=policy.menus,
                        ranks=self.ranks,
                        link_base=self.link_base,
                        sms_price=self.sms_price,
                        language_hint=message.language_hint,
                    )
        except Exception as exc:
            # The engine promises never to raise; if it does anyway, the customer still
            # gets an answer, and it is stored so a redelivery does not run it again.
            log.exception(
                "%s from %s: engine failed: %s",
                message.channel.value,
                mask_phone(message.phone),
                type(exc).__name__,
            )
            return Reply(say(policy.sorry, language=_language(message, who)))
        return answer if answer.text else Reply(say(policy.sorry, language=answer.language))

    async def _earlier_reply(self, message: Message, policy: ChannelPolicy) -> str | None:
        log.info("%s delivery %s seen before", message.channel.value, message.delivery_id)
        if policy.repeat_wait is None:
            return None
        return await deliveries.earlier_reply(
            channel=message.channel,
            external_id=message.delivery_id,
            wait_seconds=policy.repeat_wait,
            pending=self.replies,
            now=message.now,
        )


def _language(message: Message, who: Correspondent | None) -> str | None:
    """The language to say the channel's own words in before (or without) the engine:
    the sender's recorded one, else the channel's hint (None: English)."""
    if who is not None and who.language is not None:
        return who.language
    return languages.from_tag(message.language_hint, known=locales.languages())
