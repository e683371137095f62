"""What customers can text: JOIN, STATUS, LEAVE, HELP, and the questions they leave open.

DIALOGUE below is the whole dialogue: for each open question (none, ASK_NAME,
ASK_PLACE, ASK_SPOT) and each kind of text that can arrive while it is open, the
handler that answers and the questions that answer may leave open. The engine finds
the row (`step`), runs its handler, checks the dialogue it leaves against the row and
saves or clears it (bot.engine); no handler touches the stored dialogue itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot import customer_spot, joining, replies
from bot.dialogue import CLOSE, Answer, Ask, State, Turn, closing
from core.errors import AlreadyExists
from core.rules import day_words
from core.rules.commands import Parsed, accepts, choice_number, parse, tokenize
from core.rules.names import clean_name
from core.rules.vocabulary import FILLERS, Command, Role
from core.services import (
    conversations,
    provider_lookup,
    users,
)


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
        if (
            found.day is not None
            and not rest
            and day_words.could_be(found.day, offered, today=today)
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
        return await customer_spot.status(turn)
    if parsed.command is Command.LEAVE:
        return await customer_spot.leave(turn)
    if parsed.command is Command.HERE:
        return await customer_spot.here(turn)
    if parsed.command is Command.WHY:
        return await customer_spot.why(turn)
    if parsed.command is Command.LATE:
        return await customer_spot.late(turn)
    if parsed.command is Command.AWAY:
        return await customer_spot.away(turn)
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
    return closing(await joining.book(turn, chosen[0], _stored_day(turn), timed=_timed(turn)))


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
    left = await customer_spot.cancel(turn, chosen)
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


DIALOGUE = _rows()
_STALE = Row(_afresh, ANY)
