"""The engine's answer to one message, as every channel receives it.

`text` is what a person reads; the rest is for channels that draw buttons (Telegram):
the numbered `choices` of a question the reply leaves open, and the `menu` that fits
what the person can do next. A channel without buttons (SMS) sends the text only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Menu(StrEnum):
    """What a person can sensibly do after the reply."""

    # The phone is a provider's: run the line.
    PROVIDER_CONSOLE = "provider_console"
    # A customer in a line: see it, leave it, join another.
    CUSTOMER_IN_LINE = "customer_in_line"
    # A customer whose turn it is and who has not said they are coming: say so first.
    CUSTOMER_CALLED = "customer_called"
    # A customer in no line: join one, or ask for help.
    CUSTOMER_IDLE = "customer_idle"
    # No buttons: the reply asks for a name (a press would be read as the answer), or
    # the engine was not asked for menus and knew none without reading more.
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of an open numbered question: `label` shows it, `text` answers it."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    menu: Menu = Menu.NONE
    # The options of the question the reply asks, in order (empty: none asked).
    choices: tuple[Choice, ...] = ()
    # A second message the channel sends after `text` (a status link that did not fit
    # in one segment with it); None: none.
    follow_up: str | None = None
    # The language `text` is written in: a channel writes its own words (buttons) in it.
    language: str = "en"
