"""What customers can text: JOIN, STATUS, LEAVE, HELP, and the questions they leave open.

DIALOGUE below is the whole dialogue: for each open question (none, ASK_NAME,
ASK_PLACE, ASK_SPOT) and each kind of text that can arrive while it is open, the
handler that answers and the questions that answer may leave open. The engine finds
the row (`step`), runs its handler, checks the dialogue it leaves against the row and
saves or clears it (bot.engine); no handler touches the stored dialogue itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot import joining, replies
from bot.dialogue import CLOSE, STAY, Answer, Ask, State, Turn, closing
from core.errors import AlreadyExists, InvalidTransition, NotFound
from core.models import ServiceAccount
from core.rules import day_words
from core.rules.commands import Parsed, accepts, choice_number, parse, tokenize
from core.rules.days import OutOfRange, local_day, today_in
from core.rules.lateness import is_minute_word, minutes_in
from core.rules.names import clean_name
from core.rules.vocabulary import FILLERS, Command, Role
from core.services import (
    arrivals,
    conversations,
    lateness,
    provider_lookup,
    reliability,
    status_changes,
    users,
)
from core.services.standings import Standing


class Heard(StrEnum):
    """What a text is, as an answer to the open question."""

    COMMAND = "a command"
    MEANWHILE = "HELP, STATUS, LEAVE or how to stop, spelled right"
    JOIN_AGAIN = "JOIN again, spelled right"
    NO_NAME = "no name"
    A_NAME = "a name"
    ON_THE_LIST = "a number on the list"
    OFF_THE_LIST = "anything else"
    WORDS = "other words"
    TAKES_OFFER = "YES, 1, or the day offered"


Handler = Callable[[Turn], Awaitable[Answer]]
ANY = frozenset({None, *State})


@dataclass(frozen=True, slots=True)
class Row:
    answer: Handler
    # The questions open after the answer (None: none).
    leaves: frozenset[State | None]
    # Whether the answer reads the customer's standings (besides STATUS and LEAVE).
    reads_standings: bool = False


def _rows() -> dict[tuple[State | None, Heard], Row]:
    N, NAME, PLACE, SPOT = None, State.ASK_NAME, State.ASK_PLACE, State.ASK_SPOT
    OFFER = State.OFFER_DAY
    return {
        # (open question, the text): Row(answered by, the questions open after)
        (N, Heard.COMMAND): Row(command, ANY),
        (NAME, Heard.MEANWHILE): Row(command, frozenset({NAME, SPOT})),
        (NAME, Heard.JOIN_AGAIN): Row(_join_again, frozenset({NAME})),
        (NAME, Heard.NO_NAME): Row(_ask_name_again, frozenset({NAME})),
        (NAME, Heard.A_NAME): Row(_named, frozenset({N, PLACE, SPOT, OFFER})),
        (PLACE, Heard.ON_THE_LIST): Row(_place_chosen, frozenset({N, OFFER})),
        (PLACE, Heard.OFF_THE_LIST): Row(_choose_again(PLACE), frozenset({PLACE})),
        (PLACE, Heard.COMMAND): Row(_afresh, ANY),
        (PLACE, Heard.WORDS): Row(_place_named, frozenset({N, PLACE, OFFER})),
        (SPOT, Heard.ON_THE_LIST): Row(_spot_chosen, frozenset({N}), reads_standings=True),
        (SPOT, Heard.OFF_THE_LIST): Row(_choose_again(SPOT), frozenset({SPOT})),
        (SPOT, Heard.COMMAND): Row(_afresh, ANY),
        # Taking the day offered may be refused again, with a later day offered.
        (OFFER, Heard.TAKES_OFFER): Row(_offer_taken, frozenset({N, OFFER})),
        (OFFER, Heard.COMMAND): Row(_afresh, ANY),
        (OFFER, Heard.WORDS): Row(_afresh, ANY),
    }


_READS_STANDINGS = frozenset(
    {Command.STATUS, Command.LEAVE, Command.HERE, Command.WHY, Command.LATE, Command.AWAY}
)
_ANSWERED_WHILE_ASKING_NAME = frozenset(
    {Command.HELP, Command.STATUS, Command.LEAVE, Command.HOW_TO_STOP}
)


def reads_standings(parsed: Parsed) -> bool:
    """Whether answering `parsed` as a command reads the customer's standings."""
    return parsed.command in _READS_STANDINGS


@dataclass(frozen=True, slots=True)
class Step:
    """The row of DIALOGUE a text falls in, and the number it answers with."""

    state: State | None
    heard: Heard
    row: Row
    number: int | None

    @property
    def reads_standings(self) -> bool:
        return self.row.reads_standings


def step(dialogue: conversations.Dialogue | None, parsed: Parsed, text: str) -> Step:
    state = _state(dialogue)
    if dialogue is not None and state is None:
        # A question this engine does not know (left by another version) closes.
        return Step(None, Heard.COMMAND, _STALE, None)
    number = None
    if state is State.ASK_NAME:
        heard = _heard_while_asking_name(parsed, text)
    elif state is None:
        heard = Heard.COMMAND
    elif state is State.OFFER_DAY:
        assert dialogue is not None
        heard = _heard_on_offer(dialogue, parsed, text)
    else:
        number = choice_number(text)
        assert dialogue is not None
        heard = _heard_while_choosing(state, parsed, number, len(dialogue.data.get("options", [])))
    return Step(state, heard, DIALOGUE[(state, heard)], number)


def _state(dialogue: conversations.Dialogue | None) -> State | None:
    if dialogue is None:
        return None
    try:
        return State(dialogue.state)
    except ValueError:
        return None


def _heard_while_asking_name(parsed: Parsed, text: str) -> Heard:
    if parsed.exact and parsed.command is Command.JOIN:
        return Heard.JOIN_AGAIN
    if parsed.exact and parsed.command in _ANSWERED_WHILE_ASKING_NAME:
        return Heard.MEANWHILE
    return Heard.A_NAME if clean_name(text) is not None else Heard.NO_NAME


def _heard_on_offer(dialogue: conversations.Dialogue, parsed: Parsed, text: str) -> Heard:
    """YES, the option's number, or words that name just the day offered take it; any
    other text is read afresh, as if nothing had been offered."""
    if accepts(text) or choice_number(text) == 1:
        return Heard.TAKES_OFFER
    offered = _offered_day(dialogue.data)
    today = _iso_day(dialogue.data.get("today"))
    if parsed.command is None and offered is not None and today is not None:
        found = day_words.find_day(tokenize(text))
        rest = [w for w in found.rest if w.lower() not in FILLERS]
        if found.day is not None and not rest and day_words.could_be(
            found.day, offered, today=today
        ):
            return Heard.TAKES_OFFER
    return Heard.COMMAND if parsed.command is not None else Heard.WORDS


def _offered_day(data: dict[str, object]) -> date | None:
    options = data.get("options")
    if not isinstance(options, list) or len(options) != 1:
        return None
    return _iso_day(options[0])


def _iso_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _heard_while_choosing(state: State, parsed: Parsed, number: int | None, count: int) -> Heard:
    if number is None and parsed.command is not None:
        return Heard.COMMAND
    if number is not None and 1 <= number <= count:
        return Heard.ON_THE_LIST
    if number is None and state is State.ASK_PLACE:
        return Heard.WORDS
    return Heard.OFF_THE_LIST


async def respond(turn: Turn, found: Step) -> Answer:
    """Answer a customer by the row `found` (see `step`); raises if the answer leaves a
    question the row does not allow."""
    answer = await found.row.answer(turn)
    left = _left(found.state, answer)
    if left not in found.row.leaves:
        raise RuntimeError(f"{found.state} + {found.heard} left {left}, not in DIALOGUE")
    return answer


def _left(state: State | None, answer: Answer) -> State | None:
    if isinstance(answer.then, Ask):
        return answer.then.state
    return None if answer.then is CLOSE else state


# Commands -------------------------------------------------------------------------


async def command(turn: Turn) -> Answer:
    parsed = turn.parsed
    if parsed.command is Command.JOIN:
        return await joining.join(turn)
    if parsed.command is Command.STATUS:
        return _status(turn)
    if parsed.command is Command.LEAVE:
        return await _leave(turn)
    if parsed.command is Command.HERE:
        return await _here(turn)
    if parsed.command is Command.WHY:
        return await _why(turn)
    if parsed.command is Command.LATE:
        return await _late(turn)
    if parsed.command is Command.AWAY:
        return await _away(turn)
    if parsed.command is Command.HELP:
        cancel_opts_out = "CANCEL" in turn.message.channel.carrier_opt_out_words
        return Answer(replies.help_customer(cancel_opts_out=cancel_opts_out))
    if parsed.command is Command.HOW_TO_STOP:
        return Answer(replies.how_to_stop())
    if not turn.who.registered:
        # A newcomer's hello, or anything else unknown, starts with their name.
        return joining.ask_name(turn)
    if parsed.command is Command.GREET:
        return Answer(replies.greeting_customer())
    return Answer(replies.not_understood(parsed.hints))


async def _afresh(turn: Turn) -> Answer:
    """A command instead of the answer: the question closes, the command is answered."""
    return closing(await command(turn))


# Answers to the open question ---------------------------------------------------------


async def _join_again(turn: Turn) -> Answer:
    # Asked again before answering: keep the fuller request, ask for the name again.
    if turn.parsed.args or turn.parsed.phone:
        return Answer(
            replies.ask_name_again(),
            Ask(State.ASK_NAME, {**turn.data, "text": turn.message.text}),
        )
    return Answer(replies.ask_name_again())


async def _ask_name_again(turn: Turn) -> Answer:
    return Answer(replies.ask_name_again(), Ask(State.ASK_NAME, turn.data))


async def _named(turn: Turn) -> Answer:
    name = clean_name(turn.message.text)
    assert name is not None
    # Registered meanwhile (another channel, the admin API): carry on with that record.
    with contextlib.suppress(AlreadyExists):
        await users.create_user(name=name, phone=turn.message.phone)
    original = str(turn.data.get("text") or "")
    default = turn.data.get("default_provider")
    first = parse(original, role=Role.CUSTOMER)
    if first.command in {None, Command.GREET}:
        return Answer(replies.welcome(name), CLOSE)
    named = turn.named(
        original, first, default_provider_phone=default if isinstance(default, str) else None
    )
    return closing(await command(named))


def _choose_again(state: State) -> Handler:
    async def again(turn: Turn) -> Answer:
        count = len(turn.data.get("options", []))
        return Answer(replies.bad_choice(count), Ask(state, turn.data))

    return again


async def _place_chosen(turn: Turn) -> Answer:
    assert turn.number is not None
    phone = str(turn.data["options"][turn.number - 1])
    chosen = await provider_lookup.by_phones(phones=[phone])
    if not chosen:
        return Answer(replies.place_not_found(phone), CLOSE)
    return closing(
        await joining.book(turn, chosen[0], _stored_day(turn), timed=_timed(turn))
    )


async def _place_named(turn: Turn) -> Answer:
    words = joining.place_words(turn.parsed.args)
    return await joining.pick_place(
        turn, words, turn.parsed.phone, _stored_day(turn), default_first=False, timed=_timed(turn)
    )


async def _spot_chosen(turn: Turn) -> Answer:
    assert turn.number is not None
    mine = {s.appointment_id: s for s in turn.standings}
    chosen = mine.get(int(turn.data["options"][turn.number - 1]))
    if chosen is None:
        return Answer(replies.no_longer_active(), CLOSE)
    left = await _cancel(turn, chosen)
    return Answer(left.text, CLOSE, left.in_line)


async def _offer_taken(turn: Turn) -> Answer:
    offered = _offered_day(turn.data)
    chosen = await provider_lookup.by_phones(phones=[str(turn.data.get("place"))])
    if offered is None or not chosen:
        return Answer(replies.place_not_found(str(turn.data.get("place"))), CLOSE)
    words = day_words.DayWords(offered.isoformat())
    return closing(await joining.book(turn, chosen[0], words))


def _stored_day(turn: Turn) -> day_words.DayWords | None:
    text = turn.data.get("day")
    return day_words.DayWords(text) if isinstance(text, str) and text else None


def _timed(turn: Turn) -> bool:
    return bool(turn.data.get("time"))


# STATUS and LEAVE -----------------------------------------------------------------


def _standing(s: Standing) -> replies.Standing:
    return replies.Standing(
        place_name=s.place_name, day=replies.day_label(s.day, today=s.today), spot=s.spot
    )


def _status(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    return Answer(replies.status([_standing(s) for s in mine]))


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
            s for s in kept
            if (s.place_code or "").casefold() == place
            or s.place_name.casefold().startswith(place)
        ]
        kept = by_place or kept
    return kept


async def _leave(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    chosen = _narrow(mine, turn.parsed.args)
    if len(chosen) == 1:
        return await _cancel(turn, chosen[0])
    shown = [_standing(s) for s in chosen]
    data = {
        "options": [s.appointment_id for s in chosen],
        "labels": [f"{replies.place(s.place_name)} {s.day}" for s in shown],
    }
    return Answer(replies.choose_standing(shown), Ask(State.ASK_SPOT, data))


async def _cancel(turn: Turn, standing: Standing) -> Answer:
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


async def _here(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    called = [s for s in mine if s.spot is None]
    if not called:
        return Answer(replies.not_called_yet([_standing(s) for s in mine]))
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
        replies.coming_confirmed(place_name=confirmed.place_name), awaited=still_awaited
    )


def _without_numbers(args: Sequence[str]) -> list[str]:
    """The words that can name a place or a day: "why am I #5" names neither."""
    return [w for w in args if not w.lstrip("#").isdecimal()]


async def _why(turn: Turn) -> Answer:
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
        return replies.why_clean(place_name=record.place_name)
    moment = record.below_one_cancellation
    below: str | None = None
    if moment is not None:
        today = today_in(record.timezone, now=now)
        if record.weight < record.cancellation_weight:
            below = "already"
        else:
            with contextlib.suppress(OutOfRange):
                below = replies.day_label(local_day(moment, record.timezone), today=today)
    return replies.why(
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


async def _late(turn: Turn) -> Answer:
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
                    replies.late_held(place_name=held.place_name, until=held.held_until)
                )
            if held.already_extended:
                return Answer(replies.late_held_once(place_name=held.place_name))
            return Answer(replies.late_when_called(place_name=held.place_name))
        chosen = _narrow(mine, words)[0]
        move = await lateness.late(
            appointment_id=chosen.appointment_id, minutes=minutes, now=turn.message.now
        )
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active())
    if move.outcome is lateness.Outcome.LIMIT:
        return Answer(replies.late_limit(place_name=move.place_name, spot=move.spot))
    if move.outcome is lateness.Outcome.STAYED:
        return Answer(replies.kept_place(place_name=move.place_name, spot=move.spot))
    return Answer(replies.moved_back(place_name=move.place_name, spot=move.spot))


async def _away(turn: Turn) -> Answer:
    mine = turn.standings
    if not mine:
        return Answer(replies.not_in_line())
    waiting = [s for s in mine if s.spot is not None]
    if not waiting:
        # Called already: being that far away is being that late.
        return await _late(turn)
    minutes = _minutes(turn)
    if minutes is None:
        return Answer(replies.away_how_far())
    chosen = _narrow(waiting, _place_words(turn))[0]
    try:
        travel = await lateness.away(
            appointment_id=chosen.appointment_id, minutes=minutes, now=turn.message.now
        )
    except (InvalidTransition, NotFound):
        return Answer(replies.no_longer_active())
    if travel.head_over_now:
        return Answer(replies.away_go_now(place_name=travel.place_name, spot=travel.spot))
    return Answer(
        replies.away_noted(place_name=travel.place_name, spot=travel.spot, travel_minutes=minutes)
    )


DIALOGUE = _rows()
_STALE = Row(_afresh, ANY)
