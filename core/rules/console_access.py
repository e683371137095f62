"""The console's sign-in rules: how long a code and a session last, how many tries and
codes a phone gets, and what a code looks like (pure: no I/O, no framework)."""

from __future__ import annotations

import re
from datetime import timedelta

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
# Wrong codes tried against one code before it is spent (a new one must be asked for).
MAX_TRIES = 5
# Codes one phone may be sent in CODE_WINDOW: each is a text we pay for and it lands on
# somebody's phone.
CODES_PER_WINDOW = 5
CODE_WINDOW = timedelta(hours=1)
SESSION_TTL = timedelta(hours=12)
# Bytes of randomness in a session id (256 bits; the brief asks for at least 128).
SESSION_BYTES = 32

# Staff phones one provider may list: enough for a front desk; more is a mistake.
MAX_STAFF_PHONES = 20

_CODE = re.compile(rf"^[0-9]{{{CODE_DIGITS}}}$")


def clean_code(typed: str) -> str | None:
    """The code as typed, without spaces and dashes (123 456); None unless six digits."""
    code = re.sub(r"[\s-]", "", typed or "")
    return code if _CODE.match(code) else None


def code_text(code: str) -> str:
    """The text that carries a code (GSM-7, one segment)."""
    return f"{code} is your Waitlist console code. It expires in 10 minutes."
