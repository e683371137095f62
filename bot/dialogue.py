"""The pieces of a customer's dialogue: the questions the engine can leave open, what a
handler's answer does to the open one, and the turn a handler answers.

The table of transitions is bot.customer.DIALOGUE; the engine alone saves or clears
the dialogue, from the `then` of the answer (bot.engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.inbound import Inbound
from core.rules.commands import Parsed
from core.services.correspondents import Correspondent
from core.services.standings import Standing


class State(StrEnum):
    """A question left open, as stored (conversations.state)."""

    ASK_NAME = "ask_name"
    ASK_PLACE = "ask_place"
    ASK_SPOT = "ask_spot"
    # A join was refused with the next day that takes it: YES (or that day) books it.
    OFFER_DAY = "offer_day"


@dataclass(frozen=True, slots=True)
class Stay:
    """The dialogue stays as it was (none stays none), its expiry untouched."""


@dataclass(frozen=True, slots=True)
class Ask:
    """`state` is the open question now, with `data`, for another IDLE_EXPIRY.

    A numbered question keeps its options under "options" and, when the labels of
    those options are known, the labels under "labels" (channels draw them as buttons).
    """

    state: State
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    """No question is open any more."""


STAY, CLOSE = Stay(), Close()
Then = Stay | Ask | Close


@dataclass(frozen=True, slots=True)
class Answer:
    """A handler's reply, and what it does to the dialogue."""

    text: str
    then: Then = STAY
    # Whether the customer is in a line after this answer, when the answer tells (it
    # booked or left); None: as the engine read it before answering.
    in_line: bool | None = None
    # Whether a called turn still awaits the customer's HERE after this answer; read
    # only when the answer tells `in_line` or confirmed (None: as the engine read it).
    awaited: bool | None = None
    # A second message sent after this one (a status link that did not fit in it).
    follow_up: str | None = None


def closing(answer: Answer) -> Answer:
    """`answer`, given after the open question was closed: it stays closed unless the
    answer asks a question of its own."""
    return answer if isinstance(answer.then, Ask) else replace(answer, then=CLOSE)


@dataclass(frozen=True, slots=True)
class Turn:
    """One message from a customer, as a handler answers it."""

    message: Inbound
    # What the text asks, read as the customer's.
    parsed: Parsed
    who: Correspondent
    # The number the text answers an open numbered question with, if any.
    number: int | None = field(default=None)

    @property
    def data(self) -> dict[str, Any]:
        """The open question's data ({} when none is open)."""
        return self.who.dialogue.data if self.who.dialogue is not None else {}

    @property
    def standings(self) -> list[Standing]:
        """The customer's standings: the engine reads them before a handler that needs
        them (see bot.customer.reads_standings)."""
        if self.who.standings is None:
            raise LookupError("this turn was answered without reading the standings")
        return self.who.standings

    def named(self, text: str, parsed: Parsed, *, default_provider_phone: str | None) -> Turn:
        """This turn once the customer gave their name: registered, carrying on with
        `text`, what they first sent (`parsed`)."""
        return replace(
            self,
            message=self.message.with_text(text, default_provider_phone=default_provider_phone),
            parsed=parsed,
            who=self.who.now_registered(),
            number=None,
        )
