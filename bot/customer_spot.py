"""What a customer in line texts about their spot: STATUS, LEAVE, HERE, WHY, LATE and
AWAY (bot.customer routes the texts here)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from bot import joining, link_replies, replies, spot_replies
from bot.dialogue import STAY, Answer, Ask, State, Turn
from core.errors import InvalidTransition, NotFound
from core.models import ServiceAccount
from core.rules import day_words, status_tokens
from core.rules.commands import tokenize
from core.rules.days import OutOfRange, local_day, today_in
from core.rules.lateness import is_minute_word, minutes_in
from core.rules.vocabulary import FILLERS
from core.services import (
    arrivals,
    lateness,
    provider_lookup,
    reliability,
    status_changes,
    status_links,
)
from core.services.standings import Standing

# STATUS and LEAVE -----------------------------------------------------------------


def _standing(s: Standing) -> replies.Standing:
    return replies.Standing(
        place_name=s.place_name, day=replies.day_label(s.day, today=s.today), spot=s.spot
    )


async def status(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    shown = [_standing(s) for s in mine]
    base = turn.message.link_base
    if not base:
        return Answer(replies.status(shown))
    # A fresh link each time (earlier ones stay valid); with several spots, to the soonest.
    soonest = mine[0]
    token = await status_links.issue(
        appointment_id=soonest.appointment_id, day=soonest.day, now=turn.message.now
    )
    link = status_tokens.link(base, token)
    if len(shown) == 1:
        linked = link_replies.status(shown[0], link=link)
        return Answer(linked.text, follow_up=linked.follow_up)
    return Answer(replies.status(shown), follow_up=link_replies.live(link))


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
    place = " ".join(joining.place_words(found.rest)).casefold()
    if place:
        by_place = [
            s
            for s in kept
            if (s.place_code or "").casefold() == place or s.place_name.casefold().startswith(place)
        ]
        kept = by_place or kept
    return kept


async def leave(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    chosen = _narrow(mine, turn.parsed.args)
    if len(chosen) == 1:
        return await cancel(turn, chosen[0])
    shown = [_standing(s) for s in chosen]
    data = {
        "options": [s.appointment_id for s in chosen],
        "labels": [f"{replies.place(s.place_name)} {s.day}" for s in shown],
    }
    return Answer(replies.choose_standing(shown), Ask(State.ASK_SPOT, data))


async def cancel(turn: Turn, standing: Standing) -> Answer:
    # Whatever the outcome, that appointment is no longer active.
    others = any(s.appointment_id != standing.appointment_id for s in turn.standings)
    try:
        await status_changes.cancel(appointment_id=standing.appointment_id, now=turn.message.now)
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active(), STAY, in_line=others)
    text = replies.left(
        place_name=standing.place_name,
        day=replies.day_label(standing.day, today=standing.today),
    )
    return Answer(text, STAY, in_line=others)


# HERE and WHY ---------------------------------------------------------------------


async def here(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    called = [s for s in mine if s.spot is None]
    if not called:
        return Answer(spot_replies.not_called_yet([_standing(s) for s in mine]))
    # Called at two places at once: the place or day named picks, else the soonest.
    chosen = _narrow(called, _without_numbers(turn.parsed.args))[0]
    try:
        confirmed = await arrivals.confirm(
            appointment_id=chosen.appointment_id, now=turn.message.now
        )
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active())
    still_awaited = any(s.awaited and s is not chosen for s in called)
    return Answer(
        spot_replies.coming_confirmed(place_name=confirmed.place_name), awaited=still_awaited
    )


def _without_numbers(args: Sequence[str]) -> list[str]:
    """The words that can name a place or a day: "why am I #5" names neither."""
    return [w for w in args if not w.lstrip("#").isdecimal()]


async def why(turn: Turn) -> Answer:
    """The customer's own record at the place named, else at the place of their spot
    (the one the day names, else the soonest), else at the place they texted or the
    only place there is."""
    words = _without_numbers(turn.parsed.args)
    mine = turn.standings
    now = turn.message.now
    named = await _named_place(words)
    try:
        if named is None and mine:
            chosen = _narrow(mine, words)[0]
            record = await reliability.explain(
                user_phone=turn.message.phone, appointment_id=chosen.appointment_id, now=now
            )
        else:
            account = named or await _default_place(turn)
            if account is None:
                return Answer(replies.not_in_line())
            record = await reliability.explain(
                user_phone=turn.message.phone, service_account_phone=account.phone, now=now
            )
    except NotFound:
        return Answer(replies.not_in_line())
    return Answer(_why_text(record, now=now))


async def _named_place(words: Sequence[str]) -> ServiceAccount | None:
    """The one place `words` name, if they name one ("why spa"; "why am I last": none)."""
    named = joining.place_words(day_words.find_day(words).rest)
    if not named:
        return None
    found = await provider_lookup.find(words=named, phone=None)
    return found[0] if len(found) == 1 else None


async def _default_place(turn: Turn) -> ServiceAccount | None:
    if turn.message.default_provider_phone:
        found = await provider_lookup.by_phones(phones=[turn.message.default_provider_phone])
    else:
        found = await provider_lookup.default_accounts()
    return found[0] if len(found) == 1 else None


def _why_text(record: reliability.Record, *, now: datetime) -> str:
    if record.cancellations == record.no_shows == 0 and record.weight < 0.005:
        return spot_replies.why_clean(place_name=record.place_name)
    moment = record.below_one_cancellation
    below: str | None = None
    if moment is not None:
        today = today_in(record.timezone, now=now)
        if record.weight < record.cancellation_weight:
            below = "already"
        else:
            with contextlib.suppress(OutOfRange):
                below = replies.day_label(local_day(moment, record.timezone), today=today)
    return spot_replies.why(
        place_name=record.place_name,
        cancellations=record.cancellations,
        no_shows=record.no_shows,
        weight=record.weight,
        cancellation_weight=record.cancellation_weight,
        half_life_days=record.half_life_days,
        below=below,
    )


# LATE and AWAY ----------------------------------------------------------------------


def _minutes(turn: Turn) -> int | None:
    """The minutes the text gives, wherever they are ("20 min late", "late 20")."""
    return minutes_in(tokenize(turn.message.text))


def _place_words(turn: Turn) -> list[str]:
    """The words that can name a place or a day: not the minutes."""
    return [w for w in _without_numbers(turn.parsed.args) if not is_minute_word(w)]


async def late(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    minutes = _minutes(turn)
    words = _place_words(turn)
    called = [s for s in mine if s.spot is None]
    try:
        if called:
            chosen = _narrow(called, words)[0]
            held = await lateness.late_when_called(
                appointment_id=chosen.appointment_id, minutes=minutes, now=turn.message.now
            )
            if held.held_until is not None:
                return Answer(
                    spot_replies.late_held(place_name=held.place_name, until=held.held_until)
                )
            if held.already_extended:
                return Answer(spot_replies.late_held_once(place_name=held.place_name))
            return Answer(spot_replies.late_when_called(place_name=held.place_name))
        chosen = _narrow(mine, words)[0]
        move = await lateness.late(
            appointment_id=chosen.appointment_id, minutes=minutes, now=turn.message.now
        )
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active())
    if move.outcome is lateness.Outcome.LIMIT:
        return Answer(spot_replies.late_limit(place_name=move.place_name, spot=move.spot))
    if move.outcome is lateness.Outcome.STAYED:
        return Answer(spot_replies.kept_place(place_name=move.place_name, spot=move.spot))
    return Answer(spot_replies.moved_back(place_name=move.place_name, spot=move.spot))


async def away(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    waiting = [s for s in mine if s.spot is not None]
    if not waiting:
        # Called already: being that far away is being that late.
        return await late(turn)
    minutes = _minutes(turn)
    if minutes is None:
        return Answer(spot_replies.away_how_far())
    chosen = _narrow(waiting, _place_words(turn))[0]
    try:
        travel = await lateness.away(
            appointment_id=chosen.appointment_id, minutes=minutes, now=turn.message.now
        )
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active())
    if travel.head_over_now:
        return Answer(spot_replies.away_go_now(place_name=travel.place_name, spot=travel.spot))
    return Answer(
        spot_replies.away_noted(
            place_name=travel.place_name, spot=travel.spot, travel_minutes=minutes
        )
    )
