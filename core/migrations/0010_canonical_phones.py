"""Stored phones become canonical; providers get a country.

Before this migration the phone check matched `\\d` (any script's digits, fullwidth
ones included) and `$` (which matches before a final newline), so a phone could be
stored as `+１４１５５５５０１０８` or `+14155550108\\n`: a second identity for one number.
Every phone column is rewritten to the canonical form of core.rules.phones; what the
old check let in besides (digits of other scripts) is read digit by digit first.

Nothing is dropped and nothing is merged: when two rows of a unique column would end
up with the same phone, the migration fails before writing anything, naming the table,
both rows' ids and the phone (masked, with the spellings' decoration kept), so that
someone who knows the data can merge or delete one and migrate again.

Providers without a country get their time zone's one country, else US (the default
of DEFAULT_PHONE_REGION), as core.rules.regions.effective_country rules.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from core.db import MigrationRefused
from core.rules.phones import InvalidPhone, mask_phone, normalize_phone
from core.rules.regions import FALLBACK_REGION, effective_country

log = logging.getLogger(__name__)

# (table, phone column, the other columns of its unique key, or None when not unique)
PHONE_COLUMNS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("users", "phone", ()),
    ("service_accounts", "phone", ()),
    ("contacts", "phone", ()),
    ("conversations", "phone", ("channel",)),
    ("inbound_rates", "phone", ("channel",)),
    ("telegram_links", "phone", None),
    ("inbound_messages", "phone", None),
    ("outbox", "recipient", None),
]

# Rows that may not be canonical: only these are read (inbound_messages and outbox grow
# with every message). Canonical is + and 7 to 17 ASCII digits.
_MAYBE_NOT_CANONICAL = {
    "postgres": "{column} !~ '^\\+[0-9]{{7,17}}$'",
    "sqlite": (
        "NOT ({column} GLOB '+[0-9]*' AND substr({column}, 2) NOT GLOB '*[^0-9]*'"
        " AND length({column}) BETWEEN 8 AND 18)"
    ),
}


class PhoneClash(MigrationRefused):
    """Two rows of a unique column would have the same canonical phone."""


def canonical(stored: str) -> str | None:
    """The canonical form of a stored phone, or None when it is no phone at all."""
    try:
        return normalize_phone(stored)
    except InvalidPhone:
        pass
    # The old check matched \d: a digit of any script stands for its value.
    digits = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in stored)
    try:
        return normalize_phone(digits)
    except InvalidPhone:
        return None


def _spelling(stored: str) -> str:
    """A stored phone for the clash report: digits masked but the last four, decoration
    kept (so two spellings of one number can be told apart)."""
    keep = len(re.findall(r"\d", stored)) - 4
    out = []
    for ch in stored:
        if ch.isdecimal() and keep > 0:
            out.append("*")
            keep -= 1
        else:
            out.append(ch)
    return repr("".join(out))


def _placeholders(dialect: str, start: int, count: int) -> str:
    if dialect == "postgres":
        return ", ".join(f"${i}" for i in range(start, start + count))
    return ", ".join("?" for _ in range(count))


async def _query(client: Any, sql: str, values: list[Any]) -> list[dict[str, Any]]:
    return list(await client.execute_query_dict(sql, values))


async def _plan_table(
    client: Any, dialect: str, table: str, column: str, key: tuple[str, ...] | None
) -> tuple[list[tuple[int, str]], list[str]]:
    """(id, canonical phone) of the rows to rewrite, and the clashes found."""
    others = "".join(f", {c}" for c in key or ())
    where = _MAYBE_NOT_CANONICAL[dialect].format(column=column)
    rows = await _query(
        client,
        f"SELECT id, {column} AS phone{others} FROM {table}"
        f" WHERE {column} IS NOT NULL AND {where} ORDER BY id",
        [],
    )
    updates: list[tuple[int, str]] = []
    for row in rows:
        phone = canonical(row["phone"])
        if phone is None:
            log.warning(
                "%s id %s: stored phone %s is not a phone; left as it is",
                table,
                row["id"],
                _spelling(row["phone"]),
            )
        elif phone != row["phone"]:
            updates.append((row["id"], phone))
    if key is None or not updates:
        return updates, []
    # Who would hold each key afterwards: the rows rewritten, and the rows that hold
    # the canonical phone already.
    by_id = {row["id"]: row for row in rows}
    holders: dict[tuple[Any, ...], list[tuple[int, str]]] = {}
    for row_id, phone in updates:
        row = by_id[row_id]
        holders.setdefault((phone, *(row[c] for c in key)), []).append((row_id, row["phone"]))
    targets = sorted({phone for phone, *_ in holders})
    for start in range(0, len(targets), 500):
        chunk = targets[start : start + 500]
        existing = await _query(
            client,
            f"SELECT id, {column} AS phone{others} FROM {table}"
            f" WHERE {column} IN ({_placeholders(dialect, 1, len(chunk))})",
            chunk,
        )
        for row in existing:
            group = holders.get((row["phone"], *(row[c] for c in key)))
            if group is not None:
                group.append((row["id"], row["phone"]))
    clashes = []
    for (phone, *rest), group in holders.items():
        if len(group) > 1:
            rows_named = " and ".join(f"id {i} ({_spelling(s)})" for i, s in sorted(group))
            scope = "".join(f" on {c} {v!r}" for c, v in zip(key, rest, strict=True))
            clashes.append(f"{table}: rows {rows_named} would all be {mask_phone(phone)}{scope}")
    return updates, clashes


async def canonicalise_phones(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    if dialect not in _MAYBE_NOT_CANONICAL:
        raise NotImplementedError(f"phone canonicalisation is not written for {dialect}")
    planned: list[tuple[str, str, list[tuple[int, str]]]] = []
    clashes: list[str] = []
    for table, column, key in PHONE_COLUMNS:
        updates, found = await _plan_table(client, dialect, table, column, key)
        planned.append((table, column, updates))
        clashes.extend(found)
    if clashes:
        raise PhoneClash(
            "Cannot make stored phones canonical: rows of a unique column would share a "
            "phone. Merge them or delete all but one, then migrate again (nothing was "
            "changed). "
            + "; ".join(clashes)
        )
    setter = "$1" if dialect == "postgres" else "?"
    where = "$2" if dialect == "postgres" else "?"
    for table, column, updates in planned:
        for row_id, phone in updates:
            await client.execute_query(
                f"UPDATE {table} SET {column} = {setter} WHERE id = {where}", [phone, row_id]
            )
        if updates:
            log.info("%s: %d phones made canonical", table, len(updates))
    accounts = await _query(
        client, "SELECT id, timezone FROM service_accounts WHERE country IS NULL", []
    )
    for account in accounts:
        country = effective_country(None, account["timezone"] or "UTC", FALLBACK_REGION)
        await client.execute_query(
            f"UPDATE service_accounts SET country = {setter} WHERE id = {where}",
            [country, account["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0009_hardening")]

    operations = [
        # Canonical phones stay canonical on the way back, and a country does no harm.
        ops.RunPython(canonicalise_phones, reverse_code=ops.RunPython.noop),
    ]
