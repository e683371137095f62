"""Raw SQL written with named parameters, for statements that use a value twice.

core.services.sql gives positional placeholders; a longer statement reads better with
`{name}` marks, and PostgreSQL can then bind a repeated value once. On SQLite each
mark becomes a `?` and the value is passed as many times as it appears.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

_MARK = re.compile(r"\{(\w+)\}")


@cache
def _compiled(template: str, dialect: str) -> tuple[str, tuple[str, ...]]:
    """`template` with `{name}` marks turned into the dialect's placeholders, and the
    names in the order the parameters must be passed."""
    names: list[str] = []

    def placeholder(mark: re.Match[str]) -> str:
        name = mark[1]
        if dialect == "sqlite":
            names.append(name)
            return "?"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _MARK.sub(placeholder, template), tuple(names)


def bind(
    conn: BaseDBAsyncClient, template: str, values: dict[str, Any]
) -> tuple[str, list[Any]]:
    """The query and its parameters for `template`, whose parameters are `{name}` marks
    (a name may appear several times)."""
    query, names = _compiled(template, conn.capabilities.dialect)
    return query, [values[name] for name in names]
