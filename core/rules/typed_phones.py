"""Numbers a person types by hand (a provider's ADD, a walk-in form): checked against the
numbering plans (libphonenumber's data), and read in the provider's region when typed
without a country code.

Parsing against the numbering plans costs far more than the cheap check of
core.rules.phones, so it is for typed input only: phones that channels deliver
(Twilio's E.164 From, a Telegram contact) keep the cheap check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from core.rules.phones import InvalidPhone, normalize_phone

# A word of a typed number: digits with dashes or dots inside, maybe after a +
# (the words a message is split into have lost their spaces and parentheses).
_NUMBER_WORD = re.compile(r"\+?[0-9]+(?:[.\-][0-9]+)*")


class NotAValidNumber(InvalidPhone):
    """Typed text that no numbering plan allows."""


def take_typed_number(words: Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """The first run of number words in `words` (415 555-0151), joined with spaces, and
    the other words in order; (None, words) when there is none."""
    for start, word in enumerate(words):
        if not _NUMBER_WORD.fullmatch(word):
            continue
        end = start + 1
        while end < len(words) and _NUMBER_WORD.fullmatch(words[end]) and "+" not in words[end]:
            end += 1
        return " ".join(words[start:end]), (*words[:start], *words[end:])
    return None, tuple(words)


def typed_phone(text: str, *, region: str) -> str:
    """The canonical `+digits` of a number typed as `text`, read in `region` when it has
    no country code. Raises NotAValidNumber when no numbering plan allows it."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise NotAValidNumber(f"{text} is not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise NotAValidNumber(f"{text} is not a valid phone number")
    return normalize_phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
