"""DELETE /users/{phone} erases the person everywhere: no column of any table holds
their phone, its digits or their Telegram chat id afterwards."""

from __future__ import annotations

from typing import Any

from tortoise import connections

from core.models import (
    Appointment,
    GraceTimer,
    InboundMessage,
    MessageCount,
    OutboxMessage,
    ServiceAccount,
    SignInCode,
    StaffPhone,
    StatusLink,
    TelegramLink,
    UndoSnapshot,
)
from core.rules.days import utcnow
from core.services import console_access, pruning
from core.settings import Settings
from tests.api_helpers import day_after
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Webhooks
from tests.sms_support import OUR_NUMBER, PUBLIC
from tests.telegram_support import SECRET, Bot, TelegramUser
from webhooks.app import create_app

ANN = "+14155550101"
PROVIDER, OTHER = "+12025550179", "+12025550180"
# Distinctive, so that no id or timestamp holds it by chance.
CHAT_ID = 987_654_321_987


async def _tables() -> dict[str, list[str]]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], []).append(row["column_name"])
        return found
    names = await conn.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        row["name"]: [
            c["name"] for c in await conn.execute_query_dict(f'PRAGMA table_info("{row["name"]}")')
        ]
        for row in names
    }


async def where_found(needle: str) -> set[str]:
    """Every table.column whose text holds `needle`, in the whole schema."""
    conn = connections.get("default")
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    found = set()
    for table, columns in (await _tables()).items():
        for column in columns:
            # Names read from the schema itself, quoted.
            query = (
                f'SELECT COUNT(*) AS n FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE {mark}'  # noqa: S608
            )
            rows = await conn.execute_query_dict(query, [f"%{needle}%"])
            if rows[0]["n"]:
                found.add(f"{table}.{column}")
    return found


async def _start(
    aiohttp_client: Any, database_url: str, twilio: FakeTwilio, telegram: FakeTelegramAPI
):
    values: dict[str, Any] = {
        "database_url": database_url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": OUR_NUMBER,
        "twilio_api_base_url": twilio.url,
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_base_url": telegram.url,
        "public_base_url": PUBLIC,
        "outbox_dispatcher": False,
        "prune_interval": 0,
    }
    app = create_app(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    client = await aiohttp_client(app)
    return client, Webhooks(client, PUBLIC), Bot(client, telegram, app)


async def test_erasing_a_person_leaves_their_phone_and_chat_in_no_column_of_any_table(
    aiohttp_client, database_url
):
    async with FakeTwilio() as twilio, FakeTelegramAPI().running() as telegram:
        await _erase_everywhere(aiohttp_client, database_url, twilio, telegram)


async def _erase_everywhere(aiohttp_client, database_url, twilio, telegram) -> None:
    client, sms, bot = await _start(aiohttp_client, database_url, twilio, telegram)
    spa = await ServiceAccount.create(
        name="Serene Spa", phone=PROVIDER, code="SPA", grace_minutes=15
    )
    other = await ServiceAccount.create(name="Other", phone=OTHER, code="OTH")
    chat = TelegramUser(bot, CHAT_ID, ANN)
    # Before the chat is linked it asks something (kept under the chat's own key).
    assert (await chat.says("JOIN SPA")).status == 200
    assert (await sms.sms(sender=ANN, body="JOIN SPA", to=OUR_NUMBER)).status == 200
    await chat.links()
    assert (await chat.says("STATUS")).status == 200
    answer = await client.post(
        "/appointments/",
        json={"user_phone": ANN, "service_account_phone": OTHER, "appointment_date": day_after(1)},
        headers={"Idempotency-Key": "ann-tomorrow"},
    )
    assert answer.status == 201
    assert (await sms.sms(sender=PROVIDER, body="NEXT", to=OUR_NUMBER)).status == 200
    await StaffPhone.create(service_account=other, phone=ANN)
    await console_access.request_code(phone=ANN, now=utcnow())
    # The person left a trace in every place the erasure must reach.
    assert await TelegramLink.filter(chat_id=CHAT_ID).exists()
    assert await InboundMessage.filter(phone=ANN).count() >= 2
    assert await OutboxMessage.filter(recipient=ANN).exists()
    assert await StatusLink.filter(appointment__user__phone=ANN).exists()
    assert await UndoSnapshot.filter(appointment__user__phone=ANN).exists()
    assert await GraceTimer.filter(appointment__user__phone=ANN).exists()
    assert await SignInCode.filter(phone=ANN).exists()
    digits = ANN.lstrip("+")
    assert {
        "users.phone",
        "contacts.phone",
        "telegram_links.phone",
        "idempotency_records.body",
    } <= (await where_found(digits))
    assert await where_found(str(CHAT_ID))

    erased = await client.delete(f"/users/{ANN}")

    assert erased.status == 204
    assert await where_found(digits) == set()
    assert await where_found(str(CHAT_ID)) == set()
    # The search finds what is still there: the providers, and the spa's own messages.
    assert "service_accounts.phone" in await where_found(PROVIDER.lstrip("+"))
    assert await Appointment.filter(service_account=spa).count() == 0
    assert (await client.delete(f"/users/{ANN}")).status == 404


async def test_message_counts_outlive_an_erasure_and_name_no_one(aiohttp_client, database_url):
    async with FakeTwilio() as twilio, FakeTelegramAPI().running() as telegram:
        client, sms, _ = await _start(aiohttp_client, database_url, twilio, telegram)
        await ServiceAccount.create(name="Serene Spa", phone=PROVIDER, code="SPA")
        assert (await sms.sms(sender=ANN, body="JOIN SPA", to=OUR_NUMBER)).status == 200
        await InboundMessage.all().update(received_on=day_after(-30))
        await pruning.prune(keep=Settings(_env_file=None).retention)  # type: ignore[call-arg]
        assert (await client.delete(f"/users/{ANN}")).status == 204
        assert sum(c.messages for c in await MessageCount.filter(direction="in")) == 1
        assert await where_found(ANN.lstrip("+")) == set()
