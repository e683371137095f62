"""Migration 0010 makes stored phones canonical, on a database migrated to 0009 and
filled by plain SQL with the spellings the old check let in."""

# ruff: noqa: S608 (the rows are written as literal SQL on purpose: the test bypasses every check)

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from core import db

AT = "'2026-11-18 15:00:00+00:00'"
NL = "\n"
FULLWIDTH_ANN = "+１４１５５５５０１０１"
ARABIC_BOB = "+١٤١٥٥٥٥٠١٠٢"


async def migrate(url: str, target: str | None = None) -> None:
    config = db.tortoise_config(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate_api(config=config, app_labels=["models"], target=target)


async def sql(url: str, *statements: str) -> list[list[dict[str, Any]]]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        conn = ctx.connections.get("default")
        return [list(await conn.execute_query_dict(s)) for s in statements]


def q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def user(i: int, phone: str) -> str:
    return f"INSERT INTO users (id, name, phone, created_at) VALUES ({i}, 'U{i}', {q(phone)}, {AT})"


def account(i: int, phone: str, timezone: str, code: str) -> str:
    return (
        "INSERT INTO service_accounts (id, name, phone, created_at, enable_cancellation_scoring,"
        " cancellation_weight, no_show_weight, timezone, penalty_half_life_days, code)"
        f" VALUES ({i}, 'S{i}', {q(phone)}, {AT}, TRUE, 1, 2, {q(timezone)}, 30, {q(code)})"
    )


def contact(i: int, phone: str) -> str:
    return (
        "INSERT INTO contacts (id, phone, opted_out, updated_at)"
        f" VALUES ({i}, {q(phone)}, TRUE, {AT})"
    )


def conversation(i: int, channel: str, phone: str) -> str:
    return (
        "INSERT INTO conversations (id, channel, phone, state, data, expires_at, updated_at)"
        f" VALUES ({i}, {q(channel)}, {q(phone)}, 'ask_name', '{{}}', {AT}, {AT})"
    )


def rate(i: int, channel: str, phone: str) -> str:
    return (
        "INSERT INTO inbound_rates (id, channel, phone, window_start, seen)"
        f" VALUES ({i}, {q(channel)}, {q(phone)}, {AT}, 1)"
    )


def link(i: int, phone: str) -> str:
    return (
        "INSERT INTO telegram_links (id, chat_id, telegram_user_id, phone, reachable,"
        f" created_at, updated_at) VALUES ({i}, {1000 + i}, {2000 + i}, {q(phone)}, TRUE, {AT}, {AT})"
    )


def inbound(i: int, phone: str | None) -> str:
    value = "NULL" if phone is None else q(phone)
    return (
        "INSERT INTO inbound_messages (id, channel, external_id, phone, created_at)"
        f" VALUES ({i}, 'sms', 'SM{i}', {value}, {AT})"
    )


def outbox(i: int, recipient: str) -> str:
    return (
        "INSERT INTO outbox (id, channel, recipient, text, status, attempts, next_attempt_at,"
        f" idempotency_key, created_at) VALUES ({i}, 'sms', {q(recipient)}, 'hi', 'pending', 0,"
        f" {AT}, 'k{i}', {AT})"
    )


async def phones(url: str) -> dict[str, list[Any]]:
    tables = {
        "users": "phone",
        "service_accounts": "phone",
        "contacts": "phone",
        "conversations": "phone",
        "inbound_rates": "phone",
        "telegram_links": "phone",
        "inbound_messages": "phone",
        "outbox": "recipient",
    }
    results = await sql(
        url, *(f"SELECT {col} AS p FROM {table} ORDER BY id" for table, col in tables.items())
    )
    return {table: [r["p"] for r in rows] for table, rows in zip(tables, results, strict=True)}


async def test_stored_phones_of_every_table_become_canonical(fresh_url):
    await migrate(fresh_url, target="models.0009_hardening")
    await sql(
        fresh_url,
        user(1, "+14155550101\n"),
        user(2, ARABIC_BOB),
        user(3, "+14155550103"),
        account(1, FULLWIDTH_ANN[:-1] + "９", "America/New_York", "SPA"),
        account(2, "+33155550100", "Europe/Paris", "SAL"),
        account(3, "+12025550300", "UTC", "UTC"),
        contact(1, "+14155550101\n"),
        conversation(1, "sms", FULLWIDTH_ANN),
        conversation(2, "telegram", "+14155550101"),
        rate(1, "sms", "+14155550101\n"),
        link(1, FULLWIDTH_ANN),
        inbound(1, "+14155550101\n"),
        inbound(2, None),
        outbox(1, FULLWIDTH_ANN),
    )

    await migrate(fresh_url)

    ann, bob = "+14155550101", "+14155550102"
    assert await phones(fresh_url) == {
        "users": [ann, bob, "+14155550103"],
        "service_accounts": ["+14155550109", "+33155550100", "+12025550300"],
        "contacts": [ann],
        "conversations": [ann, ann],
        "inbound_rates": [ann],
        "telegram_links": [ann],
        "inbound_messages": [ann, None],
        "outbox": [ann],
    }
    [countries] = await sql(fresh_url, "SELECT country FROM service_accounts ORDER BY id")
    assert [r["country"] for r in countries] == ["US", "FR", "US"]


@pytest.mark.parametrize(
    ("rows", "table", "ids"),
    [
        ((user(1, "+14155550101"), user(2, "+14155550101\n")), "users", (1, 2)),
        ((user(4, FULLWIDTH_ANN), user(7, "+14155550101")), "users", (4, 7)),
        ((contact(1, FULLWIDTH_ANN), contact(2, "+14155550101\n")), "contacts", (1, 2)),
        (
            (conversation(5, "sms", "+14155550101"), conversation(6, "sms", FULLWIDTH_ANN)),
            "conversations",
            (5, 6),
        ),
    ],
)
async def test_a_clash_fails_naming_both_rows_and_changes_nothing(fresh_url, rows, table, ids):
    await migrate(fresh_url, target="models.0009_hardening")
    # A row of another table that would be rewritten: it must not be, either.
    await sql(fresh_url, *rows, outbox(1, "+14155550101\n"))
    before = await phones(fresh_url)

    with pytest.raises(Exception, match="Cannot make stored phones canonical") as failure:
        await migrate(fresh_url)

    message = str(failure.value)
    assert f"{table}: rows id {ids[0]} " in message
    assert f" and id {ids[1]} " in message
    assert "***0101" in message
    assert await phones(fresh_url) == before
    [applied] = await sql(
        fresh_url, "SELECT name FROM tortoise_migrations WHERE name = '0010_canonical_phones'"
    )
    assert applied == []


async def test_the_same_phone_on_two_channels_is_no_clash(fresh_url):
    await migrate(fresh_url, target="models.0009_hardening")
    await sql(fresh_url, rate(1, "sms", "+14155550101\n"), rate(2, "telegram", "+14155550101"))
    await migrate(fresh_url)
    assert (await phones(fresh_url))["inbound_rates"] == ["+14155550101", "+14155550101"]


async def test_waitlist_migrate_reports_a_clash_in_one_line_without_a_traceback(
    fresh_url, tmp_path
):
    await migrate(fresh_url, target="models.0009_hardening")
    await sql(fresh_url, user(1, "+14155550101"), user(2, "+1 415 555 0101"))

    result = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "waitlist"), "migrate"],
        env={**os.environ, "DATABASE_URL": fresh_url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("waitlist: Cannot make stored phones canonical"), result.stderr
    assert "users: rows id 1 " in last
    assert " and id 2 " in last
