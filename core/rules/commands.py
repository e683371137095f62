"""What a text message asks for: a command, its arguments, a phone number in it.

Forgiving on purpose: case, extra spaces, punctuation, filler words (please, hi,
thanks), common synonyms and small typos are accepted. Opt-out and opt-in words are
the exception: they count only as the whole message and only when spelled right,
because opting someone out by accident silences them on every channel.

A message made only of greetings, thanks and emoji is a greeting (GREET); one that
mentions stopping in a sentence ("stop texting me") asks how to stop (HOW_TO_STOP),
which opts nobody out.

Every language's words are read at once, accents optional; the reading says which
language its command word is (`Parsed.language`) when only one language has it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.locales import fold
from core.rules.phones import InvalidPhone, normalize_phone
from core.rules.vocabulary import (
    ACCEPT_WORDS,
    CUSTOMER_SIDE,
    DEFAULT_HINTS,
    FILLERS,
    GREETINGS,
    LONGEST_PHRASE,
    PHRASES,
    START_WORDS,
    STOP_MENTIONS,
    STOP_WORDS,
    SWITCH_WORDS,
    WORDS,
    Command,
    Role,
    language_of,
)

# Ends at a token boundary, so "24/12" after a number is not read as more digits.
# Matched on NFKC-folded text (fullwidth digits are ASCII by then); the digits are
# ASCII only, as normalize_phone accepts.
_PHONE = re.compile(r"\+[0-9\s().\-]{6,}[0-9](?![\w/])")
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`](?=\w)")
_TOKEN = re.compile(r"[#+]?[^\W_]+(?:[/.\-][^\W_]+)*")
_NUMBER = re.compile(r"^#?(\d{1,3})$")


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command | None
    # Words after the command, fillers dropped, original case kept (names, codes).
    args: tuple[str, ...]
    # The first +E.164 number in the message, normalised.
    phone: str | None
    # Whether the command word was spelled exactly (a typo-corrected one is not).
    exact: bool
    # When no command was understood: the main commands, in their fixed order.
    hints: tuple[Command, ...]
    # The language the command word is in, when only one language has it (for
    # Command.LANGUAGE: the language asked for); None: the text does not tell.
    language: str | None = None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _APOSTROPHE.sub("", text)


def tokenize(text: str) -> list[str]:
    """Words, dates (24/12, 2026-12-24) and #numbers; punctuation and emoji dropped."""
    return _TOKEN.findall(_fold(text))


def _fold_phrases(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(LONGEST_PHRASE, len(tokens) - i), 1, -1):
            key = tuple(fold(t) for t in tokens[i : i + size])
            if key in PHRASES:
                out.append(PHRASES[key])
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: edits, counting a swap of neighbours as one."""
    return int(OSA.distance(a, b))


def _allowed_typos(word: str) -> int:
    if len(word) < 4:
        return 0
    return 1 if len(word) < 7 else 2


# Words of three letters or fewer are never the target of a typo: too many words are
# one edit away from them.
_GUESSABLE = {
    role: ([w for w in words if len(w) >= 4], [c for w, c in words.items() if len(w) >= 4])
    for role, words in WORDS.items()
}


def _fuzzy(word: str, role: Role) -> tuple[Command, str] | None:
    """The one command `word` is a small typo of, with the word it is nearest to; None
    if none or several commands are close."""
    allowed = _allowed_typos(word)
    if not allowed:
        return None
    candidates, commands = _GUESSABLE[role]
    best: dict[Command, tuple[int, str]] = {}
    for candidate, d, index in process.extract(
        word, candidates, scorer=OSA.distance, score_cutoff=allowed, limit=None
    ):
        command = commands[index]
        if command not in best or int(d) < best[command][0]:
            best[command] = (int(d), candidate)
    if not best:
        return None
    top = min(d for d, _ in best.values())
    winners = [(c, w) for c, (d, w) in best.items() if d == top]
    return winners[0] if len(winners) == 1 else None


def _is_greeting(text: str, lowered: Sequence[str]) -> bool:
    """Only greetings, thanks and emoji: "hi", "thanks!", "good morning", "👍"."""
    if lowered:
        return all(w in GREETINGS for w in lowered)
    return any(unicodedata.category(ch) == "So" for ch in text)


def _take_phone(text: str) -> tuple[str | None, str]:
    """The first phone number in `text`, and the text without it.

    Digits after the number ("+1 415 555 0100 2026-12-24") stay in the text: the
    longest run of space-separated groups that is a valid number wins. The text comes
    back folded (NFKC), as `tokenize` would fold it anyway.
    """
    text = unicodedata.normalize("NFKC", text)
    for match in _PHONE.finditer(text):
        groups = match.group(0).split()
        for size in range(len(groups), 0, -1):
            try:
                phone = normalize_phone(" ".join(groups[:size]))
            except InvalidPhone:
                continue
            rest = " ".join(groups[size:])
            return phone, f"{text[: match.start()]} {rest} {text[match.end() :]}"
    return None, text


# A pure function of its arguments, so recent texts keep their reading: many people
# send the same few texts ("status", "hi", "thanks", a name typed again). A message is
# still read once (bot.engine.read); the cache only spares reading the same text again
# for the next person who sends it.
@lru_cache(maxsize=1024)
def parse(text: str, *, role: Role) -> Parsed:
    phone, without_phone = _take_phone(text)
    tokens = _fold_phrases(tokenize(without_phone))
    words = [t for t in tokens if fold(t) not in FILLERS]
    # Hyphens and accents go for matching only ("no-show", "llegué"); args keep the
    # words as sent.
    lowered = [fold(w).replace("-", "") for w in words]
    if text.strip() and set(text.strip()) <= {"?", " "}:
        command = Command.STATUS if role is Role.CUSTOMER else Command.QUEUE
        return Parsed(command, (), phone, True, ())
    if phone is None and _is_greeting(without_phone, [fold(t).replace("-", "") for t in tokens]):
        return Parsed(Command.GREET, (), None, True, ())
    if len(lowered) == 1:
        alone = lowered[0]
        if alone in STOP_WORDS:
            return Parsed(Command.STOP, (), phone, True, (), language_of(alone))
        if alone in START_WORDS:
            return Parsed(Command.START, (), phone, True, (), language_of(alone))
        if alone in SWITCH_WORDS:
            return Parsed(Command.LANGUAGE, (), phone, True, (), SWITCH_WORDS[alone])
    vocabulary = WORDS[role]
    for i, word in enumerate(lowered):
        if word in vocabulary:
            command = vocabulary[word]
            return Parsed(command, tuple(words[i + 1 :]), phone, True, (), language_of(word))
    if STOP_MENTIONS.intersection(lowered):
        return Parsed(Command.HOW_TO_STOP, (), phone, True, ())
    if lowered:
        guess = _fuzzy(lowered[0], role)
        if guess is not None:
            command, nearest = guess
            return Parsed(command, tuple(words[1:]), phone, False, (), language_of(nearest))
    # Suggestions come in one fixed order, whatever was typed.
    return Parsed(None, tuple(words), phone, False, DEFAULT_HINTS[role])


def read_as(
    as_customer: Parsed, as_provider: Parsed | None, *, customer: bool, in_dialogue: bool
) -> tuple[Role, Parsed]:
    """Who a text comes from, and what it asks: the one rule for a sender's role.

    `as_customer` and `as_provider` are the text parsed in each role; `as_provider` is
    None when the phone is no provider's (it texts as the customer then).

    A provider's phone texts as the provider. When the phone is also a registered
    customer's (`customer`), provider commands still win (STATUS is the provider's word
    for QUEUE), and JOIN, STATUS and LEAVE (and their phrasings) that are not provider
    commands are the customer's; a command spelled right beats one guessed from a typo.
    Anything else answers the customer's open dialogue if there is one (`in_dialogue`),
    else goes to the provider.
    """
    if as_provider is None:
        return Role.CUSTOMER, as_customer
    if not customer:
        return Role.PROVIDER, as_provider
    customer_side = as_customer.command in CUSTOMER_SIDE
    if as_provider.command is not None and (
        as_provider.exact or not (customer_side and as_customer.exact)
    ):
        return Role.PROVIDER, as_provider
    if customer_side or (in_dialogue and as_provider.command is None):
        return Role.CUSTOMER, as_customer
    return Role.PROVIDER, as_provider


# Words around the number of a numbered answer ("number 2", "opción 2").
_CHOICE_WORDS = frozenset({"number", "no", "option", "choice", "numero", "opcion", "la", "el"})


def choice_number(text: str) -> int | None:
    """The number in an answer to a numbered question ("2", "#2", "number 2, thanks")."""
    words = [t for t in tokenize(text) if fold(t) not in FILLERS | _CHOICE_WORDS]
    if len(words) != 1:
        return None
    match = _NUMBER.match(words[0])
    return int(match[1]) if match else None


def accepts(text: str) -> bool:
    """Whether `text` is a plain yes ("yes", "yes please", "sure, thanks")."""
    words = [fold(t) for t in tokenize(text)]
    return any(w in ACCEPT_WORDS for w in words) and all(
        w in ACCEPT_WORDS or w in FILLERS for w in words
    )


@dataclass(frozen=True, slots=True)
class Target:
    """Which appointment a provider means: a queue position, or `#id`."""

    position: int | None = None
    appointment_id: int | None = None


def target(args: Sequence[str]) -> Target | None:
    """Read `3` or `#12` from a provider's DONE / NOSHOW; None when absent or unreadable."""
    for arg in args:
        if arg.startswith("#") and arg[1:].isdecimal():
            return Target(appointment_id=int(arg[1:]))
        if arg.isdecimal():
            return Target(position=int(arg))
    return None
