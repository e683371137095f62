"""What the database can hold, for values read from free text.

A value outside these bounds cannot name a stored row, so whoever reads it from text
answers "not found" without asking the database, which would refuse it (PostgreSQL's
integer is 32-bit; Tortoise checks a CharField's length before the query).
"""

from __future__ import annotations

import re

# Primary keys are 32-bit IntFields; ids start at 1.
MAX_ID = 2**31 - 1
# ServiceAccount.code: 1 to 16 ASCII letters and digits, stored upper-case.
MAX_CODE = 16
CODE_PATTERN = rf"^[A-Za-z0-9]{{1,{MAX_CODE}}}$"
# User.name and ServiceAccount.name.
MAX_NAME_COLUMN = 200
# No line is this long: a queue position past it is answered "no such position".
MAX_POSITION = 100_000

_CODE = re.compile(CODE_PATTERN, re.ASCII)


def is_id(number: int) -> bool:
    return 1 <= number <= MAX_ID


def is_position(number: int) -> bool:
    return 1 <= number <= MAX_POSITION


def is_code(word: str) -> bool:
    """Whether `word` has the shape of a provider's code (any case)."""
    # fullmatch: `$` alone would also accept a final newline.
    return _CODE.fullmatch(word) is not None
