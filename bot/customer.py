"""What customers can text: JOIN, STATUS, LEAVE, HELP, and the dialogues they open."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import replies
from bot.inbound import Inbound
from core.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound, TooFarAhead
from core.models import ServiceAccount
from core.rules import day_words, time_words
from core.rules.commands import FILLERS, Command, Parsed, Role, choice_number, parse
from core.rules.days import today_in
from core.rules.names import clean_name
from core.services import (
    appointment_views,
    booking,
    conversations,
    lines,
    provider_lookup,
    sender,
    service_accounts,
    standings,
    status_changes,
    users,
)
from core.services.standings import Standing

ASK_NAME, ASK_PLACE, ASK_SPOT = "ask_name", "ask_place", "ask_spot"

# Words around a place's name that are not part of it: "join the LINE at spa".
_NOT_A_PLACE = frozenset({"queue", "line", "waitlist", "list", "spot", "place", "appointment"})


def needs_standings(parsed: Parsed) -> bool:
    """Whether answering `parsed` reads the customer's standings (the engine then reads
    them along with who is writing)."""
    return parsed.command in _READS_STANDINGS


_READS_STANDINGS = frozenset({Command.STATUS, Command.LEAVE})
_ANSWERED_WHILE_ASKING_NAME = frozenset(
    {Command.HELP, Command.STATUS, Command.LEAVE, Command.HOW_TO_STOP}
)


async def respond(message: Inbound, parsed: Parsed, who: sender.Sender | None = None) -> str:
    """Answer a customer; `who` is what the engine already read about the sender."""
    if who is not None:
        dialogue = who.dialogue
    else:
        dialogue = await conversations.load(
            channel=message.channel, phone=message.phone, now=message.now
        )
    if dialogue is not None:
        reply = await _resume(message, parsed, dialogue, who)
        if reply is not None:
            return reply
    return await _command(message, parsed, who)


async def _command(message: Inbound, parsed: Parsed, who: sender.Sender | None = None) -> str:
    if parsed.command is Command.JOIN:
        return await _join(message, parsed)
    if parsed.command is Command.STATUS:
        return await _status(message, who)
    if parsed.command is Command.LEAVE:
        return await _leave(message, parsed, who)
    if parsed.command is Command.HELP:
        return replies.help_customer(
            cancel_opts_out="CANCEL" in message.channel.carrier_opt_out_words
        )
    if parsed.command is Command.HOW_TO_STOP:
        return replies.how_to_stop()
    if not await _registered(message, who):
        # A newcomer's hello, or anything else unknown, starts with their name.
        return await _ask_name(message)
    if parsed.command is Command.GREET:
        return replies.greeting_customer()
    return replies.not_understood(parsed.hints)


async def _registered(message: Inbound, who: sender.Sender | None) -> bool:
    if who is not None and who.registered:
        return True
    return await users.find_user(phone=message.phone) is not None


async def _standings(message: Inbound, who: sender.Sender | None) -> list[Standing]:
    if who is not None and who.standings is not None:
        return who.standings
    return await standings.standings(user_phone=message.phone, now=message.now)


# Dialogues ------------------------------------------------------------------------


async def _save(message: Inbound, state: str, data: dict[str, Any]) -> None:
    await conversations.save(
        channel=message.channel, phone=message.phone, state=state, data=data, now=message.now
    )


async def _clear(message: Inbound) -> None:
    await conversations.clear(channel=message.channel, phone=message.phone)


async def _resume(
    message: Inbound,
    parsed: Parsed,
    dialogue: conversations.Dialogue,
    who: sender.Sender | None,
) -> str | None:
    """The reply when the text answers the open question; None to treat it afresh."""
    if dialogue.state == ASK_NAME:
        return await _answer_name(message, parsed, dialogue.data, who)
    number = choice_number(message.text)
    if number is None and parsed.command is not None:
        await _clear(message)
        return None
    if dialogue.state == ASK_PLACE:
        return await _answer_place(message, parsed, number, dialogue.data)
    if dialogue.state == ASK_SPOT:
        return await _answer_spot(message, number, dialogue.data, who)
    await _clear(message)
    return None


async def _ask_name(message: Inbound) -> str:
    await _save(
        message,
        ASK_NAME,
        {"text": message.text, "default_provider": message.default_provider_phone},
    )
    return replies.ask_name()


async def _answer_name(
    message: Inbound, parsed: Parsed, data: dict[str, Any], who: sender.Sender | None
) -> str | None:
    if parsed.exact and parsed.command is Command.JOIN:
        # Asked again before answering: keep the fuller request, ask for the name again.
        if parsed.args or parsed.phone:
            await _save(message, ASK_NAME, {**data, "text": message.text})
        return replies.ask_name_again()
    if parsed.exact and parsed.command in _ANSWERED_WHILE_ASKING_NAME:
        # Answered, and the question about the name stays open.
        return await _command(message, parsed, who)
    name = clean_name(message.text)
    if name is None:
        await _save(message, ASK_NAME, data)
        return replies.ask_name_again()
    # Registered meanwhile (another channel, the admin API): carry on with that record.
    with contextlib.suppress(AlreadyExists):
        await users.create_user(name=name, phone=message.phone)
    await _clear(message)
    original = str(data.get("text") or "")
    default = data.get("default_provider")
    first = parse(original, role=Role.CUSTOMER)
    if first.command in {None, Command.GREET}:
        return replies.welcome(name)
    if not isinstance(default, str):
        default = None
    return await _command(message.with_text(original, default_provider_phone=default), first)


async def _answer_place(
    message: Inbound, parsed: Parsed, number: int | None, data: dict[str, Any]
) -> str:
    day = _stored_day(data)
    if number is not None:
        options = [str(p) for p in data.get("options", [])]
        if not 1 <= number <= len(options):
            await _save(message, ASK_PLACE, data)
            return replies.bad_choice(len(options))
        chosen = await provider_lookup.by_phones(phones=[options[number - 1]])
        if not chosen:
            await _clear(message)
            return replies.place_not_found(options[number - 1])
        await _clear(message)
        return await _book(message, chosen[0], day, timed=bool(data.get("time")))
    words = _place_words(parsed.args)
    return await _pick_place(
        message, words, parsed.phone, day, default_first=False, timed=bool(data.get("time"))
    )


async def _answer_spot(
    message: Inbound, number: int | None, data: dict[str, Any], who: sender.Sender | None
) -> str:
    options = [int(i) for i in data.get("options", [])]
    if number is None or not 1 <= number <= len(options):
        await _save(message, ASK_SPOT, data)
        return replies.bad_choice(len(options))
    await _clear(message)
    mine = {s.appointment_id: s for s in await _standings(message, who)}
    chosen = mine.get(options[number - 1])
    if chosen is None:
        return replies.no_longer_active()
    return await _cancel(message, chosen)


def _stored_day(data: dict[str, Any]) -> day_words.DayWords | None:
    text = data.get("day")
    return day_words.DayWords(text) if isinstance(text, str) and text else None


def _place_words(args: Sequence[str]) -> list[str]:
    return [w for w in args if w.lower() not in _NOT_A_PLACE and w.lower() not in FILLERS]


# JOIN -------------------------------------------------------------------------------


async def _join(message: Inbound, parsed: Parsed) -> str:
    if await users.find_user(phone=message.phone) is None:
        return await _ask_name(message)
    # A time of day cannot be booked: it is taken out (so "3pm" is no place's name)
    # and the reply says the line has no set times.
    clock = time_words.take_time(message.text)
    if clock is not None:
        parsed = parse(clock.rest, role=Role.CUSTOMER)
    found = day_words.find_day(parsed.args)
    if found.day is not None and day_words.passed_everywhere(found.day, now=message.now):
        return replies.day_passed()
    words = _place_words(found.rest)
    return await _pick_place(
        message, words, parsed.phone, found.day, default_first=True, timed=clock is not None
    )


async def _pick_place(
    message: Inbound,
    words: Sequence[str],
    phone: str | None,
    day: day_words.DayWords | None,
    *,
    default_first: bool,
    timed: bool = False,
) -> str:
    """Book at the one place meant, or ask which; `default_first` lets the number the
    customer texted (SMS to a provider's own number) stand for the place."""
    named = bool(words) or phone is not None
    if named:
        candidates = await provider_lookup.find(words=words, phone=phone)
    elif default_first and message.default_provider_phone:
        candidates = await provider_lookup.by_phones(phones=[message.default_provider_phone])
    else:
        candidates = []
    if not named and not candidates:
        # With a single provider, it is the default; with several, a numbered choice.
        candidates = await provider_lookup.default_accounts()
    if len(candidates) == 1:
        await _clear(message)
        return await _book(message, candidates[0], day, timed=timed)
    unknown = None
    if not candidates:
        unknown = " ".join(words) or phone
        candidates = await provider_lookup.default_accounts()
        if not candidates:
            await _clear(message)
            return replies.no_places()
    await _save(
        message,
        ASK_PLACE,
        {
            "day": day.text if day else None,
            "options": [a.phone for a in candidates],
            "time": timed,
        },
    )
    return replies.choose_place(
        [replies.PlaceOption(a.name, a.code) for a in candidates], unknown=unknown
    )


async def _book(
    message: Inbound,
    account: ServiceAccount,
    words: day_words.DayWords | None,
    *,
    timed: bool = False,
) -> str:
    """Book the day `words` name at `account`; `timed`: the customer asked for a time."""
    today = today_in(account.timezone, now=message.now)
    try:
        day = day_words.day_or_today(
            words, today=today, order=day_words.date_order(service_accounts.region_of(account))
        )
    except day_words.BadDay:
        return replies.bad_day()
    if day < today:
        return replies.day_passed()
    try:
        spot = await booking.join_line(
            user_phone=message.phone, account=account, day=day, now=message.now
        )
    except AlreadyExists:
        return await _already(message, day)
    except TooFarAhead as exc:
        return replies.too_far_ahead(
            days=exc.horizon_days, last=replies.day_label(exc.last_day, today=today)
        )
    except InvalidInput:
        return replies.day_passed()
    except NotFound:
        return replies.no_places()
    return replies.joined(
        place_name=account.name,
        day=replies.day_label(day, today=today),
        spot=spot,
        no_set_times=timed,
    )


async def _already(message: Inbound, day: date) -> str:
    existing = await appointment_views.active_on_day(user_phone=message.phone, day=day)
    if existing is None:
        return replies.no_longer_active()
    account = existing.service_account
    spot = None
    if existing.called_at is None:
        spot = await lines.spot(appointment_id=existing.id)
    today = today_in(account.timezone, now=message.now)
    return replies.already_booked(
        place_name=account.name, day=replies.day_label(day, today=today), spot=spot
    )


# STATUS and LEAVE -------------------------------------------------------------------------


def _standing(s: Standing) -> replies.Standing:
    return replies.Standing(
        place_name=s.place_name, day=replies.day_label(s.day, today=s.today), spot=s.spot
    )


async def _status(message: Inbound, who: sender.Sender | None) -> str:
    mine = await _standings(message, who)
    if not mine:
        return replies.not_in_line()
    return replies.status([_standing(s) for s in mine])


def _narrow(mine: list[Standing], args: Sequence[str]) -> list[Standing]:
    """Keep the appointments that `LEAVE 2`, `LEAVE SPA` or `LEAVE FRI` points at."""
    words = [w for w in args if w.lower() not in FILLERS]
    if len(words) == 1 and words[0].isdecimal():
        n = int(words[0])
        return [mine[n - 1]] if 1 <= n <= len(mine) else mine
    found = day_words.find_day(words)
    kept = mine
    if found.day is not None:
        by_day = [s for s in kept if day_words.could_be(found.day, s.day, today=s.today)]
        kept = by_day or kept
    place = " ".join(_place_words(found.rest)).casefold()
    if place:
        by_place = [
            s for s in kept
            if (s.place_code or "").casefold() == place
            or s.place_name.casefold().startswith(place)
        ]
        kept = by_place or kept
    return kept


async def _leave(message: Inbound, parsed: Parsed, who: sender.Sender | None) -> str:
    mine = await _standings(message, who)
    if not mine:
        return replies.not_in_line()
    chosen = _narrow(mine, parsed.args)
    if len(chosen) == 1:
        return await _cancel(message, chosen[0])
    await _save(message, ASK_SPOT, {"options": [s.appointment_id for s in chosen]})
    return replies.choose_standing([_standing(s) for s in chosen])


async def _cancel(message: Inbound, standing: Standing) -> str:
    try:
        await status_changes.cancel(appointment_id=standing.appointment_id, now=message.now)
    except (InvalidTransition, NotFound):
        return replies.no_longer_active()
    return replies.left(
        place_name=standing.place_name,
        day=replies.day_label(standing.day, today=standing.today),
    )

