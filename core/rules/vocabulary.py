"""The words a text is read with: the commands, and, merged from every language's
catalog (core.locales, `[words]`), the words and phrases for each, the words that carry
no meaning (greetings, fillers), and which language each word belongs to.
core.rules.commands reads a text with them, in every language at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from core.locales import catalog, fold, languages


class Command(StrEnum):
    JOIN = "join"
    STATUS = "status"
    LEAVE = "leave"
    HELP = "help"
    STOP = "stop"
    START = "start"
    QUEUE = "queue"
    NEXT = "next"
    DONE = "done"
    NOSHOW = "noshow"
    ADD = "add"
    GREET = "greet"
    HOW_TO_STOP = "how_to_stop"
    # A called customer confirming they are here or on the way.
    HERE = "here"
    # A customer asking why they stand where they do (their own penalty).
    WHY = "why"
    STATS = "stats"
    # A provider reverting its last NEXT, DONE or NOSHOW.
    UNDO = "undo"
    # A waiting customer moving back because they will be late (LATE [minutes]).
    LATE = "late"
    # A customer saying how far away they are (AWAY n).
    AWAY = "away"
    # A provider stopping and resuming today's joins by hand.
    CLOSE = "close"
    OPEN = "open"
    # The provider runs late today: DELAY n [note].
    DELAY = "delay"
    # ESPAÑOL, ENGLISH alone: write in that language from now on (Parsed.language).
    LANGUAGE = "language"


class Role(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"


def _words(code: str) -> dict[str, Any]:
    found: dict[str, Any] = catalog(code).get("words", {})
    return found


def _merged_set(key: str) -> frozenset[str]:
    return frozenset(fold(w) for code in sorted(languages()) for w in _words(code).get(key, ()))


def _merged_map(key: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for code in sorted(languages()):
        for word, value in _words(code).get(key, {}).items():
            merged.setdefault(fold(word), value)
    return merged


def _owners(keys: Iterable[str]) -> dict[str, frozenset[str]]:
    """Each word of the tables `keys`, with the languages whose catalogs have it."""
    owners: dict[str, set[str]] = {}
    for code in languages():
        for key in keys:
            table: Iterable[str] = _words(code).get(key, ())
            for word in table:
                owners.setdefault(fold(word), set()).add(code)
    return {word: frozenset(codes) for word, codes in owners.items()}


def _commands(table: Mapping[str, str]) -> dict[str, Command]:
    return {word: Command(command) for word, command in table.items()}


# Carriers' (and Twilio's) opt-out and opt-in keywords, minus CANCEL: we read CANCEL
# as LEAVE, though on SMS the carrier acts on it first. Other languages' words (BAJA,
# ALTA) are ours alone: no carrier acts on them, the engine does.
STOP_WORDS = _merged_set("stop")
START_WORDS = _merged_set("start")
# Opt-out words that, inside a sentence, can only be about stopping our texts ("end" and
# "quit" are everyday words: "what time does it end").
STOP_MENTIONS = _merged_set("stop_mentions")

CUSTOMER_WORDS = _commands(_merged_map("customer"))
PROVIDER_WORDS = _commands(_merged_map("provider"))
WORDS = {Role.CUSTOMER: CUSTOMER_WORDS, Role.PROVIDER: PROVIDER_WORDS}
DEFAULT_HINTS = {
    Role.CUSTOMER: (Command.JOIN, Command.STATUS, Command.LEAVE),
    Role.PROVIDER: (Command.QUEUE, Command.NEXT, Command.DONE),
}

# Several words meaning one command, folded into that command's word before matching.
PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): fold(word) for phrase, word in _merged_map("phrases").items()
}
LONGEST_PHRASE = max(len(p) for p in PHRASES)

# What a message made only of greetings and thanks (and emoji) can hold. Greetings say
# nothing of the sender's language ("hi", "ok" and "hola" are everyone's).
GREETINGS = _merged_set("greetings")

# After a provider's HELP, the words that ask for its second page (HELP MORE).
HELP_MORE_WORDS = _merged_set("help_more")

# Words that take what the open question offers ("Next open tomorrow: reply YES").
# "ok" and "thanks" are not among them: they also just acknowledge a refusal.
ACCEPT_WORDS = _merged_set("accept")

FILLERS = _merged_set("fillers")

# The word that, alone, switches the language a customer is written to.
SWITCH_WORDS = {
    fold(word): code for code in sorted(languages()) for word in _words(code).get("switch", ())
}

# Which languages a command word (either role's), an opt-out or opt-in word belongs to:
# a text's command word tells its language when only one language has that word.
WORD_LANGUAGES = _owners(("customer", "provider", "stop", "start"))

# Days as people text them (core.rules.day_words): weekday names (0: Monday), and days
# named from today (0: today, 1: tomorrow).
WEEKDAYS: dict[str, int] = _merged_map("weekdays")
DAY_OFFSETS: dict[str, int] = _merged_map("day_offsets")

# What a phone that is both a provider's and a customer's can still text as the customer.
CUSTOMER_SIDE = frozenset(
    {
        Command.JOIN,
        Command.STATUS,
        Command.LEAVE,
        Command.HERE,
        Command.WHY,
        Command.LATE,
        Command.AWAY,
    }
)


def language_of(word: str) -> str | None:
    """The one language `word` (folded) is a command word of; None: several or none."""
    owners = WORD_LANGUAGES.get(word, frozenset())
    return next(iter(owners)) if len(owners) == 1 else None
