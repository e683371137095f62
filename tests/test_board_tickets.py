"""Ticket numbers (board_names "ticket"): given at joining only by providers whose board
shows them, unique per provider and day, told in the join reply, shown on the board in
place of names; a provider that shows names numbers nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.exceptions import IntegrityError

from bot.engine import handle_message
from core.models import Appointment, Channel, ServiceAccount, User
from core.rules.days import utcnow
from core.services import booking, service_accounts, users

SPA, BARBER = "+12025550179", "+12025550180"


async def _customers(count: int) -> list[str]:
    phones = [f"+1415555{n:04d}" for n in range(1, count + 1)]
    for n, phone in enumerate(phones, start=1):
        await users.create_user(phone=phone, name=f"Person{n} Lee")
    return phones


async def _tickets(account_phone: str) -> list[int | None]:
    rows = await Appointment.filter(service_account__phone=account_phone).order_by("id")
    return [a.ticket for a in rows]


async def test_a_join_by_text_at_a_ticket_provider_tells_the_ticket_number(orm):
    await service_accounts.create_service_account(
        phone=SPA, name="Zen Clinic", code="SPA", board_names="ticket"
    )
    ann, bob = await _customers(2)
    first = await handle_message(channel=Channel.SMS, phone=ann, text="join spa")
    second = await handle_message(channel=Channel.SMS, phone=bob, text="join spa")
    assert "Your ticket: 1." in first.text
    assert "Your ticket: 2." in second.text
    assert await _tickets(SPA) == [1, 2]


async def test_a_walk_in_added_by_a_ticket_provider_gets_the_next_number(orm):
    await service_accounts.create_service_account(
        phone=SPA, name="Zen Clinic", code="SPA", board_names="ticket"
    )
    (ann,) = await _customers(1)
    await handle_message(channel=Channel.SMS, phone=ann, text="join spa")
    reply = await handle_message(channel=Channel.SMS, phone=SPA, text="add +14155550177 Walk In")
    assert "Ticket: 2." in reply.text
    assert await _tickets(SPA) == [1, 2]


async def test_a_provider_that_shows_names_gives_no_ticket(orm):
    await service_accounts.create_service_account(phone=SPA, name="Zen Spa", code="SPA")
    (ann,) = await _customers(1)
    reply = await handle_message(channel=Channel.SMS, phone=ann, text="join spa")
    assert "ticket" not in reply.text.lower()
    assert await _tickets(SPA) == [None]


async def test_tickets_are_unique_per_provider_and_day_even_when_joins_race(orm):
    now = utcnow()
    for phone, code in ((SPA, "SPA"), (BARBER, "CUT")):
        await service_accounts.create_service_account(
            phone=phone, name=code, code=code, board_names="ticket"
        )
    phones = await _customers(12)
    await asyncio.gather(
        *(
            booking.book(user_phone=p, service_account_phone=SPA, appointment_date=now.date())
            for p in phones[:10]
        )
    )
    assert sorted(await _tickets(SPA)) == list(range(1, 11))
    # Another provider's line, and another day, count from 1 again.
    await booking.book(
        user_phone=phones[10], service_account_phone=BARBER, appointment_date=now.date()
    )
    tomorrow = (now + timedelta(days=1)).date()
    await booking.book(user_phone=phones[11], service_account_phone=SPA, appointment_date=tomorrow)
    assert await _tickets(BARBER) == [1]
    spa = await Appointment.filter(service_account__phone=SPA, day=tomorrow).first()
    assert spa is not None
    assert spa.ticket == 1


async def test_the_database_refuses_a_second_spot_with_the_same_ticket(orm):
    account = await ServiceAccount.create(phone=SPA, name="Zen", board_names="ticket")
    ann = await User.create(phone="+14155550001", name="Ann")
    bob = await User.create(phone="+14155550002", name="Bob")
    moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    await Appointment.create(
        user=ann, service_account=account, appointment_date=moment, day=moment.date(), ticket=7
    )
    with pytest.raises(IntegrityError):
        await Appointment.create(
            user=bob, service_account=account, appointment_date=moment, day=moment.date(), ticket=7
        )


async def test_the_board_of_a_ticket_provider_shows_numbers_not_names(client):
    from tests.api_helpers import book as api_book
    from tests.api_helpers import make_provider, make_user, today

    await make_provider(client, phone=SPA, code="SPA", board_names="ticket")
    for phone, name in (("+14155550001", "Ann Lee"), ("+14155550002", "Bob Stone")):
        await make_user(client, phone=phone, name=name)
        await api_book(client, user=phone, provider=SPA, day=today().isoformat())
    page = await (await client.get("/board/SPA")).text()
    assert "<li>#1</li><li>#2</li>" in page
    assert "Ann" not in page
    assert "Bob" not in page
