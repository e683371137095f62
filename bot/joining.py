"""JOIN: which place and day a customer means, and the booking (or the question that
narrows it down: which place?)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from bot import link_replies, replies
from bot.dialogue import CLOSE, STAY, Answer, Ask, State, Turn, closing
from core.errors import (
    AfterClosing,
    AlreadyExists,
    ClosedDay,
    InvalidInput,
    NoRoom,
    NotFound,
    TooFarAhead,
)
from core.models import ServiceAccount
from core.rules import day_words, status_tokens, time_words
from core.rules.commands import parse
from core.rules.days import today_in
from core.rules.vocabulary import FILLERS, Role
from core.services import (
    appointment_views,
    booking,
    lines,
    provider_lookup,
    service_accounts,
    status_links,
)

# Words around a place's name that are not part of it: "join the LINE at spa".
_NOT_A_PLACE = frozenset({"queue", "line", "waitlist", "list", "spot", "place", "appointment"})


def place_words(args: Sequence[str]) -> list[str]:
    return [w for w in args if w.lower() not in _NOT_A_PLACE and w.lower() not in FILLERS]


def ask_name(turn: Turn) -> Answer:
    """A newcomer is asked their name first; what they sent waits in the dialogue."""
    data = {"text": turn.message.text, "default_provider": turn.message.default_provider_phone}
    return Answer(replies.ask_name(), Ask(State.ASK_NAME, data))


async def join(turn: Turn) -> Answer:
    if not turn.who.registered:
        return ask_name(turn)
    parsed = turn.parsed
    # A time of day cannot be booked: it is taken out (so "3pm" is no place's name)
    # and the reply says the line has no set times.
    clock = time_words.take_time(turn.message.text)
    if clock is not None:
        parsed = parse(clock.rest, role=Role.CUSTOMER)
    found = day_words.find_day(parsed.args)
    if found.day is not None and day_words.passed_everywhere(found.day, now=turn.message.now):
        return Answer(replies.day_passed())
    return await pick_place(
        turn,
        place_words(found.rest),
        parsed.phone,
        found.day,
        default_first=True,
        timed=clock is not None,
    )


async def pick_place(
    turn: Turn,
    words: Sequence[str],
    phone: str | None,
    day: day_words.DayWords | None,
    *,
    default_first: bool,
    timed: bool = False,
) -> Answer:
    """Book at the one place meant, or ask which; `default_first` lets the number the
    customer texted (SMS to a provider's own number) stand for the place."""
    message = turn.message
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
        return closing(await book(turn, candidates[0], day, timed=timed))
    unknown = None
    if not candidates:
        unknown = " ".join(words) or phone
        candidates = await provider_lookup.default_accounts()
        if not candidates:
            return Answer(replies.no_places(), CLOSE)
    data = {
        "day": day.text if day else None,
        "options": [a.phone for a in candidates],
        "labels": [replies.place(a.name) for a in candidates],
        "time": timed,
    }
    text = replies.choose_place(
        [replies.PlaceOption(a.name, a.code) for a in candidates], unknown=unknown
    )
    return Answer(text, Ask(State.ASK_PLACE, data))


async def book(
    turn: Turn,
    account: ServiceAccount,
    words: day_words.DayWords | None,
    *,
    timed: bool = False,
) -> Answer:
    """Book the day `words` name at `account`; `timed`: the customer asked for a time."""
    message = turn.message
    today = today_in(account.timezone, now=message.now)
    try:
        day = day_words.day_or_today(
            words, today=today, order=day_words.date_order(service_accounts.region_of(account))
        )
    except day_words.BadDay:
        return Answer(replies.bad_day())
    if day < today:
        return Answer(replies.day_passed())
    try:
        appointment_id, spot = await booking.join(
            user_phone=message.phone, account=account, day=day, now=message.now
        )
    except AlreadyExists:
        return await _already(turn, day)
    except TooFarAhead as exc:
        last = replies.day_label(exc.last_day, today=today)
        return Answer(replies.too_far_ahead(days=exc.horizon_days, last=last))
    except NoRoom as exc:
        if await appointment_views.active_on_day(user_phone=message.phone, day=day):
            # Already in that full line: their spot, not a refusal.
            return await _already(turn, day)
        next_day = replies.day_label(exc.next_day, today=today) if exc.next_day else None
        text = replies.no_room(place_name=account.name, closed=exc.closed, next_day=next_day)
        return _offering(text, account, exc.next_day, today=today)
    except ClosedDay as exc:
        label, join = _next_open(account, exc.next_open, today=today)
        text = replies.closed_day(
            place_name=account.name,
            day=replies.day_label(day, today=today),
            next_open=label,
            join_words=join,
        )
        return _offering(text, account, exc.next_open, today=today)
    except AfterClosing as exc:
        label, join = _next_open(account, exc.next_open, today=today)
        text = replies.after_closing(
            place_name=account.name,
            closes=exc.closes.strftime("%H:%M"),
            next_open=label,
            join_words=join,
        )
        return _offering(text, account, exc.next_open, today=today)
    except InvalidInput:
        return Answer(replies.day_passed())
    except NotFound:
        return Answer(replies.no_places())
    label = replies.day_label(day, today=today)
    if message.link_base:
        token = await status_links.issue(appointment_id=appointment_id, day=day, now=message.now)
        linked = link_replies.joined(
            place_name=account.name,
            day=label,
            spot=spot,
            no_set_times=timed,
            link=status_tokens.link(message.link_base, token),
        )
        return Answer(linked.text, STAY, in_line=True, follow_up=linked.follow_up)
    text = replies.joined(place_name=account.name, day=label, spot=spot, no_set_times=timed)
    return Answer(text, STAY, in_line=True)


def _offering(text: str, account: ServiceAccount, day: date | None, *, today: date) -> Answer:
    """A refusal that names the next day that takes the join: a YES books that day
    (State.OFFER_DAY keeps it, with the place, as the one option)."""
    if day is None:
        return Answer(text, CLOSE)
    label = replies.day_label(day, today=today)
    data = {
        "options": [day.isoformat()],
        "labels": [f"Join {label}"],
        "place": account.phone,
        # The place's today when offered, to read "tomorrow" in the answer as it was meant.
        "today": today.isoformat(),
    }
    return Answer(text, Ask(State.OFFER_DAY, data))


def _next_open(
    account: ServiceAccount, day: date | None, *, today: date
) -> tuple[str | None, str | None]:
    """The next open day's label and the JOIN words that book it (an ISO date reads
    the same in every region)."""
    if day is None:
        return None, None
    when = "TOMORROW" if day == today + timedelta(days=1) else day.isoformat()
    words = f"{account.code} {when}" if account.code else when
    return replies.day_label(day, today=today), words


async def _already(turn: Turn, day: date) -> Answer:
    message = turn.message
    existing = await appointment_views.active_on_day(user_phone=message.phone, day=day)
    if existing is None:
        return Answer(replies.no_longer_active())
    account = existing.service_account
    spot = None
    if existing.called_at is None:
        spot = await lines.spot(appointment_id=existing.id, now=message.now)
    today = today_in(account.timezone, now=message.now)
    text = replies.already_booked(
        place_name=account.name, day=replies.day_label(day, today=today), spot=spot
    )
    return Answer(text, STAY, in_line=True)
