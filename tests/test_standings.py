"""Where a customer stands and who is writing, each read in one statement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.models import Channel, Conversation, ReliabilityScore, ServiceAccount
from core.rules.queue_spot import Spot
from core.services import (
    booking,
    calling,
    contacts,
    conversations,
    correspondents,
    lines,
    service_accounts,
    standings,
    status_changes,
    users,
)
from core.services.standings import Standing

# 06:00 UTC: already the 18th at Zen Spa (UTC) and on Kiritimati (UTC+14, 20:00), still
# the 17th on Baker Island (UTC-12, 18:00).
NOW = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
NOV = {d: date(2026, 11, d) for d in range(15, 23)}
SPA, EAST, WEST = "+12025550179", "+68670000001", "+16845550002"
ANN, BOB, CY, DEE = "+14155550101", "+14155550102", "+14155550103", "+14155550104"


async def _places() -> dict[str, ServiceAccount]:
    return {
        "spa": await service_accounts.create_service_account(
            phone=SPA, name="Zen Spa", code="SPA"
        ),
        "east": await service_accounts.create_service_account(
            phone=EAST, name="Kiritimati Clinic", code="EAST", timezone="Pacific/Kiritimati"
        ),
        "west": await service_accounts.create_service_account(
            phone=WEST, name="Baker Barber", timezone="Etc/GMT+12"
        ),
    }


async def _book(phone: str, place: str, day: date, *, now: datetime = NOW, minutes: int = 30):
    return await booking.book(
        user_phone=phone,
        service_account_phone=place,
        appointment_date=day,
        duration_minutes=minutes,
        now=now,
    )


async def _ann_in_three_lines() -> dict[str, int]:
    """Ann waits third at Baker (its today), is called at the spa (today) and waits
    first at Kiritimati on the 20th, ahead of Dee who booked earlier with a penalty."""
    places = await _places()
    for phone, name in ((ANN, "Ann Bell"), (BOB, "Bob Chen"), (CY, "Cy Dunn"), (DEE, "Dee Eve")):
        await users.create_user(name=name, phone=phone)
    await _book(BOB, WEST, NOV[17], minutes=20)
    await _book(CY, WEST, NOV[17], minutes=25)
    west = await _book(ANN, WEST, NOV[17])
    spa = await _book(ANN, SPA, NOV[18])
    await _book(BOB, SPA, NOV[18])
    dee = await users.get_user(phone=DEE)
    await ReliabilityScore.create(
        user_id=dee.id, service_account_id=places["east"].id, no_shows=1.0, as_of=NOW
    )
    await _book(DEE, EAST, NOV[20], minutes=50)
    east = await _book(ANN, EAST, NOV[20])
    called = await calling.call_next(service_account_phone=SPA, now=NOW)
    assert called is not None
    assert called.appointment.id == spa.id
    # Not standings: a canceled one, a day gone by everywhere, another customer's.
    gone = await _book(ANN, SPA, NOV[21])
    await status_changes.cancel(appointment_id=gone.id, now=NOW)
    await _book(ANN, EAST, NOV[15], now=NOW - timedelta(days=4))
    await _book(CY, EAST, NOV[21])
    return {"west": west.id, "spa": spa.id, "east": east.id}


async def test_standings_at_several_places_in_their_own_time_zones(orm):
    ids = await _ann_in_three_lines()

    mine = await standings.standings(user_phone=ANN, now=NOW)

    assert mine == [
        Standing(ids["west"], NOV[17], "Baker Barber", None, NOV[17], Spot(3, 2, 45)),
        Standing(ids["spa"], NOV[18], "Zen Spa", "SPA", NOV[18], None, awaited=True),
        Standing(ids["east"], NOV[20], "Kiritimati Clinic", "EAST", NOV[18], Spot(1, 0, 0)),
    ]
    # The same spots as the provider's line reads one by one.
    for standing in mine:
        assert standing.spot == await lines.spot(appointment_id=standing.appointment_id)


async def test_a_day_past_for_its_provider_is_not_a_standing_even_if_utc_is_behind(orm):
    await _places()
    await users.create_user(name="Bob Chen", phone=BOB)
    # The 17th, booked when it was still to come: it is over at the spa (today the 18th)
    # while it is still today at Baker, so only the provider's own today can drop it.
    await _book(BOB, SPA, NOV[17], now=NOW - timedelta(days=1))
    assert await standings.standings(user_phone=BOB, now=NOW) == []
    await _book(BOB, WEST, NOV[18])
    assert [s.day for s in await standings.standings(user_phone=BOB, now=NOW)] == [NOV[18]]


async def test_no_standings_for_an_unknown_phone_or_an_empty_history(orm):
    await _places()
    await users.create_user(name="Bob Chen", phone=BOB)
    assert await standings.standings(user_phone=BOB, now=NOW) == []
    assert await standings.standings(user_phone="+14155550999", now=NOW) == []


async def test_who_is_writing_is_read_in_one_go(orm):
    ids = await _ann_in_three_lines()
    await conversations.save(
        channel=Channel.SMS, phone=ANN, state="ask_spot", data={"options": [1, 2]}, now=NOW
    )

    ann = await correspondents.identify(channel=Channel.SMS, phone=ANN, now=NOW, with_standings=True)

    assert ann.account is None
    assert ann.registered
    assert ann.dialogue == conversations.Dialogue("ask_spot", {"options": [1, 2]})
    assert ann.standings == await standings.standings(user_phone=ANN, now=NOW)
    assert [s.appointment_id for s in ann.standings] == [ids["west"], ids["spa"], ids["east"]]

    assert ann.preferred_channel is None

    # Without standings asked for, and on a channel with no dialogue open.
    await contacts.record_channel(phone=ANN, channel=Channel.SMS, now=NOW)
    ann = await correspondents.identify(
        channel=Channel.TELEGRAM, phone=ANN, now=NOW, with_standings=False
    )
    assert (ann.account, ann.dialogue, ann.registered, ann.standings) == (None, None, True, None)
    assert ann.preferred_channel == "sms"


async def test_a_provider_is_read_whole_and_a_stranger_is_nobody(orm):
    places = await _places()

    for phone in (SPA, WEST):
        who = await correspondents.identify(channel=Channel.SMS, phone=phone, now=NOW, with_standings=True)
        stored = await ServiceAccount.get(phone=phone)
        assert who.account is not None
        for field in ServiceAccount._meta.db_fields:
            assert getattr(who.account, field) == getattr(stored, field), field
        assert isinstance(who.account.enable_cancellation_scoring, bool)
        assert who.account.id == places["spa" if phone == SPA else "west"].id
        assert (who.registered, who.standings) == (False, [])

    nobody = await correspondents.identify(
        channel=Channel.SMS, phone="+14155550999", now=NOW, with_standings=True
    )
    assert (nobody.account, nobody.dialogue, nobody.registered, nobody.standings) == (
        None,
        None,
        False,
        [],
    )


async def test_an_expired_dialogue_is_none_and_is_removed(orm):
    await conversations.save(
        channel=Channel.SMS, phone=ANN, state="ask_name", data={}, now=NOW - timedelta(hours=1)
    )
    who = await correspondents.identify(channel=Channel.SMS, phone=ANN, now=NOW, with_standings=False)
    assert who.dialogue is None
    assert await Conversation.all().count() == 0


async def _generic_plan(template: str, values: dict[str, str]) -> str:
    """PostgreSQL's generic plan of `template` ({name} marks) with scans forbidden where
    anything else is usable; `values` are SQL literals for the marks."""
    from tortoise import connections

    from core.services.statements import _compiled

    conn = connections.get("default")
    query, names = _compiled(template, "postgres")
    async with conn.acquire_connection() as raw:
        # On a handful of rows a scan is cheapest; forbid it to see what else is usable.
        await raw.execute("SET enable_seqscan = off")
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        await raw.execute(f"PREPARE probe AS {query}")
        arguments = ", ".join(values[name] for name in names)
        rows = await raw.fetch(f"EXPLAIN EXECUTE probe({arguments})")
        await raw.execute("DEALLOCATE probe")
        # Our pool does not reset sessions, so undo what this test set.
        await raw.execute("RESET ALL")
    plan = "\n".join(row[0] for row in rows)
    assert "$1" in plan, plan
    return plan


async def test_the_standings_use_the_active_indexes_under_a_generic_plan(orm):
    """Parameters for phone, channel and day, the literal 'active': the partial indexes
    stay usable when PostgreSQL switches the prepared statement to a generic plan, in
    the read of who is writing, the counting fallback and the ranking of a whole line."""
    import pytest

    from core.services.correspondents import who_statement
    from core.services.line_ranks import _LINE
    from tests.conftest import ON_POSTGRES

    if not ON_POSTGRES:
        pytest.skip("PostgreSQL's generic plans")
    await _ann_in_three_lines()
    spa = await service_accounts.get_service_account(phone=SPA)
    values = {"phone": f"'{ANN}'", "channel": "'sms'", "since": f"DATE '{NOV[17]}'"}
    who = await _generic_plan(who_statement(with_standings=True), values)
    assert "Seq Scan" not in who, who
    # Either partial index on active appointments; which one depends on table sizes.
    assert "idx_active_queue" in who or "uniq_active_appointment_per_user_day" in who, who
    counted = await _generic_plan(standings._EXACT, values)
    assert "Seq Scan" not in counted, counted
    assert "idx_active_queue" in counted or "uniq_active_appointment_per_user_day" in counted, (
        counted
    )
    line = await _generic_plan(
        _LINE, {"account": str(spa.id), "day": f"DATE '{NOV[18]}'"}
    )
    assert "Seq Scan" not in line, line
    # On these few rows the planner may take either partial index on active appointments.
    assert "idx_active_queue" in line or "uniq_active_appointment_per_user_day" in line, line
