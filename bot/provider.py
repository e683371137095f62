"""What a provider can text from its account's phone: QUEUE, NEXT, DONE, NOSHOW, UNDO, ADD,
STATS, CLOSE, OPEN."""

from __future__ import annotations

from bot import provider_replies, replies
from bot.inbound import Inbound
from core.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    NotFound,
    TooEarly,
    TooFarAhead,
)
from core.models import Channel, ServiceAccount
from core.rules import day_words
from core.rules import delay as delay_rules
from core.rules.commands import Parsed, target
from core.rules.days import today_in
from core.rules.gsm import SINGLE_GSM
from core.rules.names import clean_name
from core.rules.typed_phones import NotAValidNumber, take_typed_number, typed_phone
from core.rules.undo import Action
from core.rules.vocabulary import HELP_MORE_WORDS, Command
from core.services import (
    booking,
    calling,
    closing,
    delays,
    lines,
    service_accounts,
    stats,
    status_changes,
    undo,
    users,
    waits,
)

# A queue on SMS is summarised into one segment; other channels have room for more.
QUEUE_BUDGET = {Channel.SMS: SINGLE_GSM}
WIDE_QUEUE_BUDGET = 1500
# Even the wide budget fits fewer entries than this (each takes 15+ characters).
QUEUE_SHOWN = 100
WALK_IN_NAME = "Walk-in"


async def respond(message: Inbound, account: ServiceAccount, parsed: Parsed) -> str:
    if parsed.command is Command.QUEUE:
        return await _queue(message, account, parsed)
    if parsed.command is Command.NEXT:
        return await _next(message, account)
    if parsed.command in {Command.DONE, Command.NOSHOW}:
        return await _close(message, account, parsed)
    if parsed.command is Command.UNDO:
        return await _undo(message, account)
    if parsed.command is Command.ADD:
        return await _add(message, account, parsed)
    if parsed.command is Command.STATS:
        return await _stats(message, account, parsed)
    if parsed.command is Command.CLOSE:
        await closing.close_today(account=account, now=message.now)
        return provider_replies.closed_for_today(waiting=await _waiting_today(message, account))
    if parsed.command is Command.OPEN:
        was_closed = await closing.open_today(account=account, now=message.now)
        return provider_replies.opened_for_today(was_closed=was_closed)
    if parsed.command is Command.DELAY:
        return await _delay(message, account)
    if parsed.command is Command.HELP:
        more = any(word.lower() in HELP_MORE_WORDS for word in parsed.args)
        return provider_replies.help_provider_more() if more else provider_replies.help_provider()
    if parsed.command is Command.GREET:
        return provider_replies.greeting_provider()
    if parsed.command is Command.HOW_TO_STOP:
        return replies.how_to_stop()
    return replies.not_understood(parsed.hints)


async def _queue(message: Inbound, account: ServiceAccount, parsed: Parsed) -> str:
    today = today_in(account.timezone, now=message.now)
    found = day_words.find_day(parsed.args)
    try:
        day = day_words.day_or_today(
            found.day, today=today, order=day_words.date_order(service_accounts.region_of(account))
        )
    except day_words.BadDay:
        return replies.bad_day()
    serving = await lines.serving(service_account_id=account.id, day=day)
    # No reply shows more than this many; the rest is counted, not loaded.
    waiting = await lines.waiting(service_account_id=account.id, day=day, limit=QUEUE_SHOWN)
    total = await lines.count_waiting(service_account_id=account.id, day=day)
    # The waits the customers themselves are quoted, DELAY included.
    basis = waits.account_basis(account, day=day, now=message.now)
    entries, booked = [], 0
    for ahead, appointment in enumerate(waiting):
        user = appointment.user
        wait = basis.wait(ahead=ahead, booked_minutes=booked).minutes
        entries.append(provider_replies.QueueEntry(user.name, user.phone, wait))
        booked += appointment.duration_minutes
    return provider_replies.queue(
        place_name=account.name,
        day=replies.day_label(day, today=today),
        serving=[
            provider_replies.QueueEntry(
                a.user.name, a.user.phone, 0, confirmed=a.confirmed_at is not None
            )
            for a in serving
        ],
        waiting=entries,
        waiting_total=total,
        budget=QUEUE_BUDGET.get(message.channel, WIDE_QUEUE_BUDGET),
    )


# STATS [day|week]: the words for each period (none means today), and words that may
# come with them ("stats this week").
_STATS_PERIODS = {"day": "day", "today": "day", "week": "week", "7days": "week"}
_STATS_ASIDES = frozenset({"this", "last", "past"})


async def _stats(message: Inbound, account: ServiceAccount, parsed: Parsed) -> str:
    words = [
        _STATS_PERIODS.get(arg.lower()) for arg in parsed.args if arg.lower() not in _STATS_ASIDES
    ]
    if None in words or len(words) > 1:
        return provider_replies.stats_usage()
    word = words[0] if words else "day"
    found = await stats.period_stats(
        account=account, word=word, now=message.now, sms_price_per_segment=message.sms_price
    )
    return provider_replies.stats(
        week=word == "week", figures=found.total, messages=found.messages
    )


async def _delay(message: Inbound, account: ServiceAccount) -> str:
    # The note is the provider's own words: read from the text as sent, fillers kept.
    try:
        delay = delay_rules.read_delay(message.text.split())
    except delay_rules.BadDelay:
        return provider_replies.delay_usage()
    told = await delays.set_delay(
        account=account, minutes=delay.minutes, note=delay.note, now=message.now
    )
    return provider_replies.delay_set(minutes=delay.minutes, told=told)


async def _waiting_today(message: Inbound, account: ServiceAccount) -> int:
    today = today_in(account.timezone, now=message.now)
    return await lines.count_waiting(service_account_id=account.id, day=today)


async def _next(message: Inbound, account: ServiceAccount) -> str:
    called = await calling.call_next(service_account_phone=account.phone, now=message.now)
    if called is None:
        return provider_replies.nobody_waiting()
    return provider_replies.called(
        name=called.user.name, phone=called.user.phone, waiting=called.still_waiting
    )


async def _close(message: Inbound, account: ServiceAccount, parsed: Parsed) -> str:
    assert parsed.command is not None
    which = target(parsed.args)
    appointment = await calling.closable(
        service_account_phone=account.phone,
        position=which.position if which else None,
        appointment_id=which.appointment_id if which else None,
        now=message.now,
    )
    if appointment is None:
        if which is not None and which.position is not None:
            return provider_replies.no_such_position(which.position)
        if which is not None and which.appointment_id is not None:
            return provider_replies.no_such_appointment(which.appointment_id)
        return provider_replies.nobody_called()
    done = parsed.command is Command.DONE
    change = status_changes.complete if done else status_changes.mark_no_show
    try:
        await change(
            appointment_id=appointment.id,
            now=message.now,
            undo_as=Action.DONE if done else Action.NOSHOW,
        )
    except TooEarly as exc:
        today = today_in(account.timezone, now=message.now)
        return provider_replies.too_early_to_close(
            appointment_id=appointment.id, day=replies.day_label(exc.day, today=today)
        )
    except (InvalidTransition, NotFound):
        return provider_replies.no_such_appointment(appointment.id)
    return provider_replies.closed(
        command=parsed.command,
        name=appointment.user.name,
        phone=appointment.user.phone,
        waiting=await _waiting_today(message, account),
    )


async def _undo(message: Inbound, account: ServiceAccount) -> str:
    undone = await undo.undo_last(service_account_phone=account.phone, now=message.now)
    who = undone.appointment.user if undone.appointment else None
    return provider_replies.undo(
        outcome=undone.outcome,
        action=undone.action,
        name=who.name if who else None,
        phone=who.phone if who else None,
        position=undone.position,
    )


async def _add(message: Inbound, account: ServiceAccount, parsed: Parsed) -> str:
    found = day_words.find_day(parsed.args)
    # A number typed by hand: checked against the numbering plans, and a national one
    # (415-555-0151) read in the provider's region.
    typed, rest = (parsed.phone, found.rest) if parsed.phone else take_typed_number(found.rest)
    if typed is None:
        return provider_replies.add_usage()
    try:
        phone = typed_phone(typed, region=service_accounts.region_of(account))
    except NotAValidNumber:
        return provider_replies.add_invalid_number(typed)
    today = today_in(account.timezone, now=message.now)
    try:
        day = day_words.day_or_today(
            found.day, today=today, order=day_words.date_order(service_accounts.region_of(account))
        )
    except day_words.BadDay:
        return replies.bad_day()
    label = replies.day_label(day, today=today)
    user = await users.register(phone=phone, name=clean_name(" ".join(rest)) or WALK_IN_NAME)
    try:
        spot, past_limits = await booking.add_to_line(
            user_phone=user.phone, account=account, day=day, now=message.now, past_limits=True
        )
    except AlreadyExists:
        return provider_replies.add_already(name=user.name, phone=user.phone, day=label)
    except TooFarAhead as exc:
        return replies.too_far_ahead(
            days=exc.horizon_days, last=replies.day_label(exc.last_day, today=today)
        )
    except InvalidInput:
        return replies.day_passed()
    if past_limits:
        return provider_replies.added_past_limits(
            name=user.name, phone=user.phone, day=label, spot=spot
        )
    return provider_replies.added(name=user.name, phone=user.phone, day=label, spot=spot)
